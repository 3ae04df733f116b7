"""Extraction: where calls are found, what text is left for the user, what is reported."""

from __future__ import annotations

from smallcode.core.toolcalls import extract_tool_calls

KNOWN = ["read_file", "write_file", "patch", "bash", "find_files", "search", "finish"]
FENCE = "```"


def test_native_calls_win_and_keep_their_ids():
    ext = extract_tool_calls(
        "Let me check.", native=[{"id": "call_9", "type": "function",
                                  "function": {"name": "bash", "arguments": '{"command": "ls"}'}}])
    assert [(c.name, c.arguments, c.fmt, c.id) for c in ext.calls] == [
        ("bash", {"command": "ls"}, "native", "call_9")]
    assert ext.text == "Let me check."
    assert ext.source == "native"


def test_native_call_with_unparseable_arguments_is_reported_and_text_is_scanned():
    ext = extract_tool_calls(
        '<tool_call>{"name": "bash", "arguments": {"command": "ls"}}</tool_call>',
        native=[{"id": "x", "function": {"name": "bash", "arguments": "not json at all"}}])
    assert [c.name for c in ext.calls] == ["bash"]
    assert ext.calls[0].fmt == "tag"
    assert ext.errors == [("native call 'bash': arguments are not JSON "
                           "(not JSON, even after repair: not json at all)")]


def test_tag_markup_is_removed_from_visible_text():
    ext = extract_tool_calls(
        'Reading it.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n'
        "</tool_call>\nThen I will fix it.")
    assert ext.text == "Reading it.\n\nThen I will fix it."
    assert ext.calls[0].raw.startswith("<tool_call>")


def test_calls_keep_the_order_they_appear_in_across_formats():
    content = (f'{FENCE}json\n{{"name": "read_file", "arguments": {{"path": "b.py"}}}}\n{FENCE}\n'
               '<tool_call>{"name": "read_file", "arguments": {"path": "c.py"}}</tool_call>')
    content = '<tool_call>{"name": "read_file", "arguments": {"path": "a.py"}}</tool_call>\n' + content
    ext = extract_tool_calls(content)
    assert [c.arguments["path"] for c in ext.calls] == ["a.py", "b.py", "c.py"]
    assert [c.fmt for c in ext.calls] == ["tag", "fence", "tag"]


def test_reasoning_is_used_only_when_content_is_empty():
    call = '<tool_call>{"name": "finish", "arguments": {}}</tool_call>'
    assert extract_tool_calls("", reasoning=call).source == "reasoning"
    ext = extract_tool_calls("The answer is 4.", reasoning=call)
    assert ext.calls == []
    assert ext.text == "The answer is 4."


def test_package_json_in_a_fence_is_text_not_a_call():
    content = f'{FENCE}json\n{{"name": "my-app", "version": "1.0.0", "main": "index.js"}}\n{FENCE}'
    ext = extract_tool_calls(content, known_tools=KNOWN)
    assert ext.calls == []
    assert ext.errors == []
    assert ext.text == content


def test_unknown_name_with_loose_keys_needs_a_known_tool_outside_tags():
    loose = '{"tool": "deploy_app", "args": {"env": "prod"}}'
    assert extract_tool_calls(loose, known_tools=KNOWN).calls == []
    assert [c.name for c in extract_tool_calls(loose).calls] == ["deploy_app"]
    tagged = f"<tool_call>{loose}</tool_call>"
    assert [c.name for c in extract_tool_calls(tagged, known_tools=KNOWN).calls] == ["deploy_app"]


def test_canonical_shape_with_unknown_name_is_still_a_call_so_the_model_can_be_corrected():
    ext = extract_tool_calls('{"name": "browse", "arguments": {"url": "x"}}', known_tools=KNOWN)
    assert [c.name for c in ext.calls] == ["browse"]


def test_flattened_arguments_are_accepted_for_known_tools_only():
    text = '{"name": "read_file", "path": "a.py"}'
    assert extract_tool_calls(text, known_tools=KNOWN).calls[0].arguments == {"path": "a.py"}
    assert extract_tool_calls(text).calls == []


def test_unparseable_tag_body_is_reported_and_hidden():
    ext = extract_tool_calls("Ok.\n<tool_call>\nread the file please\n</tool_call>")
    assert ext.calls == []
    assert ext.text == "Ok."
    assert ext.errors == ["unparseable <tool_call> body: read the file please"]


def test_call_with_garbage_arguments_still_surfaces_for_a_correction():
    ext = extract_tool_calls(f'{FENCE}json\n{{"name": "patch", "arguments": {{{{{{{{\n{FENCE}')
    assert [(c.name, c.arguments) for c in ext.calls] == [("patch", {})]


def test_list_arguments_are_positional():
    ext = extract_tool_calls('{"name": "read_file", "arguments": ["a.py", 2]}')
    assert ext.calls[0].arguments == {"_positional": ["a.py", 2]}


def test_canonical_call_with_an_extra_key_is_still_a_call():
    ext = extract_tool_calls('{"name": "bash", "arguments": {"command": "ls"}, "note": "x"}')
    assert [(c.name, c.arguments) for c in ext.calls] == [("bash", {"command": "ls"})]


def test_several_call_objects_with_junk_in_one_fence_are_all_found():
    ext = extract_tool_calls(f'{FENCE}json\n{{"name": "a", "arguments": {{}}}} {{"name": "b", '
                             f'"arguments": {{"x": 1}} ]]]]\n{FENCE}')
    assert [c.name for c in ext.calls] == ["a", "b"]


def test_repairs_are_recorded_on_the_call():
    ext = extract_tool_calls("<tool_call>{'name': 'bash', 'arguments': {'command': 'ls'}}")
    assert ext.calls[0].repairs == ["json_repair"]
    ext = extract_tool_calls('<tool_call>{"name": "write_file", "arguments": {"path": "a", '
                             '"content": "x')
    assert "truncated" in ext.calls[0].repairs


def test_python_fence_calls_need_known_tools():
    content = f'{FENCE}python\nread_file(path="a.py")\n{FENCE}'
    assert extract_tool_calls(content).calls == []
    assert extract_tool_calls(content, known_tools=KNOWN).calls[0].fmt == "pycall"


def test_cline_style_xml_only_for_known_tools():
    content = "<read_file><path>a.py</path></read_file>"
    assert extract_tool_calls(content).calls == []
    call = extract_tool_calls(content, known_tools=KNOWN).calls[0]
    assert (call.name, call.arguments, call.fmt) == ("read_file", {"path": "a.py"}, "xml_tool")


def test_xml_parameter_values_stay_text_with_layout_newlines_trimmed():
    ext = extract_tool_calls('<invoke name="write_file"><parameter name="path">a.py</parameter>'
                             '<parameter name="content">\nx = 1\n\n</parameter></invoke>')
    assert ext.calls[0].arguments == {"path": "a.py", "content": "x = 1\n"}


def test_wrapper_markers_do_not_leak_into_text():
    ext = extract_tool_calls('<|python_tag|>{"name": "bash", "arguments": {"command": "ls"}}')
    assert ext.text == ""
    ext = extract_tool_calls('[TOOL_CALLS][{"name": "bash", "arguments": {"command": "ls"}}]')
    assert ext.text == ""
    assert ext.calls[0].arguments == {"command": "ls"}


def test_plain_text_reply_has_no_calls_and_no_errors():
    ext = extract_tool_calls("Use `{}` for an empty dict. See [docs](http://x).", known_tools=KNOWN)
    assert (ext.calls, ext.errors, ext.source) == ([], [], "none")
