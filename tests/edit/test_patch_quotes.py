"""The quote-style rung and ambiguous matches shown with context (seen with the real 1.5B)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from smallcode.core.edit.patch import PatchError, apply_patch
from smallcode.core.tools import ToolContext, Workspace, build_registry


def test_other_quote_style_matches_and_new_str_follows_the_file() -> None:
    out = apply_patch('def greet(name):\n    return "Hello " + name\n',
                      "return 'Hello '", "return 'Hello, '")
    assert out.strategy == "quotes"
    assert out.new_text == 'def greet(name):\n    return "Hello, " + name\n'


def test_mixed_quotes_in_old_str_are_not_swapped() -> None:
    with pytest.raises(PatchError):
        apply_patch('x = "a"\ny = \'b\'\n', "x = 'a'\ny = \"b\"", "z = 1", ladder=False)
    out = apply_patch('x = "a"\n', "x = 'a'", "x = 'c'")
    assert out.new_text == 'x = "c"\n'


def test_ambiguous_patch_shows_each_match_with_context(tmp_path: Path) -> None:
    (tmp_path / "parity.py").write_text(
        "def is_even(n):\n    return n % 2 == 1\n\n\ndef is_odd(n):\n    return n % 2 == 1\n")
    reg = build_registry()
    ctx = ToolContext(Workspace(tmp_path))
    r = asyncio.run(reg.execute("patch", {"path": "parity.py", "old_str": "return n % 2 == 1",
                                          "new_str": "return n % 2 == 0"}, ctx))
    assert not r.ok
    assert "match at line 2:" in r.output and "1| def is_even(n):" in r.output
    assert "match at line 6:" in r.output and "5| def is_odd(n):" in r.output


def test_partial_string_is_not_quote_swapped() -> None:
    with pytest.raises(PatchError):
        apply_patch('    return "Hello " + name\n', "return 'Hello ", "return 'Hello, '")


def test_line_picks_one_of_several_identical_matches(tmp_path: Path) -> None:
    (tmp_path / "stats.py").write_text(
        "def largest(xs):\n    return min(xs)\n\n\ndef smallest(xs):\n    return min(xs)\n")
    reg = build_registry()
    ctx = ToolContext(Workspace(tmp_path))
    args = {"path": "stats.py", "old_str": "return min(xs)", "new_str": "return max(xs)"}
    first = asyncio.run(reg.execute("patch", args, ctx))
    assert not first.ok and 'set "line"' in first.output
    wrong = asyncio.run(reg.execute("patch", {**args, "line": 4}, ctx))
    assert not wrong.ok and "starts on line(s) 2, 6" in wrong.output
    picked = asyncio.run(reg.execute("patch", {**args, "line": 2}, ctx))
    assert picked.ok
    assert (tmp_path / "stats.py").read_text() == (
        "def largest(xs):\n    return max(xs)\n\n\ndef smallest(xs):\n    return min(xs)\n")


def test_line_a_little_off_picks_the_clearly_nearest_match_only() -> None:
    from smallcode.core.edit.patch import apply_patch_at

    text = ('def is_even(n):\n    """doc"""\n    return n % 2 == 1\n\n\n'
            'def is_odd(n):\n    """doc"""\n    return n % 2 == 1\n')
    assert apply_patch_at(text, "return n % 2 == 1", "return n % 2 == 0", 2).start_line == 3
    assert apply_patch_at(text, "return n % 2 == 1", "return n % 2 == 0", 7).start_line == 8
    with pytest.raises(PatchError, match="starts on line"):
        apply_patch_at(text, "return n % 2 == 1", "return n % 2 == 0", 5)


def test_multiline_new_str_written_from_column_zero_gets_the_match_indentation() -> None:
    text = "class A:\n    def w(self, c):\n        self.b -= c\n"
    out = apply_patch(text, "self.b -= c", "if c > self.b:\n    raise E\nself.b -= c")
    assert out.new_text == ("class A:\n    def w(self, c):\n        if c > self.b:\n"
                            "            raise E\n        self.b -= c\n")
    absolute = apply_patch(text, "self.b -= c", "if c > self.b:\n            raise E\n        self.b -= c")
    assert absolute.new_text == out.new_text


def test_an_edit_that_breaks_a_valid_file_is_reverted(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    reg = build_registry()
    ctx = ToolContext(Workspace(tmp_path))
    r = asyncio.run(reg.execute("patch", {"path": "m.py", "old_str": "return 1",
                                          "new_str": "return (1"}, ctx))
    assert not r.ok and r.output.startswith("m.py lines 2-2: EDIT NOT APPLIED")
    assert "m.py:2" in r.output
    assert r.changed_files == [] and r.data["reverted"] is True
    assert (tmp_path / "m.py").read_text() == "def f():\n    return 1\n"


def test_an_already_broken_file_may_be_edited_step_by_step(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(:\n    return (1\n")
    reg = build_registry()
    ctx = ToolContext(Workspace(tmp_path))
    r = asyncio.run(reg.execute("patch", {"path": "m.py", "old_str": "def f(:",
                                          "new_str": "def f():"}, ctx))
    assert r.changed_files == ["m.py"] and "VALIDATION FAILED" in r.output  # still broken: kept
    assert (tmp_path / "m.py").read_text().startswith("def f():")
