import pathlib
import sys

old = "calc" + "_total"
left = [str(p) for p in pathlib.Path(".").rglob("*.py") if old in p.read_text()]
if left:
    sys.exit(f"{old} still appears in: {', '.join(sorted(left))}")
