"""A config value set in place: only the value's characters change, and only when it is one
unambiguous spot whose edit parses to the same tree with that value changed."""

from __future__ import annotations

import pytest
from smallcode.core.solve.configedit import set_config_values, set_in_place

JSON = '{\n  "server": {\n    "host": "0.0.0.0",\n    "port": 8080\n  },\n  "debug": false\n}\n'
TOML = ('# service settings\n[server]\nhost = "0.0.0.0"  # bind address\nport = 8080 # the port\n'
        '\n[client]\nretries = 3\n')
YAML = 'server:\n  host: 0.0.0.0\n  port: 8080  # here\nname: "app"\n'
INI = "[db]\nhost = localhost\nport = 5432\n"


@pytest.mark.parametrize(("rel", "text", "key", "value", "old", "new"), [
    ("c.json", JSON, "port", "9090", '"port": 8080', '"port": 9090'),
    ("c.json", JSON, "server.port", "9090", '"port": 8080', '"port": 9090'),
    ("c.json", JSON, "debug", "true", '"debug": false', '"debug": true'),
    ("c.json", JSON, "host", "127.0.0.1", '"host": "0.0.0.0"', '"host": "127.0.0.1"'),
    ("c.toml", TOML, "port", "9090", "port = 8080 # the port", "port = 9090 # the port"),
    ("c.toml", TOML, "host", "::1", 'host = "0.0.0.0"  # bind', 'host = "::1"  # bind'),
    ("c.yaml", YAML, "port", "9090", "port: 8080  # here", "port: 9090  # here"),
    ("c.yaml", YAML, "name", "svc", 'name: "app"', 'name: "svc"'),
    ("c.ini", INI, "port", "6543", "port = 5432", "port = 6543"),
    ("c.cfg", INI, "db.port", "6543", "port = 5432", "port = 6543"),
])
def test_only_the_value_changes(rel, text, key, value, old, new):
    assert set_in_place(rel, text, key, value) == text.replace(old, new)


@pytest.mark.parametrize(("rel", "text", "key"), [
    ("c.toml", '[a]\nport = 1\n[b]\nport = 2\n', "port"),   # two ports: which one?
    ("c.json", '{"ports": [1, 2]}', "ports"),                 # a list, not a scalar
    ("c.json", JSON, "timeout"),                              # no such key
    ("c.json", '{"port": 1,,}', "port"),                      # does not parse now
])
def test_no_single_unambiguous_spot_gives_none(rel, text, key):
    assert set_in_place(rel, text, key, "9") is None


def test_a_key_in_two_files_is_not_set_in_either():
    files = {"a.json": '{"port": 1}', "b.yaml": "port: 2\n"}
    assert set_config_values(files, [("port", "3")]) == ({}, ["port = 3 (in several files)"])


def test_every_pair_lands_in_its_own_file():
    files = {"a.json": '{"port": 1}\n', "b.toml": "debug = false\n"}
    new, missed = set_config_values(files, [("port", "3"), ("debug", "true"), ("nope", "1")])
    assert new == {"a.json": '{"port": 3}\n', "b.toml": "debug = true\n"}
    assert missed == ["nope = 1"]


@pytest.mark.parametrize(("task", "expected"), [
    ("Set the port to 9090 in settings.json", True),
    ("the server should listen on 9090 instead: change `port` to 9090", True),
    ("settings.json: bump port = 9090 please", True),
    ("Move the port to 9090 and set debug to true", True),
    ("Bump the version to 0.4.0 and add requests>=2.31 to the dependencies.", False),
    ("Set port to 9090. Also remove the legacy section.", False),
    ("change port to 9090, then write a healthcheck block", False),
])
def test_a_task_asking_for_more_than_its_values_is_not_only_settings(task, expected):
    from smallcode.core.solve.configedit import only_settings

    assert only_settings(task, [("port", "9090"), ("debug", "true"), ("version", "0.4.0")]) \
        is expected


@pytest.mark.parametrize("task", [
    "It should listen on 9090, and the server section needs \"debug\": true too.",
    "Turn on debug (\"debug\": true) and use port 9090.",
    "debug = true; the port becomes 9090",
])
def test_a_value_the_task_writes_that_no_setting_holds_asks_for_more(task):
    from smallcode.core.solve.configedit import only_settings

    assert not only_settings(task, [("debug", "true")])
    assert only_settings(task, [("debug", "true"), ("port", "9090")])
