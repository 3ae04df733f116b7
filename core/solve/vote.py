"""Choosing among candidates that nothing can check: agreement on behaviour.

When the oracle is weak (no tests, no example in the task), the candidates that parse and import
can still be told apart by what they *do*. The model is asked once, greedily, for example calls
of the code the task is about, each with the result it works out by hand from the task's
description (``assert f(x) == y``). Each candidate runs every call in its own scratch copy; the
candidates whose results agree form a cluster. The cluster that reproduces the most worked-out
results wins, and among those the largest (the dual agreement of CodeT, ordered for a handful of
candidates: identical samples of a small model are its mode more than independent evidence, while
a worked-out result that is wrong rarely agrees with code; with no result to compare, the largest
cluster wins, the majority vote on execution results of AlphaCode and MBR-exec). A worked-out
result the untouched code already gives earns nothing (like a reproduction check, it must fail
on the code as it is to count): written off a bug report, it is often the reported wrong
behaviour, and credit for it goes to the candidates that keep the bug. The worked-out
results are never shown to the model writing code, and a candidate that writes one out as a
literal gets no credit for it: nothing can be settled by pasting a value. When the chosen code
misses some, the solver samples another round for the vote: its first candidate is shown what the
chosen code gives on those calls (not the worked-out values) to check against the task, the
others get the same request again. When at least half of the calls raise the same error on the
untouched code and on every candidate (a flat list where the code takes rows: the calls cannot
tell the candidates apart), the model writes the calls once more, shown those errors; so it does
when every call gives on every candidate what it gives on the untouched code (they reach nothing
the candidates change). A vote is not verification: the outcome stays unverified.

:class:`~smallcode.core.solve.solver.Solver` calls :func:`probe_messages`,
:func:`parse_examples`, :func:`uncovered_calls`, :func:`behaviour`, :func:`reproduced` and
:func:`vote` when its oracle
is weak and the code to change is Python (for CommonJS files :func:`parse_js_examples` reads
the checks and the calls run under node), and :func:`broken_examples` when the chosen candidate
raises a programming error on the calls (the errors and their lines are shown to the model for
another round) and on the untouched code for calls that fit no version of it.
"""

from __future__ import annotations

import ast
import builtins
import json
import math
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .oracle import JS_WHERE_SOURCE, WHERE_SOURCE, required_arguments

MAX_CALLS = 12
CALL_SECONDS = 2
RUN_SECONDS = 20.0

PROBE_SYSTEM = ("You write example checks of Python code from its description. Reply with one "
                "fenced python block of single-line checks, one per line, and nothing else.")
# an exception that a specification never asks for: the code itself is broken
PROGRAMMING_ERRORS = ("TypeError", "NameError", "AttributeError", "UnboundLocalError",
                      "NotImplementedError", "RecursionError", "TimeoutError", "SyntaxError",
                      "ImportError", "ModuleNotFoundError", "ReferenceError")
JS_CODE = (".js", ".cjs")  # CommonJS files the calls can require
JS_WORDS = {"true": True, "false": False, "null": None, "undefined": None}
JS_PROBE_SYSTEM = ("You write example checks of JavaScript code from its description. Reply with "
                   "one fenced block of single-line checks, one per line, and nothing else.")
FORBIDDEN_CALLS = ("print", "exec", "eval", "open", "input", "__import__", "exit", "quit",
                   "compile", "globals", "locals", "breakpoint")


def probe_messages(task: str, code: dict[str, str], modules: list[str],
                   documents: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The request for example calls: the task, the documents it reads from (a specification's
    rules are what the checks must cover), the code as it is now, and the module names (for
    JavaScript, the CommonJS files whose exports the calls use)."""
    docs = "".join(f"{rel}\n````\n{text.rstrip()}\n````\n\n"
                   for rel, text in (documents or {}).items())
    if modules and modules[0].endswith(JS_CODE):
        shown = "\n\n".join(f"{rel}\n```javascript\n{text.rstrip()}\n```"
                             for rel, text in code.items())
        return [{"role": "system", "content": JS_PROBE_SYSTEM},
                {"role": "user", "content": (
                    f"Task: {task}\n\n{docs}{shown}\n\nWrite {MAX_CALLS - 4} to {MAX_CALLS} "
                    "different checks of the exported functions this task is about, one per "
                    "line, each `assert(call === expected)` where the call passes plain values "
                    "(strings, numbers, arrays, objects, true, false, null) and the expected "
                    "value is a JSON value you work out by hand from the task's description and "
                    "its documents' rules, not from the code above (it may be wrong or "
                    "unfinished). Cover ordinary inputs and edge cases. When you cannot tell "
                    "the expected value, write the call alone. No console.log, no comments, no "
                    f"require. The functions come from: {', '.join(modules)}.")}]
    shown = "\n\n".join(f"{rel}\n```python\n{text.rstrip()}\n```" for rel, text in code.items())
    return [{"role": "system", "content": PROBE_SYSTEM},
            {"role": "user", "content": (
                f"Task: {task}\n\n{docs}{shown}\n\nWrite {MAX_CALLS - 4} to {MAX_CALLS} different "
                "checks of the functions, classes and methods this task is about, one per line, "
                "each `assert call == expected`: the expected value is a Python literal you "
                "work out by hand from the task's description and its documents' rules, not "
                "from the code above (it may "
                "be wrong or unfinished). For a class, use one line per scenario: statements "
                "separated by `; `, for example `c = Name(args); c.method(args); assert "
                "c.other() == expected`. Cover ordinary inputs and edge cases. When you cannot "
                "tell the expected value, write the call alone. No print, no comments. The "
                f"names come from: {', '.join(modules)}.")}]


def _allowed(stmt: ast.stmt) -> bool:
    """An assignment or an expression statement that calls nothing dangerous."""
    if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)):
        return False
    return not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                   and n.func.id in FORBIDDEN_CALLS for n in ast.walk(stmt))


@dataclass(frozen=True)
class Example:
    call: str  # one line: statements joined by "; ", the last an expression
    expected: str | None = None  # a Python literal the model worked out from the description


def _expected(node: ast.Compare) -> str | None:
    """The literal an ``==`` (or ``is`` True/False/None) comparison expects, else None."""
    if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.Is)):
        return None
    right = node.comparators[0]
    if isinstance(node.ops[0], ast.Is) and not (isinstance(right, ast.Constant)
                                                and right.value in (True, False, None)):
        return None
    text = ast.unparse(right)
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return text


def _statements(reply: str) -> list[str]:
    """The reply's lines, except that a statement written over several lines (a multi-line
    list, a triple-quoted expected table) in a fenced block (or a whole reply) that parses as
    Python is given as one line."""
    chunks = re.findall(r"```[\w+-]*\n(.*?)```", reply, flags=re.DOTALL) or [reply]
    out: list[str] = []
    for chunk in chunks:
        lines = chunk.splitlines()
        try:
            tree = ast.parse(chunk)
        except (SyntaxError, ValueError):
            out += lines
            continue
        spans = {stmt.lineno: (stmt.end_lineno or stmt.lineno, ast.unparse(stmt))
                 for stmt in tree.body if (stmt.end_lineno or stmt.lineno) > stmt.lineno}
        number = 1
        while number <= len(lines):
            if number in spans:
                last, text = spans[number]
                out.append(text)
                number = last + 1
            else:
                out.append(lines[number - 1])
                number += 1
    return out


def parse_examples(reply: str) -> list[Example]:
    """The one-line examples of a reply: a call expression, or a scenario of statements joined
    by ``;`` whose last one is an expression (``c = Cart(); c.add('pen', 2); c.count()``), or
    an assignment that sets up later lines (``c = Cart()`` becomes ``c = Cart(); c``: the lines
    run top to bottom in one namespace). An assertion or comparison becomes its left side, the
    call, and the literal on its right, the expected result; a line that calls nothing, or calls
    print/exec/open and the like, is dropped."""
    examples: list[Example] = []
    calls: list[str] = []
    for raw in _statements(reply):
        line = raw.strip().rstrip(",;")
        if not line or line.startswith(("```", "#", "print(")):
            continue
        try:
            body = ast.parse(line, mode="exec").body
        except SyntaxError:
            continue
        if not body:
            continue
        last = body[-1]
        if isinstance(last, ast.Assert):
            last = ast.Expr(last.test)
        if isinstance(last, ast.Assign) and len(last.targets) == 1 \
                and isinstance(last.targets[0], ast.Name):
            # ``c = Cart()`` on its own line sets up the lines after it: keep it, and show
            # what it made
            body = [*body, ast.Expr(ast.Name(last.targets[0].id, ast.Load()))]
            last = body[-1]
        if not isinstance(last, ast.Expr):
            continue
        node = last.value
        expected = None
        if isinstance(node, ast.Compare):
            expected = _expected(node)
            node = node.left
        body = [*body[:-1], ast.Expr(node)]
        if not all(_allowed(stmt) for stmt in body):
            continue
        if not any(isinstance(n, ast.Call) for stmt in body for n in ast.walk(stmt)):
            continue
        text = "; ".join(ast.unparse(stmt) for stmt in body)
        if text not in calls:
            calls.append(text)
            examples.append(Example(text, expected))
    return examples[:MAX_CALLS]


_JS_ASSERT = re.compile(r"\bassert\.(?:deep)?(?:strict)?equal\s*\(", re.IGNORECASE)
JS_FORBIDDEN = ("require", "eval", "Function", "process", "console", "globalThis", "fetch",
                "setTimeout", "setInterval", "import")


class _JsLiterals(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in JS_WORDS:
            return ast.copy_location(ast.Constant(JS_WORDS[node.id]), node)
        return node


def _js(node: ast.AST) -> str:
    """The JavaScript for a call written with plain values; ValueError for anything else."""
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, bool):
            return {None: "null", True: "true", False: "false"}[value]
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, str):
            return json.dumps(value)
    elif isinstance(node, (ast.List, ast.Tuple)):
        return "[" + ", ".join(_js(e) for e in node.elts) + "]"
    elif isinstance(node, ast.Dict):
        if all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
            return "{" + ", ".join(f"{json.dumps(k.value)}: {_js(v)}"  # type: ignore[union-attr]
                                   for k, v in zip(node.keys, node.values, strict=True)) + "}"
    elif isinstance(node, ast.Name) and node.id not in JS_FORBIDDEN:
        return node.id
    elif isinstance(node, ast.Attribute):
        return f"{_js(node.value)}.{node.attr}"
    elif isinstance(node, ast.Call) and not node.keywords:
        return f"{_js(node.func)}({', '.join(_js(a) for a in node.args)})"
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return "-" + _js(node.operand)
    elif isinstance(node, ast.Subscript):
        return f"{_js(node.value)}[{_js(node.slice)}]"
    raise ValueError(f"not a plain call: {ast.unparse(node)}")


def parse_js_examples(reply: str) -> list[Example]:
    """The one-line checks of a reply about JavaScript code (``assert(f(x) === y)``,
    ``assert.deepStrictEqual(f(x), y)``, ``f(x) === y``, or a call alone): the call, written
    with plain values only, kept as JavaScript; the expected JSON value as a Python literal
    (compared with the JSON of what the call returns)."""
    chunks = re.findall(r"```[\w+-]*\n(.*?)```", reply, flags=re.DOTALL) or [reply]
    examples: list[Example] = []
    for raw in (line for chunk in chunks for line in chunk.splitlines()):
        line = raw.strip().rstrip(";,")
        if not line or line.startswith(("//", "```")):
            continue
        line = _JS_ASSERT.sub("_assert_eq(", line).replace("console.assert(", "assert(")
        line = line.replace("===", "==").replace("!==", "!=")
        try:
            body = ast.parse(line).body
        except SyntaxError:
            continue
        if len(body) != 1 or not isinstance(body[0], (ast.Assert, ast.Expr)):
            continue
        node = _JsLiterals().visit(body[0].test if isinstance(body[0], ast.Assert)
                                   else body[0].value)
        if isinstance(node, ast.Tuple) and node.elts:  # assert(cond, "message")
            node = node.elts[0]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "_assert_eq" and len(node.args) >= 2:
            node = ast.Compare(node.args[0], [ast.Eq()], [node.args[1]])
        expected = None
        if isinstance(node, ast.Compare):
            expected = _expected(node)
            node = node.left
        if not any(isinstance(n, ast.Call) for n in ast.walk(node)):
            continue
        try:
            call = _js(node)
        except ValueError:
            continue
        if all(ex.call != call for ex in examples):
            examples.append(Example(call, expected))
    return examples[:MAX_CALLS]


def _takes_no_argument(fn: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> bool:
    decorated = any(isinstance(d, ast.Name) and d.id in ("property", "staticmethod",
                                                         "classmethod")
                    or isinstance(d, ast.Attribute) for d in fn.decorator_list)
    return required_arguments(fn, method) == 0 and not decorated


def invented_names(examples: list[Example], known_text: str) -> dict[str, list[str]]:
    """The bare names each example uses that nothing defines: not a builtin, not bound by any
    example (``c = Cart()``, a loop variable), and not a word of ``known_text`` (the task, its
    documents, the code as it is). A call of an invented ``main()`` raises NameError on every
    candidate, and was taken for broken code the model had to fix. Keyed by call; examples
    that invent nothing are absent."""
    words = set(re.findall(r"[A-Za-z_]\w*", known_text)) | set(dir(builtins))
    trees = []
    for ex in examples:
        try:
            trees.append((ex.call, ast.parse(ex.call)))
        except SyntaxError:
            continue
    bound = {node.id for _, tree in trees for node in ast.walk(tree)
             if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del))}
    bound |= {node.arg for _, tree in trees for node in ast.walk(tree) if isinstance(node, ast.arg)}
    out: dict[str, list[str]] = {}
    for call, tree in trees:
        free = sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)
                       and isinstance(node.ctx, ast.Load)} - bound - words)
        if free:
            out[call] = free
    return out


def uncovered_calls(examples: list[Example], code: dict[str, str]) -> list[Example]:
    """Calls of the code's public functions and methods that take no argument and that no
    example calls (the model's checks skip some: a ``ranking()`` never called cannot show its
    TypeError): a function called alone, a method at the end of the richest scenario that
    makes its class's object (or, when the examples make it on a line of their own, after
    every example). What they give is compared between candidates like any call;
    no result is expected of them."""
    joined = "\n".join(ex.call for ex in examples)
    out: list[Example] = []
    for text in code.values():
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and not node.name.startswith("_") and _takes_no_argument(node, False) \
                    and not re.search(rf"\b{node.name}\(", joined):
                out.append(Example(f"{node.name}()"))
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
                continue
            made = re.compile(rf"\b([A-Za-z_]\w*)\s*=\s*{node.name}\(")
            scenarios = [ex for ex in examples if made.search(ex.call)]
            if not scenarios:
                continue
            # a scenario that gives a value runs to its end (one that raises would stop
            # before the added call)
            base = max(scenarios, key=lambda ex: (ex.expected is not None,
                                                  ex.call.count(";")))
            var = made.findall(base.call)[-1]
            for fn in node.body:
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                        and not fn.name.startswith("_") and _takes_no_argument(fn, True) \
                        and not re.search(rf"\.{fn.name}\(", joined):
                    # a scenario of its own is extended; an object made on a line of its
                    # own is used by the lines after it (one namespace): call it last
                    out.append(Example(f"{base.call}; {var}.{fn.name}()"
                                       if base.call.count(";") > 1 else f"{var}.{fn.name}()"))
    return out[:4]


def same_result(got: str, expected: str) -> bool:
    """Whether a call's result (its repr, as :func:`behaviour` gives it) equals the expected
    literal: by value when the repr is a literal (``(1, 2)`` is not ``[1, 2]``; floats within
    1e-9), else by repr."""
    try:
        want = ast.literal_eval(expected)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    try:
        value = ast.literal_eval(got)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return got == repr(want)
    if isinstance(value, float) and isinstance(want, (int, float)) \
            and not isinstance(want, bool):
        return math.isclose(value, want, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(want, (list, tuple, bool)) or isinstance(value, bool):
        return type(value) is type(want) and value == want  # 1 is not True
    return value == want


def reproduced(sig: tuple[str, ...], examples: list[Example],
               pasted: frozenset[str] = frozenset()) -> int:
    """How many worked-out results the behaviour ``sig`` reproduces, leaving out the calls in
    ``pasted`` (whose expected value the candidate writes out as a literal)."""
    return sum(ex.expected is not None and ex.call not in pasted
               and same_result(value, ex.expected)
               for value, ex in zip(sig, examples, strict=False))


RUNNER = r"""
import ast, importlib, json, os, signal, sys, types
sys.path.insert(0, ".")
WHERE_SOURCE
calls = json.loads(sys.argv[1])
ns = {}
for mod in json.loads(sys.argv[2]):
    m = importlib.import_module(mod)  # __import__("pkg.mod") would give pkg, not pkg.mod
    ns.update({k: v for k, v in vars(m).items() if not k.startswith("__")})
def alarm(*_):
    raise TimeoutError("call took too long")
signal.signal(signal.SIGALRM, alarm)
out = []
scope = dict(ns)  # one namespace, top to bottom: a line may use what an earlier one made
for call in calls:
    signal.alarm(CALL_SECONDS)
    try:
        tree = ast.parse(call, mode="exec")
        last = tree.body.pop()
        exec(compile(tree, "<example>", "exec"), scope)
        value = eval(compile(ast.Expression(last.value), "<example>", "eval"), scope)
        if isinstance(value, (types.GeneratorType, map, filter, zip, range)):
            value = list(value)
        text = repr(value)
        if " object at 0x" in text:
            text = repr(sorted((k, repr(v)) for k, v in vars(value).items())) if hasattr(
                value, "__dict__") else type(value).__name__
        out.append([text[:400], ""])
    except BaseException as e:
        out.append(["raises " + type(e).__name__, (str(e)[:200] + where(e, "."))])
    finally:
        signal.alarm(0)
print(json.dumps(out))
""".replace("CALL_SECONDS", str(CALL_SECONDS)).replace("WHERE_SOURCE", WHERE_SOURCE)


def behaviour(root: Path, modules: list[str], calls: list[str]) -> tuple[str, ...] | None:
    """What each call gives in ``root`` (a scratch copy with a candidate applied): its value's
    repr or ``raises <Exception>``. None when the run itself failed or hung."""
    out = _run(root, modules, calls)
    return None if out is None else tuple(value for value, _ in out)


def broken_examples(root: Path, modules: list[str], calls: list[str]) -> list[str]:
    """The calls that raise an error no specification asks for (TypeError, NameError...) in
    ``root``, each with the exception and the line of the project's code that raised it:
    what the model is shown to fix its own code (execution feedback without any test)."""
    out = _run(root, modules, calls) or []
    return [f"{call} raised {value.split(' ', 1)[1]}: {detail}"
            for call, (value, detail) in zip(calls, out, strict=False)
            if value.startswith("raises ") and value.split(" ", 1)[1] in PROGRAMMING_ERRORS]


def _run(root: Path, modules: list[str], calls: list[str]) -> list[tuple[str, str]] | None:
    javascript = bool(modules) and modules[0].endswith(JS_CODE)
    command = (["node", "-e", JS_RUNNER] if javascript else [sys.executable, "-c", RUNNER])
    try:
        proc = subprocess.run([*command, json.dumps(calls), json.dumps(modules)], cwd=root,
                              capture_output=True, text=True, timeout=RUN_SECONDS, check=False)
    except (subprocess.TimeoutExpired, OSError):
        return None
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None
    if not isinstance(out, list) or len(out) != len(calls):
        return None
    if javascript:  # a value as JSON: its Python repr, so results compare the same way
        out = [[_from_json(value), detail] for value, detail in out]
    return [(str(value), str(detail)) for value, detail in out]


def _from_json(value: str) -> str:
    if value.startswith(("raises ", "<")):
        return value
    try:
        return repr(json.loads(value))
    except ValueError:
        return value


# the CommonJS files' exports in one namespace; each call evaluated in it, its value as JSON
# ("raises <Error name>" when it throws; "<function>" and the like for what JSON cannot hold)
JS_RUNNER = r"""
const path = require("path");
const ROOT = require("fs").realpathSync(".") + path.sep;
JS_WHERE_SOURCE
const calls = JSON.parse(process.argv[1]), mods = JSON.parse(process.argv[2]);
const ns = {};
for (const m of mods) Object.assign(ns, require(path.resolve(m)));
const out = [];
for (const call of calls) {
  where();
  try {
    const v = new Function(...Object.keys(ns), "return (" + call + ");")(...Object.values(ns));
    let text;
    try { text = v === undefined ? "null" : JSON.stringify(v); } catch (e) { text = undefined; }
    out.push([text === undefined ? "<" + typeof v + ">" : text.slice(0, 400), ""]);
  } catch (e) {
    const name = (e && e.name) || "Error";
    out.push(["raises " + name, String(e && e.message).slice(0, 200) + where()]);
  }
}
console.log(JSON.stringify(out));
""".replace("JS_WHERE_SOURCE", JS_WHERE_SOURCE)


@dataclass
class Vote:
    winner: int  # candidate number
    agree: int  # candidates in the winner's cluster
    voters: int  # candidates that ran
    informative: bool  # the candidates did not all behave the same
    reproduced: int = 0  # worked-out results the winner's cluster gives
    expected: int = 0  # examples with a worked-out result

    def describe(self) -> str:
        if not self.informative:
            return f"all {self.voters} candidates behave the same on the example calls"
        results = (f", giving {self.reproduced} of {self.expected} worked-out results"
                   if self.expected else "")
        return (f"{self.agree} of {self.voters} candidates agree on the example calls"
                f"{results}; candidate {self.winner} is one of them")


def broken_calls(sig: tuple[str, ...]) -> int:
    """How many examples raise an error no specification asks for (TypeError, NameError...)."""
    return sum(v.startswith("raises ") and v.split(" ", 1)[1] in PROGRAMMING_ERRORS
               for v in sig)


def vote(signatures: dict[int, tuple[str, ...] | None], hits: dict[int, int] | None = None,
         expected: int = 0) -> Vote | None:
    """Among the candidates whose code breaks on the fewest examples (a TypeError is never the
    asked behaviour, however many candidates share it), the cluster of identical behaviour that
    reproduces the most worked-out results (``hits`` per candidate, a cluster counting its best
    member's), then the largest; then fewer calls that raise at all, then the earliest candidate.
    Candidates whose run failed do not vote. None when nobody ran."""
    ran = {n: s for n, s in signatures.items() if s is not None}
    if not ran:
        return None
    hits = hits or {}
    clusters: dict[tuple[str, ...], list[int]] = {}
    for number, sig in sorted(ran.items()):
        clusters.setdefault(sig, []).append(number)

    def score(members: list[int]) -> int:
        return max(hits.get(n, 0) for n in members)

    sig, members = max(clusters.items(), key=lambda kv: (
        -broken_calls(kv[0]), score(kv[1]), len(kv[1]),
        -sum(v.startswith("raises ") for v in kv[0]), -kv[1][0]))
    best = max(members, key=lambda n: (hits.get(n, 0), -n))
    return Vote(best, len(members), len(ran), len(clusters) > 1, score(members), expected)


__all__ = [
    "Example",
    "Vote",
    "behaviour",
    "broken_calls",
    "broken_examples",
    "invented_names",
    "parse_examples",
    "probe_messages",
    "reproduced",
    "same_result",
    "uncovered_calls",
    "vote",
]
