import sys

import yaml

with open("docker-compose.yml") as fh:
    data = yaml.safe_load(fh)


def env(service):
    raw = data["services"][service].get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) for item in raw)
    return {k: str(v) for k, v in raw.items()}


problems = []
web, worker = env("web"), env("worker")
if web != {"LOG_LEVEL": "debug", "WORKERS": "4", "REDIS_URL": "redis://cache:6379/0"}:
    problems.append(f"web environment is {web!r}")
if worker != {"QUEUE": "default", "REDIS_URL": "redis://cache:6379/0"}:
    problems.append(f"worker environment is {worker!r}")
s = data["services"]
if s["web"]["ports"] != ["8000:8000"] or s["web"]["image"] != "example/web:1.4":
    problems.append("web service changed beyond its environment")
if s["cache"] != {"image": "redis:7"} or s["worker"]["command"] != ["python", "-m", "worker"]:
    problems.append("other services changed")
if problems:
    sys.exit("; ".join(problems))
