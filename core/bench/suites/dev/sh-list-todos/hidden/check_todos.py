import pathlib
import sys

p = pathlib.Path("todos.txt")
if not p.is_file():
    sys.exit("todos.txt does not exist")
lines = [ln.strip().removeprefix("./") for ln in p.read_text().splitlines() if ln.strip()]
expected = ["src/app.py", "src/web/routes.py", "src/web/views.js"]
if lines != expected:
    sys.exit(f"todos.txt lists {lines!r}, expected {expected!r}")
