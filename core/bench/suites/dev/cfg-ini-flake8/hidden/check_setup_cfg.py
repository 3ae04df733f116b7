import configparser
import sys

cfg = configparser.ConfigParser()
cfg.read("setup.cfg")
flake8 = cfg["flake8"]
excluded = {item.strip() for item in flake8.get("exclude", "").replace("\n", ",").split(",") if item.strip()}
problems = []
if flake8.get("max-line-length") != "100":
    problems.append(f"max-line-length is {flake8.get('max-line-length')!r}")
if {e.rstrip("/") for e in excluded} != {".git", "build", "migrations"}:
    problems.append(f"exclude is {sorted(excluded)!r}")
if cfg["metadata"]["version"] != "2.0.1" or cfg["options"]["python_requires"] != ">=3.10":
    problems.append("other sections changed")
if problems:
    sys.exit("; ".join(problems))
