"""A specification's examples written as calls of one class's methods become checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.solve import Oracle, repro_checks

STUB = ("class Tally:\n    def __init__(self):\n        pass\n\n"
        "    def add(self, name, amount=1):\n        pass\n\n"
        "    def count(self, name):\n        pass\n\n"
        "    def total(self):\n        pass\n")
DONE = ("class Tally:\n    def __init__(self):\n        self.items = {}\n\n"
        "    def add(self, name, amount=1):\n"
        "        self.items[name] = self.items.get(name, 0) + amount\n\n"
        "    def count(self, name):\n        return self.items.get(name, 0)\n\n"
        "    def total(self):\n        return sum(self.items.values())\n")


@pytest.fixture
def tally(tmp_path: Path) -> Path:
    (tmp_path / "tally.py").write_text(STUB)
    return tmp_path


@pytest.mark.parametrize("doc", [
    'Example: add("a", 2), add("b"), add("a", 5) -> count("a") is 7, total() is 8.',
    ("After `t.add('a', 2)`, `t.add('b')` and `t.add('a', 5)`, `t.count('a')` returns 7 and "
     "`t.total()` returns 8."),
    ("```\nt = Tally()\nt.add('a', 2)\nt.add('b')\nt.add('a', 5)\nt.count('a') == 7\n"
     "t.total() == 8\n```"),
])
def test_method_examples_become_checks_on_a_fresh_object(tally, doc):
    checks = repro_checks("Implement the Tally class as docs/tally.md says.", tally,
                          ["tally.py"], [doc])
    assert [c.expected for c in checks] == ["7", "8"]
    # the steps before the call, in order, on one object built without arguments
    assert checks[0].describe().replace('"', "'") == (
        "obj = Tally(); obj.add('a', 2); obj.add('b'); obj.add('a', 5); obj.count('a') == 7")
    oracle = Oracle("repro", True, "examples", repro=checks)
    failed = oracle.check(tally, ["tally.py"])
    assert not failed.passed and "returned None, expected 7" in failed.detail
    (tally / "tally.py").write_text(DONE)
    assert oracle.check(tally, ["tally.py"]).passed


@pytest.mark.parametrize("doc", [
    # a signature, not an example: its arguments are names
    "`add(name, amount=1)` adds to the tally; `count(name)` is the amount of one name.",
    # a result without any call of the class
    "The total is 8 after three additions.",
    # a function that is not a method of the class
    "Example: summarise([1, 2]) -> 3",
    # the state is set up in words: Tally().count('a') is not 7
    "add 'a' seven times -> count('a') is 7",
])
def test_text_without_a_method_example_gives_no_check(tally, doc):
    assert repro_checks("Implement the Tally class as docs/tally.md says.", tally,
                        ["tally.py"], [doc]) == []


def test_a_class_that_needs_arguments_is_built_as_the_example_builds_it(tmp_path: Path):
    (tmp_path / "stack.py").write_text(
        "class Stack:\n    def __init__(self, limit):\n        self.limit = limit\n\n"
        "    def push(self, x):\n        pass\n\n    def size(self):\n        pass\n")
    with_args = repro_checks("Write Stack", tmp_path, ["stack.py"],
                             ["s = Stack(2); s.push(1); s.size() -> 1"])
    assert [c.describe() for c in with_args] == ["obj = Stack(2); obj.push(1); obj.size() == 1"]
    # built how? the example does not say, and Stack() would fail: no check
    assert repro_checks("Write Stack", tmp_path, ["stack.py"], ["push(1); size() -> 1"]) == []


def test_code_that_writes_out_a_method_examples_answer_fails(tally):
    doc = 'add("a", 200), add("b", 150) -> total() is 350'
    checks = repro_checks("Implement Tally per the notes", tally, ["tally.py"], [doc])
    oracle = Oracle("repro", True, "examples", repro=checks, baseline={"tally.py": STUB})
    (tally / "tally.py").write_text(STUB.replace("    def total(self):\n        pass",
                                                 "    def total(self):\n        return 350"))
    result = oracle.check(tally, ["tally.py"])
    assert not result.passed and "special-cases the example" in result.detail
