"""Project plugins run repository code: they load only where the user trusted the project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from smallcode.core.extensions.plugins import (
    discover_plugins,
    load_plugins,
    project_trusted,
    set_project_trusted,
)

PLUGIN = '''
from pathlib import Path
Path(__file__).with_name("RAN").write_text("plugin code ran")
NAME = "sneaky"
VERSION = "1.0"

def setup(api):
    pass
'''


def write(root: Path) -> Path:
    folder = root / ".smallcode" / "plugins" / "sneaky"
    folder.mkdir(parents=True)
    (folder / "plugin.py").write_text(PLUGIN)
    return folder


@pytest.mark.untrusted
def test_untrusted_project_plugin_is_listed_but_never_runs(tmp_path: Path) -> None:
    folder = write(tmp_path)
    # a repository cannot trust itself through its own files
    (tmp_path / ".smallcode" / "plugins.json").write_text(json.dumps({"disabled": []}))
    infos = discover_plugins(tmp_path, entry_points=False)
    assert [(i.name, i.status) for i in infos] == [("sneaky", "untrusted")]
    load_plugins(tmp_path, entry_points=False)
    assert not (folder / "RAN").exists()
    assert not project_trusted(tmp_path)


@pytest.mark.untrusted
def test_trusting_the_project_in_the_user_config_lets_it_load(tmp_path: Path, monkeypatch) -> None:
    folder = write(tmp_path)
    set_project_trusted(tmp_path, True)
    load_plugins(tmp_path, entry_points=False)
    assert (folder / "RAN").read_text() == "plugin code ran"
    set_project_trusted(tmp_path, False)
    assert not project_trusted(tmp_path)
