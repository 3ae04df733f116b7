from tags import add_tag


def test_calls_do_not_share_state():
    assert add_tag("a") == ["a"]
    assert add_tag("b") == ["b"]


def test_callers_list_is_not_modified():
    existing = ["x"]
    assert add_tag("y", existing) == ["x", "y"]
    assert existing == ["x"]
