import tomllib
from pathlib import Path


def load(path="settings.toml"):
    return tomllib.loads(Path(path).read_text())["database"]
