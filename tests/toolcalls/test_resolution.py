"""Resolution: names and argument keys mapped onto the registry, pydantic validation, problems."""

from __future__ import annotations

import pytest
from smallcode.core.toolcalls import (
    POSITIONAL_KEY,
    CallProblem,
    RawCall,
    ResolvedCall,
    correction_message,
    extract_tool_calls,
    resolve_call,
    resolve_tool_name,
    unparseable_problem,
)

from tests.toolcalls.tool_set import build_test_registry

REG = build_test_registry()


def raw(name, fmt="tag", repairs=None, **arguments):
    return RawCall(name=name, arguments=arguments, fmt=fmt, raw="", repairs=repairs or [])


@pytest.mark.parametrize("written, tool, how", [
    ("read_file", "read_file", "exact"),
    ("Read_File", "read_file", "spelling"),
    ("read-file", "read_file", "spelling"),
    ("readFile", "read_file", "spelling"),
    ("READFILE", "read_file", "spelling"),
    ("functions.read_file", "read_file", "prefix"),
    ("cat", "read_file", "alias"),
    ("open_file", "read_file", "alias"),
    ("edit_file", "patch", "alias"),
    ("str_replace", "patch", "alias"),
    ("replace_in_file", "patch", "alias"),
    ("run", "bash", "alias"),
    ("shell", "bash", "alias"),
    ("execute", "bash", "alias"),
    ("grep", "search", "alias"),
    ("ls", "find_files", "alias"),
    ("list_files", "find_files", "alias"),
    ("glob", "find_files", "alias"),
    ("done", "finish", "alias"),
    ("submit", "finish", "alias"),
    ("final_answer", "finish", "alias"),
    ("reed_file", "read_file", "edit_distance"),
    ("serch", "search", "edit_distance"),
    ("finnish", "finish", "edit_distance"),
])
def test_tool_names_resolve(written, tool, how):
    assert resolve_tool_name(written, REG) == (tool, how)


def test_alias_is_not_used_when_its_tool_is_not_offered():
    reg = build_test_registry()
    reg.unregister("bash")
    assert resolve_tool_name("shell", reg) == (None, "unknown")


def test_unknown_tool_names_nearest_valid_names():
    problem = resolve_call(raw("search_web", url="x"), REG)
    assert isinstance(problem, CallProblem)
    assert problem.kind == "unknown_tool"
    assert problem.suggestions == ["search", "read_file", "patch"]
    assert problem.message == (
        "There is no tool named 'search_web'. Did you mean search, read_file, patch? "
        "Valid tools: read_file, write_file, patch, bash, find_files, search, finish.")
    assert problem.example == '{"name": "search", "arguments": {"query": "<query>"}}'
    far = resolve_call(raw("deploy"), REG)
    assert far.message == ("There is no tool named 'deploy'. Valid tools: read_file, write_file, "
                           "patch, bash, find_files, search, finish.")


def test_argument_synonyms_map_onto_the_tools_own_fields():
    got = resolve_call(raw("str_replace", file_path="a.py", old_string="x", new_string="y"), REG)
    assert isinstance(got, ResolvedCall)
    assert got.name == "patch"
    assert got.arguments == {"path": "a.py", "old_str": "x", "new_str": "y"}
    assert got.fixes == ["name 'str_replace' -> 'patch' (alias)",
                         "argument 'file_path' -> 'path'",
                         "argument 'old_string' -> 'old_str'",
                         "argument 'new_string' -> 'new_str'"]


def test_same_synonym_goes_to_the_field_each_tool_has():
    assert resolve_call(raw("write_file", path="a", text="x"), REG).arguments == {
        "path": "a", "content": "x"}
    assert resolve_call(raw("finish", text="ok"), REG).arguments == {"summary": "ok"}
    assert resolve_call(raw("search", text="def f"), REG).arguments == {"query": "def f"}


def test_camel_case_keys_and_cmd():
    assert resolve_call(raw("read_file", filePath="a.py", startLine=2), REG).arguments == {
        "path": "a.py", "start_line": 2}
    assert resolve_call(raw("bash", cmd="ls"), REG).arguments == {"command": "ls"}


def test_single_unknown_key_fills_the_single_missing_required_field():
    got = resolve_call(raw("find_files", where="src/*.py"), REG)
    assert got.arguments == {"pattern": "src/*.py"}


def test_positional_arguments_fill_required_fields_first():
    got = resolve_call(raw("patch", **{POSITIONAL_KEY: ["a.py", "x", "y"]}), REG)
    assert got.arguments == {"path": "a.py", "old_str": "x", "new_str": "y"}
    got = resolve_call(raw("read_file", **{POSITIONAL_KEY: ["a.py", 5]}), REG)
    assert got.args.model_dump() == {"path": "a.py", "start_line": 5, "end_line": None}


def test_values_are_coerced_to_the_field_type():
    assert resolve_call(raw("bash", command=7), REG).arguments == {"command": "7"}
    assert resolve_call(raw("write_file", path="a.json", content={"k": 1}), REG).arguments[
        "content"] == '{\n  "k": 1\n}'
    assert resolve_call(raw("read_file", path=["a.py"]), REG).arguments == {"path": "a.py"}
    assert resolve_call(raw("read_file", path="a.py", start_line="3"), REG).args.start_line == 3


def test_validation_failure_is_a_short_specific_problem():
    problem = resolve_call(raw("patch", path="a.py", old_str="x"), REG)
    assert isinstance(problem, CallProblem)
    assert problem.kind == "invalid_arguments"
    assert problem.message == ("Invalid arguments for patch: missing 'new_str'. "
                               "patch takes: path, old_str, new_str.")
    assert problem.example == ('{"name": "patch", "arguments": {"path": "<path>", '
                               '"old_str": "<old_str>", "new_str": "<new_str>"}}')


def test_bad_value_is_named():
    problem = resolve_call(raw("read_file", path="a.py", start_line=0), REG)
    assert problem.kind == "invalid_arguments"
    assert problem.message == ("Invalid arguments for read_file: start_line: Input should be "
                               "greater than or equal to 1. read_file takes: path, start_line?, "
                               "end_line?.")


def test_truncated_mutating_call_is_refused_but_a_read_still_runs():
    assert resolve_call(raw("write_file", repairs=["truncated"], path="a", content="x"),
                        REG).kind == "truncated"
    assert resolve_call(raw("bash", repairs=["truncated"], command="rm -rf bui"),
                        REG).kind == "truncated"
    assert isinstance(resolve_call(raw("read_file", repairs=["truncated"], path="a.py"), REG),
                      ResolvedCall)


def test_correction_message_shows_the_exact_format():
    problem = resolve_call(raw("patch", path="a.py", old_str="x"), REG)
    assert correction_message(problem) == (
        "Your tool call was not run. Invalid arguments for patch: missing 'new_str'. "
        "patch takes: path, old_str, new_str.\n"
        "Reply with one call in exactly this format:\n<tool_call>\n"
        '{"name": "patch", "arguments": {"path": "<path>", "old_str": "<old_str>", '
        '"new_str": "<new_str>"}}\n</tool_call>')
    assert correction_message(problem, style="action").endswith(
        '{"tool": "patch", "args": {"path": "<path>", "old_str": "<old_str>", '
        '"new_str": "<new_str>"}}')
    with pytest.raises(ValueError):
        correction_message(problem, style="yaml")


def test_unparseable_reply_gets_a_problem_with_an_example():
    ext = extract_tool_calls("<tool_call>read it</tool_call>")
    problem = unparseable_problem(ext, REG, tool_hint="read_file")
    assert problem.kind == "unparseable"
    assert problem.message == ("It could not be parsed (unparseable <tool_call> body: read it). "
                               "Write valid JSON with double quotes and escaped newlines.")
    assert problem.example == '{"name": "read_file", "arguments": {"path": "<path>"}}'
    assert unparseable_problem(extract_tool_calls("fine"), REG) is None


def test_an_argv_list_for_a_single_text_field_is_joined_as_a_shell_command():
    got = resolve_call(raw("bash", **{POSITIONAL_KEY: ["python", "-m", "pytest", "-k", "a b"]}),
                       REG)
    assert got.arguments == {"command": "python -m pytest -k 'a b'"}


def test_argv_items_that_already_carry_quotes_are_kept_as_written():
    got = resolve_call(raw("bash", **{POSITIONAL_KEY: ["echo 'Hello, $1!'", "greet.py"]}), REG)
    assert got.arguments == {"command": "echo 'Hello, $1!' greet.py"}


def test_list_of_lines_for_content_is_joined_with_newlines_and_argv_for_command_with_spaces():
    got = resolve_call(raw("write_file", path="t.py", content=["def f():", "    return 1"]), REG)
    assert got.arguments["content"] == "def f():\n    return 1"
    got = resolve_call(raw("bash", command=["grep", "-rn", "def add", "src"]), REG)
    assert got.arguments["command"] == "grep -rn 'def add' src"
