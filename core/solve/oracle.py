"""Oracles for the solve path: what decides, before the first edit, whether a change solved it.

Built from the workspace and the task text, never from the model's word:

- ``tests``: tests that fail when the task starts must pass (and no other test may break);
- ``repro``: a check written from the task's own example (``f(x) returns A but should be B``)
  that fails on the untouched code — it lives in a temporary folder, not in the user's tree;
- ``structural``: configs parse and the asked key holds the asked value; a rename leaves no old
  name and everything compiles; otherwise (weak) the changed files compile and import and the
  existing tests still pass;
- ``none``: nothing can be checked (a question).

A check that the model could satisfy by pasting a value from the prompt into code is never used:
the repro check calls the code, and its expected value must differ from what the code returns now.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..edit import testrunner
from ..edit.validate import format_diagnostics, validate_file
from .commands import CommandCheck
from .methods import method_examples, module_name, python_trees
from .request import asks_for_change, reports_defect

Kind = Literal["tests", "repro", "structural", "none"]
CONFIG_EXT = {".json", ".toml", ".yaml", ".yml", ".ini", ".cfg"}


@dataclass
class CheckResult:
    """One candidate against the oracle."""

    passed: bool
    score: float  # 0..1, the share of the oracle that holds (for ranking partial progress)
    detail: str  # what failed, compact, for the model's next try
    # tests that passed when the task started fail now: the candidate breaks working code, and
    # whatever else it gets right, keeping it would hand the user a regression
    regressed: bool = False


@dataclass
class Oracle:
    """What decides whether a candidate solves the task, decided before the first edit."""

    kind: Kind
    strong: bool  # False: it can pass without the task being solved (only a sanity check)
    description: str
    start_failures: list[str] | None = None  # test ids failing at the start
    start_passed: int | None = None  # how many tests passed at the start (None: not counted)
    repro: list[ReproCheck] = field(default_factory=list)
    config_values: list[tuple[str, str]] = field(default_factory=list)  # (key, value)
    rename: tuple[str, str] | None = None
    module_move: tuple[str, str] | None = None  # (old file, new file) of a moved module
    suffix_change: tuple[str, str, str] | None = None  # (folder, old, new) extension change
    test_timeout: float = 120.0
    baseline: dict[str, str] = field(default_factory=dict)  # code files' text before any change
    from_document: bool = False  # the examples come from a specification with more rules
    interface: list[InterfaceCheck] = field(default_factory=list)  # calls the task writes
    commands: list[CommandCheck] = field(default_factory=list)  # scripts that must exit 0

    @property
    def no_result_checked(self) -> bool:
        """Only "the example returns without an error" is checked: a candidate can pass by
        catching the error and returning anything, so passing ones still vote on behaviour."""
        return self.kind == "repro" and bool(self.repro or self.commands) and all(
            c.expected is None for c in self.repro)

    def check(self, root: Path, changed: list[str]) -> CheckResult:
        """Run the oracle in ``root`` (a scratch copy with the candidate applied)."""
        problems: list[str] = []
        for rel in changed:
            path = root / rel
            if path.exists():
                diags = validate_file(path, root)
                if diags:
                    problems.append(format_diagnostics(diags))
        if problems:
            return CheckResult(False, 0.0, "\n".join(problems))
        parts: list[tuple[bool, str]] = [check.run(root) for check in self.repro]
        parts += [check.run(root) for check in self.interface]
        parts += [check.run(root) for check in self.commands]
        py = [r for r in changed if r.endswith(".py")]
        pasted = pasted_answers(root, py, self.repro, self.baseline)
        if pasted:
            parts.append((False, "the code special-cases the example instead of computing the "
                          "answer (it writes out the expected value of " + ", ".join(pasted)
                          + "): solve it for every input"))
        keyed = keyed_inputs(root, py, self.repro, self.baseline)
        if keyed:
            parts.append((False, "the code special-cases the example's input instead of fixing "
                          "the cause (it compares with a value from " + ", ".join(keyed)
                          + "): the same fault would stay for any other input"))
        stubs = stubs_left(root, py)
        if self.kind == "tests":
            # a hook left empty by design (``def check_unused_args(...): pass`` in a library)
            # is the tests' business; a body the candidate emptied is still a stub
            kept = {_stub_key(s) for s in _placeholders_in(self.baseline)}
            stubs = [s for s in stubs if _stub_key(s) not in kept]
        if stubs:
            parts.append((False, "not implemented yet (the body is only a placeholder): "
                          + ", ".join(stubs)))
        parts += [_config_holds(root, changed, key, value) for key, value in self.config_values]
        if self.rename is not None:
            parts.append(_rename_done(root, *self.rename))
        if self.module_move is not None:
            parts.append(_module_moved(root, *self.module_move))
        if self.suffix_change is not None:
            parts.append(_suffix_changed(root, *self.suffix_change))
        loaded = _loads_and_fits(root, py)
        if loaded:
            parts.append((False, loaded))
        formats = _new_format_errors(root, py, self.baseline)
        if formats:
            parts.append((False, formats))
        traps = _new_index_traps(root, changed, self.baseline)
        if traps:
            parts.append((False, traps))
        tests_share: float | None = None  # the share of the start's failing tests now fixed
        regressed = False
        runner = testrunner.detect_test_runner(root)
        if runner is not None:
            run = testrunner.run_tests(runner, [], self.test_timeout)
            if self.kind == "tests":
                tests_share = self._tests_share(run)
                broken = run.regressions(self.start_failures)
                regressed = bool(broken)
                if broken:
                    # said first and plainly: a 1.5B that swaps the old behaviour for the new
                    # one ("%d/%m/%Y" replaced by "%Y-%m-%d") reads the next failure as the
                    # new one's and swaps back
                    parts.append((False, "tests that passed before this change fail now: "
                                  + ", ".join(broken[:5]) + " — the code must keep doing what "
                                  "they check, as well as what the task asks"))
                parts.append((run.ok, "" if run.ok else run.compact()))
            else:
                broken = run.regressions(self.start_failures or [])
                if not run.ok and (broken or self.start_failures is None):
                    regressed = True
                    parts.append((False, "tests that passed before now fail:\n" + run.compact()))
        passed = all(ok for ok, _ in parts)
        score = (sum(ok for ok, _ in parts) / len(parts)) if parts else 1.0
        if tests_share is not None:
            score = (score + tests_share) / 2
        return CheckResult(passed, score, "\n".join(d for ok, d in parts if not ok),
                           regressed=regressed)

    def _tests_share(self, run: testrunner.TestRun) -> float:
        """The share of the start's failing tests that pass now. Counted by tests that pass
        when both runs say how many did (a candidate that breaks the test file's loading
        fixes nothing), else by the failures left."""
        start = len(self.start_failures or [])
        if run.ok or not start or run.timed_out:
            # a run stopped by its timeout names no failure: it fixed nothing (and a candidate
            # kept for it would leave the user's tests hanging)
            return float(run.ok)
        passed = run.passed_count()
        if passed is not None and self.start_passed is not None:
            return min(1.0, max(0, passed - self.start_passed) / start)
        return max(0, start - len(run.failure_ids())) / start


def _distinctive(value: object) -> bool:
    """A value that code which computes it would not write out by chance."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, str):
        return len(value.strip()) >= 3
    if isinstance(value, (int, float)):
        return abs(value) >= 100 and value not in (100, 1000, 1024, 3600, 86400)
    if isinstance(value, (list, tuple, dict, set)):
        return len(value) > 0
    return False


def _literals(tree: ast.AST) -> list[object]:
    out: list[object] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set)):
            try:
                out.append(ast.literal_eval(node))
            except (ValueError, SyntaxError, TypeError):
                continue
    return out


def pasted_answers(root: Path, py_files: list[str], checks: list[ReproCheck],
                   baseline: dict[str, str] | None = None) -> list[str]:
    """The checks whose distinctive expected value is written out in the changed code (and was
    not in it before): code that returns the example's answer as a literal passes the check
    without solving the task. ``baseline`` is the files' text before the change."""
    wanted: list[tuple[str, object]] = []
    for check in checks:
        if check.expected is None or check.javascript:
            continue
        try:
            value = ast.literal_eval(check.expected)
        except (ValueError, SyntaxError):
            continue
        if _distinctive(value):
            wanted.append((check.shown or check.call, value))
    if not wanted:
        return []
    found: list[str] = []
    for rel in py_files:
        try:
            now = _literals(ast.parse((root / rel).read_text(errors="replace")))
        except (OSError, SyntaxError, ValueError):
            continue
        before: list[object] = []
        if baseline is not None and baseline.get(rel):
            try:
                before = _literals(ast.parse(baseline[rel]))
            except (SyntaxError, ValueError):
                before = []
        for call, value in wanted:
            if call not in found and value in now and value not in before:
                found.append(call)
    return found


def _call_inputs(call: str) -> list[object]:
    """The distinctive literal arguments of an example call (``'amount'`` in
    ``column_total('data/sales.csv', 'amount')``)."""
    try:
        tree = ast.parse(call, mode="eval")
    except SyntaxError:
        return []
    out: list[object] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.Constant) and _distinctive(arg.value):
                    out.append(arg.value)
    return out


def _compared_literals(source: str) -> list[object]:
    """The constants the code compares something with on their own (``x == 'amount'``,
    ``x != 'N/A'``); one of several in a collection (``s in ('yes', 'y', 'on')``) is a set of
    cases the code knows, not one input singled out."""
    out: list[object] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                if isinstance(side, ast.Constant):
                    out.append(side.value)
                elif isinstance(side, (ast.Tuple, ast.List, ast.Set)) and len(side.elts) == 1 \
                        and isinstance(side.elts[0], ast.Constant):
                    out.append(side.elts[0].value)
    return out


def keyed_inputs(root: Path, py_files: list[str], checks: list[ReproCheck],
                 baseline: dict[str, str] | None = None) -> list[str]:
    """The checks whose distinctive input the changed code now compares against (and did not
    before): ``if row[i] != 'amount'`` for the example ``column_total(path, 'amount')`` makes
    that one call work and leaves every other input as broken as it was."""
    wanted = [(check.shown or check.call, value) for check in checks if not check.javascript
              for value in _call_inputs(check.call)]
    if not wanted:
        return []
    found: list[str] = []
    for rel in py_files:
        try:
            now = _compared_literals((root / rel).read_text(errors="replace"))
        except (OSError, SyntaxError, ValueError):
            continue
        try:
            before = _compared_literals((baseline or {}).get(rel) or "")
        except (SyntaxError, ValueError):
            before = []
        for call, value in wanted:
            if call not in found and now.count(value) > before.count(value):
                found.append(call)
    return found


def stubs_left(root: Path, py_files: list[str]) -> list[str]:
    """Functions in these files whose body is only a placeholder: ``pass``, ``...``, a
    docstring, or ``raise NotImplementedError`` (the stub of an exercise, or a candidate that
    wrote ``# implement here`` instead of code), as ``path:line name()``."""
    texts: dict[str, str] = {}
    for rel in py_files:
        try:
            texts[rel] = (root / rel).read_text(errors="replace")
        except OSError:
            continue
    return _placeholders_in(texts)


def _stub_key(stub: str) -> tuple[str, str]:
    """``path:line name()`` without its line (a candidate moves the lines)."""
    where, name = stub.split(" ", 1)
    return where.rsplit(":", 1)[0], name


def _placeholders_in(texts: dict[str, str]) -> list[str]:
    """:func:`stubs_left` over file texts (path -> text; files that do not parse are skipped)."""
    out: list[str] = []
    for rel, text in texts.items():
        if not rel.endswith(".py"):
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(
                b.value, ast.Constant) and isinstance(b.value.value, str))]
            if not body or all(_placeholder(b) for b in body):
                if any(isinstance(d, ast.Name) and d.id == "abstractmethod"
                       or isinstance(d, ast.Attribute) and d.attr in ("abstractmethod", "setter")
                       for d in node.decorator_list):
                    continue
                out.append(f"{rel}:{node.lineno} {node.name}()")
    return out


def _placeholder(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
            and stmt.value.value is Ellipsis:
        return True
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


# each changed module imported (its top level run), then every call in it of a project function
# by its plain name bound against that function's signature; one process for all the files.
# Exit 2: a module failed to import (the traceback on stderr); 3: a call does not fit.
LOADS_AND_FITS = r"""
import ast, importlib, inspect, os, sys, traceback
root, pairs = sys.argv[1], sys.argv[2:]
sys.path.insert(0, root)


def misfit(rel, tree, ns):
    local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    local |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
              for a in [*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg] if a}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        name = node.func.id
        obj = ns.get(name)
        if name in local or obj is None or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        src = getattr(sys.modules.get(getattr(obj, "__module__", "")), "__file__", None) or ""
        if not os.path.abspath(src).startswith(os.path.abspath(root) + os.sep):
            continue
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            continue
        try:
            sig = inspect.signature(obj)
            sig.bind(*[None] * len(node.args), **{k.arg: None for k in node.keywords})
        except ValueError:
            continue
        except TypeError as exc:
            return f"{rel} line {node.lineno}: {ast.unparse(node)[:80]} does not fit {name}{sig}: {exc}"
    return ""


loaded = []
for rel, module in zip(pairs[::2], pairs[1::2]):
    print("loading " + rel, flush=True)
    try:
        loaded.append((rel, vars(importlib.import_module(module))))
    except SystemExit as exc:  # a script that ends itself on import: as before, no calls checked
        if exc.code not in (0, None):
            traceback.print_exc()
            sys.exit(2)
    except BaseException:
        traceback.print_exc()
        sys.exit(2)
for rel, ns in loaded:
    problem = misfit(rel, ast.parse(open(os.path.join(root, rel)).read()), ns)
    if problem:
        print(problem)
        sys.exit(3)
"""


def _loads_and_fits(root: Path, py_files: list[str]) -> str:
    """'' when every changed Python module imports (runs its top level) in ``root`` and every
    call in it of a project function by its plain name fits that function's signature: a
    candidate that passes ``timeout=`` to a function of another module it did not change raises
    TypeError the first time the line runs. Else what is wrong, the exception first."""
    rels = [rel for rel in py_files if not testrunner.is_test_file(rel) and (root / rel).exists()]
    if not rels:
        return ""
    args = [part for rel in rels for part in (rel, module_name(rel))]
    try:
        done = subprocess.run([sys.executable, "-c", LOADS_AND_FITS, str(root), *args], cwd=root,
                              capture_output=True, check=False, text=True,
                              timeout=30 * len(rels), stdin=subprocess.DEVNULL, env=_clean_env())
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        loading = [line[len("loading "):] for line in out.splitlines() if line.startswith("loading ")]
        rel = loading[-1] if loading else rels[0]
        return f"importing {rel} did not finish in 30 s (does it wait for input?)"
    printed = done.stdout.strip().splitlines()
    if done.returncode == 2:
        rel = (printed[-1][len("loading "):] if printed and printed[-1].startswith("loading ")
               else rels[0])
        lines = done.stderr.strip().splitlines()
        # the exception first: a verdict shown on one line still says what went wrong
        return (f"importing {rel} fails: {lines[-1] if lines else 'no message'}\n"
                + "\n".join(lines[-6:]))
    if done.returncode == 3:
        return printed[-1] if printed else "a changed call does not fit its function's signature"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return f"importing {rels[0]} fails: {lines[-1] if lines else 'no message'}"
    return ""


def _clean_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    return env


# ---------------------------------------------------------------------------- reproduction

_CALL = r"`?([A-Za-z_][\w.]*\((?:[^()`]|\([^()`]*\))*\))`?"
_VALUE = (r"`?((?:[-+]?\d[\w.]*)|'[^']*'|\"[^\"]*\"|\[[^\]`]*\]|\{[^}`]*\}|\([^)`]*\)|"
          r"True|False|None|true|false|null)`?")
_SHOULD = (r"(?:should|must|ought\s+to|is\s+(?:supposed|expected)\s+to|needs?\s+to)\s+"
           r"(?:be|return|give|equal|produce|yield)")
EXAMPLE_PATTERNS = (
    # "f(x) returns A but should be B", "f(x) gives A; it should return B"
    re.compile(_CALL + r"\s+(?:returns|gives|yields|produces|is|outputs|evaluates\s+to)\s+"
               + _VALUE + r"[^.\n]{0,40}?\b" + _SHOULD + r"\s+" + _VALUE, re.IGNORECASE),
    # "f(x) should return B", "f(x) crashes with an error; it should return B"
    re.compile(_CALL + r"[^\n]{0,80}?" + _SHOULD + r"\s+" + _VALUE, re.IGNORECASE),
    # "expected f(x) == B", "`f(x) -> B`"
    re.compile(_CALL + r"\s*(?:==|===|->|=>|→)\s*" + _VALUE),
    # "I expect f(x) to be B"
    re.compile(r"\bexpect(?:ed)?\s+" + _CALL + r"\s+(?:to\s+(?:be|return)\s+)?" + _VALUE,
               re.IGNORECASE),
    # a specification's example: "`f(x)` is `B`", "f(x) returns B", "f(x) gives B". A bug
    # report's "f(x) returns A" (the wrong value) is caught by the first pattern when it says
    # what it should be, and otherwise never becomes a check: it passes on the untouched code
    re.compile(_CALL + r"\s+(?:is|returns|gives|equals|yields|evaluates\s+to)\s+" + _VALUE
               + r"(?![\w(])"),
)
# words that make a message a bug report: what it says the code does is the problem
BUG_REPORT = re.compile(r"\b(?:fix\w*|bug\w*|broken|wrong\w*|incorrect\w*|leak\w*|regress\w*|"
                        r"instead|but|however|unexpected\w*|problem\w*|issue)\b", re.IGNORECASE)
# "f(x) throws TypeError", "f(x) raises ZeroDivisionError", "calling f(x) crashes", "f(x)
# gives a ValueError": after the fix the call must return (any value) instead of raising (a
# call that does not raise now never becomes a check)
RAISES_PATTERN = re.compile(_CALL + r"[^.\n]{0,30}?(?:\b(?:throws|raises|crashes|blows\s+up|"
                                    r"fails\s+with|errors?\s+(?:out|with))\b|"
                                    r"\b[A-Z]\w*(?:Error|Exception)\b)", re.IGNORECASE)
JS_EXT = (".js", ".cjs", ".mjs")
LITERAL_WORDS = {"true": "True", "false": "False", "null": "None"}


# Source for the generated check scripts: where in the project's own code an exception was
# raised and what the names there held ("line 22 of cart.py: total = sum(p * q for _, (p, q) in
# self.items.items()); values: self.items = {'pen': 2}"), so the model's next try sees the line
# to fix and the state that broke it (a dict that holds only quantities), not only the
# exception's name. Needs ``os`` imported by the script.
WHERE_SOURCE = r"""
def _values(frames):
    import reprlib, types
    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlist, r.maxdict, r.maxlevel = 60, 60, 8, 6, 3
    skip = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
            type)
    shown = []
    # a comprehension's frame holds only its loop names: its caller's names say more
    last = frames[-1:] if not frames[-1].f_code.co_name.startswith("<") else frames[-2:]
    for frame in last:
        for name, value in list(frame.f_locals.items()):
            if name.startswith((".", "__")) or isinstance(value, skip):
                continue
            try:
                if name == "self" and hasattr(value, "__dict__"):
                    shown += [f"self.{k} = {r.repr(v)}" for k, v in vars(value).items()
                              if not isinstance(v, skip)]
                else:
                    shown.append(f"{name} = {r.repr(value)}")
            except Exception:
                continue
    text = ", ".join(dict.fromkeys(shown))
    return text if len(text) <= 400 else text[:397] + "..."


def where(exc, root):
    import linecache
    root = os.path.realpath(root) + os.sep
    frames, lines = [], []
    tb = exc.__traceback__
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        if not path.startswith("<") and os.path.realpath(path).startswith(root):
            frames.append(tb.tb_frame)
            lines.append(tb.tb_lineno)
        tb = tb.tb_next
    if not frames:
        return ""
    path = frames[-1].f_code.co_filename
    rel = os.path.relpath(os.path.realpath(path), root)
    code = linecache.getline(path, lines[-1]).strip()
    values = _values(frames)
    return f" (line {lines[-1]} of {rel}: {code}" + (f"; values: {values})" if values else ")")
"""


# The same for JavaScript: node's inspector, attached to its own thread, pauses at every
# exception; at one raised in the project's code it records the line and the local names'
# values ('line 2 of strings.js: return word[0].toUpperCase() ...; values: word = ""'), so the
# model reads that the word is empty, not only "Cannot read properties of undefined". Defines
# ``where()`` (the text for the last such exception since the previous ``where()``) and needs
# ROOT (the project's real path, with a trailing slash) defined first; without an inspector in
# the node build it gives "".
JS_WHERE_SOURCE = r"""
let where = () => '';
try {
  const inspector = require('node:inspector');
  const { fileURLToPath } = require('node:url');
  const fs = require('node:fs');
  const session = new inspector.Session();
  session.connect();
  const scripts = {};
  let last = '';
  const post = (method, params) => {
    let out = null;
    session.post(method, params, (err, res) => { if (!err) out = res; });
    return out;  // a session on the same thread answers before post returns
  };
  const show = (v) => {
    if (v.type === 'string') return JSON.stringify(v.value).slice(0, 60);
    if (v.type === 'object' && v.objectId && v.subtype !== 'null') {
      const res = post('Runtime.callFunctionOn', { objectId: v.objectId, returnByValue: true,
        functionDeclaration: 'function () { try { return JSON.stringify(this); } ' +
                             'catch (e) { return String(this); } }' });
      if (res && typeof res.result.value === 'string') return res.result.value.slice(0, 60);
    }
    return String(v.description !== undefined ? v.description : v.value).slice(0, 60);
  };
  session.on('Debugger.scriptParsed', (m) => { scripts[m.params.scriptId] = m.params.url; });
  session.on('Debugger.paused', (m) => {
    const frame = m.params.callFrames[0];
    const url = frame ? (scripts[frame.location.scriptId] || frame.url || '') : '';
    if (!url.startsWith('file:')) return;
    let file;
    try { file = fs.realpathSync(fileURLToPath(url)); } catch (e) { return; }
    if (!file.startsWith(ROOT) || file.includes('/node_modules/')) return;
    const shown = [];
    for (const scope of frame.scopeChain) {
      if (scope.type !== 'local' && scope.type !== 'block') continue;
      const props = post('Runtime.getProperties', { objectId: scope.object.objectId,
                                                    ownProperties: true });
      for (const p of (props ? props.result : [])) {
        if (p.value && p.value.type !== 'function') shown.push(p.name + ' = ' + show(p.value));
      }
      if (scope.type === 'local') break;
    }
    const self = frame.this;
    if (self && self.type === 'object' && self.objectId && self.className !== 'global') {
      const own = post('Runtime.getProperties', { objectId: self.objectId, ownProperties: true });
      for (const p of (own ? own.result : [])) {
        if (p.value && p.value.type !== 'function') shown.push('this.' + p.name + ' = ' + show(p.value));
      }
    }
    const line = frame.location.lineNumber + 1;
    let code = '';
    try { code = fs.readFileSync(file, 'utf8').split('\n')[line - 1].trim().replace(/;$/, ''); } catch (e) {}
    let values = [...new Set(shown)].join(', ');
    if (values.length > 400) values = values.slice(0, 397) + '...';
    last = ` (line ${line} of ${file.slice(ROOT.length)}: ${code}` +
           (values ? `; values: ${values})` : ')');
  });
  post('Debugger.enable', {});
  post('Debugger.setPauseOnExceptions', { state: 'all' });
  where = () => { const text = last; last = ''; return text; };
} catch (e) { /* no inspector: the error alone */ }
"""


@dataclass
class ReproCheck:
    """``call`` evaluated with ``module``'s names must equal ``expected`` (a Python literal), or
    with ``expected`` None must return without raising. Python modules or CommonJS files."""

    module: str  # a dotted Python module, or a .js file path relative to the workspace
    call: str
    expected: str | None
    shown: str = ""  # how messages write the call when not as ``call`` (a method example)

    @property
    def javascript(self) -> bool:
        return self.module.endswith(JS_EXT)

    def describe(self) -> str:
        shown = self.shown or self.call
        return f"{shown} == {self.expected}" if self.expected is not None else \
            f"{shown} returns without an error"

    def script(self, root: Path) -> str:
        """Exit 0: as expected; 3: a different value; 4: the call raised; anything else: the
        check itself could not run (the module does not import, a bad expression)."""
        if self.javascript:
            return self._js_script(root)
        shown = self.shown or self.call
        compare = ("" if self.expected is None else
                   f"expected = {self.expected}\n"
                   "if got != expected:\n"
                   f"    print({shown!r} + ' returned ' + repr(got) + ', expected ' + "
                   "repr(expected))\n"
                   "    sys.exit(3)\n")
        return ("import importlib, os, sys\n" + WHERE_SOURCE +
                f"sys.path.insert(0, {str(root)!r})\n"
                f"ns = dict(vars(importlib.import_module({self.module!r})))\n"
                "try:\n"
                f"    got = eval({self.call!r}, ns)\n"
                "except Exception as exc:\n"
                f"    print({shown!r} + ' raised ' + type(exc).__name__ + ': ' + str(exc)"
                f" + where(exc, {str(root)!r}))\n"
                "    sys.exit(4)\n" + compare)

    def _js_script(self, root: Path) -> str:
        path = json.dumps(str(root / self.module))
        compare = ""
        if self.expected is not None:
            expected = json.dumps(ast.literal_eval(self.expected))
            compare = (f"const expected = {expected};\n"
                       "try { require('node:assert').deepStrictEqual(got, expected); } catch (e) {\n"
                       f"  console.log({json.dumps(self.call)} + ' returned ' + "
                       "JSON.stringify(got) + ', expected ' + JSON.stringify(expected));\n"
                       "  process.exit(3);\n}\n")
        real = os.path.realpath(root) + os.sep
        return (f"const ROOT = {json.dumps(real)};\n" + JS_WHERE_SOURCE +
                f"const ns = require({path});\n"
                "let got;\n"
                "try {\n"
                f"  got = new Function(...Object.keys(ns), 'return (' + {json.dumps(self.call)} "
                "+ ');')(...Object.values(ns));\n"
                "} catch (e) {\n"
                f"  console.log({json.dumps(self.call)} + ' threw ' + e + where());\n"
                "  process.exit(4);\n}\n" + compare)

    def run(self, root: Path) -> tuple[bool, str]:
        code, out = self._run(root)
        if code == 0:
            return True, ""
        return False, f"reproduction check failed: {out}"

    def fails_by_its_value(self, root: Path) -> bool:
        """True when the call runs and returns another value (or raises): a real reproduction,
        not a check that cannot run at all."""
        return self._run(root)[0] in (3, 4)

    def _run(self, root: Path) -> tuple[int, str]:
        with tempfile.TemporaryDirectory(prefix="smallcode-repro-") as tmp:
            script = Path(tmp) / ("repro_check.cjs" if self.javascript else "repro_check.py")
            script.write_text(self.script(root))
            command = ["node", str(script)] if self.javascript else [sys.executable, str(script)]
            try:
                # in the project (a copy): the example's relative paths mean what they say
                done = subprocess.run(command, cwd=root, check=False, capture_output=True,
                                      text=True, timeout=30, stdin=subprocess.DEVNULL,
                                      env=_clean_env())
            except subprocess.TimeoutExpired:
                return 5, f"{self.shown or self.call} did not return within 30 s"
            except OSError as exc:
                return 6, f"cannot run the check: {exc}"
        out = done.stdout.strip() or "\n".join(done.stderr.strip().splitlines()[-4:])
        return done.returncode, out


def _literal(text: str) -> str | None:
    text = text.strip().rstrip(".,;:")
    text = LITERAL_WORDS.get(text, text)
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return text


def repro_checks(task: str, root: Path, files: list[str],
                 documents: list[str] | tuple[str, ...] = ()) -> list[ReproCheck]:
    """Checks from the task's own examples, and those of the ``documents`` it points at, whose
    function is defined in one of ``files`` (Python or JavaScript) and which FAIL on the
    untouched code (a check that passes already proves nothing)."""
    found: list[ReproCheck] = []
    seen: set[str] = set()
    wanted: list[tuple[str, str | None]] = []
    # in a bug report a bare "f(x) returns A" is what goes wrong now (even when it passes on a
    # fresh import: "add_tag('a') and then add_tag('b') returns ['a', 'b']" needs the first
    # call), never what the fix must give
    report = BUG_REPORT.search(task) is not None
    text = "\n".join([task, *documents])
    for pattern in EXAMPLE_PATTERNS:
        # a document states what the code must do, whatever the message around it says
        source = "\n".join(documents) if report and pattern is EXAMPLE_PATTERNS[-1] else text
        for m in pattern.finditer(source):
            expected = _literal(m.group(m.lastindex or 2))
            if expected is not None:
                wanted.append((m.group(1), expected))
    wanted += [(m.group(1), None) for m in RAISES_PATTERN.finditer(text)]
    wanted += _examples_of_one_function(text, root, files)
    for call, expected in wanted:
        if call in seen:
            continue
        name = call.split("(", 1)[0].split(".")[0]
        module = _module_defining(name, root, files)
        if module is None:
            continue
        try:
            ast.parse(call, mode="eval")
        except SyntaxError:
            continue
        check = ReproCheck(module, call, expected)
        if check.fails_by_its_value(root):
            found.append(check)
            seen.add(call)
    found += _quoted_errors(task, root, files, seen | {call for call, _ in wanted})
    for ex in method_examples([task, *documents], root, files):
        check = ReproCheck(ex.module, ex.call, ex.expected, ex.shown)
        if ex.call not in seen and check.fails_by_its_value(root):
            found.append(check)
            seen.add(ex.call)
    return found


MAX_QUOTED_ERROR_PROBES = 3


def _quoted_errors(task: str, root: Path, files: list[str], taken: set[str]) -> list[ReproCheck]:
    """Calls the message writes beside the error they raise now, quoted without saying
    "raises" ("column_total('data/sales.csv', 'amount') gives me 'could not convert string to
    float: 'amount''"): each call is run on the untouched code, and when it raises an exception
    whose message (or type) the task quotes, it must return without one."""
    out: list[ReproCheck] = []
    probes = 0
    for m in re.finditer(_CALL, task):
        call = m.group(1)
        if call in taken or probes >= MAX_QUOTED_ERROR_PROBES:
            continue
        taken = taken | {call}
        module = _module_defining(call.split("(", 1)[0].split(".")[0], root, files)
        if module is None or module.endswith(JS_EXT):
            continue
        try:
            ast.parse(call, mode="eval")
        except SyntaxError:
            continue
        probes += 1
        check = ReproCheck(module, call, None)
        code, said = check._run(root)
        if code != 4 or " raised " not in said:
            continue
        kind, _, message = said.split(" raised ", 1)[1].partition(": ")
        message = message.split(" (line ", 1)[0].strip()
        # the whole message, or its part before the value ("could not convert string to
        # float"), or the exception's type
        parts = [p for p in (message, message.split(": ", 1)[0]) if len(p) >= 12]
        quoted = any(p.lower() in task.lower() for p in parts) \
            or re.search(rf"\b{re.escape(kind)}\b", task) is not None
        if quoted:
            out.append(check)
    return out


_NAMED_FUNCTION = re.compile(r"\b([A-Za-z_]\w*)\(\s*[A-Za-z_]\w*\s*\)")
_ARG = r"((?:[-+]?\d[\d_.]*)|'[^'\n]*'|\"[^\"\n]*\"|\[[^\]\n]*\])"
_ARG_TO_VALUE = re.compile(r"(?<![^\s`(\[,:])`?" + _ARG + r"`?\s*(?:->|=>|→|maps\s+to|becomes|gives|"
                           r"returns|\bis\b)\s*" + _VALUE + r"(?![\w(])")


def _examples_of_one_function(task: str, root: Path, files: list[str]
                              ) -> list[tuple[str, str | None]]:
    """``1994 -> 'MCMXCIV'`` next to ``to_roman(n)``: when the task names exactly one function
    of one parameter that the project defines — or names none and the code to change defines
    exactly one public function taking one argument (a stub to fill in) — its literal examples
    become calls of it: arrows and "becomes" between literals, the rows of a table whose
    header names an input column and an output column, and "Input: ..." lines each followed by
    an "Output: ..." line."""
    names = {m.group(1) for m in _NAMED_FUNCTION.finditer(task)}
    defined = [n for n in names if _module_defining(n, root, files) is not None]
    if not defined:
        defined = [n for n in [_sole_function(root, files)] if n]
    if len(defined) != 1:
        return []
    out: list[tuple[str, str | None]] = []
    for m in _ARG_TO_VALUE.finditer(task):
        arg, expected = _literal(m.group(1)), _literal(m.group(2))
        if arg is not None and expected is not None:
            out.append((f"{defined[0]}({arg})", expected))
    out += [(f"{defined[0]}({arg})", expected)
            for arg, expected in table_examples(task) + labelled_examples(task)]
    return out


def _sole_function(root: Path, files: list[str]) -> str | None:
    """The one public top-level function of the (non-test) Python files that takes exactly one
    argument without a default, when they define no other public function or class."""
    found: list[str] = []
    for _rel, tree in python_trees(root, files):
        if tree is None:
            return None
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                return None
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and not node.name.startswith("_"):
                if required_arguments(node) != 1 or node.args.vararg:
                    return None
                found.append(node.name)
    return found[0] if len(found) == 1 else None


def required_arguments(fn: ast.FunctionDef | ast.AsyncFunctionDef, method: bool = False
                       ) -> int | None:
    """How many positional arguments a call of ``fn`` must pass (``self`` not counted for a
    ``method``); None when it has a keyword-only argument without a default."""
    a = fn.args
    if any(d is None for d in a.kw_defaults):
        return None
    return len(a.posonlyargs) + len(a.args) - len(a.defaults) - (1 if method else 0)


# a table's header: which column holds what goes in, and which what comes out
_IN_HEADER = re.compile(r"\b(?:input|inputs|given|argument|arguments|from|before|in)\b",
                        re.IGNORECASE)
_OUT_HEADER = re.compile(r"\b(?:output|outputs|result|results|expected|returns?|gives|to|"
                         r"after|out|answer)\b", re.IGNORECASE)
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _cell_value(cell: str) -> str | None:
    """A table cell as a Python literal: a literal as written (a number, a quoted string, a
    bracketed list), otherwise the cell's text as a string. None for an empty cell."""
    cell = cell.strip()
    if cell.startswith("`") and cell.endswith("`") and len(cell) > 1:
        cell = cell[1:-1].strip()
    if not cell:
        return None
    literal = _literal(cell)
    # "1, 2, 3" parses as a tuple, but a table writes a tuple with its parentheses
    if literal is not None and ("," not in cell or cell[0] in "([{'\""):
        return literal
    return repr(cell)


_SEP = r"\s*[*_]*\s*[:=]\s*[*_]*\s*"
_LABELLED = re.compile(r"^[\s>*_-]{0,6}(?:input|given)" + _SEP + r"(.+?)\s*\n[\s>*_-]{0,6}"
                       r"(?:output|expected(?:\s+output)?|result|returns?)" + _SEP + r"(.+?)\s*$",
                       re.IGNORECASE | re.MULTILINE)


def labelled_examples(text: str) -> list[tuple[str, str]]:
    """(argument, expected) literals from an "Input: x" line followed by an "Output: y" line
    (also "Given:" and "Expected:"/"Result:"), the way exercises write one example."""
    out: list[tuple[str, str]] = []
    for m in _LABELLED.finditer(text):
        arg, expected = _cell_value(m.group(1)), _cell_value(m.group(2))
        if arg is not None and expected is not None:
            out.append((arg, expected))
    return out


def table_examples(text: str) -> list[tuple[str, str]]:
    """(argument, expected) literals from the Markdown tables of ``text`` whose header names
    an input column and an output column ("Input | Output", "Given | Expected"); a table of
    anything else (a lookup table of letters and their values) gives nothing."""
    lines = text.splitlines()
    out: list[tuple[str, str]] = []
    for i in range(len(lines) - 1):
        if "|" not in lines[i] or not _TABLE_SEPARATOR.match(lines[i + 1]):
            continue
        header = _cells(lines[i])
        ins = [k for k, h in enumerate(header) if _IN_HEADER.search(h)]
        outs = [k for k, h in enumerate(header) if _OUT_HEADER.search(h) and k not in ins[:1]]
        if not ins or not outs or ins[0] >= outs[-1]:
            continue
        for line in lines[i + 2:]:
            if "|" not in line:
                break
            cells = _cells(line)
            if len(cells) != len(header):
                break
            arg, expected = _cell_value(cells[ins[0]]), _cell_value(cells[outs[-1]])
            if arg is not None and expected is not None:
                out.append((arg, expected))
    return out


def _module_defining(name: str, root: Path, files: list[str]) -> str | None:
    n = re.escape(name)
    # top level only: a method's name (``count`` of a class) is not a name of the module,
    # and a check calling it could never pass
    py = re.compile(rf"^(?:async\s+)?(?:def|class)\s+{n}\b|^{n}\s*[:=]", re.MULTILINE)
    js = re.compile(rf"\bfunction\s+{n}\b|\b(?:const|let|var)\s+{n}\s*=|\bexports\.{n}\s*=")
    for rel in files:
        if testrunner.is_test_file(rel):
            continue
        try:
            text = (root / rel).read_text(errors="replace")
        except OSError:
            continue
        if rel.endswith(".py") and py.search(text):
            return module_name(rel)
        if rel.endswith(JS_EXT) and js.search(text):
            return rel
    return None


# ---------------------------------------------------------------------------- interface

# a call written in the task: a name, then its arguments without nested parentheses
TASK_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(([^()]*)\)")


@dataclass(frozen=True)
class InterfaceCheck:
    """A call the task writes with a keyword or a placeholder (``Client(timeout=...)``,
    ``to_csv(rows, sep=';')``): the candidate's ``name`` must accept those arguments — its
    signature binds them — whatever it does with the values. Like a reproduction check, one
    counts only when the untouched code fails it: the interface is what the task asks for."""

    module: str  # a dotted Python module
    name: str
    positional: int
    keywords: tuple[str, ...]
    shown: str  # the call as the task writes it

    def run(self, root: Path) -> tuple[bool, str]:
        code, out = self._run(root)
        if code == 0:
            return True, ""
        return False, out

    def fails_now(self, root: Path) -> bool:
        """True when the signature refuses the arguments (not when the check cannot run)."""
        return self._run(root)[0] == 3

    def _wanted(self) -> str:
        """What to change, said plainly (a 1.5B shown only the TypeError kept the signature)."""
        if not self.keywords:
            return f"{self.name} must take {self.positional} argument(s)"
        return f"{self.name} must accept the parameter(s) {', '.join(self.keywords)}"

    def _run(self, root: Path) -> tuple[int, str]:
        args = ", ".join(["None"] * self.positional + [f"{k}=None" for k in self.keywords])
        script = (
            "import importlib, inspect, sys\n"
            f"sys.path.insert(0, {str(root)!r})\n"
            f"obj = getattr(importlib.import_module({self.module!r}), {self.name!r})\n"
            "try:\n"
            "    sig = inspect.signature(obj)\n"
            "except (TypeError, ValueError):\n"
            "    sys.exit(0)\n"
            "try:\n"
            f"    sig.bind({args})\n"
            "except TypeError as exc:\n"
            f"    print({self.shown!r} + ' as the task writes it does not fit ' + "
            f"{self.name!r} + str(sig) + ': ' + str(exc) + ' (' + {self._wanted()!r}"
            " + (' in its __init__' if inspect.isclass(obj) else '') + ')')\n"
            "    sys.exit(3)\n")
        try:
            done = subprocess.run([sys.executable, "-c", script], cwd=root, check=False,
                                  capture_output=True, text=True, timeout=30,
                                  stdin=subprocess.DEVNULL, env=_clean_env())
        except subprocess.TimeoutExpired:
            return 5, f"importing {self.module} to check {self.shown} did not finish in 30 s"
        out = done.stdout.strip() or "\n".join(done.stderr.strip().splitlines()[-4:])
        return done.returncode, out


def interface_checks(task: str, root: Path, files: list[str]) -> list[InterfaceCheck]:
    """The calls the task writes with a keyword argument or a placeholder (``...``, a bare
    name) of a function or class one of the Python ``files`` defines at its top level, that the
    untouched code's signature refuses."""
    py = [r for r in files if r.endswith(".py")]
    found: list[InterfaceCheck] = []
    for m in TASK_CALL.finditer(task):
        name, inner = m.group(1), m.group(2)
        try:
            call = ast.parse(f"f({inner})", mode="eval").body
        except SyntaxError:
            continue
        if not isinstance(call, ast.Call) or any(isinstance(a, ast.Starred) for a in call.args) \
                or any(k.arg is None for k in call.keywords):
            continue
        values = [*call.args, *(k.value for k in call.keywords)]
        placeholder = any(isinstance(v, ast.Name) or (isinstance(v, ast.Constant)
                                                      and v.value is Ellipsis) for v in values)
        if not call.keywords and not placeholder:
            continue  # a plain example call: the reproduction checks' business
        module = _module_defining(name, root, py)
        if module is None:
            continue
        check = InterfaceCheck(module, name, len(call.args),
                               tuple(k.arg for k in call.keywords if k.arg), m.group(0))
        if check not in found and check.fails_now(root):
            found.append(check)
    return found


# ---------------------------------------------------------------------------- configs

_SET_VERB = re.compile(r"\b(?:set|chang|make|bump|rais|lower|updat|switch|put|increas|"
                       r"decreas|mov|turn)(?:e|es|s|ed|d|ing)?\b", re.IGNORECASE)
# "port to 9090", "port = 9090" after a setting verb in the same clause
_KEY_TO_VALUE = re.compile(r"[`'\"]?([A-Za-z_][\w.-]*)[`'\"]?(?:\s+(?:is\s+|be\s+)?\w+ed)?"
                           r"(?:\s+in\s+`?[\w./-]+\.\w+`?)?\s+"  # "version in pyproject.toml to"
                           r"(?:to|=)\s+[`'\"]?([^\s`'\",;()\[\]]+)")
# "a \"debug\": false setting", "DEBUG=1", "`retries: 5`": a key and its value written out
_PAIR = re.compile(r"[`'\"]([A-Za-z_][\w.-]*)[`'\"]?\s*[:=]\s*[`'\"]?([^\s`'\",;}()\[\]]+)"
                   r"|\b([A-Za-z_][\w.-]*)=([^\s`'\",;()\[\]]+)"
                   # a dotted key path, "server.port = 9090"
                   r"|\b([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s*[:=]\s*[`'\"]?([^\s`'\",;}()\[\]]+)")


def _config_tree(path: Path) -> object:
    return parse_config(path.suffix.lower(), path.read_text(errors="replace"))


def parse_config(ext: str, text: str) -> object:
    """The parsed tree of a config file's text (``ext``: .json, .toml, .yaml/.yml, else INI)."""
    if ext == ".json":
        return json.loads(text)
    if ext == ".toml":
        import tomllib

        return tomllib.loads(text)
    if ext in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text)
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return {s: dict(parser[s]) for s in parser.sections()}


def _values_at(tree: object, key: str) -> list[object]:
    """Every value under ``key``: a dotted path from the top, or the last segment anywhere."""
    out: list[object] = []
    parts = key.split(".")
    node: object = tree
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            break
    else:
        out.append(node)
    leaf = parts[-1]

    def walk(n: object) -> None:
        if isinstance(n, dict):
            for k, v in n.items():
                if k == leaf:
                    out.append(v)
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(tree)
    return out


_FILE_NAME = re.compile(r"\.(?:toml|json|ya?ml|ini|cfg|conf|env|py|js|txt|md|sh|lock)$",
                        re.IGNORECASE)


def config_values(task: str, root: Path, config_files: list[str]) -> list[tuple[str, str]]:
    """(key, value) pairs the task asks a config file to hold: a key that exists now, named
    after a setting verb with ``to``/``=`` and a value it does not hold yet ("change the server
    port to 9090"), or a key and value written out as a pair (`"debug": false`, ``DEBUG=1``)."""
    trees: list[object] = []
    for rel in config_files:
        try:
            trees.append(_config_tree(root / rel))
        except Exception:  # noqa: BLE001, S112 - an unparsable config is not a key source
            continue
    if not trees:
        return []
    out: list[tuple[str, str]] = []

    def add(key: str, value: str, must_exist: bool) -> None:
        value = value.rstrip(".")
        if _FILE_NAME.search(key):
            return  # "pyproject.toml: version 0.4.0" names the file, not a key
        values = [v for tree in trees for v in _values_at(tree, key)]
        if must_exist and (not values or all(isinstance(v, (dict, list)) for v in values)):
            return  # "move the server to port 9090": a section is not a value to set
        if any(same_value(v, value) for v in values) or (key, value) in out:
            return
        out.append((key, value))

    def says_what_is(pos: int) -> bool:
        # "I set max_connections = 20 in settings.toml, but the pool still opens 4": a
        # sentence that reports a defect and asks for nothing tells what is, not what to set
        sentence = next((s for s in re.split(r"(?<=[.!?;])\s+", task)
                         if task.find(s) <= pos < task.find(s) + len(s)), "")
        return reports_defect(sentence) and not asks_for_change(sentence)

    for m in _PAIR.finditer(task):
        if not says_what_is(m.start()):
            add(m.group(1) or m.group(3) or m.group(5), m.group(2) or m.group(4) or m.group(6),
                False)
    for clause in re.split(r"[.;]\s+", task):
        if says_what_is(task.find(clause)):
            continue
        verb = _SET_VERB.search(clause)
        if verb is None:
            continue
        for m in _KEY_TO_VALUE.finditer(clause):
            add(m.group(1), m.group(2), True)
    return out


def same_value(actual: object, wanted: str) -> bool:
    """A parsed config value against the text a task asks for (``True`` is "true")."""
    return str(actual).lower() == wanted.lower()


def _config_holds(root: Path, changed: list[str], key: str, value: str) -> tuple[bool, str]:
    files = [r for r in changed if Path(r).suffix.lower() in CONFIG_EXT] or [
        str(p.relative_to(root)) for p in root.rglob("*") if p.suffix.lower() in CONFIG_EXT
        and ".smallcode" not in p.parts and ".git" not in p.parts]
    for rel in files:
        try:
            values = _values_at(_config_tree(root / rel), key)
        except Exception:  # noqa: BLE001, S112
            continue
        if any(same_value(v, value) for v in values):
            return True, ""
    return False, f"{key} is not {value} in any config file"


# ---------------------------------------------------------------------------- renames

def _rename_done(root: Path, old: str, new: str) -> tuple[bool, str]:
    from ..tools.refactor import identifier_pattern

    rx = identifier_pattern(old)
    left = []
    for p in root.rglob("*"):
        if not p.is_file() or {".git", ".smallcode", "node_modules"} & set(p.parts):
            continue
        if p.suffix not in (".py", ".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx"):
            continue
        if rx.search(p.read_text(errors="replace")):
            left.append(str(p.relative_to(root)))
    return (not left, f"{old} is still used in {', '.join(left)}" if left else "")


def _suffix_changed(root: Path, folder: str, old: str, new: str) -> tuple[bool, str]:
    """No file in ``folder`` ends in ``old`` any more."""
    left = sorted(p.relative_to(root).as_posix() for p in (root / folder).rglob(f"*{old}")
                  if p.is_file())
    return (not left, f"files still ending in {old}: {', '.join(left[:5])}" if left else "")


def _module_moved(root: Path, old: str, new: str) -> tuple[bool, str]:
    """The module file ``old`` is gone, ``new`` is there, and no Python file imports the old
    module any more (by any name the project can import it by)."""
    from ..tools.module_move import import_names, uses_of

    problems = []
    if (root / old).exists():
        problems.append(f"{old} still exists")
    if not (root / new).is_file():
        problems.append(f"{new} does not exist")
    names = import_names(root, old)
    for p in sorted(root.rglob("*.py")):
        if not p.is_file() or {".git", ".smallcode", "node_modules"} & set(p.parts):
            continue
        rel = str(p.relative_to(root))
        text = p.read_text(errors="replace")
        lines = sorted({n for name in names for n in uses_of(rel, text, name)})
        if lines:
            problems.append(f"{rel} line {', '.join(map(str, lines))} still imports "
                            f"{names[0]}")
    return (not problems, "; ".join(problems))


def _new_index_traps(root: Path, changed: list[str], baseline: dict[str, str]) -> str:
    """The functions the changed JavaScript files now pass as they are to ``.map()`` and the
    like while taking a second parameter the method fills with the index (the code as it was
    did not): each call gets 0, 1, 2... where a separator or an option was meant."""
    from ..edit.validate import js_index_traps

    js = [r for r in changed if r.endswith((".js", ".cjs", ".mjs")) and (root / r).is_file()]
    if not js:
        return ""
    before = js_index_traps({r: t for r, t in baseline.items()
                             if r.endswith((".js", ".cjs", ".mjs"))})
    now = js_index_traps({r: (root / r).read_text(errors="replace") for r in js})
    new = sorted(now - before)
    return "\n".join(f"{fn} is passed to .{method}() as it is and takes a second parameter "
                     f"({param}): .{method}() passes each element's index there, not a "
                     f"{param}. Call it with the arguments it needs: "
                     f".{method}((x) => {fn}(x, {param}))" for fn, method, param in new[:3])


def _new_format_errors(root: Path, py_files: list[str], baseline: dict[str, str]) -> str:
    """The ``'...' % values`` lines of the changed files that raise whenever they run (a
    strftime code in a %-format, a wrong count of values), and that the file did not have
    before: an error path the checks never reach can still be wrong on every call."""
    from ..edit.validate import percent_format_errors

    found: list[str] = []
    for rel in py_files:
        path = root / rel
        if not path.is_file():
            continue
        before = {msg for _, msg in percent_format_errors(baseline.get(rel) or "")}
        found += [f"{rel} line {line}: {msg}"
                  for line, msg in percent_format_errors(path.read_text(errors="replace"))
                  if msg not in before]
    return "\n".join(found[:3])
