"""Spectrum-based fault localisation on real pytest runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.solve.faultloc import describe, suspects

WORDS = ("from collections import Counter\n\n\n"
         "def words(text):\n    return text.split()\n\n\n"
         "def frequencies(text):\n    counts = Counter()\n    for word in words(text):\n"
         "        counts[word] += 1\n    return counts\n\n\n"
         "def longest(text):\n    return max(words(text), key=len)\n")
WORDS_TESTS = ("from wordfreq import frequencies, longest\n\n\n"
               "def test_case_is_ignored():\n    assert frequencies('The the')['the'] == 2\n\n\n"
               "def test_longest():\n    assert longest('a bbb cc') == 'bbb'\n")

INDENT = ("def indent(text, prefix, predicate=None):\n    if predicate is None:\n"
          "        def predicate(line):\n            return True\n"
          "    return ''.join(prefix + line if predicate(line) else line\n"
          "                   for line in text.splitlines(True))\n\n\n"
          "def dedent(text):\n    return text\n")
INDENT_TESTS = ("from wrapping import dedent, indent\n\n\n"
                "def test_blank_lines_keep_no_prefix():\n    assert indent('a\\n\\nb', '> ') == "
                "'> a\\n\\n> b'\n\n\n"
                "def test_custom_predicate():\n    assert indent('a\\nb', '-', lambda l: "
                "l.startswith('a')) == '-a\\nb'\n\n\n"
                "def test_dedent():\n    assert dedent('x') == 'x'\n")


@pytest.mark.parametrize("files,where", [
    ({"wordfreq.py": WORDS, "tests/test_wordfreq.py": WORDS_TESTS},
     ["wordfreq.py line 9 (in frequencies): counts = Counter()"]),
    ({"wrapping.py": INDENT, "tests/test_wrapping.py": INDENT_TESTS},
     ["wrapping.py line 4 (in predicate): return True"]),
])
def test_the_lines_only_failing_tests_run_are_pointed_at(tmp_path: Path, files, where):
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    code = [rel for rel in files if "test" not in rel]
    found = suspects(tmp_path, code, 60)
    text = describe(found)
    assert text.startswith("Lines that only the failing tests run")
    for line in where:
        assert line in text
    # lines the passing tests run too are not suspects, nor are the def lines
    assert all(s.function not in ("words", "longest", "dedent") for s in found)


def test_no_contrast_no_suspects(tmp_path: Path):
    # every test fails: every line they run is "only run by failing tests", which says nothing
    (tmp_path / "wordfreq.py").write_text(WORDS)
    (tmp_path / "test_wordfreq.py").write_text(WORDS_TESTS.replace("== 'bbb'", "== 'x'"))
    assert suspects(tmp_path, ["wordfreq.py"], 60) == []


def test_too_many_lines_name_their_functions_or_nothing(tmp_path: Path):
    body = "".join(f"    x{i} = {i}\n" for i in range(20))
    (tmp_path / "big.py").write_text(f"def f():\n{body}    return 1\n\n\ndef g():\n    return 2\n")
    (tmp_path / "test_big.py").write_text("from big import f, g\n\n\ndef test_f():\n"
                                          "    assert f() == 2\n\n\ndef test_g():\n"
                                          "    assert g() == 2\n")
    assert describe(suspects(tmp_path, ["big.py"], 60)) == (
        "Code that only the failing tests run (no passing test runs it), so the fault is most "
        "likely there: f in big.py")


def test_a_run_that_cannot_start_gives_nothing(tmp_path: Path):
    (tmp_path / "m.py").write_text("x = 1\n")
    assert suspects(tmp_path, ["m.py"], 60, python=str(tmp_path / "no-python")) == []
