import pathlib
import sys

notes = pathlib.Path("notes")
expected = {
    "groceries.md": "milk\neggs\n",
    "ideas.md": "a bench suite\n",
    "todo.md": "write docs\n",
    "keep.md": "# keep\n",
}
found = {p.name: p.read_text() for p in notes.iterdir() if p.is_file()}
if found != expected:
    sys.exit(f"notes/ holds {sorted(found)}; expected {sorted(expected)} with the original contents")
