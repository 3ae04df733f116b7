"""Python-call syntax is parsed with ast, never evaluated."""

from __future__ import annotations

import pytest
from smallcode.core.toolcalls import POSITIONAL_KEY, PythonCallError, parse_python_calls


def test_liquid_list_of_calls_with_every_literal_kind():
    calls = parse_python_calls(
        "[fn(k='v', n=1, flag=True, x=None, l=[1,2], d={'a':1}), other()]")
    assert calls == [("fn", {"k": "v", "n": 1, "flag": True, "x": None, "l": [1, 2],
                             "d": {"a": 1}}), ("other", {})]


def test_json_style_literals_are_accepted():
    assert parse_python_calls("f(a=true, b=false, c=null)") == [
        ("f", {"a": True, "b": False, "c": None})]


def test_print_wrapper_and_dotted_name():
    assert parse_python_calls('print(default_api.read_file(path="a.py"))') == [
        ("default_api.read_file", {"path": "a.py"})]


def test_positional_arguments_are_kept_for_resolution():
    assert parse_python_calls("read_file('a.py', 3)") == [
        ("read_file", {POSITIONAL_KEY: ["a.py", 3]})]


def test_single_dict_argument_becomes_the_arguments():
    assert parse_python_calls("bash({'command': 'ls'})") == [("bash", {"command": "ls"})]


def test_truncated_call_is_closed():
    assert parse_python_calls("[find_files(pattern='*.py'") == [("find_files", {"pattern": "*.py"})]


def test_code_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(PythonCallError):
        parse_python_calls(f"bash(command=__import__('os').system('touch {marker}'))")
    assert not marker.exists()


@pytest.mark.parametrize("text", ["x = 1", "open the file", "f(a=b)", "", "1 + 2"])
def test_non_calls_are_rejected(text):
    with pytest.raises(PythonCallError):
        parse_python_calls(text)
