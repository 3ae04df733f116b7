"""Edit formats: whole files, whole functions and SEARCH/REPLACE blocks read out of plain
replies."""

from __future__ import annotations

import pytest
from smallcode.core.solve import FunctionFormat, SearchReplaceFormat, WholeFileFormat, choose_format

CALC = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"


def test_whole_file_after_its_path_line_is_taken_whole():
    reply = ("Here is the fix.\n\ncalc.py\n```python\ndef add(a, b):\n    return a + b\n```\n"
             "Done.")
    parsed = WholeFileFormat().parse(reply, {"calc.py": CALC, "util.py": "X = 1\n"})
    assert parsed.files == {"calc.py": "def add(a, b):\n    return a + b\n"}
    assert parsed.problems == []


def test_whole_file_path_in_backticks_bold_or_with_a_folder_is_recognised():
    current = {"src/calc.py": CALC, "src/util.py": "X = 1\n"}
    for line in ("**src/calc.py**", "`calc.py`", "File: src/calc.py", "### calc.py"):
        parsed = WholeFileFormat().parse(f"{line}\n```\nA = 1\n```\n", current)
        assert parsed.files == {"src/calc.py": "A = 1\n"}, line


@pytest.mark.parametrize("reply", [
    "Changes to calc.py:\n```python\ncalc.py\n```python\nA = 2\n```\n",
    "```python\ncalc.py\n```python\nA = 2\n```\n",
    "calc.py\n```\n```python\nA = 2\n```\n",
])
def test_a_block_opened_twice_keeps_only_the_code(reply: str):
    # seen from the 1.5B: the path written inside the block, then a second opening fence
    parsed = WholeFileFormat().parse(reply, {"calc.py": CALC, "util.py": "X = 1\n"})
    assert parsed.files == {"calc.py": "A = 2\n"}


def test_a_single_editable_file_needs_no_path_line():
    parsed = WholeFileFormat().parse("```python\nA = 2\n```", {"calc.py": CALC})
    assert parsed.files == {"calc.py": "A = 2\n"}


def test_a_block_without_a_path_among_several_files_is_a_problem_not_a_guess():
    parsed = WholeFileFormat().parse("```python\nA = 2\n```", {"a.py": "", "b.py": ""})
    assert parsed.files == {}
    assert parsed.problems == ["a code block without a file path before it"]


def test_search_replace_goes_through_the_patch_ladder():
    reply = ("calc.py\n```python\n<<<<<<< SEARCH\ndef add(a,  b):\n    return a - b   \n=======\n"
             "def add(a, b):\n    return a + b\n>>>>>>> REPLACE\n```\n")
    parsed = SearchReplaceFormat().parse(reply, {"calc.py": CALC})
    assert parsed.files["calc.py"].startswith("def add(a, b):\n    return a + b\n")
    assert parsed.files["calc.py"].endswith("def sub(a, b):\n    return a - b\n")


def test_search_replace_that_matches_nothing_is_reported():
    reply = "calc.py\n<<<<<<< SEARCH\nnot in the file\n=======\nx\n>>>>>>> REPLACE\n"
    parsed = SearchReplaceFormat().parse(reply, {"calc.py": CALC})
    assert parsed.files == {}
    assert parsed.problems[0].startswith("calc.py: ")


def test_format_is_chosen_by_file_size_or_by_the_profile():
    small = {"a.py": "x = 1\n" * 20}
    large = {"a.py": "x = 1\n" * 400}
    assert choose_format(small, whole_file_lines=150).name == "whole"
    assert choose_format(large, whole_file_lines=150).name == "function"
    assert choose_format(large, whole_file_lines=150, preferred="whole").name == "whole"
    # a long file without definitions to find (a script, a data file): SEARCH/REPLACE
    script = {"run.py": "print(1)\n" * 400}
    assert choose_format(script, whole_file_lines=150).name == "search-replace"
    notes = {"notes.md": "- item\n" * 400, "a.py": "x = 1\n"}
    assert choose_format(notes, whole_file_lines=150).name == "search-replace"
    assert choose_format(large, whole_file_lines=150, preferred="search-replace").name == (
        "search-replace")


def test_a_read_only_file_echoed_back_never_overwrites_the_editable_one():
    """Seen with the 1.5B: it repeats the test file under 'test_calc.py (read-only)'."""
    reply = ("calc.py\n```python\nA = 1\n```\n\ntest_calc.py (read-only)\n```python\n"
             "from calc import A\n```\n")
    parsed = WholeFileFormat().parse(reply, {"calc.py": CALC})
    assert parsed.files["calc.py"] == "A = 1\n"
    assert parsed.files["test_calc.py"] == "from calc import A\n"  # dropped later: read-only
    # two blocks without paths are pieces of the one file, laid over it later
    two_blocks_no_paths = "```python\nA = 1\n```\n\n```python\nB = 2\n```\n"
    assert WholeFileFormat().parse(two_blocks_no_paths, {"calc.py": CALC}).files == {
        "calc.py": "A = 1\n\nB = 2\n"}


def test_a_whole_file_that_loses_a_function_is_caught_unless_the_task_names_it():
    from smallcode.core.solve.formats import dropped_names

    before = "def average(v):\n    return 0\n\n\ndef spread(v):\n    return 1\n\nLIMIT = 3\n"
    after = "def average(v):\n    return 1\n"
    assert dropped_names("stats.py", before, after, "fix average") == ["LIMIT", "spread"]
    assert dropped_names("stats.py", before, after, "remove spread and LIMIT") == []
    js_before = "function a() {}\nconst b = 1;\nmodule.exports = { a, b };\n"
    assert dropped_names("x.js", js_before, "function a() {}\n", "fix a") == ["b"]


def test_a_reply_with_only_the_changed_function_is_laid_over_the_file():
    from smallcode.core.solve.formats import merge_partial

    before = ("import os\n\n\n@cache\ndef add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n"
              "    return a * b\n\n\nif __name__ == '__main__':\n    print(add(1, 2))\n")
    partial = "import math\n\n@cache\ndef add(a, b):\n    return a + b\n\n\ndef half(x):\n    return x / 2\n"
    merged = merge_partial("calc.py", before, partial)
    assert merged == ("import os\nimport math\n\n\n@cache\ndef add(a, b):\n    return a + b\n\n\n"
                      "def mul(a, b):\n    return a * b\n\n\ndef half(x):\n    return x / 2\n\n\n"
                      "if __name__ == '__main__':\n    print(add(1, 2))\n")
    # other top-level code: a whole (if shorter) file, not a partial one: not merged
    assert merge_partial("calc.py", before, "def add(a, b):\n    return a + b\n\nprint(3)\n") is None
    # a reply that does not parse is not merged
    assert merge_partial("calc.py", before, "def add(a, b):\n    return a +\n") is None
    assert merge_partial("notes.txt", "a\n", "b\n") is None


def test_a_javascript_partial_reply_keeps_the_other_functions_and_replaces_the_exports():
    from smallcode.core.solve.formats import merge_partial

    before = ("function flatten(arrays) {\n  return arrays.reduce((a, b) => a.concat(b), []);\n}\n\n"
              "function last(xs) {\n  return xs['}'.length - 1 + xs.length - 1];\n}\n\n"
              "module.exports = { flatten, last };\n")
    partial = ("const chunk = (xs, n) => {\n  if (n < 1) throw new RangeError(`size ${n}`);\n"
               "  return [xs];\n};\n\nmodule.exports = { flatten, last, chunk };\n")
    merged = merge_partial("arrays.js", before, partial)
    assert merged is not None
    assert merged.index("function flatten") < merged.index("function last") < merged.index(
        "const chunk") < merged.index("module.exports = { flatten, last, chunk };")
    assert "module.exports = { flatten, last };" not in merged


@pytest.mark.parametrize("after, exported", [
    # the 1.5B's reply to "add chunk (and export it)", laid over the file
    ("function flatten(a) {}\n\nfunction chunk(a, n) {}\n\nmodule.exports = { chunk };\n",
     "module.exports = { flatten, chunk };"),
    # written as a list, one entry a line
    ("function flatten(a) {}\nfunction chunk(a, n) {}\nmodule.exports = {\n    chunk,\n};\n",
     "module.exports = {\n    flatten,\n    chunk,\n};"),
    ("function flatten(a) {}\nconst chunk = (a, n) => [];\nmodule.exports={chunk};\n",
     "module.exports={flatten, chunk};"),
])
def test_an_export_list_written_anew_keeps_the_names_it_had(after, exported):
    from smallcode.core.solve.formats import kept_exports

    before = "function flatten(a) {}\n\nmodule.exports = { flatten };\n"
    fixed, lost = kept_exports("arrays.js", before, after, "Add chunk(array, size) and export it")
    assert lost == ["flatten"]
    assert exported in fixed


def test_an_export_list_keeps_renamed_entries_and_python_all():
    from smallcode.core.solve.formats import kept_exports

    before = "function helper() {}\nconst x = 1;\nmodule.exports = {\n  run: helper,\n  x,\n};\n"
    after = "function helper() {}\nconst x = 1;\nfunction y() {}\nmodule.exports = {\n  y,\n};\n"
    fixed, lost = kept_exports("a.js", before, after, "add y")
    assert lost == ["run", "x"]
    assert "module.exports = {\n  run: helper,\n  x,\n  y,\n};" in fixed
    before_py = "def a():\n    pass\n\n\ndef b():\n    pass\n\n\n__all__ = ['a', 'b']\n"
    after_py = before_py.replace("__all__ = ['a', 'b']", "def c():\n    pass\n\n\n__all__ = ['c']")
    fixed, lost = kept_exports("pkg/m.py", before_py, after_py, "add c")
    assert lost == ["a", "b"] and "__all__ = ['a', 'b', 'c']" in fixed


@pytest.mark.parametrize("after, task", [
    # the task names it: it may ask to stop exporting it
    ("function flatten(a) {}\nfunction chunk() {}\nmodule.exports = { chunk };\n",
     "Stop exporting flatten and add chunk"),
    # no longer defined: exporting it would break the module
    ("function chunk() {}\nmodule.exports = { chunk };\n", "Replace the old helper with chunk"),
    # no export list in the reply, or the same names
    ("function flatten(a) {}\nfunction chunk() {}\n", "add chunk"),
    ("function flatten(a) {}\nfunction chunk() {}\nmodule.exports = { chunk, flatten };\n",
     "add chunk"),
])
def test_an_export_list_is_left_alone_when_nothing_was_lost_by_mistake(after, task):
    from smallcode.core.solve.formats import kept_exports

    before = "function flatten(a) {}\n\nmodule.exports = { flatten };\n"
    assert kept_exports("arrays.js", before, after, task) == (after, [])
    assert kept_exports("notes.md", before, after, "add chunk") == (after, [])


def test_makefile_recipes_written_with_spaces_get_a_tab_and_nothing_else_changes():
    from smallcode.core.edit.validate import recipe_tabs

    text = (".PHONY: build clean\n\nCC := gcc\nFILES = a \\\n    b\n\nbuild: src/a \\\n"
            "    src/b\n\tmkdir -p build\n\nclean:\n    rm -rf build\n"
            "    find . -name '*.pyc' -delete\n\ntest: build\n  python -m pytest\n"
            "ifeq ($(CC),gcc)\n  X = 1\nendif\n")
    fixed, n = recipe_tabs("Makefile", text)
    assert n == 3
    assert "clean:\n\trm -rf build\n\tfind . -name '*.pyc' -delete\n" in fixed
    assert "test: build\n\tpython -m pytest\n" in fixed
    # a variable's continuation, a rule's continued prerequisites, a conditional: as they were
    assert "FILES = a \\\n    b\n" in fixed and "build: src/a \\\n    src/b\n" in fixed
    assert "ifeq ($(CC),gcc)\n  X = 1\n" in fixed
    assert recipe_tabs("notes.md", text) == (text, 0)
    assert recipe_tabs("rules.mk", "x:\n  echo\n") == ("x:\n\techo\n", 1)


@pytest.mark.parametrize("lead", [
    "Here's the updated code for `report.py`:",
    "The fixed version of report.py is below:",
    "#### Updated report.py",
    "In report.py, change the function to:",
    "### Updated Report.py",
    "Report.py",
])
def test_a_sentence_naming_one_editable_file_gives_the_block_its_path(lead: str):
    current = {"report.py": "x = 1\n", "data/sales.csv": "amount\n1\n"}
    parsed = WholeFileFormat().parse(f"The header row is summed.\n\n{lead}\n```python\n"
                                     "x = 2\n```\n", current)
    assert parsed.files == {"report.py": "x = 2\n"} and parsed.problems == []


LOGGER = ("from pkg.levels import LEVELS\n\n\nclass Logger:\n    def should_log(self, level):\n"
          "        return LEVELS[level] > 20\n")
LEVELS = 'LEVELS = {"info": 20, "warning": 30}\n\n\ndef level_of(name):\n    return LEVELS[name]\n'
PKG = {"pkg/levels.py": LEVELS, "pkg/logger.py": LOGGER, "pkg/__init__.py": ""}
FIXED_LOGGER = LOGGER.replace(">", ">=")


@pytest.mark.parametrize("reply", [
    # asked for the code only, the model leaves out the path lines
    f"```python\n{FIXED_LOGGER}```\n\n```python\n{LEVELS}```\n",
    # the paths in a numbered list, each block indented under its item
    "1. **Update `pkg/logger.py`**:\n   ```python\n"
    + "".join(f"   {ln}\n" if ln else "\n" for ln in FIXED_LOGGER.splitlines())
    + "   ```\n2. **Update `pkg/levels.py`**:\n   ```python\n"
    + "".join(f"   {ln}\n" if ln else "\n" for ln in LEVELS.splitlines()) + "   ```\n",
    # one path-less block per file, in another order, with prose between
    (f"The levels stay:\n```python\n{LEVELS}```\nThe logger compares with >=:\n"
     f"```python\n{FIXED_LOGGER}```\n"),
])
def test_whole_files_of_a_package_without_path_lines_go_to_the_files_defining_their_names(
        reply: str):
    parsed = WholeFileFormat().parse(reply, PKG)
    assert parsed.files == {"pkg/logger.py": FIXED_LOGGER, "pkg/levels.py": LEVELS}
    assert parsed.problems == []


def test_a_pathless_block_whose_names_two_files_share_equally_is_not_guessed():
    current = {"a.py": "def f():\n    return 1\n", "b.py": "def f():\n    return 2\n"}
    parsed = WholeFileFormat().parse("```python\ndef f():\n    return 3\n```\n\n"
                                     "```python\nX = 1\n```\n", current)
    assert parsed.files == {}
    assert parsed.problems == ["a code block without a file path before it"] * 2


def test_a_lone_block_goes_to_the_one_file_in_its_language_and_never_guesses_otherwise():
    fmt = WholeFileFormat()
    current = {"report.py": "x = 1\n", "data/sales.csv": "amount\n"}
    assert fmt.parse("Fixed:\n```python\nx = 2\n```", current).files == {"report.py": "x = 2\n"}
    two = {"a.py": "", "b.py": ""}
    for reply in ("Fixed:\n```python\nx = 2\n```", "See `a.py` and `b.py`:\n```python\nx\n```"):
        parsed = fmt.parse(reply, two)
        assert parsed.files == {}
        assert parsed.problems == ["a code block without a file path before it"]


CSV_JS = """function formatCell(value) {
  const text = String(value);
  if (text.includes(",") || text.includes('"')) return '"' + text.replace(/"/g, '""') + '"';
  return text;
}

function formatRow(row) {
  return row.map(formatCell).join(",");
}

function toCsv(rows) {
  return rows.map(formatRow).join("\\n");
}

module.exports = { formatCell, formatRow, toCsv };
"""
CELL = """function formatCell(value, sep) {
  const text = String(value);
  return text.includes(sep) ? '"' + text + '"' : text;
}"""
ROW = """function formatRow(row, sep = ",") {
  return row.map((c) => formatCell(c, sep)).join(sep);
}"""


@pytest.mark.parametrize("reply", [
    (f"New `formatCell` function:\n```javascript\n{CELL}\n```\n\nNew `formatRow` function:\n"
     f"```javascript\n{ROW}\n```\n"),
    (f"Here are the changes.\n\n```js\n{CELL}\n```\n\n```js\n{ROW}\n```\n\nUsage:\n```js\n"
     "console.log(toCsv([[1, 2]], ';'));\n```\n"),
    f"1. Update formatCell:\n```\n{CELL}\n```\n2. Update formatRow:\n```javascript\n{ROW}\n```",
])
def test_pathless_blocks_of_definitions_are_pieces_of_the_one_file(reply):
    from smallcode.core.solve.formats import merge_partial

    current = {"csv.js": CSV_JS, "README.md": "# csv\n"}
    parsed = WholeFileFormat().parse(reply, current)
    merged = merge_partial("csv.js", CSV_JS, parsed.files["csv.js"])
    assert merged is not None
    assert CELL in merged and ROW in merged
    assert "function toCsv(rows) {" in merged and merged.rstrip().endswith(
        "module.exports = { formatCell, formatRow, toCsv };")
    assert "console.log" not in merged  # a usage example is not part of the file


def test_a_regex_literal_with_a_quote_does_not_swallow_the_rest_of_a_javascript_file():
    from smallcode.core.solve.formats import _js_spans

    assert _js_spans(CSV_JS) == {"formatCell": (0, 5), "formatRow": (6, 9), "toCsv": (10, 13),
                                 "module.exports": (14, 15)}
    assert _js_spans("const a = x / 2;\nfunction f() {\n  return a / 3;\n}\n") == {
        "a": (0, 1), "f": (1, 4)}


# ---------------------------------------------------------------- a streaming reply is complete
TWO = {"calc.py": CALC}


@pytest.mark.parametrize("reply", [
    "I will make add add.\n\ncalc.py\n```python\n" + CALC.replace("a - b", "a + b", 1) + "```\n",
    "```python\n" + CALC.replace("a - b", "a + b", 1) + "```\nThis fixes add because",
    "Here is the fixed `calc.py`:\n```python\n" + CALC.replace("a - b", "a + b", 1)
    + "```\n\n### Explanation\n1. `add` now",
])
def test_a_reply_is_complete_once_the_whole_file_is_written(reply: str):
    fmt = WholeFileFormat()
    cut = fmt.complete(reply, TWO)
    assert cut is not None
    # what is kept parses to the same file as the whole reply would
    assert fmt.parse(reply[:cut], TWO).files == {"calc.py": CALC.replace("a - b", "a + b", 1)}
    assert reply[:cut].rstrip().endswith("```")


@pytest.mark.parametrize("reply", [
    # the file's block is still open
    "calc.py\n```python\ndef add(a, b):\n    return a + b\n",
    # a usage example is not the file: it defines neither add nor sub
    "For example:\n```python\nprint(add(1, 2))\n```\n",
    # one function of two: the rest of the file may follow
    "The fix:\n```python\ndef add(a, b):\n    return a + b\n```\n",
    # nothing but prose so far, and a half line
    "I will change add so that it retur",
])
def test_a_reply_is_not_complete_while_the_file_may_still_come(reply: str):
    assert WholeFileFormat().complete(reply, TWO) is None


@pytest.mark.parametrize("opener", ["docs/spec.md\n```markdown\n", "### docs/spec.md\n```\n",
                                    "And the spec, unchanged:\n```markdown\n"])
def test_a_reply_that_starts_echoing_a_document_is_complete(opener: str):
    current = {"calc.py": CALC, "util.py": "def helper():\n    pass\n"}
    reply = ("calc.py\n```python\n" + CALC.replace("a - b", "a + b", 1) + "```\n\n" + opener
             + "# Spec\n")
    cut = WholeFileFormat().complete(reply, current)
    assert cut is not None and "Spec" not in reply[:cut]


def test_with_two_files_to_change_one_written_leaves_the_reply_open():
    current = {"calc.py": CALC, "util.py": "def helper():\n    pass\n"}
    reply = "calc.py\n```python\n" + CALC.replace("a - b", "a + b", 1) + "```\n\nutil.py\n"
    assert WholeFileFormat().complete(reply, current) is None
    reply += "```python\ndef helper():\n    return 1\n```\n"
    assert WholeFileFormat().complete(reply, current) == len(reply)


def test_search_replace_replies_are_read_to_the_end():
    reply = "calc.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"
    assert SearchReplaceFormat().complete(reply, TWO) is None


def test_a_new_file_is_complete_only_in_a_block_that_names_it():
    current = {"answer.txt": ""}
    echoed = "The check said:\n```\nreproduction check failed: f(2) returned 3\n```\n"
    assert WholeFileFormat().complete(echoed, current) is None
    reply = echoed + "answer.txt\n```\n42\n```\n"
    assert WholeFileFormat().complete(reply, current) == len(reply)


WRAP = ("import re\n\n\nclass Wrapper:\n    width = 70\n\n    def __init__(self, width=70):\n"
        "        self.width = width\n\n    @staticmethod\n    def helper(x):\n"
        "        return x + 1\n\n    def wrap(self, text):\n        return [text]\n\n\n"
        "def fill(text):\n    return '\\n'.join(Wrapper().wrap(text))\n" + "\n# pad\n" * 200)


@pytest.mark.parametrize("body", [
    # at its class's indentation, at none, and inside its class with the other methods left out
    "    def wrap(self, text):\n        return text.split()\n",
    "def wrap(self, text):\n    return text.split()\n",
    "class Wrapper:\n    def wrap(self, text):\n        return text.split()\n",
])
def test_a_method_written_back_alone_replaces_only_that_method(body):
    reply = f"Split on spaces.\n\nwrap.py\n```python\n{body}```\nThat fixes it."
    parsed = FunctionFormat().parse(reply, {"wrap.py": WRAP})
    assert parsed.problems == []
    assert parsed.files["wrap.py"] == WRAP.replace("return [text]", "return text.split()")


def test_function_blocks_for_several_definitions_and_a_new_one_are_all_laid_over_the_file():
    reply = ("wrap.py\n```python\ndef fill(text):\n    return ' '.join(Wrapper().wrap(text))\n"
             "```\n\nwrap.py\n```python\n    @staticmethod\n    def helper(x):\n"
             "        return x + 2\n```\n\nwrap.py\n```python\ndef shorten(text):\n"
             "    return text[:10]\n```\n")
    parsed = FunctionFormat().parse(reply, {"wrap.py": WRAP})
    assert parsed.problems == []
    new = parsed.files["wrap.py"]
    assert "return ' '.join(Wrapper().wrap(text))" in new and "return x + 2" in new
    assert "def shorten(text):" in new and "def __init__(self, width=70):" in new
    compile(new, "wrap.py", "exec")


def test_a_function_block_holding_the_whole_file_changes_what_it_changes_and_junk_is_reported():
    fixed = WRAP.replace("return [text]", "return text.split()")
    # the whole file without its comments: its definitions laid over the file
    whole = fixed.replace("# pad\n", "")
    parsed = FunctionFormat().parse(f"wrap.py\n```python\n{whole}```\n", {"wrap.py": WRAP})
    assert parsed.files == {"wrap.py": fixed}
    # a whole file with top-level code of its own is taken as it is
    script = whole + "\nprint(fill('a b'))\n"
    parsed = FunctionFormat().parse(f"wrap.py\n```python\n{script}```\n", {"wrap.py": WRAP})
    assert parsed.files == {"wrap.py": script}
    parsed = FunctionFormat().parse("wrap.py\n```python\nprint(Wrapper().wrap('a b'))\n```\n",
                                    {"wrap.py": WRAP})
    assert parsed.files == {} and parsed.problems
    assert FunctionFormat().parse("No change needed.", {"wrap.py": WRAP}).problems == [
        "no code block in the reply"]


def test_a_function_reply_is_complete_when_prose_follows_its_last_block():
    fmt = FunctionFormat()
    head = "Split it.\n\nwrap.py\n```python\ndef wrap(self, text):\n    return text.split()\n```\n"
    assert fmt.complete(head, {"wrap.py": WRAP}) is None  # another block may follow
    assert fmt.complete(head + "\nwrap.py\n", {"wrap.py": WRAP}) is None
    reply = head + "\nThis splits the text on whitespace.\n"
    assert fmt.complete(reply, {"wrap.py": WRAP}) == len(head)


def test_a_function_reply_cut_off_by_the_token_limit_keeps_the_definitions_it_finished():
    current = ("import os\n\n\ndef a():\n    return 1\n\n\n@cache\ndef b():\n    return 2\n\n\n"
               "def c():\n    return 3\n" + "\n# pad\n" * 200)
    # asked for functions, the model writes the whole file and the limit cuts it in b
    reply = ("f.py\n```python\nimport os\n\n\ndef a():\n    return 10\n\n\n@cache\ndef b():\n"
             "    ret")
    parsed = FunctionFormat().parse(reply, {"f.py": current}, cut_off=True)
    assert parsed.problems == []
    assert parsed.files["f.py"] == current.replace("return 1\n", "return 10\n")
    # not cut off (the model forgot the closing fence): every definition is used
    done = "f.py\n```python\ndef c():\n    return 30\n"
    assert "return 30" in FunctionFormat().parse(done, {"f.py": current}).files["f.py"]
    # cut off in the only definition: nothing is left to use
    parsed = FunctionFormat().parse("f.py\n```python\ndef a():\n    return (1 +",
                                    {"f.py": current}, cut_off=True)
    assert parsed.files == {} and parsed.problems


def test_copying_a_file_too_long_to_write_back_is_stopped_and_said():
    long_file = "".join(f"def f{i}(x):\n    '''Return x plus {i}.'''\n    return x + {i}\n\n\n"
                        for i in range(400))
    assert len(long_file) > FunctionFormat.WHOLE_REPLY_CHARS
    fmt = FunctionFormat()
    head = "I will fix f3.\n\nlong.py\n```python\n" + "".join(long_file.splitlines(True)[:60])
    assert fmt.complete(head[:60], {"long.py": long_file}) is None
    assert fmt.complete(head, {"long.py": long_file}) == len(head)
    parsed = fmt.parse(head, {"long.py": long_file})
    assert parsed.files == {}
    assert parsed.problems[0].startswith("the reply began to copy the whole of long.py")
    # a file short enough to write back whole may be copied: the 1.5B's whole-file replies
    # of a 350-line file passed their tests
    short = "".join(long_file.splitlines(True)[:200])
    assert fmt.complete("long.py\n```python\n" + short[:2000], {"long.py": short}) is None
    # the changed function alone is not a copy
    one = "long.py\n```python\ndef f3(x):\n    '''Return x plus 3.'''\n    return x + 4\n```\n"
    assert "return x + 4" in fmt.parse(one, {"long.py": long_file}).files["long.py"]


def test_a_function_reply_ends_where_a_block_for_a_read_only_file_opens():
    head = "wrap.py\n```python\ndef wrap(self, text):\n    return text.split()\n```\n\n"
    reply = head + "tests/test_wrap.py\n```python\nimport pytest\n"
    assert FunctionFormat().complete(reply, {"wrap.py": WRAP}) == len(head.rstrip("\n")) + 1


@pytest.mark.parametrize("stands_for", ["<no changes>", "(no changes needed)", "# unchanged",
                                        "No changes."])
def test_a_block_that_says_the_file_stays_is_no_new_content(stands_for):
    fmt = WholeFileFormat()
    current = {"shop/__init__.py": "", "shop/pricing.py": "def price():\n    return 1\n"}
    reply = (f"shop/__init__.py\n```python\n{stands_for}\n```\n\n"
             "shop/pricing.py\n```python\ndef price():\n    return 2\n```\n")
    assert fmt.parse(reply, current).files == {"shop/pricing.py": "def price():\n    return 2\n"}
