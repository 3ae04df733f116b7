import json
import sys

with open("config/app.json") as fh:
    data = json.load(fh)
expected = {
    "server": {"host": "0.0.0.0", "port": 9090, "workers": 2, "debug": False},
    "database": {"url": "sqlite:///app.db", "pool": 5},
    "features": ["search", "export"],
}
if data != expected:
    sys.exit(f"config/app.json is {data!r}\nexpected {expected!r}")
