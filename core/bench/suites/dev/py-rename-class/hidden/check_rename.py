import pathlib
import re
import sys

old = re.compile(r"\b" + "Ca" + "rt" + r"\b")
left = [str(p) for p in pathlib.Path("shop").rglob("*.py") if old.search(p.read_text())]
if left:
    sys.exit(f"the old class name still appears in: {', '.join(sorted(left))}")
