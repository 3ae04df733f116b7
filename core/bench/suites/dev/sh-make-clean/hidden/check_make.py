import pathlib
import subprocess
import sys

for p in ("build/main.py", "src/main.pyc", "src/pkg/deep.pyc"):
    path = pathlib.Path(p)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
out = subprocess.run(["make", "clean"], capture_output=True, text=True, timeout=20)
if out.returncode != 0:
    sys.exit(f"make clean failed: {out.stdout}{out.stderr}")
left = [p for p in ("build", "src/main.pyc", "src/pkg/deep.pyc") if pathlib.Path(p).exists()]
if left:
    sys.exit(f"still there after make clean: {left}")
if not pathlib.Path("src/main.py").is_file() or not pathlib.Path("Makefile").is_file():
    sys.exit("make clean removed source files")
out = subprocess.run(["make", "-n", "build"], capture_output=True, text=True, timeout=20)
if "cp src/*.py build/" not in out.stdout:
    sys.exit("the build target changed")
