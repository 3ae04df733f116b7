import subprocess
import sys


def run(tmp_path, *flags):
    f = tmp_path / "in.txt"
    f.write_text("pear\napple\nfig\n")
    out = subprocess.run([sys.executable, "sortlines.py", *flags, str(f)],
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_default_is_ascending(tmp_path):
    assert run(tmp_path) == ["apple", "fig", "pear"]


def test_reverse(tmp_path):
    assert run(tmp_path, "--reverse") == ["pear", "fig", "apple"]
