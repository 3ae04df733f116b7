"""Choosing among candidates that nothing can check, by agreement on behaviour."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from smallcode.core.solve.methods import module_name
from smallcode.core.solve.vote import (
    Example,
    behaviour,
    broken_examples,
    invented_names,
    parse_examples,
    parse_js_examples,
    reproduced,
    same_result,
    uncovered_calls,
    vote,
)

from tests.agent.test_run_scripted import events
from tests.solve.test_solve_path import run_cli
from tests.support.scripted_server import ScriptedServer


def parse_calls(reply: str) -> list[str]:
    return [ex.call for ex in parse_examples(reply)]


def test_parse_calls_keeps_call_expressions_apart_from_expected_values():
    reply = ("Here are some calls:\n```python\n"
             "is_leap(2000)\n"
             "assert is_leap(1900) == False\n"
             "is_leap(2024) == True,\n"
             "# a comment\n"
             "print(is_leap(3))\n"
             "x = is_leap(4)\n"
             "2000\n"
             "is_leap(2000)\n"
             "Clock(8, 0).add(3)\n"
             "open('f').read()\n"
             "```")
    assert parse_calls(reply) == ["is_leap(2000)", "is_leap(1900)", "is_leap(2024)",
                                  "x = is_leap(4); x", "Clock(8, 0).add(3)"]
    assert parse_calls("no code here") == []
    many = "\n".join(f"f({i})" for i in range(40))
    assert len(parse_calls(many)) == 12


def test_parse_calls_keeps_scenarios_of_statements_ending_in_an_expression():
    reply = ("```python\n"
             "c = Cart(); c.add('pen', 150, 2); c.count()\n"
             "c = Cart(); c.add('pen', 150); assert c.total() == 150\n"
             "c = Cart(); c.add('pen', 150)\n"
             "import os; os.remove('x')\n"
             "c = Cart(); exec('1'); c.count()\n"
             "```")
    assert parse_calls(reply) == ["c = Cart(); c.add('pen', 150, 2); c.count()",
                                  "c = Cart(); c.add('pen', 150); c.total()",
                                  "c = Cart(); c.add('pen', 150)"]


def test_examples_on_separate_lines_run_top_to_bottom_in_one_namespace(tmp_path: Path):
    # the 1.5B often writes a class's examples as one statement per line
    reply = "```python\nc = Cart()\nc.add('pen', 150, 2)\nc.add('ink', 99)\nc.count()\nc.total()\n```"
    calls = parse_calls(reply)
    assert calls == ["c = Cart(); c", "c.add('pen', 150, 2)", "c.add('ink', 99)", "c.count()",
                     "c.total()"]
    (tmp_path / "cart.py").write_text(
        "class Cart:\n    def __init__(self):\n        self.items = {}\n"
        "    def add(self, name, price, quantity=1):\n"
        "        self.items[name] = self.items.get(name, 0) + quantity\n"
        "    def count(self):\n        return sum(self.items.values())\n"
        "    def total(self):\n"
        "        return sum(p * q for p, q in self.items.values())\n")
    sig = behaviour(tmp_path, ["cart"], calls)
    assert sig is not None and sig[1:] == ("None", "None", "3", "raises TypeError")
    assert sig[0].startswith("[('items'")
    # the broken total() is what the model is shown: the call, the error, the line
    assert broken_examples(tmp_path, ["cart"], calls) == [
        ("c.total() raised TypeError: cannot unpack non-iterable int object (line 9 of cart.py: "
        "return sum(p * q for p, q in self.items.values()); values: self.items = "
         "{'ink': 1, 'pen': 2})")]


def test_behaviour_runs_a_scenario_on_one_object(tmp_path: Path):
    (tmp_path / "cart.py").write_text(
        "class Cart:\n    def __init__(self):\n        self.n = 0\n"
        "    def add(self, k):\n        self.n += k\n    def count(self):\n"
        "        return self.n\n")
    assert behaviour(tmp_path, ["cart"], ["c = Cart(); c.add(2); c.add(3); c.count()",
                                          "Cart().count()"]) == ("5", "0")


def test_code_that_breaks_loses_the_vote_however_many_candidates_share_it():
    broken = ("raises TypeError", "3")
    right = ("5", "3")
    result = vote({1: broken, 2: broken, 3: broken, 4: right})
    assert result is not None and result.winner == 4 and result.informative
    # an error the specification may ask for is behaviour like any other: the majority wins
    asked = ("raises ValueError", "3")
    assert vote({1: asked, 2: asked, 3: right}).winner == 1


def test_vote_picks_the_largest_cluster_and_ignores_runs_that_failed():
    a = ("True", "False")
    b = ("True", "True")
    result = vote({1: b, 2: a, 3: a, 4: None})
    assert result is not None
    assert (result.winner, result.agree, result.voters, result.informative) == (2, 2, 3, True)
    assert "2 of 3 candidates agree" in result.describe()


def test_vote_ties_go_to_fewer_raising_calls_then_to_the_earliest_candidate():
    assert vote({1: ("raises ValueError", "1"), 2: ("0", "1")}).winner == 2
    assert vote({3: ("0",), 5: ("1",)}).winner == 3
    same = vote({1: ("0",), 2: ("0",)})
    assert same.informative is False and "all 2 candidates behave the same" in same.describe()
    assert vote({1: None, 2: None}) is None


def test_behaviour_runs_each_call_in_the_candidates_copy(tmp_path: Path):
    (tmp_path / "mod.py").write_text(
        "import time\n"
        "def sq(x):\n    return x * x\n"
        "def gen(n):\n    return (i for i in range(n))\n"
        "def boom():\n    raise KeyError('k')\n"
        "def hang():\n    time.sleep(30)\n"
        "class P:\n    def __init__(self, a):\n        self.a = a\n")
    out = behaviour(tmp_path, ["mod"], ["sq(3)", "gen(3)", "boom()", "hang()", "P(2)",
                                        "missing(1)"])
    assert out == ("9", "[0, 1, 2]", "raises KeyError", "raises TimeoutError",
                   "[('a', '2')]", "raises NameError")


def test_behaviour_sees_the_names_of_a_package_s_modules(tmp_path: Path):
    # __import__("dbpool.pool") gives the package, whose namespace lacks Pool: every call of a
    # project laid out as a package raised NameError, and the candidates were sent to "fix" it
    pkg = tmp_path / "dbpool"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("VERSION = 2\n")
    (pkg / "pool.py").write_text("class Pool:\n    def __init__(self, size=4):\n"
                                 "        self.size = size\n")
    (pkg / "cli.py").write_text("from dbpool.pool import Pool\n\n"
                                "def main():\n    return Pool(8).size\n")
    modules = [module_name(r) for r in ("dbpool/pool.py", "dbpool/__init__.py", "dbpool/cli.py")]
    assert modules == ["dbpool.pool", "dbpool", "dbpool.cli"]
    assert behaviour(tmp_path, modules, ["Pool(3).size", "main()", "VERSION"]) == ("3", "8", "2")
    assert broken_examples(tmp_path, modules, ["Pool(3).size", "main()"]) == []


def test_behaviour_of_a_module_that_does_not_import_is_none(tmp_path: Path):
    (tmp_path / "mod.py").write_text("def f(:\n")
    assert behaviour(tmp_path, ["mod"], ["f(1)"]) is None


STUB = "def is_leap(year):\n    pass\n"
ONLY_FOUR = "leap.py\n```python\ndef is_leap(year):\n    return year % 4 == 0\n```\n"
RULE = ("leap.py\n```python\ndef is_leap(year):\n"
        "    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n```\n")
RULE_AGAIN = ("leap.py\n```python\ndef is_leap(year):\n    if year % 400 == 0:\n        return True\n"
              "    if year % 100 == 0:\n        return False\n    return year % 4 == 0\n```\n")
ONLY_400 = "leap.py\n```python\ndef is_leap(year):\n    return year % 400 == 0\n```\n"
# three phrasings of the same request
LEAP_TASKS = [
    "add the leap year rule to is_leap in leap.py",
    "leap.py: is_leap(year) is still a stub, implement it",
    "Implement is_leap so it tells whether a year is a leap year in the Gregorian calendar.",
]
PROBE = "```python\nis_leap(2000)\nis_leap(1900)\nis_leap(2024)\nis_leap(2023)\n```\n"


@pytest.mark.parametrize("task", LEAP_TASKS)
def test_with_nothing_to_check_the_candidates_that_agree_win_over_the_greedy_one(
        tmp_path: Path, task: str):
    (tmp_path / "leap.py").write_text(STUB)
    with ScriptedServer([ONLY_FOUR, RULE, RULE_AGAIN, ONLY_400, PROBE]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr  # a vote is not verification
    assert "year % 100 != 0" in (tmp_path / "leap.py").read_text()
    done = next(e for e in events(proc.stdout) if e["type"] == "done")
    assert done["verified"] == "none"
    assert "applied candidate 2 of 4 (2 of 4 candidates agree" in done["reason"]
    probe = reqs[4]["messages"][-1]["content"]
    assert "work out by hand from the task's description" in probe
    assert reqs[4]["temperature"] == 0.0
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert any(n.startswith("vote on 4 example calls (is_leap(2000);") for n in notices)


def test_names_no_example_binds_and_nothing_else_has_are_invented():
    examples = [Example("main()"), Example("c = Cart(); c.add('pen', 2); c.total()"),
                Example("sorted(x for x in items([3, 1]))"), Example("c.count()"),
                Example("describe(Pool.from_settings())"), Example("len(fmt(1))")]
    code = "class Cart:\n    def add(self, name, n): ...\n\ndef items(xs):\n    return xs\n"
    task = "Make Pool.from_settings read max_connections; fmt() must pad to 4."
    assert invented_names(examples, task + code) == {"main()": ["main"],
                                                     "describe(Pool.from_settings())":
                                                         ["describe"]}


INVENTING_PROBE = ("```python\nassert is_leap(2000) == True\nassert main() == 0\n"
                   "assert is_leap(1900) == False\nrun_checks(2024)\n```\n")


@pytest.mark.parametrize("task", LEAP_TASKS)
def test_an_example_call_of_a_name_nothing_defines_is_left_out_not_sent_to_be_fixed(
        tmp_path: Path, task: str):
    # main() and run_checks() raise NameError on every candidate: the probe invented them, the
    # code is not broken, and no round asking the model to make them work may follow
    (tmp_path / "leap.py").write_text(STUB)
    with ScriptedServer([RULE, RULE_AGAIN, RULE, ONLY_FOUR, INVENTING_PROBE]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
        reqs = srv.requests
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert any("2 example call(s) left out: they use main, run_checks" in n for n in notices)
    assert not any("breaks on" in n for n in notices), notices
    assert len(reqs) == 5, [r["messages"][-1]["content"][-200:] for r in reqs]
    assert any(n.startswith("vote on 2 example calls (is_leap(2000) == True; is_leap(1900) "
                            "== False)") for n in notices), notices
    assert "year % 100" in (tmp_path / "leap.py").read_text()


LEAP_DOC = ("# Leap years\n\nA year is a leap year when it is divisible by 4, except a year "
            "divisible by 100, unless it is also divisible by 400.\n")


@pytest.mark.parametrize("task", [
    "Implement is_leap in leap.py as docs/leap.md describes.",
    "leap.py should follow the rules in docs/leap.md",
    "Write is_leap according to docs/leap.md.",
])
def test_the_example_calls_are_written_from_the_document_the_task_reads(tmp_path: Path,
                                                                       task: str):
    (tmp_path / "leap.py").write_text(STUB)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "leap.md").write_text(LEAP_DOC)
    with ScriptedServer([ONLY_FOUR, RULE, RULE_AGAIN, ONLY_400, PROBE]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr
    probe = reqs[4]["messages"][-1]["content"]
    # the rules the calls must cover are in the probe, not only the message that points at them
    assert "docs/leap.md\n````\n# Leap years" in probe and "unless it is also divisible" in probe
    assert "year % 100 != 0" in (tmp_path / "leap.py").read_text()


def test_with_the_vote_off_the_first_candidate_that_passes_is_applied(tmp_path: Path):
    (tmp_path / "leap.py").write_text(STUB)
    with ScriptedServer([ONLY_FOUR, RULE]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url,
                       "add the leap year rule to is_leap in leap.py",
                       env_extra={"SMALLCODE_SOLVE__VOTE": "false"})
        calls = len(srv.requests)
    assert proc.returncode == 4, proc.stderr
    assert calls == 1
    assert (tmp_path / "leap.py").read_text() == "def is_leap(year):\n    return year % 4 == 0\n"


RULES_TASKS = [
    "Implement is_leap in leap.py as described in RULES.md.",
    "Make leap.py do what RULES.md says.",
    "Fill in the stub in leap.py following the rules in RULES.md.",
]
NEVER = "leap.py\n```python\ndef is_leap(year):\n    return False\n```\n"


def leap_with_rules(root: Path) -> None:
    """A stub and a document with one example the stub fails (a strong oracle from a
    document: its candidates still vote)."""
    (root / "leap.py").write_text(STUB)
    (root / "RULES.md").write_text(
        "Gregorian leap years: every fourth year, except centuries, except every fourth "
        "century. `is_leap(2024)` is `True`.\n")


@pytest.mark.parametrize("task", RULES_TASKS)
def test_candidates_that_pass_a_documents_examples_still_vote(tmp_path: Path, task: str):
    leap_with_rules(tmp_path)
    with ScriptedServer([ONLY_FOUR, RULE, RULE_AGAIN, ONLY_400, PROBE]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
    # the greedy candidate passes the one example too, but 1900 tells it apart; the
    # document's other rules are not checked: finished, not verified (exit 4)
    assert proc.returncode == 4, proc.stderr
    assert "year % 100 != 0" in (tmp_path / "leap.py").read_text()
    assert "centuries" in (tmp_path / "RULES.md").read_text()  # the document is not touched
    done = next(e for e in events(proc.stdout) if e["type"] == "done")
    assert done["verified"] == "none" and "passes the document's examples" in done["reason"]
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert any("shown read-only: RULES.md" in n for n in notices)
    assert any("candidate 4 (whole, temperature 0.7): changes leap.py; fails" in n
               for n in notices)
    assert any(n.startswith("vote on 4 example calls") and "2 of 3 candidates agree" in n
               for n in notices)


@pytest.mark.parametrize("task", RULES_TASKS)
def test_in_the_last_round_one_passing_candidate_is_kept_without_writing_example_calls(
        tmp_path: Path, task: str):
    leap_with_rules(tmp_path)
    with ScriptedServer([NEVER, RULE, NEVER, NEVER, PROBE]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task,
                       env_extra={"SMALLCODE_SOLVE__REFINE_ROUNDS": "0"})
        calls = len(srv.requests)
    # no round follows and nothing else passed: there is nothing for a vote to choose from
    assert proc.returncode == 4, proc.stderr
    assert calls == 4
    assert "year % 100 != 0" in (tmp_path / "leap.py").read_text()
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert not any(n.startswith("vote") for n in notices)


@pytest.mark.parametrize("task", RULES_TASKS)
def test_a_documents_example_failed_the_same_way_twice_is_shown_before_sampling_more(
        tmp_path: Path, task: str):
    leap_with_rules(tmp_path)
    with ScriptedServer([NEVER, NEVER, RULE, RULE, RULE, RULE, PROBE]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert "candidates 1 and 2 fail the same way; asking again with the failure" in notices
    # the third request shows what went wrong; once one passes, that round is sampled whole
    # for the vote (and the last request writes its example calls)
    assert "is_leap(2024) returned False" in reqs[2]["messages"][-1]["content"]
    assert len(reqs) == 7 and "is_leap(2024) returned False" in str(reqs[5]["messages"])
    assert "year % 100 != 0" in (tmp_path / "leap.py").read_text()


def test_broken_examples_name_the_call_the_error_and_the_line_that_raised(tmp_path: Path):
    (tmp_path / "spans.py").write_text(
        "def merge(spans):\n    out = [tuple(s) for s in sorted(spans)]\n"
        "    out[-1][1] = 9\n    return out\n\n\ndef size(spans):\n    return len(spans)\n")
    found = broken_examples(tmp_path, ["spans"], ["merge([(1, 2)])", "size([(1, 2)])",
                                                  "int('x')"])
    # ValueError is behaviour a specification may ask for; a TypeError never is
    assert found == [("merge([(1, 2)]) raised TypeError: 'tuple' object does not support item "
                     "assignment (line 3 of spans.py: out[-1][1] = 9; values: spans = "
                     "[(1, 2)], out = [(1, 2)])")]


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_broken_javascript_examples_name_the_line_and_the_values_there(tmp_path: Path):
    (tmp_path / "csv.js").write_text(
        "function formatCell(c) { return String(c); }\n"
        "function formatRow(row) {\n  return row.map(formatCell).join(',');\n}\n"
        "function toCsv(rows) { return rows.map(formatRow).join('\\n'); }\n"
        "module.exports = { toCsv, formatRow, formatCell };\n")
    calls = ['toCsv(["a", "b"])', 'toCsv([["a", "b"], ["c"]])', "formatRow(3)"]
    # the flat list reaches formatRow with a string: the model reads that rows hold rows
    assert broken_examples(tmp_path, ["csv.js"], calls) == [
        ('toCsv(["a", "b"]) raised TypeError: row.map is not a function (line 3 of csv.js: '
        "return row.map(formatCell).join(','); values: row = \"a\")"),
        ("formatRow(3) raised TypeError: row.map is not a function (line 3 of csv.js: "
        "return row.map(formatCell).join(','); values: row = 3)")]
    assert behaviour(tmp_path, ["csv.js"], calls)[1] == "'a,b\\nc'"


SPANS_STUB = "def merge(spans):\n    pass\n"
SPANS_BROKEN = ("spans.py\n```python\ndef merge(spans):\n    out = []\n"
                "    for start, end in sorted(spans):\n"
                "        if out and start <= out[-1][1]:\n"
                "            out[-1][1] = max(out[-1][1], end)\n"
                "        else:\n            out.append((start, end))\n    return out\n```\n")
SPANS_FIXED = ("spans.py\n```python\ndef merge(spans):\n    out = []\n"
               "    for start, end in sorted(spans):\n"
               "        if out and start <= out[-1][1]:\n"
               "            out[-1] = (out[-1][0], max(out[-1][1], end))\n"
               "        else:\n            out.append((start, end))\n    return out\n```\n")
SPANS_PROBE = "```python\nmerge([(1, 3), (2, 5)])\nmerge([(4, 6), (1, 2)])\nmerge([])\n```\n"


@pytest.mark.parametrize("task", [
    "Implement merge in spans.py: it merges overlapping (start, end) spans, sorted by start.",
    "spans.py: merge(spans) is a stub. It should combine spans that overlap.",
    "Write merge so that overlapping intervals come back as one, in order of their start.",
])
def test_code_that_breaks_on_its_example_calls_is_shown_the_error_and_asked_again(
        tmp_path: Path, task: str):
    (tmp_path / "spans.py").write_text(SPANS_STUB)
    round_one = [SPANS_BROKEN] * 4
    round_two = [SPANS_FIXED, SPANS_BROKEN, SPANS_FIXED, SPANS_BROKEN]
    with ScriptedServer([*round_one, SPANS_PROBE, *round_two]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr  # still only a vote: not verified
    assert "out[-1] = (out[-1][0]" in (tmp_path / "spans.py").read_text()
    assert len(reqs) == 9  # the example calls are written once, not again for the second vote
    debug = reqs[5]["messages"][-1]["content"]
    assert "merge([(1, 3), (2, 5)]) raised TypeError" in debug
    assert "line 5 of spans.py: out[-1][1] = max(out[-1][1], end)" in debug
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert any("breaks on 1 example call(s); asking again with the error" in n for n in notices)
    assert any("2 of 8 candidates agree" in n for n in notices), notices


@pytest.mark.parametrize("task", [
    "merge in spans.py crashes on overlapping spans; fix it.",
    "spans.py: merge blows up when two spans overlap",
    "Overlapping spans make merge() fail. Please fix spans.py.",
])
def test_a_call_every_version_of_the_code_raises_on_is_not_sent_back_as_an_error_to_fix(
        tmp_path: Path, task: str):
    # merge(5) passes a number where the code takes spans: the untouched code and every
    # candidate raise TypeError on it, and the model is not asked to make the code take it
    broken_code = SPANS_BROKEN.split("```python\n")[1].split("```")[0]
    (tmp_path / "spans.py").write_text(broken_code)
    probe = SPANS_PROBE.replace("merge([])", "merge([])\nmerge(5)")
    with ScriptedServer([SPANS_FIXED] * 4 + [probe] + [SPANS_FIXED] * 12) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr
    assert "out[-1] = (out[-1][0]" in (tmp_path / "spans.py").read_text()
    assert not any("merge(5) raised" in m["content"] for r in reqs for m in r["messages"])
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert any("1 example call(s) raise the same error on the untouched code and on every "
               "candidate" in n for n in notices), notices


def test_parse_examples_keeps_the_worked_out_result_of_each_check():
    reply = ("```python\n"
             "assert is_leap(2000) == True\n"
             "assert is_leap(1900) is False\n"
             "is_leap(2024)\n"
             "assert span(1, 3) == (1, 3)\n"
             "assert is_leap(4) == is_leap(8)\n"
             "c = Cart(); c.add('pen', 150); assert c.total() == 150\n"
             "assert is_leap(5) != True\n"
             "```")
    assert parse_examples(reply) == [
        Example("is_leap(2000)", "True"), Example("is_leap(1900)", "False"),
        Example("is_leap(2024)"), Example("span(1, 3)", "(1, 3)"),
        Example("is_leap(4)"),  # not a literal: no worked-out result
        Example("c = Cart(); c.add('pen', 150); c.total()", "150"),
        Example("is_leap(5)")]


def test_a_result_is_the_same_by_value_not_by_spelling():
    assert same_result("0.30000000000000004", "0.3")
    assert same_result("'a'", '"a"') and same_result("{1: 2}", "{1:2}")
    assert not same_result("[1, 2]", "(1, 2)")  # a list where a tuple is asked for is not it
    assert not same_result("raises ValueError", "None") and not same_result("1", "True")
    assert same_result("True", "True") and not same_result("1.5", "2")
    assert not same_result("'x'", "not a literal")


def test_worked_out_results_outweigh_a_thin_majority_and_pasting_earns_nothing():
    wrong, right = ("True", "True", "True"), ("True", "False", "True")
    # three agreeing candidates against one that also reproduces two more worked-out results
    assert vote({1: wrong, 2: wrong, 3: right}).winner == 1  # without results: the majority
    result = vote({1: wrong, 2: wrong, 3: right}, {1: 1, 2: 1, 3: 3}, expected=3)
    assert result.winner == 3 and result.informative
    assert "1 of 3 candidates agree on the example calls, giving 3 of 3 worked-out results" \
        in result.describe()
    examples = [Example("f(1)", "True"), Example("f(2)", "False"), Example("f(3)")]
    assert reproduced(right, examples) == 2
    assert reproduced(right, examples, frozenset({"f(2)"})) == 1


STUB_GREET = "def greet(name):\n    pass\n"
PASTED = ("greet.py\n```python\ndef greet(name):\n    if name == 'Ada':\n"
          "        return 'Hello, Ada Lovelace!'\n    return 'Hello ' + name\n```\n")
COMPUTED = ("greet.py\n```python\ndef greet(name, last='Lovelace'):\n"
            "    return f'Hello, {name} {last}!'\n```\n")
GREET_PROBE = "```python\nassert greet('Ada') == 'Hello, Ada Lovelace!'\ngreet('Bob')\n```\n"
LEAP_CHECKS = ("```python\nassert is_leap(2000) == True\nassert is_leap(1900) == False\n"
               "assert is_leap(2100) == False\nassert is_leap(2024) == True\n"
               "assert is_leap(2023) == False\n```\n")


@pytest.mark.parametrize("task", LEAP_TASKS)
def test_a_candidate_that_gives_the_worked_out_results_beats_a_pair_that_agrees(
        tmp_path: Path, task: str):
    (tmp_path / "leap.py").write_text(STUB)
    # two candidates share the every-fourth-year rule; the full rule is one candidate alone
    with ScriptedServer([ONLY_FOUR, ONLY_FOUR, RULE, ONLY_400, LEAP_CHECKS]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
    assert proc.returncode == 4, proc.stderr  # still a vote: not verified
    assert "year % 100 != 0" in (tmp_path / "leap.py").read_text()
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert any("1 of 4 candidates agree on the example calls, giving 5 of 5 worked-out "
               "results; candidate 3" in n for n in notices), notices


@pytest.mark.parametrize("task", [
    "Implement greet in greet.py: it greets a person by full name.",
    "greet.py: greet(name) is a stub; make it say hello with the full name.",
    "Write greet so that greet('Ada') says hello to Ada Lovelace.",
])
def test_a_candidate_that_writes_out_the_worked_out_result_gets_no_credit_for_it(
        tmp_path: Path, task: str):
    (tmp_path / "greet.py").write_text(STUB_GREET)
    with ScriptedServer([PASTED, COMPUTED, "I cannot.", "I cannot.", GREET_PROBE]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
    assert proc.returncode == 4, proc.stderr
    # both give greet('Ada') as worked out, but candidate 1 returns it as a literal
    assert "f'Hello, {name} {last}!'" in (tmp_path / "greet.py").read_text()
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert any("giving 1 of 1 worked-out results; candidate 2" in n for n in notices), notices


@pytest.mark.parametrize("task", LEAP_TASKS)
def test_when_every_candidate_misses_worked_out_results_another_round_is_sampled(
        tmp_path: Path, task: str):
    (tmp_path / "leap.py").write_text(STUB)
    round_two = [RULE, ONLY_FOUR, ONLY_FOUR, ONLY_FOUR]
    with ScriptedServer([*[ONLY_FOUR] * 4, LEAP_CHECKS, *round_two]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr
    assert len(reqs) == 9
    # the example calls are streamed like the candidates (a read timeout bounds a stall
    # between tokens, not a reply that waits behind other requests)
    assert reqs[4]["stream"] is True and "example checks" in reqs[4]["messages"][0]["content"]
    # the new round's first candidate is shown what the chosen code gives on the calls whose
    # worked-out result it misses, never the worked-out results themselves; the others are
    # the same request again
    review = reqs[5]["messages"]
    assert review[:2] == reqs[0]["messages"] and review[2]["role"] == "assistant"
    assert "is_leap(1900)  ->  True\nis_leap(2100)  ->  True" in review[3]["content"]
    assert "2023" not in str(review) and "False" not in review[3]["content"]
    assert reqs[5]["temperature"] == 0.3
    assert reqs[6]["messages"][:-1] == reqs[0]["messages"][:-1]
    assert "2023" not in str(reqs[6]["messages"])
    assert "year % 100 != 0" in (tmp_path / "leap.py").read_text()
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert any("candidate 1 gives 3 of 5 worked-out results; sampling another round" in n
               for n in notices), notices
    assert any("1 of 8 candidates agree on the example calls, giving 5 of 5 worked-out "
               "results; candidate 5" in n for n in notices), notices


@pytest.mark.parametrize("task", LEAP_TASKS)
def test_a_round_is_sampled_again_for_the_vote_only_once(tmp_path: Path, task: str):
    # the worked-out results may be wrong: missing them again does not buy every round left
    (tmp_path / "leap.py").write_text(STUB)
    with ScriptedServer([*[ONLY_FOUR] * 4, LEAP_CHECKS], default=ONLY_FOUR) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
        calls = len(srv.requests)
    assert proc.returncode == 4, proc.stderr
    assert calls == 9
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert sum("sampling another round for the vote" in n for n in notices) == 1, notices


CSV = "region,amount\nnorth,120.5\nsouth,80.25\n"
REPORT = ("import csv\n\n\ndef column_total(path, column):\n    with open(path, newline='') as fh:\n"
          "        rows = list(csv.reader(fh))\n    index = rows[0].index(column)\n"
          "    return sum(float(row[index]) for row in rows)\n")
SWALLOWED = ("report.py\n```python\nimport csv\n\n\ndef column_total(path, column):\n"
             "    with open(path, newline='') as fh:\n        rows = list(csv.reader(fh))\n"
             "    index = rows[0].index(column)\n    try:\n"
             "        return sum(float(row[index]) for row in rows)\n    except ValueError:\n"
             "        return 0\n```\n")
SKIPS_HEADER = ("report.py\n```python\nimport csv\n\n\ndef column_total(path, column):\n"
                "    with open(path, newline='') as fh:\n        rows = list(csv.reader(fh))\n"
                "    index = rows[0].index(column)\n"
                "    return sum(float(row[index]) for row in rows[1:])\n```\n")
TOTAL_CHECK = "```python\nassert column_total('sales.csv', 'amount') == 200.75\n```\n"


@pytest.mark.parametrize("task", [
    ("column_total('sales.csv', 'amount') raises ValueError: could not convert string to float: "
     "'amount'. Fix it."),
    "report.py crashes: column_total('sales.csv', 'amount') gives a ValueError about 'amount'",
    "Make column_total('sales.csv', 'amount') work, it blows up on the header row",
])
def test_a_candidate_that_swallows_the_reported_error_does_not_win_by_not_raising(
        tmp_path: Path, task: str):
    (tmp_path / "report.py").write_text(REPORT)
    (tmp_path / "sales.csv").write_text(CSV)
    # both stop raising; only one sums the column
    with ScriptedServer([SWALLOWED, SWALLOWED, SKIPS_HEADER, "I cannot.", TOTAL_CHECK]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
    assert "rows[1:]" in (tmp_path / "report.py").read_text(), proc.stdout[-3000:]
    done = next(e for e in events(proc.stdout) if e["type"] == "done")
    # the crash is gone, but "returns without an error" never checked the total: unverified
    assert done["verified"] == "none" and proc.returncode == 4, done
    assert "returns without an error, but what it returns is NOT verified" in done["reason"]


GRADEBOOK = (
    "class Gradebook:\n    def __init__(self):\n        self.scores = {}\n"
    "    def record(self, student, score):\n"
    "        self.scores.setdefault(student, []).append(score)\n"
    "    def average(self, student):\n"
    "        return sum(self.scores[student]) / len(self.scores[student])\n"
    "    def ranking(self):\n"
    "        return sorted(self.scores.items(), key=lambda x: (-x[1], x[0]))\n"
    "    def reset(self, keep=False):\n        self.scores = {}\n"
    "    @property\n    def size(self):\n        return len(self.scores)\n"
    "    def _private(self):\n        pass\n\n\n"
    "def version():\n    return 1\n\n\ndef helper(x):\n    return x\n")


@pytest.mark.parametrize("reply", [
    # a scenario per line, one of them raising
    ("```python\ng = Gradebook(); g.record('al', 90); assert g.average('al') == 90.0\n"
    "g = Gradebook(); g.average('zed')\n```"),
    # set-up lines, then calls
    "```python\ng = Gradebook()\ng.record('al', 90)\nassert g.average('al') == 90.0\n```",
    # another variable name, and the scenario in an assert
    "book = Gradebook(); book.record('al', 90); assert book.average('al') == 90.0",
])
def test_methods_and_functions_that_take_no_argument_and_no_example_calls_are_called(
        tmp_path, reply):
    (tmp_path / "gradebook.py").write_text(GRADEBOOK)
    examples = parse_examples(reply)
    extra = uncovered_calls(examples, {"gradebook.py": GRADEBOOK})
    calls = [ex.call for ex in extra]
    # not the property, not the private method, not the function that takes an argument
    assert len(calls) == 3 and "version()" in calls
    assert [c for c in calls if c.endswith(".ranking()")] and [c for c in calls
                                                              if c.endswith(".reset()")]
    assert all(ex.expected is None for ex in extra)
    # the added call runs after a scenario that made and filled the object: it shows the
    # TypeError that no model-written check reached
    broken = broken_examples(tmp_path, ["gradebook"], [ex.call for ex in examples] + calls)
    assert len(broken) == 1 and "ranking() raised TypeError" in broken[0]


def test_calls_the_examples_make_already_are_not_added():
    examples = parse_examples("g = Gradebook(); g.record('al', 90); g.ranking()\n"
                              "g = Gradebook(); g.reset()\nversion()\n")
    assert uncovered_calls(examples, {"gradebook.py": GRADEBOOK}) == []
    # nothing makes the class's object: no scenario to extend
    assert uncovered_calls(parse_examples("helper(3) == 3"),
                           {"gradebook.py": GRADEBOOK}) == [Example("version()")]


@pytest.mark.parametrize("reply", [
    # a list argument over several lines
    ('```python\nassert render([\n    ("apple", 3),\n    ("melon", 12),\n]) == "apple 3\\nmelon 12"\n'
    'assert render([]) == ""\n```'),
    # a triple-quoted expected value
    ('```python\nassert render([("apple", 3), ("melon", 12)]) == """apple 3\nmelon 12"""\n'
    'assert render([]) == ""\n```'),
    # the call's arguments split over lines, no fence
    ('assert render(\n    [("apple", 3), ("melon", 12)]\n) == "apple 3\\nmelon 12"\n'
    'assert render([]) == ""\n'),
])
def test_a_check_written_over_several_lines_is_one_example(reply):
    assert parse_examples(reply) == [
        Example("render([('apple', 3), ('melon', 12)])", "'apple 3\\nmelon 12'"),
        Example("render([])", "''")]


FOUR_ONLY_CODE = "def is_leap(year):\n    return year % 4 == 0\n"
# changes the code, keeps the bug
SAME_BUG = "leap.py\n```python\ndef is_leap(year):\n    return not year % 4\n```\n"
# the reported wrong behaviour written out again (1900), and one result the change must give
ECHO_CHECKS = ("```python\nassert is_leap(1900) == True\nassert is_leap(2100) == False\n"
               "assert is_leap(2024) == True\n```\n")


@pytest.mark.parametrize("task", [
    "is_leap in leap.py gets century years wrong. Fix it.",
    "leap.py: century years are only leap years when divisible by 400, and is_leap ignores that",
    "Fix the leap year rule in leap.py for centuries",
])
def test_a_worked_out_result_the_untouched_code_already_gives_earns_no_credit(
        tmp_path: Path, task: str):
    (tmp_path / "leap.py").write_text(FOUR_ONLY_CODE)
    # two candidates keep the bug and agree; credit for "is_leap(1900) == True" (what the
    # untouched code gives) would tie them with the fix and the pair would win
    with ScriptedServer([SAME_BUG, SAME_BUG, RULE, ECHO_CHECKS], default=SAME_BUG) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task,
                       env_extra={"SMALLCODE_SOLVE__CANDIDATES": "3",
                                  "SMALLCODE_SOLVE__REFINE_ROUNDS": "0"})
    assert proc.returncode == 4, proc.stderr
    assert "year % 100 != 0" in (tmp_path / "leap.py").read_text()
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert any(n.startswith("vote: 2 worked-out result(s) the untouched code already gives")
               for n in notices), notices


ROUTES = ("ROUTES = {}\n\n\ndef route(path):\n    def register(fn):\n        ROUTES[path] = fn\n"
          "        return fn\n    return register\n\n\n@route('/a')\ndef a():\n    return 'a'\n\n\n"
          "@route('/b')\ndef b():\n    return 'b'\n\n\n@route('/c')\ndef c():\n    return 'c'\n")


@pytest.mark.parametrize("task", [
    "Put the number of endpoints routes.py registers into answer.txt.",
    "answer.txt must hold how many routes routes.py registers",
    "Record in answer.txt the count of paths registered in routes.py",
])
def test_candidates_that_behave_the_same_are_chosen_by_their_majority_answer(
        tmp_path: Path, task: str):
    (tmp_path / "routes.py").write_text(ROUTES)
    answers = ["answer.txt\n```\n2\n```\n", "answer.txt\n```\n3\n```\n",
               "answer.txt\n```\n3\n```\n", "answer.txt\n```\n3\n```\n"]
    probe = "```python\nassert len(ROUTES) == 3\na()\n```\n"
    with ScriptedServer([*answers, probe], default=answers[1]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task,
                       env_extra={"SMALLCODE_SOLVE__CANDIDATES": "4",
                                  "SMALLCODE_SOLVE__REFINE_ROUNDS": "0",
                                  # the model's own answers alone (computed ones: below)
                                  "SMALLCODE_SOLVE__COMPUTE_ANSWERS": "false"})
        requests = [r for r in srv.requests if "messages" in r]
        srv_left = srv.remaining
    assert proc.returncode == 4, proc.stderr  # still unverified
    assert (tmp_path / "answer.txt").read_text().strip() == "3"
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert ("vote: only the answer file changes; 3 of the 4 that pass wrote the change of "
            "candidate 2 word for word") in notices, notices
    # no example calls are written: none could tell the answers apart
    assert len(requests) == 4 and srv_left == 1


@pytest.mark.parametrize("task", [
    "Make a file todos.txt that lists every module of the project with a TODO, one per line.",
    "Create todos.txt listing the .py files that still contain TODO comments",
    "Write the names of the files containing TODO into todos.txt, sorted.",
])
def test_a_list_file_no_code_runs_is_chosen_by_majority_without_example_calls(
        tmp_path: Path, task: str):
    (tmp_path / "app.py").write_text("def main():\n    return 1  # TODO: parse arguments\n")
    (tmp_path / "db.py").write_text("def connect(url):\n    return url\n")
    # the majority is not the smallest change (the best-ranked one without a vote)
    lists = ["todos.txt\n```\napp.py\n```\n", "todos.txt\n```\napp.py\ndb.py\n```\n",
             "todos.txt\n```\napp.py\ndb.py\n```\n", "todos.txt\n```\napp.py\ndb.py\n```\n"]
    probe = "```python\nassert main() == 1\n```\n"
    with ScriptedServer([*lists, probe], default=lists[1]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task,
                       env_extra={"SMALLCODE_SOLVE__CANDIDATES": "4",
                                  "SMALLCODE_SOLVE__REFINE_ROUNDS": "0",
                                  # the model's own answers alone (computed ones: below)
                                  "SMALLCODE_SOLVE__COMPUTE_ANSWERS": "false"})
        requests = [r for r in srv.requests if "messages" in r]
    assert proc.returncode == 4, proc.stderr
    assert (tmp_path / "todos.txt").read_text() == "app.py\ndb.py\n"
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    # read as the answer file the task asks for, or as a file any candidate may write
    assert any(n.startswith("vote: ") and n.endswith("; 3 of the 4 that pass wrote the change "
                                                     "of candidate 2 word for word")
               for n in notices), notices
    assert len(requests) == 4


@pytest.mark.parametrize("task", [
    "Make a file todos.txt that lists every module of the project with a TODO, one per line.",
    "Create todos.txt listing the .py files that still contain TODO comments",
    "Write the names of the files containing TODO into todos.txt, sorted.",
])
def test_a_list_a_command_reads_off_the_files_outvotes_the_recalled_majority(
        tmp_path: Path, task: str):
    """Asked to list or count, the 1.5B recalls the files wrong more often than it writes a
    wrong grep: two commands are asked for first, run in a copy, and their output counts
    twice in the majority (3 recalled lists name db.py, which has no TODO)."""
    (tmp_path / "app.py").write_text("def main():\n    return 1  # TODO: parse arguments\n")
    (tmp_path / "db.py").write_text("def connect(url):\n    return url\n")
    commands = ["```bash\ngrep -l TODO *.py | sort\n```\n",
                ("Run this:\n```sh\n$ grep -rl 'TODO' --include='*.py' . | sed 's|^./||' | sort "
                "> todos.txt\n```\n")]
    lists = ["todos.txt\n```\napp.py\ndb.py\n```\n", "todos.txt\n```\napp.py\ndb.py\n```\n",
             "todos.txt\n```\napp.py\n```\n", "todos.txt\n```\napp.py\ndb.py\n```\n"]
    with ScriptedServer([*commands, *lists], default=lists[0]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task,
                       env_extra={"SMALLCODE_SOLVE__CANDIDATES": "4",
                                  "SMALLCODE_SOLVE__REFINE_ROUNDS": "0"})
        asked = [r["messages"][-1]["content"] for r in srv.requests if "messages" in r]
    assert proc.returncode == 4, proc.stderr  # agreement, not a check
    assert (tmp_path / "todos.txt").read_text() == "app.py\n"
    assert all("one shell command" in a for a in asked[:2])
    # one at a time (one slot): after the fifth, the sixth could not outvote the list read
    # off the files
    assert not any("one shell command" in a for a in asked[2:]) and len(asked) == 5
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert ("candidate 1 (output of `grep -l TODO *.py | sort`, temperature 0): changes "
            "todos.txt; PASSES the oracle") in notices, notices
    assert any(n.startswith("candidate 2 (output of `grep -rl 'TODO' --include='*.py' . | "
                            "sed 's|^./||' | sort`") for n in notices), notices
    done = next(e for e in events(proc.stdout) if e["type"] == "done")
    assert ("vote: 3 (2 computed, counted twice) of the 5 candidates agree; the 1 left could "
            "not change the majority") in notices, notices
    assert done["reason"].startswith("applied candidate 1 of 5 (3 of the 5 candidates that pass "
                                     "wrote this change, 2 of them computed by a command "
                                     "(counted twice))"), done["reason"]


def test_sampling_stops_once_the_rest_could_not_change_the_majority(tmp_path: Path):
    (tmp_path / "routes.py").write_text(ROUTES)
    commands = ["```bash\ngrep -c '^@route(' routes.py\n```\n",
                "```bash\ngrep '@route' routes.py | wc -l\n```\n"]
    answers = ["answer.txt\n```\n3\n```\n", "answer.txt\n```\n2\n```\n"]
    with ScriptedServer([*commands, *answers], default=answers[1]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url,
                       "How many endpoints does routes.py register? Put the number in answer.txt",
                       env_extra={"SMALLCODE_SOLVE__CANDIDATES": "4",
                                  "SMALLCODE_SOLVE__REFINE_ROUNDS": "0"})
        asked = [r for r in srv.requests if "messages" in r]
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    # one slot: 2 computed (4 votes) + 1 recalled, against none: the 3 candidates left of the
    # round could not outvote them
    assert ("vote: 3 (2 computed, counted twice) of the 3 candidates agree; the 3 left could "
            "not change the majority") in notices, notices
    assert len(asked) == 3
    assert (tmp_path / "answer.txt").read_text() == "3\n"
    assert proc.returncode == 4, proc.stderr


def test_a_command_that_only_echoes_or_fails_makes_no_candidate(tmp_path: Path):
    (tmp_path / "routes.py").write_text(ROUTES)
    commands = ["```bash\necho 3\n```\n", "```bash\ngrep -c '@route(' missing.py\n```\n"]
    answers = ["answer.txt\n```\n3\n```\n", "answer.txt\n```\n3\n```\n"]
    with ScriptedServer([*commands, *answers], default=answers[0]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url,
                       "How many endpoints does routes.py register? Put the number in answer.txt",
                       env_extra={"SMALLCODE_SOLVE__CANDIDATES": "2",
                                  "SMALLCODE_SOLVE__REFINE_ROUNDS": "0"})
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    assert "candidate 1: no command that reads the files for answer.txt" in notices, notices
    assert "candidate 2: `grep -c '@route(' missing.py` exits 2" in notices, notices
    assert (tmp_path / "answer.txt").read_text() == "3\n"
    assert proc.returncode == 4, proc.stderr


JS_CSV = ("function formatCell(value) {\n  const text = String(value);\n"
          "  if (text.includes(\",\")) return '\"' + text + '\"';\n  return text;\n}\n\n"
          "function toCsv(rows) {\n  return rows.map((r) => r.map(formatCell).join(\",\"))"
          ".join(\"\\n\");\n}\n\nmodule.exports = { formatCell, toCsv };\n")


def test_javascript_checks_are_read_in_the_forms_a_model_writes_them():
    reply = ("```javascript\n"
             "assert(toCsv([[\"a\", \"b\"]], \";\") === \"a;b\");\n"
             "assert.deepStrictEqual(toCsv([[\"a;b\"]], \";\"), '\"a;b\"');\n"
             "assert.strictEqual(toCsv([[1, true, null]]), \"1,true,null\")\n"
             "toCsv([{\"a\": -1}]) === [1, 2]\n"
             "toCsv([])\n"
             "console.log(toCsv([[\"x\"]]));\n"
             "const rows = [[\"a\"]];\n"
             "// a comment\n```\n")
    assert parse_js_examples(reply) == [
        Example('toCsv([["a", "b"]], ";")', "'a;b'"),
        Example('toCsv([["a;b"]], ";")', "'\"a;b\"'"),
        Example("toCsv([[1, true, null]])", "'1,true,null'"),
        Example('toCsv([{"a": -1}])', "[1, 2]"),
        Example("toCsv([])"),
    ]


def test_javascript_calls_run_on_the_candidates_exports(tmp_path: Path):
    (tmp_path / "csv.js").write_text(JS_CSV)
    calls = ['toCsv([["a", "b"], ["c,d"]])', 'formatCell(null)', "toCsv(null)", "nope(1)",
             "toCsv([])"]
    sig = behaviour(tmp_path, ["csv.js"], calls)
    assert sig == ("'a,b\\n\"c,d\"'", "'null'", "raises TypeError", "raises ReferenceError",
                   "''")
    assert same_result(sig[0], "'a,b\\n\"c,d\"'")
    broken = broken_examples(tmp_path, ["csv.js"], calls)
    assert [b.split(":")[0] for b in broken] == ["toCsv(null) raised TypeError",
                                                  "nope(1) raised ReferenceError"]


JS_SEP_RIGHT = ("csv.js\n```javascript\n" + JS_CSV.replace("function formatCell(value) {",
                "function formatCell(value, sep = \",\") {").replace(
                "text.includes(\",\")", "text.includes(sep)").replace(
                "function toCsv(rows) {", "function toCsv(rows, sep = \",\") {").replace(
                "r.map(formatCell).join(\",\")", "r.map((c) => formatCell(c, sep)).join(sep)")
                + "```\n")
JS_SEP_HALF = ("csv.js\n```javascript\n" + JS_CSV.replace(
    "function toCsv(rows) {", "function toCsv(rows, sep = \",\") {").replace(
    "r.map(formatCell).join(\",\")", "r.map(formatCell).join(sep)") + "```\n")
JS_SEP_CHECKS = ("```javascript\nassert(toCsv([[\"a\", \"b\"]], \";\") === \"a;b\");\n"
                 "assert(toCsv([[\"a;b\", \"c\"]], \";\") === '\"a;b\";c');\n"
                 "assert(toCsv([[\"a\", \"b\"]]) === \"a,b\");\n```\n")


@pytest.mark.parametrize("task", [
    "toCsv should accept a separator: toCsv(rows, ';'). Cells containing it get quoted.",
    ("Let callers of toCsv in csv.js pick the separator (comma stays the default); quote cells "
     "that contain the separator."),
    "csv.js: add a sep parameter to toCsv, defaulting to ',', and quote cells that hold it",
])
def test_javascript_candidates_vote_on_the_worked_out_results_too(tmp_path: Path, task: str):
    (tmp_path / "csv.js").write_text(JS_CSV)
    with ScriptedServer([JS_SEP_HALF, JS_SEP_HALF, JS_SEP_RIGHT, JS_SEP_HALF,
                         JS_SEP_CHECKS]) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url, task)
        probe = srv.requests[4]["messages"]
    assert proc.returncode == 4, proc.stderr  # a vote, not verification
    assert "formatCell(c, sep)" in (tmp_path / "csv.js").read_text()
    assert "JavaScript" in probe[0]["content"] and "```javascript" in probe[1]["content"]
    notices = [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]
    # the default separator's result the untouched code already gives earns nothing
    assert any("1 of 4 candidates agree on the example calls, giving 2 of 2 worked-out "
               "results; candidate 3" in n for n in notices), notices


CSV_CODE = 'def to_csv(rows):\n    return "\\n".join(",".join(map(str, row)) for row in rows)\n'
CSV_SEP = ("csv.py\n```python\ndef to_csv(rows, sep=\",\"):\n"
           "    return \"\\n\".join(sep.join(map(str, row)) for row in rows)\n```\n")
CSV_IGNORES_SEP = ("csv.py\n```python\ndef to_csv(rows, sep=\",\"):\n"
                   "    return \"\\n\".join(\",\".join(map(str, row)) for row in rows)\n```\n")
FLAT_PROBE = ("```python\nassert to_csv([1, 2, 3]) == '1,2,3'\n"
              "assert to_csv([1, 2], ';') == '1;2'\nassert to_csv([4]) == '4'\n```\n")
ROWS_PROBE = ("```python\nassert to_csv([[1, 2], [3, 4]], ';') == '1;2\\n3;4'\n"
              "assert to_csv([[5]], '|') == '5'\n```\n")


def _asked_again(root: Path, task: str, replies: list[str]) -> tuple[list[dict], list[str]]:
    """One round of four candidates, the first example calls and the second ones: the second
    request's messages and the run's notices (exit 4: a vote is not verification)."""
    with ScriptedServer(replies, default=replies[1]) as srv:
        proc = run_cli(root, "--yes", "--json", "--base-url", srv.base_url, task,
                       env_extra={"SMALLCODE_SOLVE__REFINE_ROUNDS": "0"})
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr
    again = reqs[5]["messages"]
    assert [m["role"] for m in again[-3:]] == ["user", "assistant", "user"]
    assert again[-2]["content"] == replies[4]  # the first calls, then what was wrong with them
    return again, [e["message"] for e in events(proc.stdout) if e["type"] == "notice"]


@pytest.mark.parametrize("task", [
    "to_csv should accept a separator: to_csv(rows, ';'). Comma stays the default.",
    "csv.py: let callers choose the separator of to_csv (default ',')",
    "I need semicolon-separated output from to_csv sometimes; add a sep parameter.",
])
def test_example_calls_of_the_wrong_shape_are_written_again_with_their_errors(
        tmp_path: Path, task: str):
    """Seen on dev's js-thread-separator: the 1.5B's checks passed a flat list where the code
    takes rows, so every version of the code raised on them and the vote chose blind."""
    (tmp_path / "csv.py").write_text(CSV_CODE)
    again, notices = _asked_again(tmp_path, task, [CSV_IGNORES_SEP, CSV_SEP, CSV_IGNORES_SEP,
                                                   CSV_SEP, FLAT_PROBE, ROWS_PROBE])
    assert "sep.join" in (tmp_path / "csv.py").read_text()
    assert "to_csv([1, 2, 3]) raised TypeError" in again[-1]["content"]
    assert any("3 of 3 example calls raise the same error on the untouched code and on every "
               "candidate; asking for the example calls again" in n for n in notices), notices
    assert any("giving 2 of 2 worked-out results" in n for n in notices), notices


ARRAYS = "def flatten(xs):\n    return [y for x in xs for y in x]\n"
CHUNK_RIGHT = ("arrays.py\n```python\ndef flatten(xs):\n    return [y for x in xs for y in x]\n\n\n"
               "def chunk(items, size):\n"
               "    return [items[i:i + size] for i in range(0, len(items), size)]\n```\n")
CHUNK_DROPS = ("arrays.py\n```python\ndef flatten(xs):\n    return [y for x in xs for y in x]\n\n\n"
               "def chunk(items, size):\n"
               "    return [items[i:i + size] for i in range(0, len(items) - size + 1, size)]\n"
               "```\n")
FLATTEN_PROBE = ("```python\nassert flatten([[1], [2, 3]]) == [1, 2, 3]\n"
                 "assert flatten([]) == []\n```\n")
CHUNK_PROBE = ("```python\nassert chunk([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]\n"
               "assert chunk([], 3) == []\n```\n")


@pytest.mark.parametrize("task", [
    "arrays.py: add chunk(items, size): groups of size items, the last may be shorter.",
    "I need a chunk function next to flatten: chunk(items, size), remainder last.",
    "New helper in arrays.py: chunk(items, size). Keep the leftovers as the last group.",
])
def test_example_calls_that_reach_nothing_the_candidates_change_are_written_again(
        tmp_path: Path, task: str):
    """Seen on dev's js-chunk: the 1.5B checked the existing flatten() where the task adds
    chunk(); every candidate answered as the untouched code did and the vote chose blind."""
    (tmp_path / "arrays.py").write_text(ARRAYS)
    again, notices = _asked_again(tmp_path, task, [CHUNK_DROPS, CHUNK_RIGHT, CHUNK_DROPS,
                                                   CHUNK_RIGHT, FLATTEN_PROBE, CHUNK_PROBE])
    assert "range(0, len(items), size)" in (tmp_path / "arrays.py").read_text()
    assert "none of them checks what the task adds or changes" in again[-1]["content"]
    assert again[-1]["content"].endswith("The task adds chunk, which the code does not have "
                                         "yet: call it in the checks.")
    assert any("all 2 example calls give the same results on the untouched code as on every "
               "candidate" in n for n in notices), notices
