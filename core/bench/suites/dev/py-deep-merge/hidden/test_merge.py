from merge import deep_merge


def test_nested_keys_survive():
    base = {"db": {"host": "h", "port": 0}, "debug": False}
    assert deep_merge(base, {"db": {"port": 1}}) == {"db": {"host": "h", "port": 1}, "debug": False}


def test_three_levels():
    base = {"a": {"b": {"c": 1, "d": 2}}}
    assert deep_merge(base, {"a": {"b": {"d": 3}}}) == {"a": {"b": {"c": 1, "d": 3}}}


def test_base_is_not_modified():
    base = {"db": {"host": "h"}}
    deep_merge(base, {"db": {"host": "x"}})
    assert base == {"db": {"host": "h"}}


def test_non_dict_replaces():
    assert deep_merge({"a": {"b": 1}}, {"a": 5}) == {"a": 5}
