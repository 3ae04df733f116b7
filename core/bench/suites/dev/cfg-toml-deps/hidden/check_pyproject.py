import sys
import tomllib

with open("pyproject.toml", "rb") as fh:
    data = tomllib.load(fh)
project = data["project"]
problems = []
if project.get("version") != "0.4.0":
    problems.append(f"version is {project.get('version')!r}")
deps = sorted(d.replace(" ", "") for d in project.get("dependencies", []))
if deps != ["click>=8", "requests>=2.31"]:
    problems.append(f"dependencies are {deps!r}")
if project.get("name") != "weatherly" or data["project"]["scripts"] != {"weatherly": "weatherly.cli:main"}:
    problems.append("name or scripts changed")
if data["build-system"]["requires"] != ["setuptools>=69"]:
    problems.append("build-system changed")
if problems:
    sys.exit("; ".join(problems))
