"""Long Python files shown as excerpts, and replies that echo the excerpt."""

from __future__ import annotations

import ast

import pytest
from smallcode.core.solve.excerpt import drop_elided, excerpt, focus_of, names_in
from smallcode.core.solve.formats import FORMATS


def module(n: int = 12) -> str:
    funcs = "".join(f"def helper{i}(x):\n    y = x + {i}\n    return y * 2\n\n\n"
                    for i in range(n))
    return ('"""Helpers.\n\nA long description\nthat goes on\nand on\nand on.\n"""\n\n'
            "import math\n\nLIMIT = 10\n\n\n" + funcs
            + "class Box:\n    \"\"\"A box.\"\"\"\n\n    size = 3\n\n"
            "    def __init__(self, items):\n        self.items = list(items)\n\n"
            "    def total(self):\n        return sum(self.items) - 1\n\n"
            "    def biggest(self):\n        best = max(self.items)\n        return best\n\n\n"
            "def area(r):\n    full = math.pi * r * r\n    return full\n")


def test_only_the_definitions_in_focus_are_shown_in_full():
    text = module()
    shown = excerpt(text, {"total", "area"})
    assert shown is not None
    ast.parse(shown)
    assert "    def total(self):\n        return sum(self.items) - 1\n" in shown
    assert "def area(r):\n    full = math.pi * r * r\n    return full\n" in shown
    assert "def helper3(x):\n    ...\n" in shown and "y = x + 3" not in shown
    assert "    def biggest(self):\n        ...\n" in shown
    # imports, constants and class attributes stay; a long docstring keeps its ends
    assert "import math" in shown and "LIMIT = 10" in shown and "size = 3" in shown
    assert shown.startswith('"""Helpers.\n...\n"""\n') and "goes on" not in shown
    # two-line functions have nothing to leave out
    assert "    def __init__(self, items):\n        self.items = list(items)\n" in shown


@pytest.mark.parametrize("focus", [set(), {"nothing_here"}, {"Box", *[f"helper{i}"
                                                                     for i in range(12)]}])
def test_no_excerpt_when_nothing_or_most_of_the_file_is_in_focus(focus):
    assert excerpt(module(), focus) is None


@pytest.mark.parametrize("task,suspects,focus", [
    ("Box.total() is off by one", set(), {"Box", "total"}),
    ("the total of a box is one short", {"total"}, {"total"}),
    ("area(2) should be 4*pi", set(), {"area"}),
])
def test_the_focus_is_what_the_task_or_the_fault_localisation_names(task, suspects, focus):
    assert focus_of(module(), names_in(task), suspects) == focus


@pytest.mark.parametrize("reply_part", [
    "the whole excerpt",  # the model copies everything it was shown, fixing one method
    "the class",  # the class as shown, elided methods and all
    "the method",  # only the method
])
def test_a_reply_echoing_the_excerpt_changes_only_what_it_rewrote(reply_part):
    text = module()
    shown = excerpt(text, {"total"})
    fixed = shown.replace("sum(self.items) - 1", "sum(self.items)")
    if reply_part == "the class":
        fixed = fixed[fixed.index("class Box"):fixed.index("\n\n\ndef area")] + "\n"
    elif reply_part == "the method":
        fixed = "    def total(self):\n        return sum(self.items)\n"
    parsed = FORMATS["function"].parse(f"shapes.py\n```python\n{fixed}```\n",
                                       {"shapes.py": text})
    assert parsed.problems == []
    assert parsed.files["shapes.py"] == text.replace("sum(self.items) - 1", "sum(self.items)")


def test_a_real_function_written_as_a_stub_on_purpose_is_kept():
    # "..." where the file has a real body drops the echo; a new stub or a stub that was one
    # before is the reply's to write
    current = "def f():\n    return 1\n\n\ndef g():\n    ...\n"
    body = "def f():\n    ...\n\n\ndef g():\n    ...\n\n\ndef h():\n    ...\n"
    assert drop_elided(body, current) == "def g():\n    ...\n\n\ndef h():\n    ...\n"
