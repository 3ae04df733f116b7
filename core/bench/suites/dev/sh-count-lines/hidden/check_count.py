import pathlib
import shutil
import subprocess
import sys


def run():
    out = subprocess.run(["bash", "scripts/count_lines.sh"], capture_output=True, text=True, timeout=20)
    if out.returncode != 0:
        sys.exit(f"count_lines.sh failed: {out.stderr}")
    return out.stdout.strip()


if not pathlib.Path("scripts/count_lines.sh").is_file():
    sys.exit("scripts/count_lines.sh does not exist")
got = run()
if got != "19":
    sys.exit(f"printed {got!r}, expected 19")
extra = pathlib.Path("src/extra")
extra.mkdir()
(extra / "more.py").write_text("a = 1\n" * 7)
try:
    got = run()
finally:
    shutil.rmtree(extra)
if got != "26":
    sys.exit(f"after adding a 7-line file it printed {got!r}, expected 26 (is the count hard-coded?)")
