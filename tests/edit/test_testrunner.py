"""Test-runner detection, covering tests, and compact results from real runs."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from smallcode.core.edit.testrunner import (
    TestRun,
    detect_test_runner,
    parse_cargo_test,
    parse_go_test,
    parse_jest,
    parse_pytest,
    parse_unittest,
    parse_vitest,
    run_tests,
    tests_for_file,
)


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST_CALC = (
    "from src.calc import add, mul\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n"
)


def python_project(root: Path) -> None:
    write(root, "src/__init__.py", "")
    write(root, "src/calc.py", CALC)
    write(root, "src/other.py", "X = 1\n")
    write(root, "tests/test_calc.py", TEST_CALC)
    write(root, "tests/test_other.py", "from src.other import X\n\n\ndef test_x():\n    assert X == 1\n")


def test_pytest_is_detected_and_covering_tests_found(tmp_path):
    python_project(tmp_path)
    runner = detect_test_runner(tmp_path)
    assert runner is not None and runner.name == "pytest"
    assert tests_for_file(tmp_path, "src/calc.py") == ["tests/test_calc.py"]
    assert tests_for_file(tmp_path, tmp_path / "src/other.py") == ["tests/test_other.py"]
    assert tests_for_file(tmp_path, "tests/test_calc.py") == ["tests/test_calc.py"]


def test_pytest_run_reports_the_failing_test_with_message_and_location(tmp_path):
    python_project(tmp_path)
    runner = detect_test_runner(tmp_path)
    assert runner is not None
    run = run_tests(runner, ["tests/test_calc.py"], timeout=120)
    assert not run.ok
    assert run.summary.startswith("1 failed, 1 passed in ")
    assert run.failures == [
        "tests/test_calc.py::test_add - assert -1 == 5 (at tests/test_calc.py:5)"]
    write(tmp_path, "src/calc.py", CALC.replace("a - b", "a + b"))
    fixed = run_tests(runner, ["tests/test_calc.py"], timeout=120)
    assert fixed.ok and fixed.failures == []
    assert fixed.summary.startswith("2 passed in ")


def test_pytest_failure_location_is_the_deepest_frame(tmp_path):
    write(tmp_path, "calc.py", "def add(a, b):\n    x = a - b\n    assert x > 100, 'boom'\n    return x\n")
    write(tmp_path, "test_calc.py", "from calc import add\n\n\ndef test_add():\n    add(1, 2)\n")
    runner = detect_test_runner(tmp_path)
    assert runner is not None
    run = run_tests(runner, [], timeout=120)
    assert run.failures == ["test_calc.py::test_add - AssertionError: boom (at calc.py:3)"]


def test_pytest_failure_location_skips_frames_outside_the_workspace(tmp_path):
    # the traceback ends in the standard library (json) and the test prints a fake location:
    # the location is still the deepest frame in the workspace
    write(tmp_path, "test_load.py",
          "import json\n\n\ndef parse(text):\n    return json.loads(text)\n\n\n"
          "def test_load():\n    print('helper.py:3: not a frame')\n    parse('{bad')\n")
    runner = detect_test_runner(tmp_path)
    assert runner is not None
    run = run_tests(runner, [], timeout=120)
    assert len(run.failures) == 1
    assert run.failures[0].startswith("test_load.py::test_load - json.decoder.JSONDecodeError")
    assert run.failures[0].endswith("(at test_load.py:5)")


@pytest.mark.skipif(importlib.util.find_spec("pytest_asyncio") is None,
                    reason="pytest-asyncio not installed")
def test_async_pytest_failure_location_is_in_the_workspace(tmp_path, monkeypatch):
    # this project uses a plugin: the user's installed plugins load (tests/conftest.py turns
    # their autoloading off for the toy projects that use none)
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    # no asyncio_default_fixture_loop_scope: pytest-asyncio 1.x warns about it on stderr with
    # its own file:line, after the failures; that must not pass for the failure's location
    write(tmp_path, "calc.py", "async def add(a, b):\n    return a - b\n")
    write(tmp_path, "test_calc.py",
          "import pytest\n\nfrom calc import add\n\n\n@pytest.mark.asyncio\n"
          "async def test_add():\n    assert await add(2, 3) == 5\n")
    runner = detect_test_runner(tmp_path)
    assert runner is not None
    run = run_tests(runner, [], timeout=120)
    assert run.failures == ["test_calc.py::test_add - assert -1 == 5 (at test_calc.py:8)"]


PYTEST_OUTPUT_WITH_LIBRARY_FRAMES = """\
FE                                                                       [100%]
==================================== ERRORS ====================================
_____________________________ ERROR at setup of test_db _____________________________
tests/test_db.py:6: in db
    return connect()
.venv/lib/python3.11/site-packages/dblib/core.py:40: in connect
    raise OSError("no db")
E   OSError: no db
=================================== FAILURES ===================================
___________________________________ test_add ___________________________________
tests/test_calc.py:5: in test_add
    check(add(2, 3))
{root}/src/calc.py:9: in check
    assert value == 5
/usr/lib/python3.11/unittest/case.py:873: in assertEqual
    raise self.failureException(msg)
E   AssertionError: -1 != 5
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_add - AssertionError: -1 != 5
ERROR tests/test_db.py::test_db - OSError: no db
1 failed, 1 error in 0.12s
/usr/lib/python3/dist-packages/pytest_asyncio/plugin.py:306: PytestDeprecationWarning: unset
  warnings.warn(PytestDeprecationWarning(_DEFAULT_FIXTURE_LOOP_SCOPE_UNSET))
"""


def test_pytest_output_locations_are_never_a_library_or_plugin_frame(tmp_path):
    summary, failures = parse_pytest(PYTEST_OUTPUT_WITH_LIBRARY_FRAMES.format(root=tmp_path),
                                     tmp_path)
    assert summary == "1 failed, 1 error in 0.12s"
    assert failures == [
        "tests/test_calc.py::test_add - AssertionError: -1 != 5 (at src/calc.py:9)",
        "ERROR tests/test_db.py::test_db - OSError: no db (at tests/test_db.py:6)",
    ]


def test_project_without_tests_has_no_runner(tmp_path):
    write(tmp_path, "app.py", "print('hi')\n")
    assert detect_test_runner(tmp_path) is None
    assert tests_for_file(tmp_path, "app.py") == []


def test_pytest_timeout_is_reported_not_raised(tmp_path):
    write(tmp_path, "test_slow.py", "import time\n\n\ndef test_slow():\n    time.sleep(30)\n")
    runner = detect_test_runner(tmp_path)
    assert runner is not None
    run = run_tests(runner, [], timeout=3)
    assert run.timed_out and not run.ok
    assert run.summary.startswith("tests timed out after 3s")


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_node_test_runner_detected_from_package_json_and_run(tmp_path):
    write(tmp_path, "package.json", json.dumps({"name": "x", "scripts": {"test": "node --test"}}))
    write(tmp_path, "lib/cart.js",
          "function total(items) {\n  return items.reduce((s, i) => s + i.price, 0);\n}\n"
          "module.exports = { total };\n")
    write(tmp_path, "test/cart.test.js",
          "const test = require('node:test');\nconst assert = require('node:assert');\n"
          "const { total } = require('../lib/cart');\n\n"
          "test('total multiplies by quantity', () => {\n"
          "  assert.strictEqual(total([{ price: 2, qty: 3 }]), 6);\n});\n"
          "test('empty cart', () => {\n  assert.strictEqual(total([]), 0);\n});\n")
    runner = detect_test_runner(tmp_path)
    assert runner is not None and runner.name == "node"
    assert tests_for_file(tmp_path, "lib/cart.js") == ["test/cart.test.js"]
    run = run_tests(runner, ["test/cart.test.js"], timeout=120)
    assert not run.ok
    assert run.summary == "1 passed, 1 failed"
    assert len(run.failures) == 1
    assert run.failures[0].startswith("total multiplies by quantity - Expected values to be strictly equal")
    assert run.failures[0].endswith("2 !== 6 (at test/cart.test.js:5:1)")


def test_jest_and_vitest_are_detected_from_package_json(tmp_path):
    write(tmp_path, "package.json", json.dumps({"scripts": {"test": "jest --coverage"}}))
    write(tmp_path, "node_modules/.bin/jest", "#!/bin/sh\n")
    runner = detect_test_runner(tmp_path)
    assert runner is not None and runner.name == "jest"
    assert runner.command[0].endswith("node_modules/.bin/jest")
    write(tmp_path, "package.json", json.dumps({"devDependencies": {"vitest": "^1.0.0"}}))
    write(tmp_path, "node_modules/.bin/vitest", "#!/bin/sh\n")
    runner = detect_test_runner(tmp_path)
    assert runner is not None and runner.name == "vitest" and runner.command[-1] == "run"


def test_language_of_the_changed_file_picks_the_runner(tmp_path):
    python_project(tmp_path)
    write(tmp_path, "web/app.test.js", "require('node:test')('x', () => {});\n")
    py = detect_test_runner(tmp_path, for_path=Path("src/calc.py"))
    js = detect_test_runner(tmp_path, for_path=Path("web/app.js"))
    assert py is not None and py.name == "pytest"
    if shutil.which("node"):
        assert js is not None and js.name == "node"


def test_unittest_output_parses_to_compact_failures(tmp_path):
    out = (
        "F.\n======================================================================\n"
        "FAIL: test_add (test_calc.CalcTest.test_add)\n"
        "----------------------------------------------------------------------\n"
        "Traceback (most recent call last):\n"
        f'  File "{tmp_path}/test_calc.py", line 6, in test_add\n'
        "    self.assertEqual(add(2, 3), 5)\nAssertionError: -1 != 5\n\n"
        "----------------------------------------------------------------------\n"
        "Ran 2 tests in 0.001s\n\nFAILED (failures=1)\n"
    )
    summary, failures = parse_unittest(out, tmp_path)
    assert summary == "ran 2 tests: FAILED (failures=1)"
    assert failures == ["test_calc.CalcTest.test_add - AssertionError: -1 != 5 (at test_calc.py:6)"]
    # a traceback that ends in the standard library is located at its last workspace frame
    stdlib = out.replace(
        "    self.assertEqual(add(2, 3), 5)\n",
        "    self.assertEqual(add(2, 3), 5)\n"
        '  File "/usr/lib/python3.11/json/decoder.py", line 337, in decode\n'
        "    obj, end = self.raw_decode(s, idx=_w(s, 0).end())\n")
    assert parse_unittest(stdlib, tmp_path)[1] == failures


def test_go_and_cargo_outputs_parse_to_compact_failures():
    go = ("--- FAIL: TestAdd (0.00s)\n    calc_test.go:9: add(2, 3) = -1, want 5\nFAIL\n"
          "FAIL\texample.com/calc\t0.002s\n")
    assert parse_go_test(go) == ("0 packages ok, 2 failed",
                                 ["TestAdd - calc_test.go:9: add(2, 3) = -1, want 5"])
    cargo = (
        "running 2 tests\ntest tests::adds ... FAILED\ntest tests::muls ... ok\n\nfailures:\n\n"
        "---- tests::adds stdout ----\n"
        "thread 'tests::adds' panicked at src/lib.rs:12:9:\n"
        "assertion `left == right` failed\n  left: -1\n right: 5\n\n"
        "failures:\n    tests::adds\n\n"
        "test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n"
    )
    summary, failures = parse_cargo_test(cargo)
    assert summary.startswith("FAILED. 1 passed; 1 failed")
    assert failures == ["tests::adds - assertion `left == right` failed (at src/lib.rs:12:9)"]


JEST_OUTPUT = """\
 FAIL  test/cart.test.js
  cart
    ✕ total multiplies by quantity (3 ms)
    ✓ empty cart (1 ms)

  ● cart › total multiplies by quantity

    expect(received).toBe(expected) // Object.is equality

    Expected: 20
    Received: 12.5

      5 | test('total multiplies by quantity', () => {
    > 6 |   expect(total(items)).toBe(20);
        |                        ^
      7 | });

      at Object.toBe (test/cart.test.js:6:24)

Test Suites: 1 failed, 1 total
Tests:       1 failed, 1 passed, 2 total
"""

VITEST_OUTPUT = """\
 ❯ test/cart.test.js (2)
   ❯ cart (2)
     × total multiplies by quantity
     ✓ empty cart

⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯

 FAIL  test/cart.test.js > cart > total multiplies by quantity
AssertionError: expected 12.5 to be 20 // Object.is equality
 ❯ test/cart.test.js:6:24

 Test Files  1 failed (1)
      Tests  1 failed | 1 passed (2)
"""


def test_jest_and_vitest_outputs_parse_to_compact_failures():
    assert parse_jest(JEST_OUTPUT) == (
        "1 failed, 1 passed, 2 total",
        [("cart › total multiplies by quantity - Expected: 20; Received: 12.5 "
         "(at test/cart.test.js:6:24)")])
    assert parse_vitest(VITEST_OUTPUT) == (
        "1 failed | 1 passed (2)",
        [("test/cart.test.js > cart > total multiplies by quantity - AssertionError: expected "
         "12.5 to be 20 // Object.is equality (at test/cart.test.js:6:24)")])


@pytest.mark.parametrize("summary, passed", [
    ("2 passed, 1 failed in 0.03s", 2),          # pytest
    ("1 failed, 2 passed, 3 total", 2),          # jest
    ("test result: FAILED. 4 passed; 1 failed; 0 ignored", 4),  # cargo
    ("ran 5 tests: FAILED (failures=1, errors=2)", 2),  # unittest
    ("ran 3 tests: OK", 3),
    ("1 error in 0.05s", 0),                     # pytest: the test module could not load
    ("3 failed, 3 total", 0),
    ("2 packages ok, 1 failed", None),           # go counts packages
    ("node exited with code 1: boom", None),
])
def test_the_passed_count_is_read_off_each_runners_summary(summary, passed):
    assert TestRun(False, summary).passed_count() == passed
