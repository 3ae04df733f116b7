import sys

import yaml

with open(".github/workflows/ci.yml") as fh:
    data = yaml.safe_load(fh)
job = data["jobs"]["test"]
versions = [str(v) for v in job["strategy"]["matrix"]["python-version"]]
if sorted(versions) != ["3.10", "3.11", "3.12"]:
    sys.exit(f"python-version matrix is {versions!r}")
if len(job["steps"]) != 4 or job["steps"][-1] != {"run": "pytest -q"}:
    sys.exit("the steps changed")
