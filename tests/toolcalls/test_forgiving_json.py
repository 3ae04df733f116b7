"""Forgiving JSON: strict first, json-repair next, own rules last, and the rule is recorded."""

from __future__ import annotations

import pytest
from smallcode.core.toolcalls import ForgivingJSONError, loads_forgiving, parse_forgiving
from smallcode.core.toolcalls.forgiving_json import normalise_almost_json


def test_valid_json_is_parsed_strictly():
    parsed = parse_forgiving('{"a": [1, 2.5, true, null]}')
    assert parsed.value == {"a": [1, 2.5, True, None]}
    assert parsed.rule == "strict"
    assert parsed.truncated is False


def test_raw_newline_inside_string_is_accepted_by_non_strict_json():
    parsed = parse_forgiving('{"content": "line1\nline2\tend"}')
    assert parsed.value == {"content": "line1\nline2\tend"}
    assert parsed.rule == "own:control_chars"


@pytest.mark.parametrize("text, value", [
    ('{"a": 1, "b": [1, 2,],}', {"a": 1, "b": [1, 2]}),
    ("{'a': 'x', 'b': 'it'}", {"a": "x", "b": "it"}),
    ('{a: 1, b_c: "x"}', {"a": 1, "b_c": "x"}),
    ('{"a": True, "b": False, "c": None}', {"a": True, "b": False, "c": None}),
    ('{"a": 1, // note\n "b": 2}', {"a": 1, "b": 2}),
    ('{"name": "x", "arguments": {"path": "a.py"', {"name": "x", "arguments": {"path": "a.py"}}),
])
def test_almost_json_goes_through_json_repair(text, value):
    parsed = parse_forgiving(text)
    assert parsed.value == value
    assert parsed.rule == "json_repair"


def test_truncated_text_is_flagged():
    assert parse_forgiving('{"path": "a.py", "content": "abc').truncated is True
    assert parse_forgiving('{"path": "a.py"}').truncated is False


def test_two_top_level_objects_are_refused_instead_of_merged():
    with pytest.raises(ForgivingJSONError, match="more than one JSON value"):
        parse_forgiving('{"name": "a", "arguments": {}}\n{"name": "b", "arguments": {}}')


def test_prose_is_not_json():
    with pytest.raises(ForgivingJSONError):
        loads_forgiving("I will read the file now.")
    with pytest.raises(ForgivingJSONError):
        loads_forgiving("   ")


def test_python_literal_rule_for_a_tuple_of_values():
    parsed = parse_forgiving("(1, 'a')")
    assert parsed.rule == "python_literal"
    assert parsed.value == [1, "a"]


@pytest.mark.parametrize("text, fixed, rules", [
    ("{'a': 'x',}", {"a": "x"}, ["single_quotes", "trailing_commas"]),
    ("{a: True}", {"a": True}, ["unquoted_keys", "python_literals"]),
    ('{"a": 1 /* c */}', {"a": 1}, ["comments"]),
    ('{"a": [1, {"b": "x', {"a": [1, {"b": "x"}]}, ["truncated"]),
    ('{"a": 1, "b":', {"a": 1, "b": None}, ["truncated"]),
    ("{'it\\'s': 'don\\'t'}", {"it's": "don't"}, ["single_quotes"]),
])
def test_own_rules_fix_and_name_what_they_did(text, fixed, rules):
    import json

    normalised, fired = normalise_almost_json(text)
    assert json.loads(normalised, strict=False) == fixed
    assert fired == rules


@pytest.mark.parametrize("text, content", [
    ('{"path": "a.py", "content": "print("hi")\\n"}', 'print("hi")\n'),
    ('{"content": "def f(x):\\n    return \'{}!\'\\n".format(x)}', "def f(x):\n    return '{}!'\n"),
])
def test_trailing_newline_dropped_by_json_repair_is_restored(text, content):
    parsed = parse_forgiving(text)
    assert parsed.value["content"] == content
    assert parsed.rule == "json_repair+restored_newline"


def test_python_triple_quoted_string_keeps_its_body():
    text = ('{"name": "write_file", "arguments": {"path": "t.py", "content": """\n'
            'def test_a():\n    assert f("x") == "y"\n"""}}')
    parsed = parse_forgiving(text)
    assert parsed.value["arguments"]["content"] == '\ndef test_a():\n    assert f("x") == "y"\n'
    assert parsed.rule == "own:triple_quotes"


def test_escaped_triple_quotes_inside_valid_json_are_left_alone():
    assert parse_forgiving('{"a": "\\"\\"\\"doc\\"\\"\\""}').value == {"a": '"""doc"""'}


def test_unclosed_triple_quoted_string_is_truncated():
    assert parse_forgiving('{"path": "a.py", "content": """\nimport os\n').truncated is True


def test_triple_quotes_inside_a_json_string_are_content_not_syntax():
    text = '{"path": "m.py", "content": "def f():\\n    \'\'\'Doc.\'\'\'\\n    return 1\\n",}'
    parsed = parse_forgiving(text)
    assert parsed.value == {"path": "m.py", "content": "def f():\n    '''Doc.'''\n    return 1\n"}
    assert "triple_quotes" not in parsed.rule
