"""Configuration layering and errors that name the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.config import ConfigError, load_settings


def test_project_file_env_and_flags_layer_in_order(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    (tmp_path / "cfg" / "smallcode").mkdir(parents=True)
    (tmp_path / "cfg" / "smallcode" / "smallcode.toml").write_text(
        '[model]\nbase_url = "http://user"\nmax_tokens = 50\n')
    (tmp_path / "smallcode.toml").write_text('[model]\nbase_url = "http://project"\n')
    s = load_settings(tmp_path, env={"SMALLCODE_MODEL": "m1", "XDG_CONFIG_HOME": ""})
    assert s.model.base_url == "http://project" and s.model.max_tokens == 50
    assert s.model.model == "m1"
    s2 = load_settings(tmp_path, {"model": {"base_url": "http://flag", "model": None}},
                       env={"SMALLCODE_BASE_URL": "http://env"})
    assert s2.model.base_url == "http://flag"


def test_bad_value_names_key_and_file(tmp_path: Path) -> None:
    (tmp_path / "smallcode.toml").write_text('[agent]\nmax_turns = "many"\n')
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path, env={})
    assert "agent.max_turns" in str(exc.value) and str(tmp_path / "smallcode.toml") in str(exc.value)


def test_unknown_key_and_bad_toml_are_reported(tmp_path: Path) -> None:
    (tmp_path / "smallcode.toml").write_text('[agent]\nmax_turnz = 3\n')
    with pytest.raises(ConfigError, match="max_turnz"):
        load_settings(tmp_path, env={})
    (tmp_path / "smallcode.toml").write_text('[agent\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path, env={})


def test_env_error_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SMALLCODE_PERMISSION_MODE"):
        load_settings(tmp_path, env={"SMALLCODE_PERMISSION_MODE": "sometimes"})


def test_api_key_is_secret(tmp_path: Path) -> None:
    s = load_settings(tmp_path, env={"SMALLCODE_API_KEY": "sk-secret123"})
    assert "sk-secret123" not in repr(s) and "sk-secret123" not in s.model_dump_json()
