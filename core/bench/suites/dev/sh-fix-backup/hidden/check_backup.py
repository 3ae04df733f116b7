import pathlib
import subprocess
import sys
import tempfile

with tempfile.TemporaryDirectory() as tmp:
    dest = pathlib.Path(tmp) / "out dir"
    out = subprocess.run(["bash", "backup.sh", "data", str(dest)], capture_output=True, text=True, timeout=20)
    if out.returncode != 0:
        sys.exit(f"backup.sh exited {out.returncode}: {out.stderr}")
    copy = dest / "data-backup"
    if (copy / "report.txt").read_text() != "quarterly numbers\n" or (copy / "sub" / "raw.csv").read_text() != "a,b\n1,2\n":
        sys.exit("the backup does not hold the original files")
