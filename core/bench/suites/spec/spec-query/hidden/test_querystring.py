from querystring import parse_query


def test_repeated_keys_keep_order():
    assert parse_query("x=1&y=2&x=3&x=4") == {"x": ["1", "3", "4"], "y": ["2"]}


def test_empty():
    assert parse_query("") == {}


def test_key_without_value():
    assert parse_query("debug&level=2") == {"debug": [""], "level": ["2"]}


def test_empty_pairs_skipped():
    assert parse_query("a=1&&b=2&") == {"a": ["1"], "b": ["2"]}


def test_decoding():
    assert parse_query("q=hello+world&c=%2Fpath%3F") == {"q": ["hello world"], "c": ["/path?"]}


def test_leading_question_mark():
    assert parse_query("?k=v") == {"k": ["v"]}
