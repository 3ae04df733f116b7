"""Extension tests run with an isolated user config dir in which their tmp projects are trusted
(project plugins only load in projects the user trusted; see test_plugin_trust.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def trusted_tmp_project(tmp_path_factory, tmp_path, monkeypatch, request):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("userconfig")))
    if request.node.get_closest_marker("untrusted") is None:
        from smallcode.core.extensions.plugins import set_project_trusted

        set_project_trusted(tmp_path, True)
