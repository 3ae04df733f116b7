"""A small real project (Python + JavaScript) and its indexed code graph."""

from __future__ import annotations

from pathlib import Path

import pytest

FILES = {
    "app/__init__.py": "from .config import load_config\n",
    "app/config.py": (
        '"""Configuration."""\n\nDEFAULTS = {"debug": False}\n\n\n'
        "def load_config(path):\n    \"\"\"Read the settings file.\"\"\"\n"
        "    return Settings(parse_pairs(open(path).read()))\n\n\n"
        "def parse_pairs(text):\n    return dict(line.split('=', 1) for line in text.splitlines()"
        " if '=' in line)\n\n\n"
        "class Settings:\n    def __init__(self, values):\n        self.values = values\n\n"
        "    def reload(self):\n        return self\n"),
    "app/service.py": (
        "from app.config import load_config\n\n\n"
        "def run_service():\n    cfg = load_config('settings.ini')\n    return cfg.reload()\n\n\n"
        "def health():\n    return run_service() is not None\n"),
    "settings.ini": "debug=true\n",
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "store/store.go": ("package store\n\ntype Store struct{ Items []string }\n\n"
                       "func Open() *Store { return &Store{} }\n\n"
                       "func (s *Store) Close() {}\n"),
    "web/api.js": ("export function fetchUser(id) {\n  return fetch(`/users/${id}`);\n}\n\n"
                   "export function renderUser(user) {\n  return `<b>${user.name}</b>`;\n}\n"),
}


def write_project(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("proj"))


@pytest.fixture(scope="module")
def graph(project: Path):
    from smallcode.core.graph.codegraph import CodeGraph

    g = CodeGraph(project)
    g.index()
    yield g
    g.close()
