"""The patch ladder: each rung, its uniqueness rule, and the model-ready error messages."""

from __future__ import annotations

import pytest
from smallcode.core.edit.patch import (
    PatchError,
    apply_patch,
    closest_region,
    strip_line_numbers,
)

CALC = (
    "import math\n"
    "\n"
    "\n"
    "def add(a, b):\n"
    "    return a + b\n"
    "\n"
    "\n"
    "def sub(a, b):\n"
    "    return a - b\n"
    "\n"
    "\n"
    "class Circle:\n"
    "    def __init__(self, r):\n"
    "        self.r = r\n"
    "\n"
    "    def area(self):\n"
    "        total = math.pi * self.r * self.r\n"
    "        return total\n"
)


def test_exact_unique_match_replaces_and_reports_lines():
    out = apply_patch(CALC, "    return a - b\n", "    return a - b - 0\n")
    assert out.strategy == "exact"
    assert out.new_text == CALC.replace("return a - b\n", "return a - b - 0\n")
    assert (out.start_line, out.end_line) == (9, 9)
    assert (out.matched_start, out.matched_end) == (9, 9)


def test_exact_partial_line_match_keeps_the_rest_of_the_line():
    out = apply_patch(CALC, "a - b", "b - a")
    assert out.strategy == "exact"
    assert "    return b - a\n" in out.new_text


def test_two_exact_matches_report_both_lines():
    text = "x = 1\ny = 2\nx = 1\n"
    with pytest.raises(PatchError) as err:
        apply_patch(text, "x = 1", "x = 3")
    assert err.value.kind == "ambiguous"
    assert err.value.lines == [1, 3]
    assert str(err.value).startswith('old_str matches 2 places (lines 1, 3); set "line"')


def test_ladder_off_accepts_only_exact_text():
    with pytest.raises(PatchError) as err:
        apply_patch(CALC, "def sub(a, b):  \n    return a - b", "x", ladder=False)
    assert err.value.kind == "no_match"
    out = apply_patch(CALC, "def sub(a, b):\n    return a - b", "def sub(a, b):\n    return 0",
                      ladder=False)
    assert out.strategy == "exact"


def test_trailing_spaces_and_crlf_in_old_match_by_whitespace():
    old = "def sub(a, b):   \r\n    return a - b  \r\n"
    out = apply_patch(CALC, old, "def sub(a, b):\n    return b - a\n")
    assert out.strategy == "whitespace"
    assert "def sub(a, b):\n    return b - a\n\n\nclass Circle" in out.new_text
    assert out.new_text.startswith(CALC[: CALC.index("def sub")])


def test_missing_blank_line_in_old_matches_by_whitespace():
    old = "def add(a, b):\n    return a + b\ndef sub(a, b):"
    out = apply_patch(CALC, old, "def add(a, b):\n    return b + a\n\n\ndef sub(a, b):")
    assert out.strategy == "whitespace"
    assert out.new_text == CALC.replace("return a + b", "return b + a")


def test_crlf_file_keeps_crlf_endings_after_a_ladder_patch():
    text = CALC.replace("\n", "\r\n")
    out = apply_patch(text, "def sub(a, b):\n    return a - b  ", "def sub(a, b):\n    return 0")
    assert out.strategy == "whitespace"
    assert "def sub(a, b):\r\n    return 0\r\n" in out.new_text
    assert "\n" not in out.new_text.replace("\r\n", "")


def test_wrong_indentation_is_matched_and_new_is_reindented():
    old = "def area(self):\n    total = math.pi * self.r * self.r\n    return total"
    new = "def area(self):\n    return math.pi * self.r ** 2"
    out = apply_patch(CALC, old, new)
    assert out.strategy == "indent"
    assert out.new_text.endswith("    def area(self):\n        return math.pi * self.r ** 2\n")
    assert (out.start_line, out.end_line) == (16, 17)


def test_two_space_indent_width_is_scaled_to_the_files_four():
    old = "def area(self):\n  total = math.pi * self.r * self.r\n  return total"
    new = "def area(self):\n  total = math.pi * self.r ** 2\n  return total"
    out = apply_patch(CALC, old, new)
    assert out.strategy == "indent"
    assert "    def area(self):\n        total = math.pi * self.r ** 2\n        return total\n" in (
        out.new_text)


def test_flattened_structure_is_not_an_indent_match_only_a_scored_fuzzy_one():
    # old flattens a nested block: no single indentation map explains it, so the indent rung
    # refuses; fuzzy scoring charges the structural difference
    text = "def f():\n    if x:\n        y()\n    z()\n"
    out = apply_patch(text, "if x:\ny()\nz()", "if x:\n    y()")
    assert out.strategy == "fuzzy"
    assert out.similarity == pytest.approx(1 - 0.25 / 3, abs=1e-3)
    assert out.new_text == "def f():\n    if x:\n        y()\n"


def test_fully_flattened_long_block_is_refused():
    text = "def f():\n    if a:\n        if b:\n            if c:\n                go()\n"
    with pytest.raises(PatchError):
        apply_patch(text, "if a:\nif b:\nif c:\ngo()", "stop()")


def test_tab_indented_file_gets_tabs_in_the_reindented_new_text():
    text = "func main() {\n\tif ok {\n\t\trun()\n\t}\n}\n"
    out = apply_patch(text, "if ok {\n    run()\n}", "if ok {\n    run()\n    stop()\n}")
    assert out.strategy == "indent"
    assert out.new_text == "func main() {\n\tif ok {\n\t\trun()\n\t\tstop()\n\t}\n}\n"


def test_typo_in_old_is_matched_fuzzily_when_unique():
    old = "    def area(self):\n        total = math.pi * self.r * self.rr\n        retrun total"
    new = "    def area(self):\n        return math.pi * self.r ** 2"
    out = apply_patch(CALC, old, new)
    assert out.strategy == "fuzzy"
    assert 0.9 <= out.similarity < 1.0
    assert out.new_text.endswith("    def area(self):\n        return math.pi * self.r ** 2\n")


def test_fuzzy_refuses_a_similar_but_different_function():
    # mul does not exist; add and sub are each only ~0.88 similar: never edit one of them
    with pytest.raises(PatchError) as err:
        apply_patch(CALC, "def mul(a, b):\n    return a * b", "def mul(a, b):\n    return 0")
    assert err.value.kind == "no_match"
    assert "Closest region: lines" in str(err.value)


def test_fuzzy_with_two_equally_close_places_is_ambiguous():
    text = (
        "def one():\n    value = compute(1)\n    return value\n\n"
        "def two():\n    value = compute(2)\n    return value\n"
    )
    with pytest.raises(PatchError) as err:
        apply_patch(text, "    value = compute(3)\n    return value", "    return 3")
    assert err.value.kind == "ambiguous"
    assert err.value.lines == [2, 6]


def test_single_line_typo_is_never_fuzzy_applied():
    with pytest.raises(PatchError) as err:
        apply_patch(CALC, "    retrun a - b", "    return b - a")
    assert err.value.kind == "no_match"
    assert "   9|     return a - b" in str(err.value)


def test_no_match_error_shows_closest_region_with_line_numbers_and_similarity():
    with pytest.raises(PatchError) as err:
        apply_patch(CALC, "class Square:\n    def __init__(self, side):\n        self.s = side",
                    "x")
    msg = str(err.value)
    assert msg.splitlines()[0].startswith("old_str not found. Closest region: lines 12-14 (similarity")
    assert "  12| class Circle:" in msg
    assert "  14|         self.r = r" in msg
    assert err.value.lines == [12]


def test_unrelated_old_says_nothing_resembles_it():
    with pytest.raises(PatchError) as err:
        apply_patch(CALC, "SELECT * FROM users WHERE id = 7;", "x")
    assert "nothing in the file resembles it" in str(err.value)


def test_line_number_prefixes_from_read_file_are_stripped():
    old = " 8| def sub(a, b):\n 9|     return a - b"
    new = " 8| def sub(a, b):\n 9|     return b - a"
    out = apply_patch(CALC, old, new)
    assert out.line_numbers_stripped
    assert out.strategy == "exact"
    assert "def sub(a, b):\n    return b - a\n" in out.new_text
    assert "9|" not in out.new_text


def test_line_numbers_in_old_only_leave_new_untouched():
    out = apply_patch(CALC, "  5|     return a + b", "    return a + b + 0")
    assert out.line_numbers_stripped
    assert "    return a + b + 0\n" in out.new_text


def test_strip_line_numbers_rules():
    assert strip_line_numbers("12| x = 1\n13|     y = 2") == "x = 1\n    y = 2"
    assert strip_line_numbers("  7\tfoo()\n  8\tbar()") == "foo()\nbar()"
    assert strip_line_numbers("x = 1\n13| y") is None  # not every line is numbered
    assert strip_line_numbers("3| a\n2| b") is None  # numbers must increase
    assert strip_line_numbers("12: value") is None  # a YAML line, not a prefix
    assert strip_line_numbers("12: a\n13: b") == "a\nb"


def test_deleting_a_region_removes_its_lines():
    out = apply_patch(CALC, "def add(a, b):\n  return a + b\n", "")
    assert out.strategy == "indent"
    assert "def add" not in out.new_text
    assert out.new_text.startswith("import math\n\n\n\n\ndef sub")


def test_empty_and_identical_old_are_invalid():
    with pytest.raises(PatchError) as err:
        apply_patch(CALC, "", "x")
    assert err.value.kind == "invalid"
    with pytest.raises(PatchError) as err:
        apply_patch(CALC, "a + b", "a + b")
    assert err.value.kind == "invalid"


def test_file_without_final_newline_keeps_none():
    text = "a = 1\nb = 2"
    out = apply_patch(text, "a = 1 \nb = 2", "a = 1\nb = 3")
    assert out.new_text == "a = 1\nb = 3"


def test_closest_region_locates_a_drifted_block():
    region = closest_region(CALC, "class Circle:\n    def __init__(self, radius):")
    assert region is not None
    assert (region.start_line, region.end_line) == (12, 13)
    assert region.similarity > 0.7


def test_exact_patch_into_a_crlf_file_inserts_crlf_lines():
    text = "a = 1\r\nb = 2\r\n"
    out = apply_patch(text, "b = 2", "b = 2\nc = 3")
    assert out.strategy == "exact"
    assert out.new_text == "a = 1\r\nb = 2\r\nc = 3\r\n"
