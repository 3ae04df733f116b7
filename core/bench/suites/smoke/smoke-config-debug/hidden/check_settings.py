import json
import sys

with open("settings.json") as fh:
    data = json.load(fh)
expected = {"name": "demo", "debug": True, "port": 8000, "allowed_hosts": ["localhost"]}
if data != expected:
    sys.exit(f"settings.json is {data!r}, expected {expected!r}")
