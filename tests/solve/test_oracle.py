"""Oracles decided from the workspace and the task text, each tried with several phrasings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from smallcode.core.solve import Oracle, config_values, find_rename, repro_checks
from smallcode.core.solve.oracle import ReproCheck, table_examples
from smallcode.core.tools.workspace import Workspace

SLUG = "def slugify(text):\n    return text.lower().replace(' ', '--')\n"


@pytest.fixture
def slug_repo(tmp_path: Path) -> Path:
    (tmp_path / "textutil.py").write_text(SLUG)
    return tmp_path


@pytest.mark.parametrize("task", [
    "slugify('Hello World') returns 'hello--world' but should return 'hello-world'",
    "Bug: `slugify('Hello World')` gives 'hello--world'; it is supposed to be 'hello-world'.",
    "slugify('Hello World') should return 'hello-world'",
    "I expect slugify('Hello World') to be 'hello-world', please fix",
    "Expected: `slugify('Hello World') == 'hello-world'`",
])
def test_a_repro_check_is_read_from_the_example_in_several_phrasings(slug_repo, task):
    checks = repro_checks(task, slug_repo, ["textutil.py"])
    assert [(c.module, c.call, c.expected) for c in checks] == [
        ("textutil", "slugify('Hello World')", "'hello-world'")]
    ok, detail = checks[0].run(slug_repo)
    assert not ok and "returned 'hello--world', expected 'hello-world'" in detail
    (slug_repo / "textutil.py").write_text(SLUG.replace("'--'", "'-'"))
    assert checks[0].run(slug_repo) == (True, "")


def test_an_example_that_already_holds_is_no_oracle(slug_repo):
    assert repro_checks("slugify('a') should return 'a'", slug_repo, ["textutil.py"]) == []


def test_a_value_that_is_not_a_call_result_is_never_a_check(slug_repo):
    """'base 10' in a bug report must not turn into "the diff must contain 10"."""
    assert repro_checks("parsing in base 10 is wrong, it should be 10 digits", slug_repo,
                        ["textutil.py"]) == []


def test_repro_oracle_passes_only_when_the_code_is_fixed(slug_repo):
    checks = repro_checks("slugify('A B') should return 'a-b'", slug_repo, ["textutil.py"])
    oracle = Oracle("repro", True, "example", repro=checks)
    assert not oracle.check(slug_repo, ["textutil.py"]).passed
    (slug_repo / "textutil.py").write_text(SLUG.replace("'--'", "'-'"))
    result = oracle.check(slug_repo, ["textutil.py"])
    assert result.passed and result.score == 1.0


def test_a_candidate_that_does_not_compile_fails_with_the_error(slug_repo):
    (slug_repo / "textutil.py").write_text("def slugify(text:\n")
    result = Oracle("structural", False, "weak").check(slug_repo, ["textutil.py"])
    assert not result.passed and "textutil.py" in result.detail


@pytest.mark.parametrize("task", [
    "Set the port to 9090 in config.json",
    "change `port` to 9090",
    "The server should listen on a different port: please update port = 9090",
])
def test_config_values_are_asked_key_and_value_in_several_phrasings(tmp_path, task):
    (tmp_path / "config.json").write_text('{"server": {"host": "0.0.0.0", "port": 8080}}\n')
    assert config_values(task, tmp_path, ["config.json"]) == [("port", "9090")]


@pytest.mark.parametrize("task,pairs", [
    # a dotted key path written out
    ("config/app.json → server.port = 9090, server.debug = false",
     [("server.debug", "false"), ("server.port", "9090")]),
    ("Please make it server.port: 9090", [("server.port", "9090")]),
    ("`server.port = 9090` in config/app.json", [("server.port", "9090")]),
    # the file between the key and its value
    ("Bump the version in pyproject.toml to 0.4.0", [("version", "0.4.0")]),
    ("set version in `pyproject.toml` to 0.4.0 please", [("version", "0.4.0")]),
    ("Change the version in pyproject.toml to 0.4.0 and add requests", [("version", "0.4.0")]),
    # a section is not a value, a file name is not a key
    ("Can you move the server to port 9090?", []),
    ("pyproject.toml: version 0.4.0", []),
    ("switch the server to tls", []),
])
def test_config_pairs_in_more_forms(tmp_path, task, pairs):
    (tmp_path / "app.json").write_text('{"server": {"port": 8080, "debug": true}}\n')
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0.3.0"\n')
    assert sorted(config_values(task, tmp_path, ["app.json", "pyproject.toml"])) == pairs


@pytest.mark.parametrize("task", [
    "I set max_connections = 20 in settings.toml but the pool still opens 4 connections.",
    "We changed max_connections to 20 in settings.toml, yet the pool ignores it.",
    "Even with `max_connections = 20` in settings.toml, the pool doesn't open more than 4.",
])
def test_a_value_a_bug_report_says_is_set_is_not_a_value_to_set(tmp_path, task):
    (tmp_path / "settings.toml").write_text("[database]\nmax_connections = 8\n")
    assert config_values(task, tmp_path, ["settings.toml"]) == []
    # asked for in the same message, it still is one
    asked = task + " Please set max_connections to 30 in settings.toml as well."
    assert config_values(asked, tmp_path, ["settings.toml"]) == [("max_connections", "30")]


def test_a_config_oracle_checks_the_parsed_value(tmp_path):
    (tmp_path / "config.json").write_text('{"server": {"port": 8080}}\n')
    oracle = Oracle("structural", True, "cfg", config_values=[("port", "9090")])
    assert not oracle.check(tmp_path, ["config.json"]).passed
    (tmp_path / "config.json").write_text('{"server": {"port": "9090 "}}\n')
    assert not oracle.check(tmp_path, ["config.json"]).passed
    (tmp_path / "config.json").write_text('{"server": {"port": 9090}}\n')
    assert oracle.check(tmp_path, ["config.json"]).passed


@pytest.fixture
def cart_repo(tmp_path: Path) -> Workspace:
    (tmp_path / "cart.py").write_text("def calc_total(items):\n    return sum(items)\n")
    (tmp_path / "app.py").write_text("from cart import calc_total\n\nprint(calc_total([1]))\n")
    return Workspace(tmp_path)


@pytest.mark.parametrize("task", [
    "Rename the function calc_total to compute_total everywhere",
    "calc_total should be called compute_total",
    "can you give `calc_total` the new name `compute_total`? it reads better",
    "renmae calc_total -> compute_total",
])
def test_a_rename_is_recognised_whatever_the_phrasing(cart_repo, task):
    req = find_rename(task, cart_repo)
    assert req is not None and (req.old, req.new) == ("calc_total", "compute_total")


@pytest.mark.parametrize("task", [
    "Replace calc_total with compute_total everywhere.",
    "replace every call to `calc_total` with `compute_total`",
    "calc_total -> compute_total, in all files",
    "I'd like calc_total to be known as compute_total instead, tests included",
    "Use compute_total instead of calc_total throughout.",
    "Change calc_total to compute_total in every file.",
])
def test_a_rename_written_as_a_substitution_is_recognised(cart_repo, task):
    req = find_rename(task, cart_repo)
    assert req is not None and (req.old, req.new) == ("calc_total", "compute_total")


@pytest.mark.parametrize("task", [
    # the verb and the new name in sentences of their own
    "calc_total: rename to compute_total",
    "Rename calc_total. New name: compute_total.",
    "The name calc_total is confusing; we'd like it to be compute_total, tests too.",
    "calc_total is a bad name. compute_total please, in code and tests.",
    # qualified names, arrows without spaces, sed, "should be"
    "billing.calc_total -> billing.compute_total",
    "rename cart.calc_total to compute_total",
    "calc_total->compute_total",
    "s/calc_total/compute_total/ across the project",
    "calc_total should be compute_total",
    "calc_total is now compute_total everywhere",
    # the new name first, or every use of the old one changed
    "We call it compute_total now, not calc_total. Update the code and tests.",
    "I'd prefer compute_total over calc_total as the function name",
    "grep for calc_total and change every occurrence to compute_total",
    "look up calc_total and replace all uses with compute_total",
    # the new name before the old one, in a message that speaks of a name
    "compute_total is the new name for calc_total; update all references.",
    "compute_total — that's the name calc_total should have had. Fix every use.",
    "Let's go with the name compute_total for what is now calc_total.",
    # the naming verb with two objects
    "Can we call calc_total compute_total instead? Callers and tests too.",
    "Let's call calc_total compute_total from now on.",
    "Please name the function calc_total compute_total everywhere.",
])
def test_a_rename_spread_over_the_message_is_recognised(cart_repo, task):
    req = find_rename(task, cart_repo)
    assert req is not None and (req.old, req.new) == ("calc_total", "compute_total")


@pytest.fixture
def invoice_repo(cart_repo: Workspace) -> Workspace:
    (cart_repo.root / "invoice.py").write_text(
        "from cart import calc_total\n\n\ndef invoice_text(items):\n"
        "    return f'{calc_total(items):.2f}'\n")
    return cart_repo


@pytest.mark.parametrize("task", [
    "invoice_text calls calc_total; rename calc_total to compute_total",
    "Rename calc_total, which invoice_text uses, to compute_total.",
    "invoice_text uses calc_total -> compute_total",
])
def test_the_renamed_name_is_told_from_other_names_the_message_mentions(invoice_repo, task):
    req = find_rename(task, invoice_repo)
    assert req is not None and (req.old, req.new) == ("calc_total", "compute_total")


@pytest.mark.parametrize("task", [
    "Rename calc_total to compute_total and invoice_text to render_invoice",
    "rename calc_total to compute_total, then rename invoice_text to render_invoice",
    "calc_total -> compute_total, invoice_text -> render_invoice",
])
def test_two_renames_in_one_message_are_not_taken_for_one(invoice_repo, task):
    assert find_rename(task, invoice_repo) is None


@pytest.mark.parametrize("task", [
    # a bug report that mentions a name is not a rename
    "calc_total crashes when an item is named foo_bar",
    "calc_total fails on a column name like unit_price",
    "calc_total raises KeyError for items named free_gift",
    # a name that should be a value, new code, a file
    "calc_total should be fast",
    "calc_total is a bad name. Add compute_total beside it.",
    "s/app.py/main.py/",
])
def test_a_name_in_a_bug_report_or_new_code_is_not_a_rename(cart_repo, task):
    assert find_rename(task, cart_repo) is None


@pytest.mark.parametrize("task", [
    # new code next to the old name
    "Add a compute_total function that wraps calc_total.",
    "Using calc_total, add a function named compute_total that adds tax.",
    "Next to calc_total, write a helper called compute_total for discounts.",
    # the verb "call", and a second name that is an argument or a place
    "Make calc_total call apply_tax with the rate.",
    "Pass tax_rate to calc_total.",
    "Replace the loop in calc_total with sum_items().",
    "Change the rounding in calc_total to round_half_even.",
    "Move the check from calc_total to validate_items",
    "Switch calc_total to use Decimal.",
    "Can we call calc_total with a list?",
    "call calc_total twice",
    "Why do we call calc_total items_total in the docs?",
])
def test_new_code_beside_a_name_is_not_a_rename(cart_repo, task):
    assert find_rename(task, cart_repo) is None


@pytest.mark.parametrize("task", [
    "Rename app.py to main.py",
    "calc_total returns the wrong sum, fix it",
    "rename the variable total to sum_total",  # total is not defined in the project
])
def test_not_a_rename_of_a_defined_name(cart_repo, task):
    assert find_rename(task, cart_repo) is None


@pytest.fixture
def class_repo(tmp_path: Path) -> Workspace:
    (tmp_path / "cart.py").write_text("class Cart:\n    def add(self, name):\n        pass\n")
    (tmp_path / "app.py").write_text("from cart import Cart\n\nCart().add('pen')\n")
    return Workspace(tmp_path)


@pytest.mark.parametrize("task", [
    "Fill in the Cart class in cart.py following the requirements in NOTES.md. Keep the method names.",
    "Implement Cart as README.md describes. Keep the names of the existing functions and classes.",
    "The Cart class is called from app.py; make add() work. ISO dates please.",
])
def test_english_words_around_a_class_are_not_a_new_name(class_repo, task):
    assert find_rename(task, class_repo) is None


@pytest.mark.parametrize("task", [
    "Rename the class Cart to Basket",
    "Cart should be called Basket everywhere",
    "rename `Cart` to `Basket`, it is not only for shops",
])
def test_a_class_rename_is_recognised_whatever_the_phrasing(class_repo, task):
    req = find_rename(task, class_repo)
    assert req is not None and (req.old, req.new) == ("Cart", "Basket")


@pytest.mark.parametrize("message", [
    "What does calc_total return for an empty list?",
    "where is the retry limit configured",
    "Explain how the cache is invalidated.",
    "I keep seeing 429s. Which setting controls the retry limit?",
])
def test_questions_are_recognised_by_their_form(message):
    from smallcode.core.solve import is_question

    assert is_question(message)


@pytest.mark.parametrize("message", [
    "the calculator gives the wrong answers",
    "add(2, 3) returns -1. It should add.",
    # a yes/no question asking for a change with a verb of moving or switching
    "Can you move the server to port 9090 and turn debug off in config/app.json?",
    "Could you switch the logger to JSON output?",
    "Can we raise the retry limit to 5?",
    "Solve the exercise described in .docs/instructions.md by implementing it in bob.py.",
])
def test_requests_for_a_change_are_not_questions(message):
    from smallcode.core.solve import is_question

    assert not is_question(message)


@pytest.mark.parametrize("message", [
    "I want a `clean` rule in the Makefile: wipe build/ and any compiled .pyc files",
    "We need a --reverse flag for sortlines.py",
    "I'd like a retry option in the client, three tries by default",
])
def test_a_thing_wanted_in_the_code_is_a_request_for_a_change(message):
    from smallcode.core.solve.request import asks_for_change

    assert asks_for_change(message)


@pytest.mark.parametrize("message", [
    "I need a hint on how the cache works?",
    "I want a coffee before we start",
    "Which file defines the TokenBucket class? Write its path into answer.txt.",
])
def test_a_wish_that_is_no_change_is_not_one(message):
    from smallcode.core.solve.request import asks_for_change

    assert not asks_for_change(message, answer_file=False)


@pytest.fixture
def js_repo(tmp_path: Path) -> Path:
    (tmp_path / "strings.js").write_text(
        "function capitalize(word) {\n  return word[0].toUpperCase() + word.slice(1);\n}\n\n"
        "function titleCase(text) {\n  return text.split(' ').map(capitalize).join(' ');\n}\n\n"
        "module.exports = { capitalize, titleCase };\n")
    return tmp_path


@pytest.mark.parametrize("task", [
    ("titleCase('hello  world') (two spaces) throws TypeError: Cannot read properties of "
     "undefined. Fix it."),
    "calling `titleCase('hello  world')` crashes",
    "titleCase('hello  world') errors out with a TypeError, it should not",
])
def test_a_call_that_throws_now_must_return_after_the_fix_in_javascript(js_repo, task):
    checks = repro_checks(task, js_repo, ["strings.js"])
    assert [(c.module, c.call, c.expected) for c in checks] == [
        ("strings.js", "titleCase('hello  world')", None)]
    ok, detail = checks[0].run(js_repo)
    assert not ok and "threw TypeError" in detail
    js = (js_repo / "strings.js").read_text().replace("text.split(' ')",
                                                       "text.split(' ').filter(Boolean)")
    (js_repo / "strings.js").write_text(js)
    assert checks[0].run(js_repo) == (True, "")


def test_a_javascript_example_value_is_compared_deeply(js_repo):
    checks = repro_checks("titleCase('a b') should return 'A B!'", js_repo, ["strings.js"])
    assert len(checks) == 1
    assert "returned \"A B\", expected \"A B!\"" in checks[0].run(js_repo)[1]


@pytest.mark.parametrize("task", [
    'Change the server port to 9090 and add a "debug": false setting to the server section',
    'server needs `debug: false` and the port moved to 9090',
    "Please set debug=false and port = 9090 in the config",
])
def test_config_pairs_written_out_and_verb_led_keys(tmp_path, task):
    (tmp_path / "app.json").write_text('{"server": {"port": 8080}}')
    assert sorted(config_values(task, tmp_path, ["app.json"])) == [("debug", "false"),
                                                                   ("port", "9090")]


@pytest.mark.parametrize("task", [
    "Implement to_roman(n) in roman.py for 1..3999 (e.g. 1994 -> 'MCMXCIV').",
    "to_roman(n) is missing: 1994 becomes 'MCMXCIV', 4 becomes 'IV'",
    "write to_roman(number); for example 1994 => 'MCMXCIV'",
])
def test_literal_examples_of_the_one_named_function_become_checks(tmp_path, task):
    (tmp_path / "roman.py").write_text('def to_roman(n):\n    """Roman numeral."""\n    pass\n')
    checks = repro_checks(task, tmp_path, ["roman.py"])
    assert ("to_roman(1994)", "'MCMXCIV'") in [(c.call, c.expected) for c in checks]


def test_a_stub_left_in_a_candidate_fails_even_the_weak_oracle(tmp_path):
    (tmp_path / "roman.py").write_text(
        'def to_roman(n):\n    """Convert."""\n    if n < 1:\n        raise ValueError\n'
        '    # implement the conversion here\n    ...\n\n\ndef helper():\n    pass\n')
    result = Oracle("structural", False, "weak").check(tmp_path, ["roman.py"])
    assert not result.passed and "roman.py:9 helper()" in result.detail
    assert "to_roman" not in result.detail  # it has real statements


def test_with_tests_as_the_oracle_a_hook_that_was_empty_before_is_not_a_stub(tmp_path):
    """Seen on a library file: ``def check_unused_args(...): pass`` is empty by design, and
    every candidate was failed for keeping it. A body the candidate emptied still is a stub."""
    before = ("class Formatter:\n    def format(self, s):\n        return s\n\n"
              "    def check_unused_args(self, used, args, kwargs):\n        pass\n")
    (tmp_path / "fmt.py").write_text("# fixed\n" + before)
    (tmp_path / "test_fmt.py").write_text("from fmt import Formatter\n\n\ndef test_format():\n"
                                          "    assert Formatter().format('a') == 'a'\n")
    oracle = Oracle("tests", True, "1 test fails now", start_failures=["test_fmt.py::test_format"],
                    baseline={"fmt.py": before})
    assert oracle.check(tmp_path, ["fmt.py"]).passed
    (tmp_path / "fmt.py").write_text(before.replace("return s", "pass"))
    result = oracle.check(tmp_path, ["fmt.py"])
    assert not result.passed and "fmt.py:2 format()" in result.detail
    assert "check_unused_args" not in result.detail
    # a weak oracle still asks for every placeholder (an exercise's stub is one)
    (tmp_path / "fmt.py").write_text(before)
    assert "check_unused_args" in Oracle("structural", False, "weak").check(
        tmp_path, ["fmt.py"]).detail


def test_a_module_that_fails_to_import_names_the_exception_on_the_verdict_s_first_line(tmp_path):
    (tmp_path / "api.py").write_text("def get_user(user_id, timeout=DEFAULT_TIMEOUT):\n"
                                     "    return user_id\n")
    result = Oracle("structural", False, "weak").check(tmp_path, ["api.py"])
    assert not result.passed
    first, *rest = result.detail.splitlines()
    assert first == "importing api.py fails: NameError: name 'DEFAULT_TIMEOUT' is not defined"
    assert any("line 1" in ln for ln in rest)  # and where, below


SPEC_DOC = ('`format_duration(seconds)` writes seconds out: `3661` is `"1h 1m 1s"`, '
            '`format_duration(7322)` gives `"2h 2m 2s"`.\n')


@pytest.fixture
def duration_repo(tmp_path: Path) -> Path:
    (tmp_path / "durations.py").write_text("def format_duration(seconds):\n    pass\n")
    (tmp_path / "SPEC.md").write_text(SPEC_DOC)
    return tmp_path


def test_a_specifications_examples_become_checks(duration_repo):
    checks = repro_checks(SPEC_DOC, duration_repo, ["durations.py"])
    assert [(c.call, c.expected) for c in checks] == [
        ("format_duration(7322)", '"2h 2m 2s"'), ("format_duration(3661)", '"1h 1m 1s"')]


def test_a_method_name_is_not_a_module_name(tmp_path):
    (tmp_path / "cart.py").write_text("class Cart:\n    def count(self):\n        pass\n")
    # count() can only be called on a Cart: a check calling it bare could never pass
    assert repro_checks("add two pens -> count() is 2", tmp_path, ["cart.py"]) == []


@pytest.mark.parametrize("code,pasted", [
    (('def format_duration(seconds):\n    if seconds == 3661:\n        return "1h 1m 1s"\n'
     '    return "2h 2m 2s"\n'), True),
    (('ANSWERS = {3661: "1h 1m 1s", 7322: "2h 2m 2s"}\n\n'
     'def format_duration(seconds):\n    return ANSWERS[seconds]\n'), True),
    (('def format_duration(seconds):\n    h, rest = divmod(seconds, 3600)\n'
     '    m, s = divmod(rest, 60)\n    return f"{h}h {m}m {s}s"\n'), False),
])
def test_code_that_writes_out_the_examples_answer_fails_the_oracle(duration_repo, code, pasted):
    checks = repro_checks(SPEC_DOC, duration_repo, ["durations.py"])
    oracle = Oracle("repro", True, "examples", repro=checks,
                    baseline={"durations.py": "def format_duration(seconds):\n    pass\n"})
    (duration_repo / "durations.py").write_text(code)
    result = oracle.check(duration_repo, ["durations.py"])
    assert result.passed is not pasted
    assert ("special-cases the example" in result.detail) is pasted


@pytest.mark.parametrize("category,message,change", [
    # the router's keyword vote ties these between code_intel and read: still changes
    ("code_intel", "Write report.py's render_table so it produces the output shown in FORMAT.md.",
     True),
    ("code_intel", "render_table in report.py needs to produce the output shown in FORMAT.md",
     True),
    ("code_intel", "The render_table stub in report.py: it has to output what FORMAT.md shows.",
     True),
    ("code_intel", "Walk me through render_table in report.py", False),
    ("code_intel", "Explain how render_table works", False),
    ("code_intel", "trace the call path of render_table", False),
    ("run", "run the tests", False),
    ("search", "find every caller of render_table", False),
    ("read", "How many rows does FORMAT.md show? Write the number into answer.txt", False),
])
def test_a_change_is_told_from_a_question_by_its_form_not_its_route(category, message, change):
    from smallcode.core.solve import wants_change

    assert wants_change(category, message) is change
    # a question whose answer goes into a file is an edit of that file
    assert wants_change(category, message, asks_for_files=True) is (category not in
                                                                      ("run", "search"))


@pytest.mark.parametrize("category,message", [
    # a request for a change inside a question
    ("write", "Can you fix the backup script? it fails on paths with spaces"),
    ("write", "What's wrong with total() in cart.js? Fix it."),
    ("read", "Looks like apply_discount(200, 10) returns 0. Could you make it take 10 percent?"),
    # a defect reported beside a question
    ("write", "Is there a bug in median()? median([4, 1, 3, 2]) gives me 3."),
    ("write", ("I tried to withdraw more than my balance and it went negative?? That should "
               "raise InsufficientFunds.")),
    ("write", "Find the bug in transpose(): it breaks on non-square matrices."),
    # a defect the router sends to "run" or "respond": reported, so a change
    ("run", "When I run the tests for slug.py, slugify('a  b') gives 'a--b'. Should be 'a-b'."),
    ("run", ("Running python yearcal.py 2000 shows February with 28 days, but 2000 was a leap "
             "year.")),
    ("run", "run the tests and fix whatever fails"),
    ("respond", "withdraw() crashes on zero"),
    ("search", "search for the bug that makes totals() skip the first row, and fix it"),
    # a change verb joined to a search or an explanation
    ("write", "find every use of calc_total and rename it to compute_total"),
    ("search", "grep for calc_total and change every occurrence to compute_total"),
    ("code_intel", "Explain how the parser works and fix the crash on empty input"),
    # a change asked as a possibility or a suggestion
    ("read", "Is it possible to make average([]) return 0.0 instead of crashing?"),
    ("read", "Would it be possible to add a --verbose flag to cli.py?"),
    ("read", "How about returning 0.0 from average([]) instead of dividing by zero?"),
    ("read", "What about adding a timeout to Client?"),
    # a why-question beside what the code should do instead
    ("code_intel", "Why does average([]) crash? It should return 0.0."),
    ("code_intel", "Why is the header row summed? column_total must skip it."),
    ("read", "Why do warnings never reach the log? They are supposed to be written."),
])
def test_a_change_asked_or_a_defect_reported_goes_to_the_solve_path(category, message):
    from smallcode.core.solve import is_question, wants_change

    assert not is_question(message)
    assert wants_change(category, message)


@pytest.mark.parametrize("category,message", [
    ("run", "run the tests"),
    ("run", "Rename every .txt file in notes/ to .md (keep their contents)."),
    ("run", "install the dev dependencies and run the linter"),
    ("search", "find every caller of render_table"),
    ("search", "where is the retry limit configured"),
    ("code_intel", "Why does the parser crash on empty input?"),
    ("code_intel", "Does calc_total handle an empty list?"),
    ("read", "I keep seeing 429s. Which setting controls the retry limit?"),
    ("respond", "what's the difference between a list and a tuple in python"),
    ("read", "What function opens the file and changes its mode?"),
    ("read", "Which function reads the config and sets the port?"),
    ("code_intel", "Why does backup.sh fail with 'source: unbound variable'?"),
    ("read", "How about the tests, do they still pass?"),
    ("read", "Is it possible that the cache is stale?"),
])
def test_commands_searches_and_questions_stay_in_the_tool_loop(category, message):
    from smallcode.core.solve import wants_change

    assert not wants_change(category, message)


@pytest.mark.parametrize("message", [
    "Which function in catalog.py raises KeyError? Write its name into answer.txt.",
    "How many HTTP endpoints does routes.py register? Put just the number in answer.txt.",
    "What TCP port does the server listen on by default? Save it to port.txt",
])
def test_a_question_whose_answer_goes_into_a_file_is_still_a_question(message):
    from smallcode.core.solve import is_question

    assert is_question(message)


def test_a_repro_check_that_raises_names_the_line_of_the_project_that_raised_and_its_values(
        tmp_path: Path):
    (tmp_path / "spans.py").write_text("def merge(spans):\n    out = list(spans)\n"
                                       "    out[-1][1] = 9\n    return out\n")
    ok, detail = ReproCheck("spans", "merge([(1, 2)])", "[(1, 9)]").run(tmp_path)
    assert not ok
    assert detail == ("reproduction check failed: merge([(1, 2)]) raised TypeError: 'tuple' "
                      "object does not support item assignment (line 3 of spans.py: "
                      "out[-1][1] = 9; values: spans = [(1, 2)], out = [(1, 2)])")


def test_the_values_shown_are_the_objects_state_and_the_caller_of_a_comprehension(tmp_path):
    (tmp_path / "cart.py").write_text(
        "import math\n\n\nclass Cart:\n    def __init__(self):\n        self.items = {}\n"
        "        self._log = print\n"
        "    def add(self, name, price, q=1):\n"
        "        self.items[name] = self.items.get(name, 0) + q\n"
        "        return self\n"
        "    def total(self, code=None):\n"
        "        helper = math.floor\n"
        "        return sum(p * q for n, (p, q) in self.items.items())\n")
    ok, detail = ReproCheck("cart", "Cart().add('pen', 150, 2).total()", "300").run(tmp_path)
    assert not ok
    # the dict that holds only quantities is what the model must see; modules and functions
    # are not values
    assert detail.endswith("(line 13 of cart.py: return sum(p * q for n, (p, q) in "
                           "self.items.items()); values: self.items = {'pen': 2}, "
                           "code = None, n = 'pen')")
    (tmp_path / "cart.py").write_text("def f(x):\n    return x['a' * 200]\n")
    ok, detail = ReproCheck("cart", "f({'b' * 300: 1})", "1").run(tmp_path)
    assert len(detail) < 400 and "..." in detail


@pytest.mark.parametrize("task", [
    ("Calling add_tag('a') and then add_tag('b') returns ['a', 'b'] the second time — tags leak "
     "between calls. Fix it."),
    "add_tag('a') then add_tag('b') returns ['a', 'b']; the list is shared between calls, a bug",
    "after add_tag('a'), add_tag('b') gives ['a', 'b'] instead of a fresh list",
])
def test_a_bug_report_saying_what_the_code_returns_now_is_not_what_it_must_return(tmp_path,
                                                                                   task):
    # on a fresh import add_tag('b') gives ['b']: the described (wrong) value would fail there and
    # pass for a check, asking the candidates for the bug
    (tmp_path / "tags.py").write_text("def add_tag(tag, tags=[]):\n    tags.append(tag)\n"
                                      "    return tags\n")
    assert repro_checks(task, tmp_path, ["tags.py"]) == []


def test_a_documents_examples_are_checks_even_when_the_message_reports_a_bug(tmp_path):
    (tmp_path / "conv.py").write_text("def to_hours(s):\n    return s\n")
    doc = "## to_hours\n\n`to_hours(7200)` is `2`.\n"
    checks = repro_checks("to_hours is wrong, fix it as SPEC.md says", tmp_path, ["conv.py"],
                          [doc])
    assert [(c.call, c.expected) for c in checks] == [("to_hours(7200)", "2")]


CALC = ("def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a + b\n\n\n"
        "def sub(a, b):\n    return a - b\n")
CALC_TESTS = ("from calc import add, mul, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
              "def test_mul():\n    assert mul(2, 3) == 6\n\n\n"
              "def test_sub():\n    assert sub(3, 2) == 1\n")


def test_a_candidate_that_breaks_the_tests_loading_ranks_below_one_that_fixes_a_test(tmp_path):
    from smallcode.core.edit import testrunner

    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_calc.py").write_text(CALC_TESTS)
    start = testrunner.run_tests(testrunner.detect_test_runner(tmp_path), [])
    assert start.passed_count() == 1 and len(start.failure_ids()) == 2
    oracle = Oracle("tests", True, "tests", start_failures=start.failure_ids(),
                    start_passed=start.passed_count())
    (tmp_path / "calc.py").write_text(CALC.replace("a - b\n\n\ndef mul", "a + b\n\n\ndef mul"))
    one_fixed = oracle.check(tmp_path, ["calc.py"])
    # mul dropped: the test module cannot import, one collection error, nothing passes
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n\n\n"
                                      "def sub(a, b):\n    return a - b\n")
    broken = oracle.check(tmp_path, ["calc.py"])
    assert not one_fixed.passed and not broken.passed
    assert one_fixed.score == 0.25 and broken.score == 0.0
    # a candidate that makes the tests hang names no failure, and fixed nothing either
    oracle.test_timeout = 3
    (tmp_path / "calc.py").write_text(CALC.replace("    return a - b\n\n\ndef mul",
                                                   "    while True:\n        pass\n\n\ndef mul"))
    hangs = oracle.check(tmp_path, ["calc.py"])
    assert not hangs.passed and hangs.score == 0.0


INITIALS_STUB = "def initials(name):\n    pass\n"


@pytest.mark.parametrize("doc", [
    # a table with input and output columns
    ("# Initials\n\n| Input | Output |\n|-------|--------|\n| Ada Lovelace | AL |\n"
    "| `grace brewster hopper` | `GBH` |\n"),
    # the same with other header words and alignment marks
    ("Examples:\n\nGiven | Expected result\n:--- | ---:\nAda Lovelace | AL\n"
    "grace brewster hopper | GBH\n"),
    # arrows between quoted literals
    ("Take the first letter of every word, upper-cased:\n\n- \"Ada Lovelace\" -> \"AL\"\n"
    "- \"grace brewster hopper\" → \"GBH\"\n"),
    # labelled lines, plain and in bold
    ("Example 1:\n\n    Input: Ada Lovelace\n    Output: AL\n\nExample 2:\n\n"
    "**Input:** `\"grace brewster hopper\"`\n**Expected output:** `\"GBH\"`\n"),
    # given / result in a list
    ("- given: 'Ada Lovelace'\n- result: 'AL'\n\n- given = 'grace brewster hopper'\n"
    "- returns = 'GBH'\n"),
])
def test_a_documents_examples_are_calls_of_the_one_stub_function(tmp_path, doc):
    (tmp_path / "initials.py").write_text(INITIALS_STUB)
    checks = repro_checks("Solve the exercise in NOTES.md by implementing initials.py.",
                          tmp_path, ["initials.py"], [doc])
    got = {(c.call.split("(")[0], ast.literal_eval(c.call[len("initials("):-1]),
            ast.literal_eval(c.expected)) for c in checks}
    assert got == {("initials", "Ada Lovelace", "AL"),
                   ("initials", "grace brewster hopper", "GBH")}
    (tmp_path / "initials.py").write_text(
        "def initials(name):\n    return ''.join(w[0].upper() for w in name.split())\n")
    assert all(c.run(tmp_path)[0] for c in checks)


@pytest.mark.parametrize("stub", [
    # two public functions: which one the table is about is not known
    INITIALS_STUB + "\n\ndef surname(name):\n    pass\n",
    # a class: the examples are not calls of one function
    INITIALS_STUB + "\n\nclass Person:\n    pass\n",
    # two required arguments
    "def initials(first, last):\n    pass\n",
])
def test_no_table_checks_without_exactly_one_single_argument_function(tmp_path, stub):
    (tmp_path / "initials.py").write_text(stub)
    doc = "| Input | Output |\n|---|---|\n| Ada Lovelace | AL |\n"
    assert repro_checks("Implement initials.py as NOTES.md says.", tmp_path, ["initials.py"],
                        [doc]) == []


def test_a_lookup_table_is_not_examples(tmp_path):
    (tmp_path / "score.py").write_text("def score(word):\n    pass\n")
    doc = ("| Letter | Value |\n|---|---|\n| A, E, I, O, U | 1 |\n| D, G | 2 |\n\n"
           "| Word | Points |\n|---|---|\n| cabbage | 14 |\n")
    assert table_examples(doc) == []
    assert repro_checks("Implement score.py as NOTES.md says.", tmp_path, ["score.py"],
                        [doc]) == []


def test_table_cells_keep_their_literal_type(tmp_path):
    doc = ("| input | returns |\n|---|---|\n| 4 | 'IV' |\n| [1, 2] | 3 |\n| 1, 2 | x |\n"
           "| | empty |\n")
    assert table_examples(doc) == [("4", "'IV'"), ("[1, 2]", "3"), ("'1, 2'", "'x'")]


def test_interface_checks_are_the_calls_the_task_writes_that_the_code_refuses(tmp_path: Path):
    from smallcode.core.solve.oracle import interface_checks

    (tmp_path / "client.py").write_text("class Client:\n    def __init__(self, name='x'):\n"
                                        "        self.name = name\n")
    (tmp_path / "csvout.py").write_text("def to_csv(rows, sep=','):\n    return ''\n")
    (tmp_path / "table.js").write_text("function toCsv(rows) { return ''; }\n"
                                       "module.exports = { toCsv };\n")
    task = ("Client(timeout=...) must work; to_csv(rows, sep=';') already does; "
            "to_csv([[1]]) is an example, toCsv(rows, ';') is JavaScript, Client() works")
    checks = interface_checks(task, tmp_path, ["client.py", "csvout.py", "table.js"])
    assert [(c.name, c.positional, c.keywords) for c in checks] == [("Client", 0, ("timeout",))]
    ok, detail = checks[0].run(tmp_path)
    assert not ok and "unexpected keyword argument 'timeout'" in detail
    # what to change, said plainly
    assert detail.endswith("(Client must accept the parameter(s) timeout in its __init__)")
    (tmp_path / "client.py").write_text("class Client:\n    def __init__(self, name='x', **kw):\n"
                                        "        self.name = name\n")
    assert checks[0].run(tmp_path) == (True, "")


def test_a_changed_call_of_a_project_function_must_fit_its_signature(tmp_path: Path):
    from smallcode.core.solve.oracle import Oracle

    (tmp_path / "api.py").write_text("def get_user(uid):\n    return uid\n")
    (tmp_path / "client.py").write_text(
        "from api import get_user\n\n\nclass Client:\n    def __init__(self, timeout=10):\n"
        "        self.timeout = timeout\n\n    def user(self, uid):\n"
        "        return get_user(uid, timeout=self.timeout)\n")
    oracle = Oracle("structural", False, "weak")
    result = oracle.check(tmp_path, ["client.py"])
    assert not result.passed
    assert ("client.py line 9: get_user(uid, timeout=self.timeout) does not fit get_user(uid): "
            "got an unexpected keyword argument 'timeout'") in result.detail
    # the callee changed too: it fits
    (tmp_path / "api.py").write_text("def get_user(uid, timeout=10):\n    return uid\n")
    assert oracle.check(tmp_path, ["client.py", "api.py"]).passed
    # a parameter that shadows the name, a builtin, *args: not checked
    (tmp_path / "client.py").write_text(
        "from api import get_user\n\n\ndef run(get_user, args):\n    get_user(1, 2, 3)\n"
        "    print(len(args), sep='')\n    return get_user(*args)\n")
    assert oracle.check(tmp_path, ["client.py"]).passed


CSV_REPORT = ("import csv\n\n\ndef column_total(path, column):\n    with open(path) as f:\n"
              "        rows = list(csv.reader(f))\n    index = rows[0].index(column)\n"
              "    return sum(float(row[index]) for row in rows)\n")
ROLES = ("LEVELS = {'viewer': 1}\n\n\ndef level(role):\n    return LEVELS[role]\n")
PRICES = ("def parse_price(text):\n    return float(text.strip('$'))\n")


@pytest.mark.parametrize("task,files,cheat,fix", [
    (("column_total('data/sales.csv', 'amount') raises ValueError: could not convert string to "
      "float: 'amount'. Fix it."),
     {"report.py": CSV_REPORT, "data/sales.csv": "amount\n1.5\n2\n"},
     CSV_REPORT.replace("for row in rows)", "for row in rows if row[index] != 'amount')"),
     CSV_REPORT.replace("for row in rows)", "for row in rows[1:])")),
    ("When I call level('admin') I get a KeyError, it should not crash",
     {"roles.py": ROLES},
     ROLES.replace("    return LEVELS[role]", "    if role == 'admin':\n        return 0\n"
                   "    return LEVELS[role]"),
     ROLES.replace("LEVELS[role]", "LEVELS.get(role, 0)")),
    ("Calling parse_price('N/A') throws a ValueError.",
     {"prices.py": PRICES},
     PRICES.replace("    return", "    if text != 'N/A':\n        return") + "    return 0.0\n",
     PRICES.replace("    return float(text.strip('$'))",
                    "    try:\n        return float(text.strip('$'))\n    except ValueError:\n"
                    "        return 0.0")),
])
def test_code_that_compares_with_the_examples_input_fails_the_oracle(tmp_path, task, files,
                                                                      cheat, fix):
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    code = next(rel for rel in files if rel.endswith(".py"))
    checks = repro_checks(task, tmp_path, list(files))
    assert checks and all(not c.run(tmp_path)[0] for c in checks)
    oracle = Oracle("repro", True, "example", repro=checks, baseline={code: files[code]})
    (tmp_path / code).write_text(cheat)
    result = oracle.check(tmp_path, [code])
    assert not result.passed and "special-cases the example's input" in result.detail
    (tmp_path / code).write_text(fix)
    assert oracle.check(tmp_path, [code]).passed


def test_a_value_among_several_cases_or_known_before_is_not_singled_out(tmp_path):
    base = "def parse_flag(text):\n    return text == 'true'\n"
    (tmp_path / "flags.py").write_text(base)
    checks = [ReproCheck("flags", "parse_flag('yes')", "True")]
    oracle = Oracle("repro", True, "example", repro=checks, baseline={"flags.py": base})
    (tmp_path / "flags.py").write_text(
        "def parse_flag(text):\n    return text.lower() in ('true', 'yes', 'on')\n")
    assert oracle.check(tmp_path, ["flags.py"]).passed
    again = "def parse_flag(text):\n    if text == 'yes':\n        return True\n    return text == 'yes'\n"
    (tmp_path / "flags.py").write_text(again)
    assert not oracle.check(tmp_path, ["flags.py"]).passed


@pytest.mark.parametrize("second,verdict", [
    ("import sys\nNAME = sys.stdin.readline()\nwhile True:\n    pass\n",
     "importing b.py did not finish in 30 s"),
    ("from a import first\nVALUE = first(1, 2)\n", "importing b.py fails: TypeError"),
    ("from a import first\n\n\ndef second():\n    return first(1, extra=2)\n",
     "b.py line 5: first(1, extra=2) does not fit first(x)"),
    ("import sys\nsys.exit(0)\n", ""),
])
def test_every_changed_module_is_loaded_and_its_calls_fitted_in_one_process(tmp_path, second,
                                                                              verdict,
                                                                              monkeypatch):
    from smallcode.core.solve import oracle as oracle_module
    (tmp_path / "a.py").write_text("def first(x):\n    return x\n")
    (tmp_path / "b.py").write_text(second)
    runs = []
    real_run = oracle_module.subprocess.run
    monkeypatch.setattr(oracle_module.subprocess, "run",
                        lambda *a, **k: runs.append(a) or real_run(*a, **{**k, "timeout": 3}))
    found = oracle_module._loads_and_fits(tmp_path, ["a.py", "b.py"])
    assert found.startswith(verdict) if verdict else found == ""
    assert len(runs) == 1


@pytest.mark.parametrize("task,checked", [
    (("Running column_total('data/sales.csv', 'amount') gives me \"could not convert string to "
      "float: 'amount'\". The header row shouldn't be summed."), True),
    ("column_total('data/sales.csv', 'amount') → could not convert string to float: 'amount'",
     True),
    (("I tried column_total('data/sales.csv', 'amount') and all I got was: could not convert "
      "string to float"), True),
    # the call is named, but the message quotes no error it raises: no crash check
    ("column_total('data/sales.csv', 'amount') should skip the header", False),
    ("column_total('data/sales.csv', 'amount') gives me 'division by zero'", False),
])
def test_a_call_beside_the_error_it_raises_now_quoted_is_a_crash_check(tmp_path, task, checked):
    (tmp_path / "report.py").write_text(CSV_REPORT)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sales.csv").write_text("amount\n1.5\n2\n")
    checks = repro_checks(task, tmp_path, ["report.py", "data/sales.csv"])
    assert [c.describe() for c in checks] == (
        ["column_total('data/sales.csv', 'amount') returns without an error"] if checked else [])


def test_a_candidate_that_breaks_passing_tests_ranks_below_one_that_breaks_nothing():
    from smallcode.core.solve.oracle import CheckResult
    from smallcode.core.solve.solver import Candidate

    breaks = Candidate(1, 0.0, "", {"a.py": "x"}, [], CheckResult(False, 0.5, "", regressed=True))
    safe = Candidate(2, 0.7, "", {"a.py": "y"}, [], CheckResult(False, 0.0, ""))
    passes = Candidate(3, 0.7, "", {"a.py": "z"}, [], CheckResult(True, 1.0, ""))
    assert sorted([breaks, safe, passes], key=Candidate.rank, reverse=True) == [
        passes, safe, breaks]


@pytest.mark.skipif(__import__("shutil").which("node") is None, reason="node not installed")
def test_a_javascript_crash_names_the_line_and_the_values_there(tmp_path: Path):
    (tmp_path / "strings.js").write_text(
        "function capitalize(word) {\n  return word[0].toUpperCase() + word.slice(1);\n}\n\n"
        "function titleCase(text) {\n  return text.split(' ').map(capitalize).join(' ');\n}\n\n"
        "class Cart {\n  constructor() { this.items = { pen: 2 }; }\n"
        "  total() {\n    let sum = 0;\n"
        "    for (const [, [price, qty]] of Object.entries(this.items)) sum += price * qty;\n"
        "    return sum;\n  }\n}\n\nmodule.exports = { capitalize, titleCase, Cart };\n")
    ok, detail = ReproCheck("strings.js", "titleCase('hello  world')", None).run(tmp_path)
    assert not ok
    assert detail.endswith("threw TypeError: Cannot read properties of undefined (reading "
                           "'toUpperCase') (line 2 of strings.js: return word[0].toUpperCase() "
                           "+ word.slice(1); values: word = \"\")"), detail
    # a method: its object's fields too
    ok, detail = ReproCheck("strings.js", "new Cart().total()", None).run(tmp_path)
    assert not ok and "(line 13 of strings.js: for (const [, [price, qty]]" in detail, detail
    assert 'sum = 0' in detail and 'this.items = {"pen":2}' in detail, detail
    # an error caught and handled inside the project is not what the call failed with
    (tmp_path / "safe.js").write_text(
        "function parse(t) {\n  try { return JSON.parse(t); } catch (e) { return null; }\n}\n"
        "function first(t) {\n  const data = parse(t);\n  return data.items[0];\n}\n"
        "module.exports = { parse, first };\n")
    ok, detail = ReproCheck("safe.js", "first('{')", None).run(tmp_path)
    assert not ok and "(line 6 of safe.js: return data.items[0]; values: t = \"{\", data = null)" \
        in detail, detail
    assert ReproCheck("safe.js", "first('{\"items\": [4]}')", "4").run(tmp_path) == (True, "")


def test_a_candidate_that_swaps_the_old_behaviour_for_the_new_is_told_which_tests_it_broke(
        tmp_path: Path):
    from smallcode.core.edit import testrunner

    (tmp_path / "dates.py").write_text(
        "from datetime import datetime\n\n\ndef parse_date(text):\n"
        "    return datetime.strptime(text, '%d/%m/%Y').date()\n")
    (tmp_path / "test_dates.py").write_text(
        "from datetime import date\n\nfrom dates import parse_date\n\n\n"
        "def test_parse_european():\n    assert parse_date('05/03/2024') == date(2024, 3, 5)\n\n\n"
        "def test_parse_iso():\n    assert parse_date('2024-03-05') == date(2024, 3, 5)\n")
    start = testrunner.run_tests(testrunner.detect_test_runner(tmp_path), [])
    oracle = Oracle("tests", True, "1 test fails now", start_failures=start.failure_ids(),
                    start_passed=start.passed_count())
    (tmp_path / "dates.py").write_text(
        "from datetime import datetime\n\n\ndef parse_date(text):\n"
        "    return datetime.strptime(text, '%Y-%m-%d').date()\n")
    swapped = oracle.check(tmp_path, ["dates.py"])
    assert not swapped.passed and swapped.regressed
    assert swapped.detail.startswith(
        "tests that passed before this change fail now: test_dates.py::test_parse_european — "
        "the code must keep doing what they check, as well as what the task asks"), swapped.detail
    (tmp_path / "dates.py").write_text(
        "from datetime import datetime\n\n\ndef parse_date(text):\n    return None\n")
    assert oracle.check(tmp_path, ["dates.py"]).regressed
    # the fix that keeps the old format breaks nothing
    (tmp_path / "dates.py").write_text(
        "from datetime import datetime\n\n\ndef parse_date(text):\n"
        "    fmt = '%Y-%m-%d' if '-' in text else '%d/%m/%Y'\n"
        "    return datetime.strptime(text, fmt).date()\n")
    fixed = oracle.check(tmp_path, ["dates.py"])
    assert fixed.passed and not fixed.regressed


def test_a_percent_format_that_raises_on_every_run_fails_the_check_unless_it_was_there(
        tmp_path: Path):
    from smallcode.core.edit.validate import percent_format_errors

    bad = ("from datetime import datetime\n\n\ndef parse_date(text):\n    try:\n"
           "        return datetime.strptime(text, '%Y-%m-%d').date()\n    except ValueError:\n"
           "        raise ValueError(\"%r does not match '%d/%m/%Y'\" % text)\n")
    (tmp_path / "dates.py").write_text(bad)
    oracle = Oracle("structural", False, "parses", baseline={"dates.py": "def parse_date(t):\n"
                                                              "    return t\n"})
    result = oracle.check(tmp_path, ["dates.py"])
    assert not result.passed
    assert "dates.py line 8: " in result.detail and "%Y, %d, %m" not in result.detail
    assert "%Y, %m is no %-format conversion" in result.detail, result.detail
    # the same line in the code before the change is not the candidate's doing
    oracle.baseline = {"dates.py": bad}
    assert oracle.check(tmp_path, ["dates.py"]).passed
    # counted values: a tuple of the wrong length; a name may hold any tuple
    assert [m.split(":", 1)[1].strip() for _, m in percent_format_errors(
        "a = '%s-%s' % (x,)\nb = '%s-%s' % pair\nc = '%d%%' % (5,)\nd = '%(k)s' % m\n")] == [
        "2 conversion(s) but 1 value(s): this line raises an error whenever it runs"]


def test_a_callback_that_now_takes_the_index_as_its_separator_fails_the_check(tmp_path: Path):
    """Seen on dev's js-thread-separator: threading ``sep`` through ``formatCell(value, sep)``
    while ``row.map(formatCell)`` stays hands it 0, 1, 2 as the separator."""
    before = ("function formatCell(value) {\n  return String(value);\n}\n\n"
              "function formatRow(row) {\n  return row.map(formatCell).join(',');\n}\n\n"
              "module.exports = { formatCell, formatRow };\n")
    oracle = Oracle("structural", False, "weak", baseline={"csv.js": before})
    trapped = (before.replace("formatCell(value)", "formatCell(value, sep = ',')")
               .replace("formatRow(row)", "formatRow(row, sep = ',')")
               .replace(".join(',')", ".join(sep)"))
    (tmp_path / "csv.js").write_text(trapped)
    result = oracle.check(tmp_path, ["csv.js"])
    assert not result.passed
    assert ("formatCell is passed to .map() as it is and takes a second parameter (sep): .map() "
            "passes each element's index there") in result.detail
    (tmp_path / "csv.js").write_text(trapped.replace("row.map(formatCell)",
                                                     "row.map((cell) => formatCell(cell, sep))"))
    assert oracle.check(tmp_path, ["csv.js"]).passed
    # a callback that took the index before is the code as it was, not the candidate's doing
    indexed = before.replace("formatCell(value)", "formatCell(value, i)")
    (tmp_path / "csv.js").write_text(indexed + "// changed\n")
    assert Oracle("structural", False, "weak", baseline={"csv.js": indexed}).check(
        tmp_path, ["csv.js"]).passed
