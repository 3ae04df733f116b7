"""The solve path: localize → oracle → K candidates as plain code → check each → keep the best.

An edit task goes through here whatever the front-end (``Agent.run`` calls :class:`Solver`
first; questions and exploration stay in the tool loop). The model never writes code inside
JSON: it gets the located code in the prompt and answers with whole files (or SEARCH/REPLACE
blocks for long files). Every candidate is applied to its own scratch copy of the workspace and
checked by the oracle decided before the first edit; the best one (oracle passes > larger share
of the oracle > smaller diff) is applied to the real workspace as one snapshot. The outcome says
how it was verified, and a candidate that fixes part of the oracle is kept and reported as
partial rather than thrown away.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import difflib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..edit import testrunner
from ..edit.imports import fix_names, project_names
from ..edit.validate import is_makefile, recipe_tabs
from ..events import (
    AssistantText,
    CandidateEvent,
    DoneEvent,
    Event,
    NoticeEvent,
    ToolResultEvent,
    UsageEvent,
)
from ..model.types import ChatModel, Message, ModelError, Usage
from ..tools.workspace import Workspace
from . import excerpt, faultloc
from .checker import CandidateChecker, LocalChecker, scratch_copy
from .commands import RUNNABLE_EXT, command_checks
from .configedit import only_settings, set_config_values
from .formats import (
    EditFormat,
    choose_format,
    dropped_names,
    kept_exports,
    language_of,
    merge_partial,
)
from .localize import DOC_SUFFIXES, Located, locate
from .methods import module_name
from .oracle import (
    CONFIG_EXT,
    CheckResult,
    Oracle,
    ReproCheck,
    config_values,
    interface_checks,
    keyed_inputs,
    pasted_answers,
    repro_checks,
)
from .rename import (
    ModuleMove,
    RenameRequest,
    SuffixChange,
    find_module_move,
    find_rename,
    find_suffix_change,
)
from .scriptvote import (
    SCRIPT_SUFFIXES,
    command_output,
    majority_output,
    new_targets,
    reply_command,
    runnable_script,
    script_output,
    target_runs,
)
from .vote import (
    JS_CODE,
    JS_WORDS,
    Example,
    behaviour,
    broken_calls,
    broken_examples,
    invented_names,
    parse_examples,
    parse_js_examples,
    probe_messages,
    reproduced,
    same_result,
    uncovered_calls,
    vote,
)

Emit = Callable[[Event], Awaitable[None]]

SOLVE_SYSTEM = """\
You are an expert programmer. You change the user's project exactly as the task asks and keep \
everything else as it is. You answer with code in fenced blocks, each after its file path.\
"""
MAX_SHOWN_FAILURE = 2500
# names every Python program has: a task's print(...) adds no function
BUILTIN_NAMES = frozenset(dir(builtins))
MAX_PROBE_DOC = 6000  # characters of each document shown to the example-call probe


@dataclass
class Candidate:
    """One model reply turned into whole new file contents, and its verdict."""

    number: int
    temperature: float
    reply: str
    files: dict[str, str]
    problems: list[str]
    result: CheckResult | None = None
    diff_lines: int = 0
    in_place: bool = False  # a deterministic edit (a config value set in place), no model call
    stopped: bool = False  # its reply was stopped unfinished: another of its batch had passed
    command: str = ""  # the shell command whose output is its file (a computed answer)

    @property
    def name(self) -> str:
        return "the in-place config edit" if self.in_place else f"candidate {self.number}"

    def rank(self) -> tuple[bool, bool, float, bool, int]:
        """Passes > breaks no test that passed at the start > a larger share of the oracle >
        changes something at all > a smaller diff (a reply that changes nothing never outranks
        an attempt, whose failure is worth showing in the next round)."""
        r = self.result
        return (bool(r and r.passed), not (r and r.regressed), r.score if r else 0.0,
                bool(self.files), -self.diff_lines)


@dataclass
class SolveOutcome:
    """What the solve path did, for the DoneEvent."""

    success: bool
    reason: str
    verified: str
    changed: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    calls: int = 0


def _failure_signature(detail: str) -> str:
    """A failure without its line numbers and timings: two candidates that fail the same
    way have the same signature even when their code differs."""
    # where it raised ("(line 9 of intervals.py: merged[-1][1] = ...)", "(at calc.py:3)")
    # differs with the code around the same mistake
    text = re.sub(r" \(line \d+ of .*$| \(at [^()\n]*\)", "", detail, flags=re.MULTILINE)
    text = re.sub(r"\bline \d+\b|:\d+(?::\d+)?\b|\bin [\d.]+s\b", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _same_failure(round_tried: list[Candidate]) -> str:
    """The numbers ("1 and 2") when the round's candidates (two or more) all changed something
    and failed with one signature, else ""."""
    if len(round_tried) < 2 or any(
            c.result is None or c.result.passed or not c.files for c in round_tried):
        return ""
    if len({_failure_signature(c.result.detail) for c in round_tried if c.result}) != 1:
        return ""
    numbers = [str(c.number) for c in round_tried]
    return ", ".join(numbers[:-1]) + " and " + numbers[-1]


def _diff_size(before: dict[str, str | None], after: dict[str, str]) -> int:
    total = 0
    for rel, text in after.items():
        old = before.get(rel) or ""
        total += sum(1 for ln in difflib.unified_diff(old.splitlines(), text.splitlines(),
                                                      lineterm="", n=0)
                     if ln[:1] in "+-" and not ln.startswith(("+++", "---")))
    return total


MIN_TEST_TIMEOUT = 20.0  # a candidate's tests get this long however fast the project's ran


def candidate_test_timeout(limit: float, slowdown: float, start_seconds: float | None) -> float:
    """Seconds a candidate's test run may take: ``slowdown`` times the untouched project's own
    run (at least :data:`MIN_TEST_TIMEOUT`), never more than ``limit``. A candidate that loops
    forever then costs seconds, not the whole ``limit`` of a budget shared by every candidate."""
    if start_seconds is None:
        return limit
    return min(limit, max(MIN_TEST_TIMEOUT, slowdown * start_seconds))


class Solver:
    """Runs one edit task through the solve path. Plain class: no Ray, no CLI."""

    def __init__(self, model: ChatModel, workspace: Workspace, settings: Any, *,
                 snapshots: Any = None, graph: Any = None, emit: Emit,
                 rename_tool: Callable[[str, str], Any] | None = None,
                 move_tool: Callable[[str, str], Any] | None = None,
                 suffix_tool: Callable[[str, str, str], Any] | None = None,
                 allow_edit: Callable[[str], Awaitable[bool]] | None = None,
                 checker: CandidateChecker | None = None) -> None:
        """``checker`` runs the oracle on each candidate (default: in this process; under
        `smallcode serve`, serve's step workers)."""
        self.model = model
        self.ws = workspace
        self.settings = settings  # SolveSettings
        self.snapshots = snapshots
        self.graph = graph
        self.emit = emit
        self.rename_tool = rename_tool
        self.move_tool = move_tool
        self.suffix_tool = suffix_tool
        self.allow_edit = allow_edit
        self.checker: CandidateChecker = checker or LocalChecker()
        self.usage = Usage()
        self.calls = 0
        self.vote_note = ""
        self.vote_results = (0, 0)
        # the chosen candidate's result on each example call whose worked-out result it misses
        self.vote_misses: list[tuple[str, str]] = []
        # the model's example calls and their worked-out results, once per task
        self._examples: list[Example] | None = None
        self._untouched: dict[tuple[str, ...], tuple[str, ...]] = {}  # calls -> their results
        self._probe_reply = ""  # the model's reply that wrote the example calls
        self._reprobed = False  # the example calls were written again once (their shape)

    # ------------------------------------------------------------------ entry
    async def solve(self, task: str) -> SolveOutcome | None:
        """Solve ``task`` or return None when it is not an edit this path can take (no file to
        change was found): the caller then uses the tool loop."""
        move = find_module_move(task, self.ws)
        if move is not None and self.move_tool is not None:
            return await self._move(move)
        rename = find_rename(task, self.ws)
        if rename is not None and self.rename_tool is not None:
            return await self._rename(rename)
        suffix = find_suffix_change(task, self.ws)
        if suffix is not None and self.suffix_tool is not None:
            return await self._suffix(suffix)
        located = await asyncio.to_thread(locate, task, self.ws, self.settings.whole_repo_chars,
                                          self.graph)
        if not located.editable:
            return None
        await self.emit(NoticeEvent(message="solve: " + located.describe()))
        oracle = await asyncio.to_thread(self._oracle, task, located)
        await self.emit(NoticeEvent(message=f"oracle: {oracle.kind} — {oracle.description}"))
        return await self._candidates(task, located, oracle)

    # ------------------------------------------------------------------ rename, module move
    async def _rename(self, req: RenameRequest) -> SolveOutcome:
        assert self.rename_tool is not None
        return await self._operation(
            f"rename {req.old} -> {req.new} (a deterministic operation; {req.evidence})",
            f"rename {req.old} to {req.new} in every file that uses it",
            lambda: self.rename_tool(req.old, req.new), "rename_symbol",
            Oracle("structural", True, f"no {req.old} left, every file compiles and imports, "
                   "the tests pass", rename=(req.old, req.new)),
            f"renamed {req.old} to {req.new}", "no old name left", f"the rename of {req.old}")

    async def _move(self, req: ModuleMove) -> SolveOutcome:
        assert self.move_tool is not None
        return await self._operation(
            f"move the module {req.old} -> {req.new} (a deterministic operation; "
            f"{req.evidence})",
            f"move {req.old} to {req.new} and update every import of it",
            lambda: self.move_tool(req.old, req.new), "move_module",
            Oracle("structural", True, f"{req.old} gone, no import of it left, every file "
                   "compiles and imports, the tests pass", module_move=(req.old, req.new)),
            f"moved {req.old} to {req.new}", "no import of the old module left",
            f"the move of {req.old}")

    async def _suffix(self, req: SuffixChange) -> SolveOutcome:
        assert self.suffix_tool is not None
        return await self._operation(
            f"give the {req.old} files in {req.folder}/ the extension {req.new} (a "
            f"deterministic operation; {req.evidence})",
            f"rename every {req.old} file in {req.folder}/ to {req.new}, contents kept",
            lambda: self.suffix_tool(req.folder, req.old, req.new), "change_suffix",
            Oracle("structural", True, f"no {req.old} file left in {req.folder}/, contents "
                   "kept, the tests pass", suffix_change=(req.folder, req.old, req.new)),
            f"renamed the {req.old} files in {req.folder}/ to {req.new}",
            f"no {req.old} file left", f"the renaming of the {req.old} files")

    async def _operation(self, notice: str, ask: str, run: Callable[[], Any], tool: str,
                         oracle: Oracle, done: str, holds: str, what: str) -> SolveOutcome:
        """A deterministic operation (a rename, a module move): asked for, run once, checked by
        its structural ``oracle`` against the tests as they were before it."""
        await self.emit(NoticeEvent(message=f"solve: {notice}"))
        if self.allow_edit is not None and not await self.allow_edit(ask):
            return SolveOutcome(False, "the user did not allow the edit", "none")
        # the tests as they were before: a test the operation breaks is a regression
        oracle.start_failures = await asyncio.to_thread(self._start_failures)
        result = await asyncio.to_thread(run)
        await self.emit(ToolResultEvent(call_id=f"solve-{tool}", name=tool, ok=result.ok,
                                        output=result.output, diff=result.diff))
        changed = list(result.changed_files)
        present = [r for r in changed if (self.ws.root / r).exists()]  # a moved file is gone
        check = await asyncio.to_thread(oracle.check, self.ws.root, present)
        if check.passed:
            return SolveOutcome(True, f"{done} ({len(changed)} files changed); verified: {holds}"
                                ", everything compiles, tests pass", "structural", changed)
        return SolveOutcome(False, f"{what} left problems: {check.detail}", "structural", changed)

    def _start_failures(self) -> list[str] | None:
        runner = testrunner.detect_test_runner(self.ws.root)
        if runner is None:
            return None
        return testrunner.run_tests(runner, [], self.settings.test_timeout).failure_ids()

    # ------------------------------------------------------------------ oracle
    def _oracle(self, task: str, located: Located) -> Oracle:
        runner = testrunner.detect_test_runner(self.ws.root)
        began = time.monotonic()
        start = testrunner.run_tests(runner, [], self.settings.test_timeout) if runner else None
        failing = start.failure_ids() if start is not None and not start.ok else []
        timeout = candidate_test_timeout(self.settings.test_timeout, self.settings.test_slowdown,
                                         None if start is None or start.timed_out
                                         else time.monotonic() - began)
        code_files = [r for r in located.shown if r.endswith((".py", ".js", ".cjs", ".mjs"))]
        if start is not None and not start.ok and not start.timed_out:
            located.failure_text = start.compact() + "\n" + (start.output_tail or "")
            if runner is not None and runner.name in ("pytest", "unittest"):
                # read in a copy: running the tests must not leave files in the user's tree
                py_code = [r for r in located.files
                           if r.endswith(".py") and not testrunner.is_test_file(r)]
                with self._scratch({}) as copy:
                    found = faultloc.suspects(copy, py_code, self.settings.test_timeout,
                                              python=runner.command[0])
                located.suspects = faultloc.describe(found)
                located.suspect_functions = {s.function for s in found if s.function}
            return Oracle("tests", True, f"{len(failing) or 'some'} test(s) fail now "
                          f"({start.command}) and must pass", start_failures=failing,
                          start_passed=start.passed_count(), test_timeout=timeout,
                          baseline={r: located.files.get(r) or "" for r in code_files})
        start_ids: list[str] | None = [] if start is not None else None
        # the task text includes the documents it points at ("described in
        # .docs/instructions.md"): their examples are the user's examples too
        docs = [located.files.get(r) or "" for r in located.named
                if Path(r).suffix.lower() in DOC_SUFFIXES]
        # examples run in a throw-away copy: their relative paths ('data/sales.csv') resolve
        # as in the project, and whatever they write never lands in the user's tree
        with self._scratch({}) as copy:
            repro = repro_checks(task, copy, code_files, docs)
            failures = [c.run(copy)[1] for c in repro]
            # "Client(timeout=...)": the signature the task writes, refused by the code now
            interface = interface_checks(task, copy, code_files)
            failures += [c.run(copy)[1] for c in interface]
            # a script that fails when run as the task (or a shell script's usage line) says
            commands = command_checks(task, copy, [r for r in located.editable
                                                   if r.endswith(RUNNABLE_EXT)
                                                   and not testrunner.is_test_file(r)])
            # their failing run was just made: its output is what goes wrong now
            failures += [f"`{c.shown()}` fails now: {c.start_output}" for c in commands]
        fits = ("; " + ", ".join(c.shown for c in interface) + " must fit the signature"
                if interface else "")
        if repro or commands:
            calls = ", ".join([c.describe() for c in repro] + [c.describe() for c in commands])
            located.failure_text = "\n".join(failures)
            return Oracle("repro", True, f"from the task's example: {calls} (fails now){fits}",
                          repro=repro, start_failures=start_ids, test_timeout=timeout,
                          baseline={r: located.files.get(r) or "" for r in code_files},
                          from_document=any(c.call not in task for c in repro),
                          interface=interface, commands=commands)
        if interface:
            located.failure_text = "\n".join(failures)
        # the code as it was: a problem a candidate's code shares with it is not the candidate's
        baseline = {r: located.files.get(r) or "" for r in code_files}
        configs = [r for r in located.shown if Path(r).suffix.lower() in CONFIG_EXT]
        wanted = config_values(task, self.ws.root, configs)
        if wanted:
            pairs = ", ".join(f"{k} = {v}" for k, v in wanted)
            if only_settings(task, wanted):
                return Oracle("structural", True, f"the config parses and holds {pairs}{fits}",
                              config_values=wanted, start_failures=start_ids,
                              test_timeout=timeout, interface=interface, baseline=baseline)
            # the task asks for more than these values: holding them does not prove it done
            return Oracle("structural", False, f"weak: the config parses and holds {pairs}; the "
                          f"task's other changes are not checked{fits}", config_values=wanted,
                          start_failures=start_ids, test_timeout=timeout, interface=interface,
                          baseline=baseline)
        tests = "the existing tests still pass" if start is not None else "no tests exist"
        # a signature that fits is not behaviour: the oracle stays weak
        return Oracle("structural", False, f"weak: the changed files parse and import; {tests}"
                      f"{fits} (nothing here can tell whether the request itself is met)",
                      start_failures=start_ids, test_timeout=timeout, interface=interface,
                      baseline=baseline)

    # ------------------------------------------------------------------ candidates
    def _prompt(self, task: str, located: Located, fmt: EditFormat) -> list[Message]:
        parts = ["The project's files:"]
        for rel in located.shown:
            text = located.files.get(rel)
            note = "" if rel in located.editable else " (read-only)"
            if text is None:
                parts.append(f"{rel}{note} (does not exist yet)")
                continue
            shown = self._excerpt(task, located, fmt, rel, text)
            if shown is not None:
                note += (" (an excerpt: the definitions that matter in full, every other "
                         "function only by its first line, its body left out as ...)")
            parts.append(f"{rel}{note}\n```{language_of(rel)}\n{(shown or text).rstrip()}\n```")
        if located.failure_text:
            failure = located.failure_text.strip()[-MAX_SHOWN_FAILURE:]
            parts.append(f"What goes wrong now:\n```\n{failure}\n```")
        if located.suspects:
            parts.append(located.suspects)
        parts.append(f"Task: {task}")
        parts.append(fmt.instructions(located.editable))
        return [{"role": "system", "content": SOLVE_SYSTEM},
                {"role": "user", "content": "\n\n".join(parts)}]

    def _excerpt(self, task: str, located: Located, fmt: EditFormat, rel: str,
                 text: str) -> str | None:
        """A long Python file to change by whole functions, shown as an excerpt when the task,
        the failure or the fault localisation point at some of its definitions."""
        if fmt.name != "function" or not rel.endswith(".py") or rel not in located.editable \
                or text.count("\n") < self.settings.excerpt_lines:
            return None
        focus = excerpt.focus_of(text, excerpt.names_in(task + "\n" + located.failure_text),
                                 located.suspect_functions)
        return excerpt.excerpt(text, focus)

    def _max_tokens(self, located: Located, fmt: EditFormat) -> int:
        # a stub grows into a whole implementation, and the model explains first: the cap
        # follows the file, but never below what a module with its preface needs (a file cut
        # off by the cap is always wrong; a reply ends at its closing fence anyway; asked for
        # whole functions, the 1.5B often writes the whole file, and a reply cut off keeps only
        # its complete definitions); SEARCH/REPLACE blocks do not grow with the file
        chars = sum(len(located.files.get(r) or "") for r in located.editable)
        if fmt.name == "search-replace":
            chars = min(chars, 6000)
        return min(self.settings.max_tokens, max(2048, int(chars / 2.8) + 600))

    async def _count(self, reply: Any) -> None:
        """One model call's tokens, added to the run's and reported."""
        self.calls += 1
        self.usage.add(reply.usage)
        await self.emit(UsageEvent(prompt_tokens=reply.usage.prompt_tokens,
                                   completion_tokens=reply.usage.completion_tokens,
                                   cached_tokens=reply.usage.cached_tokens))

    async def _computed(self, base: list[Message], target: str, temperatures: list[float],
                        first: int, located: Located, oracle: Oracle,
                        task: str) -> list[Candidate]:
        """Candidates whose new data file (``target``: a count, a list of files) is what a
        shell command the model writes prints, run in a copy of the project: read off the
        files, not recalled from them. One model call a temperature, numbered from ``first``;
        a reply with no command, a command that only prints text it was given, or one that
        fails or prints nothing makes no candidate."""
        asked = _appended(base, COMPUTE_ASK.format(file=target))
        replies = await asyncio.gather(*(
            self.model.chat(asked, temperature=t, max_tokens=COMMAND_TOKENS,
                            seed=self.settings.seed + first + i if self.settings.seed is not None
                            else None) for i, t in enumerate(temperatures)),
            return_exceptions=True)
        made: list[Candidate] = []
        for i, (t, reply) in enumerate(zip(temperatures, replies, strict=True)):
            number = first + i + 1
            if isinstance(reply, BaseException):
                if not isinstance(reply, Exception):
                    raise reply  # cancelled
                # the answers the model writes itself follow: they meet the same server
                await self.emit(NoticeEvent(message=f"candidate {number}: model error while "
                                                    f"asking for a command ({reply})"))
                continue
            await self._count(reply)
            await self.emit(AssistantText(text=reply.content))
            cmd = reply_command(reply.content, target)
            if cmd is None or _LITERAL_ONLY.match(cmd):
                await self.emit(NoticeEvent(message=f"candidate {number}: no command that "
                                                    f"reads the files for {target}"))
                continue

            def run(command: str = cmd) -> tuple[int, str]:
                with self._scratch({}) as root:
                    return command_output(root, command)

            rc, out = await asyncio.to_thread(run)
            if rc != 0 or not out:
                await self.emit(NoticeEvent(message=f"candidate {number}: `{cmd[:120]}` "
                                                    + (f"exits {rc}" if rc else "prints nothing")))
                continue
            cand = Candidate(number, t, reply.content, {target: out + "\n"}, [], command=cmd)
            cand.diff_lines = _diff_size(located.files, cand.files)
            cand.result = await self._check(cand, oracle, located, task)
            made.append(cand)
        return made

    async def _generate(self, number: int, messages: list[Message], temperature: float,
                        fmt: EditFormat, located: Located, max_tokens: int,
                        task: str, stop: asyncio.Event | None = None) -> Candidate:
        # a fixed seed per candidate: the same task gives the same candidates on one machine;
        # streamed, so the read timeout bounds a stall between tokens, not a whole file that
        # a busy CPU takes minutes to write; and ended as soon as the edit is whole (the
        # explanation or the echoed document after it would cost as long as the code)
        current = {r: located.files.get(r) or "" for r in located.editable}
        streamed: list[str] = []
        kept: list[str] = []

        def on_delta(piece: str) -> bool:
            streamed.append(piece)
            if stop is not None and stop.is_set():
                return True  # another candidate of the batch passed: no need for this one
            if "\n" not in piece:
                return False
            cut = fmt.complete("".join(streamed), current)
            if cut is None:
                return False
            kept.append("".join(streamed)[:cut])
            return True

        reply = await self.model.chat(messages, temperature=temperature, max_tokens=max_tokens,
                                      seed=self.settings.seed + number - 1 if self.settings.seed
                                      is not None else None, on_delta=on_delta)
        if kept:
            reply.content = kept[0]
        await self._count(reply)
        if not kept and stop is not None and stop.is_set() and reply.finish_reason == "stop" \
                and fmt.complete(reply.content, current) is None:
            # ended by ``stop``, unfinished (the tokens it made are counted above)
            return Candidate(number, temperature, reply.content, {}, [], stopped=True)
        await self.emit(AssistantText(text=reply.content))
        parsed = fmt.parse(reply.content, current,
                           cut_off=not kept and reply.finish_reason == "length")
        files: dict[str, str] = {}
        problems = list(parsed.problems)
        # the project's modules as this reply leaves them: a name one of them defines is
        # imported where the reply uses it and forgot the import
        modules = {module_name(r): t for r, t in {**located.files, **parsed.files}.items()
                   if r.endswith(".py") and t is not None and not testrunner.is_test_file(r)}
        for rel, text in parsed.files.items():
            if rel not in located.editable:
                problems.append(f"{rel} may not be changed here (read-only or unknown)")
                continue
            before = located.files.get(rel) or ""
            if before.strip() and not text.strip():
                problems.append(f"the reply empties {rel}")
                continue
            if before.strip() and fmt.name == "whole" and dropped_names(rel, before, text, task):
                # only the changed definitions came back: lay them over the current file
                text = merge_partial(rel, before, text) or text
            text, tabbed = recipe_tabs(rel, text)
            if tabbed:
                await self.emit(NoticeEvent(message=f"candidate {number}: {tabbed} recipe "
                                                    f"line(s) of {rel} indented with a tab"))
            text, exported = kept_exports(rel, before, text, task)
            if exported:
                # ``module.exports = { chunk }`` written anew for the one added function
                await self.emit(NoticeEvent(message=f"candidate {number}: kept "
                                                    f"{', '.join(exported)} exported in {rel}"))
            if rel.endswith(".py") and text != before:
                # re.sub(...) without ``import re``, unichr(...): the code may be right; the
                # NameError is not (a file the reply leaves as it was is not touched)
                text, fixed = fix_names(text, project_names(modules, module_name(rel)))
                if fixed:
                    await self.emit(NoticeEvent(message=f"candidate {number}: "
                                                        f"{', '.join(fixed)} in {rel}"))
            if text != before:
                files[rel] = text
        cand = Candidate(number, temperature, reply.content, files, problems)
        cand.diff_lines = _diff_size(located.files, files)
        return cand

    async def _checked_early(self, call: Awaitable[Candidate], oracle: Oracle, located: Located,
                             task: str, seen: dict[str, CheckResult],
                             stop: asyncio.Event) -> Candidate:
        """The candidate ``call`` makes, checked as soon as it is back (the verdict goes into
        ``seen``, where the batch's checks find it); a pass sets ``stop``."""
        cand = await call
        if cand.stopped or stop.is_set():
            return cand
        key = repr(sorted(cand.files.items()))
        if key not in seen:
            seen[key] = await self._check(cand, oracle, located, task)
        if seen[key].passed:
            stop.set()
        return cand

    async def _check(self, cand: Candidate, oracle: Oracle, located: Located,
                     task: str) -> CheckResult:
        if not cand.files:
            why = "; ".join(cand.problems) or "the reply changes nothing"
            return CheckResult(False, 0.0, f"no usable change: {why}")
        lost = [f"{rel}: {', '.join(names)}" for rel, text in cand.files.items()
                if (names := dropped_names(rel, located.files.get(rel) or "", text, task))]
        if lost:
            return CheckResult(False, 0.0, "the reply drops code that must stay ("
                               + "; ".join(lost) + "): write back the WHOLE file, every "
                               "function, not only the one you changed")
        return await self.checker.check(self.ws.root, cand.files, oracle)

    def _scratch(self, files: dict[str, str]) -> contextlib.AbstractContextManager[Path]:
        """A throw-away copy of the workspace with ``files`` written over it."""
        return scratch_copy(self.ws.root, files)

    async def _set_in_place(self, task: str, located: Located,
                            oracle: Oracle) -> SolveOutcome | None:
        """A config task done without the model: every asked value set in place in the one file
        that holds its key, formatting kept, checked by the same oracle. None when that is not
        possible or does not pass (the model writes the change then)."""
        configs = {r: located.files.get(r) or "" for r in located.editable
                   if Path(r).suffix.lower() in CONFIG_EXT and located.files.get(r)}
        files, missed = set_config_values(configs, oracle.config_values)
        if missed or not files:
            await self.emit(NoticeEvent(message="config: cannot set " + ", ".join(missed or [
                "the values"]) + " in place unambiguously; the model writes the change"))
            return None
        cand = Candidate(0, 0.0, "", files, [], in_place=True)
        cand.diff_lines = _diff_size(located.files, files)
        cand.result = await self._check(cand, oracle, located, task)
        state = "PASSES the oracle" if cand.result.passed else (
            f"fails ({cand.result.detail.strip()[:160]})")
        pairs = ", ".join(f"{k} = {v}" for k, v in oracle.config_values)
        await self.emit(NoticeEvent(message=f"config: set {pairs} in place in "
                                            f"{', '.join(files)} (no model call); {state}"))
        await self.emit(CandidateEvent(number=0, temperature=0.0, files=files,
                                       passed=cand.result.passed))
        if not cand.result.passed:
            return None
        return await self._finish(cand, [cand], oracle, located)

    async def _candidates(self, task: str, located: Located, oracle: Oracle) -> SolveOutcome:
        s = self.settings
        if oracle.config_values and oracle.strong:
            done = await self._set_in_place(task, located, oracle)
            if done is not None:
                return done
        fmt = choose_format({r: located.files.get(r) or "" for r in located.editable},
                            whole_file_lines=s.whole_file_lines,
                            preferred=getattr(getattr(self.model, "profile", None),
                                              "edit_format", None),
                            answer=located.answer_file)
        base = self._prompt(task, located, fmt)
        max_tokens = self._max_tokens(located, fmt)
        slots = max(1, int(getattr(self.model, "total_slots", 1) or 1))
        deadline = time.monotonic() + s.time_budget
        seen: dict[str, CheckResult] = {}
        tried: list[Candidate] = []
        best: Candidate | None = None
        messages = base
        # the request of a round's other candidates: the first prompt, and after a failure what
        # went wrong, without the failed code (shown its own code, the 1.5B repeats its mistake
        # in every sample: ten candidates kept storing quantities where prices were read)
        others = _code_only(base)
        number = 0
        # nothing can check the result: sample the whole first round and let behaviour vote
        # and when the only check is a few examples from a specification with more rules than
        # examples: candidates that pass them can still differ on every other input, so the
        # first round is sampled and the ones that pass vote too
        # and when the check only asks the example to stop raising (a candidate that catches
        # the error and returns 0 passes it too)
        votable = bool(s.vote and (not oracle.strong or oracle.from_document
                                   or oracle.no_result_checked)
                       and (bool(located.answer_file) or bool(_vote_files(located)[0])
                            or any(r.endswith(SCRIPT_SUFFIXES) or is_makefile(r)
                                   for r in located.editable)))
        self.vote_note = ""
        self.vote_results = (0, 0)  # worked-out results the chosen candidate gives, of all
        self.vote_misses = []
        target = _computed_file(located) if votable and s.compute_answers else None
        if target is not None:
            # a count or a list of files: commands read it off the files, and their outputs
            # join the vote with the answers the model writes itself
            temps = [0.0, s.temperature]
            for cand in await self._computed(base, target, temps, number, located, oracle,
                                             task):
                tried.append(cand)
                await self.emit(NoticeEvent(message=self._verdict(cand, fmt)))
                await self.emit(CandidateEvent(number=cand.number, temperature=cand.temperature,
                                               files=cand.files, passed=bool(
                                                   cand.result and cand.result.passed)))
                if best is None or cand.rank() > best.rank():
                    best = cand
            number += len(temps)
        stop = False
        resampled = False  # a round was sampled again for the vote
        for round_no in range(1 + s.refine_rounds):
            if stop:
                break
            temps = [0.0 if round_no == 0 else 0.3] + [s.temperature] * (s.candidates - 1)
            pending = list(temps)
            round_start = number
            while pending and time.monotonic() < deadline:
                batch, pending = pending[:slots], pending[slots:]
                # with a check that decides alone (no vote), the first candidate of the batch
                # that passes ends the others' replies where they are: their code is not needed
                # (on a CPU server the slots share the cores, so the passing one also comes
                # back sooner)
                stop = asyncio.Event() if len(batch) > 1 and not votable else None
                # the first candidate of a round reasons before its code; the others don't
                calls = [self._generate(number + i + 1, messages if number + i == round_start
                                        else others, t, fmt, located,
                                        max_tokens, task, stop) for i, t in enumerate(batch)]
                if best is not None:
                    # a later batch must not outlive the budget (a busy shared server can take
                    # minutes per reply): what is not back by then is given up
                    left = max(deadline - time.monotonic(), 1.0)
                    calls = [asyncio.wait_for(c, left) for c in calls]
                if stop is not None:
                    calls = [self._checked_early(c, oracle, located, task, seen, stop)
                             for c in calls]
                results = await asyncio.gather(*calls, return_exceptions=True)
                number += len(batch)
                errors = [r for r in results if isinstance(r, BaseException)]
                made = [r for r in results if isinstance(r, Candidate) and not r.stopped]
                for cand in results:
                    if isinstance(cand, Candidate) and cand.stopped:
                        await self.emit(NoticeEvent(message=f"candidate {cand.number}: stopped "
                                                            "unfinished, another candidate of "
                                                            "its batch passes"))
                if errors and not made and best is None:
                    raise errors[0]  # nothing to keep: the caller reports the model error
                if errors:
                    # keep what was already sampled and checked; sample no more
                    why = ("the time budget ran out" if isinstance(errors[0], TimeoutError)
                           else f"model error while sampling candidates ({errors[0]})")
                    await self.emit(NoticeEvent(message=f"{why}; continuing with the "
                                                        "candidates already made"))
                    pending = []
                    stop = True
                # the batch's distinct candidates are checked side by side (on serve's step
                # workers when attached); an identical one reuses the verdict
                fresh: dict[str, Candidate] = {}
                for cand in made:
                    key = repr(sorted(cand.files.items()))
                    if key not in seen and key not in fresh:
                        fresh[key] = cand
                verdicts = await asyncio.gather(*(self._check(c, oracle, located, task)
                                                  for c in fresh.values()))
                seen.update(zip(fresh, verdicts, strict=True))
                for cand in made:
                    cand.result = seen[repr(sorted(cand.files.items()))]
                    tried.append(cand)
                    await self.emit(NoticeEvent(message=self._verdict(cand, fmt)))
                    await self.emit(CandidateEvent(number=cand.number,
                                                   temperature=cand.temperature,
                                                   files=cand.files,
                                                   passed=cand.result.passed))
                    if best is None or cand.rank() > best.rank():
                        best = cand
                if best is not None and best.result is not None and best.result.passed \
                        and not votable:
                    break
                if votable and pending and (lead := self._settled(tried, located,
                                                                len(pending))):
                    # the answers that agree are more than the rest could outvote: the other
                    # replies would not change what is kept
                    await self.emit(NoticeEvent(message=f"vote: {lead} of the "
                                                        f"{len(tried)} candidates agree; the "
                                                        f"{len(pending)} left could not change "
                                                        "the majority"))
                    pending = []
                same = _same_failure([c for c in tried if c.number > round_start])
                passed = best is not None and best.result is not None and best.result.passed
                if pending and same and not (votable and passed):
                    # more samples of the same request keep making the same mistake: show it
                    # to the model now instead (a round sampled for a vote goes on once
                    # something passed: the vote needs the alternatives)
                    await self.emit(NoticeEvent(message=f"candidates {same} fail the same way; "
                                                        "asking again with the failure"))
                    pending = []
            if best is not None and best.result is not None and best.result.passed:
                if not votable:
                    break
                last = round_no == s.refine_rounds or stop or time.monotonic() >= deadline
                best, broken = await self._vote(task, located, tried, best, last=last)
                if last:
                    break
                if broken:
                    # the chosen code breaks on the model's own example calls (a TypeError is
                    # never what a specification asks for): show it where, and sample again;
                    # the next vote counts the new candidates with the old ones
                    await self.emit(NoticeEvent(message=f"candidate {best.number} breaks on "
                                                        f"{len(broken)} example call(s); "
                                                        "asking again with the error"))
                    messages = self._debugging(base, best, broken, fmt, located)
                    others = _code_only(_anew(base, "\n".join(broken[:4])))
                    continue
                got, wanted = self.vote_results
                if got >= wanted or resampled:
                    break
                # the chosen code misses results the model worked out from the task: another
                # round gives the vote more to choose from — its first candidate is shown what
                # the code gives on those calls and asked to check that against the task, the
                # others sample the first request again (the worked-out results themselves are
                # never shown: they may be wrong, and could be pasted); once, since wrong
                # worked-out results would otherwise buy every round there is
                resampled = True
                await self.emit(NoticeEvent(message=f"candidate {best.number} gives {got} of "
                                                    f"{wanted} worked-out results; sampling "
                                                    "another round for the vote"))
                messages = self._review(base, best, self.vote_misses, fmt, located)
                others = _code_only(base)
                continue
            if time.monotonic() >= deadline or best is None or stop:
                break
            messages = self._refinement(base, best, fmt, located, oracle)
            others = _code_only(_anew(base, best.result.detail if best.result else ""))
        return await self._finish(best, tried, oracle, located)

    async def _example_calls(self, task: str, located: Located,
                             feedback: str = "") -> list[Example]:
        """Example calls of the code the task is about, each with the result the model works
        out from the task (when it can), written once per task and reused by every later vote.
        ``feedback``: what was wrong with the last reply's calls (they fit no version of the
        code, or reach nothing the candidates change): the calls are written again, shown it."""
        if self._examples is not None:
            return self._examples
        py, modules = _vote_files(located)
        code = {r: located.files.get(r) or "" for r in py}
        # the documents the task reads from: their rules and examples are what the calls must
        # cover (without them the model guesses what "do what SPEC.md says" means)
        docs = {r: (located.files.get(r) or "")[:MAX_PROBE_DOC] for r in located.named
                if Path(r).suffix.lower() in DOC_SUFFIXES and located.files.get(r)}
        try:
            # streamed like the candidates: on a busy server the read timeout then bounds a
            # stall between tokens, not the whole reply (seen: a probe waiting behind two
            # lanes timed out after 300 s, and the vote was lost)
            messages = probe_messages(task, code, modules, docs)
            if feedback:
                messages += [{"role": "assistant", "content": self._probe_reply},
                             {"role": "user", "content": feedback}]
            reply = await self.model.chat(messages, temperature=0.0, max_tokens=400,
                                          on_delta=lambda _piece: False)
        except ModelError as exc:
            # the candidates already made are kept; only the vote is given up
            await self.emit(NoticeEvent(message=f"vote: the model failed to write example "
                                                f"calls ({exc})"))
            self._examples = []
            return self._examples
        await self._count(reply)
        self._probe_reply = reply.content
        javascript = modules[0].endswith(JS_CODE)
        examples = (parse_js_examples if javascript else parse_examples)(reply.content)
        # a call of a name neither the task, its documents nor the code has (``main()``)
        # raises NameError on every candidate: the example is wrong, not the code
        invented = invented_names(examples, "\n".join([task, *docs.values(), *code.values(),
                                                       *(JS_WORDS if javascript else ())]))
        if invented:
            names = sorted({n for free in invented.values() for n in free})
            await self.emit(NoticeEvent(message=f"vote: {len(invented)} example call(s) left "
                                                f"out: they use {', '.join(names[:6])}, which "
                                                "neither the task nor the code defines"))
            examples = [ex for ex in examples if ex.call not in invented]
        self._examples = examples + uncovered_calls(examples, code)
        return self._examples

    async def _vote(self, task: str, located: Located, tried: list[Candidate],
                    best: Candidate, *, last: bool = False) -> tuple[Candidate, list[str]]:
        """Among the candidates that passed a weak oracle, the one whose behaviour on example
        calls (written by the model from the task, with the results it works out) most
        candidates share and that reproduces most of those results, and the example calls on
        which it raises a programming error (TypeError, NameError...) with the line that raised
        — empty when it breaks on none. ``last``: no round follows, so with one distinct
        passing candidate there is nothing to choose and the example calls are not written."""
        # identical candidates run once but each one votes: the same code sampled twice is
        # agreement too
        groups: dict[str, list[Candidate]] = {}
        for cand in tried:
            if cand.result is not None and cand.result.passed:
                # "7431\n" and "7431" are the same answer
                key = repr(sorted((r, t.rstrip()) for r, t in cand.files.items()))
                groups.setdefault(key, []).append(cand)
        if last and len(groups) <= 1 and self._examples is None:
            return best, []
        makefiles = sorted({rel for g in groups.values() for c in g for rel in c.files
                            if is_makefile(rel)})
        if makefiles and len(groups) > 1:
            groups, best = await self._targets_run(groups, best, located, makefiles)
        scripts = sorted({rel for g in groups.values() for c in g
                          for rel, text in c.files.items() if runnable_script(rel, text)})
        if scripts and len(groups) > 1:
            # a script the task asks for: what each prints decides before any example call
            # (the calls are Python or JavaScript and never reach it)
            by_output = await self._script_vote(groups, best, scripts)
            if by_output is not None:
                return by_output, []
        vote_files = set(_vote_files(located)[0])
        if located.answer_file or not any(rel in vote_files for g in groups.values()
                                          for c in g for rel in c.files):
            # only an answer (or another file no code runs: a list the task asks for) changes:
            # no call of the code can tell the candidates apart, so the model's majority
            # answer decides without writing any
            chosen = await self._majority(groups, best, "only the answer file changes"
                                          if located.answer_file else "no candidate changes "
                                          "code the example calls could run")
            group = next((g for g in groups.values() if any(c is chosen for c in g)),
                         [chosen])
            same, computed = len(group), sum(1 for c in group if c.command)
            if len(groups) > 1 or same > 1:
                self.vote_note = (f"{same} of the {sum(map(len, groups.values()))} "
                                  "candidates that pass wrote this change" + (
                                      f", {computed} of them computed by a command (counted "
                                      "twice)" if computed else ""))
            return chosen, []
        examples = await self._example_calls(task, located)
        if not examples:
            await self.emit(NoticeEvent(message="vote: no usable example calls; keeping the "
                                                "best-ranked candidate"))
            return best, []
        calls = [ex.call for ex in examples]
        py_files, modules = _vote_files(located)
        # a worked-out result the candidate writes out as a literal, or gets by comparing with
        # the example's input, earns it nothing
        written = [ReproCheck(modules[0], ex.call, ex.expected) for ex in examples
                   if ex.expected is not None]
        originals = {rel: text for rel, text in located.files.items() if text is not None}

        def run(cand: Candidate) -> tuple[tuple[str, ...] | None, frozenset[str]]:
            with self._scratch(cand.files) as root:
                return (behaviour(root, modules, calls),
                        frozenset(pasted_answers(root, py_files, written, originals))
                        | frozenset(keyed_inputs(root, py_files, written, originals)))

        def broken(cand: Candidate) -> list[str]:
            with self._scratch(cand.files) as root:
                return broken_examples(root, modules, calls)

        # a worked-out result the untouched code already gives is no evidence of the change:
        # for a bug report it is often the reported wrong behaviour written out again
        # ("add_tag('b') returns ['a', 'b'] the second time"), and credit for it would go to
        # the candidates that keep the bug. Like a reproduction check, a result counts only
        # when the code as it is fails it.
        def untouched() -> tuple[str, ...] | None:
            with self._scratch({}) as root:
                return behaviour(root, modules, calls)

        if tuple(calls) not in self._untouched:  # the same calls every round: run them once
            self._untouched[tuple(calls)] = await asyncio.to_thread(untouched) or ()
        before = self._untouched[tuple(calls)]
        already = frozenset(ex.call for value, ex in zip(before, examples, strict=False)
                            if ex.expected is not None and same_result(value, ex.expected))
        if already:
            await self.emit(NoticeEvent(message=f"vote: {len(already)} worked-out result(s) "
                                                "the untouched code already gives earn no "
                                                "credit"))
        by_number: dict[int, Candidate] = {}
        sigs: dict[int, tuple[str, ...] | None] = {}
        hits: dict[int, int] = {}
        for same in groups.values():
            sig, pasted = await asyncio.to_thread(run, same[0])
            for cand in same:
                by_number[cand.number] = cand
                sigs[cand.number] = sig
                hits[cand.number] = reproduced(sig, examples, pasted | already) if sig else 0
        # a call that raises the same error on the untouched code and on every candidate says
        # more about the call (a list where the code takes rows) than about the code
        ran = [s for s in sigs.values() if s]
        wrong_calls = {ex.call for i, ex in enumerate(examples)
                       if i < len(before) and broken_calls((before[i],))
                       and all(i < len(s) and s[i] == before[i] for s in ran)}
        # and a call every candidate answers as the untouched code does reaches nothing the
        # candidates change (checks of the existing flatten() where the task adds chunk())
        inert = [i for i in range(min(len(before), len(calls)))
                 if all(i < len(s) and s[i] == before[i] for s in ran)]
        feedback = ""
        if self._reprobed or not ran:
            pass  # the calls are written again at most once
        elif len(wrong_calls) * 2 >= len(calls):
            # most calls do not fit the code: shown their errors (the code as it is says what
            # shape it takes)
            def misfits() -> list[str]:
                with self._scratch({}) as root:
                    return [b for b in broken_examples(root, modules, calls)
                            if any(b.startswith(f"{call} raised ") for call in wrong_calls)]

            errors = "\n".join((await asyncio.to_thread(misfits))[:4])
            why = (f"{len(wrong_calls)} of {len(calls)} example calls raise the same error on "
                   "the untouched code and on every candidate")
            feedback = ("Those checks were run on the code as it is and on several rewrites of "
                        "it. These calls fail the same way on every version, before reaching "
                        f"what the task is about:\n```\n{errors}\n```\nTheir arguments do not "
                        "have the shape the code takes: look at how the code uses each "
                        "parameter. Write the checks again, one per line, in one fenced block, "
                        "with arguments of the right shape.")
        elif calls and len(inert) == len(calls):
            why = (f"all {len(calls)} example calls give the same results on the untouched "
                   "code as on every candidate (they do not reach the change)")
            feedback = ("Those checks were run on the code as it is and on several rewrites of "
                        "it made for the task: every check gives the same result on all of "
                        "them, so none of them checks what the task adds or changes. Write "
                        "checks of what the task asks for (the functions, parameters and "
                        "behaviour it adds or changes), one per line, in one fenced block.")
            # the calls the task writes of names no code has yet ("chunk(array, size)")
            current = "\n".join(located.files.get(r) or "" for r in py_files)
            added = [n for n in dict.fromkeys(re.findall(r"\b([A-Za-z_]\w*)\s*\(", task))
                     if n not in BUILTIN_NAMES and not re.search(rf"\b{re.escape(n)}\b", current)]
            if added:
                feedback += (f" The task adds {', '.join(added[:4])}, which the code does not "
                             "have yet: call "
                             + ("it" if len(added) == 1 else "them") + " in the checks.")
        if feedback:
            # the new calls replace the ones that tell nothing apart
            self._reprobed = True
            await self.emit(NoticeEvent(message=f"vote: {why}; asking for the example calls "
                                                "again"))
            self._examples = None
            await self._example_calls(task, located, feedback)
            return await self._vote(task, located, tried, best, last=last)
        result = vote(sigs, hits, len(written) - len(already))
        if result is None:
            return best, []
        chosen = by_number[result.winner] if result.informative else best
        if not result.informative:
            # every candidate behaves the same on the calls (they differ where the calls do not
            # reach: a message)
            chosen = await self._majority(groups, best,
                                          "the candidates behave the same on the calls")
        self.vote_results = (hits.get(chosen.number, 0), len(written) - len(already))
        chosen_sig = sigs.get(chosen.number) or ()
        self.vote_misses = [(ex.call, value) for value, ex in zip(chosen_sig, examples,
                                                                 strict=False)
                            if ex.expected is not None and ex.call not in already
                            and not same_result(value, ex.expected)]
        if len(groups) > 1:
            self.vote_note = result.describe()
            shown = [ex.call if ex.expected is None else f"{ex.call} == {ex.expected}"
                     for ex in examples]
            await self.emit(NoticeEvent(
                message=f"vote on {len(calls)} example calls ({'; '.join(shown[:4])}"
                        f"{' ...' if len(calls) > 4 else ''}): " + self.vote_note))
        sig = sigs.get(chosen.number)
        if sig is None or not broken_calls(sig):
            return chosen, []
        # the model is not asked to make the code fit a call every version raises on
        shown = [b for b in await asyncio.to_thread(broken, chosen)
                 if not any(b.startswith(f"{call} raised ") for call in wrong_calls)]
        if wrong_calls:
            await self.emit(NoticeEvent(message=f"vote: {len(wrong_calls)} example call(s) "
                                                "raise the same error on the untouched code "
                                                "and on every candidate; not shown as errors "
                                                "to fix"))
        return chosen, shown

    async def _script_vote(self, groups: dict[str, list[Candidate]], best: Candidate,
                           scripts: list[str]) -> Candidate | None:
        """Among passing candidates that write shell scripts, one of those whose scripts print
        what most of them print, run in a copy of the project (the best-ranked one when it is
        among them); None when the outputs do not tell the candidates apart."""
        def outputs(cand: Candidate) -> tuple[tuple[int, str], ...]:
            with self._scratch(cand.files) as root:
                return tuple(script_output(root, rel) if (root / rel).is_file() else (127, "")
                             for rel in scripts)

        sigs = {key: await asyncio.to_thread(outputs, same[0]) for key, same in groups.items()}
        weights: dict[tuple[tuple[int, str], ...], int] = {}
        for key, same in groups.items():
            weights[sigs[key]] = weights.get(sigs[key], 0) + len(same)
        best_sig = next((sigs[k] for k, g in groups.items() if any(c is best for c in g)), None)
        winner = majority_output(weights, best_sig)
        if winner is None:
            return None
        members = [c for key, g in groups.items() if sigs[key] == winner for c in g]
        chosen = best if any(c is best for c in members) else min(members,
                                                                  key=lambda c: c.number)
        shown = "; ".join(f"{rel}: {out.splitlines()[0][:60] if out else '(nothing)'}"
                          for rel, (_rc, out) in zip(scripts, winner, strict=True))
        total = sum(weights.values())
        self.vote_note = (f"{weights[winner]} of the {total} candidates that pass print the "
                          f"same ({shown})")
        await self.emit(NoticeEvent(message=f"vote: ran {', '.join(scripts)} for each "
                                            f"candidate: {weights[winner]} of {total} print the "
                                            f"same ({shown}); keeping candidate {chosen.number}"))
        return chosen

    async def _targets_run(self, groups: dict[str, list[Candidate]], best: Candidate,
                           located: Located, makefiles: list[str]
                           ) -> tuple[dict[str, list[Candidate]], Candidate]:
        """The groups of passing candidates whose new make targets all run (``make target``
        in a copy of the project), and the best-ranked candidate among them; all of them when
        none or every one runs."""
        def failures(cand: Candidate) -> list[str]:
            out: list[str] = []
            with self._scratch(cand.files) as root:
                for rel in makefiles:
                    after = cand.files.get(rel)
                    for target in new_targets(located.files.get(rel) or "", after or ""):
                        rc, err = target_runs(root, rel, target)
                        if rc != 0:
                            out.append(f"make {target}: {err or f'exit {rc}'}")
            return out

        failed = {key: await asyncio.to_thread(failures, same[0])
                  for key, same in groups.items()}
        running = {key: same for key, same in groups.items() if not failed[key]}
        if not running or len(running) == len(groups):
            return groups, best
        lost = sorted(c.number for key, same in groups.items() if failed[key] for c in same)
        why = next(f[0] for f in failed.values() if f)
        await self.emit(NoticeEvent(message=f"vote: the make targets candidate(s) "
                                            f"{', '.join(map(str, lost))} add fail when run "
                                            f"({why}); they are left out"))
        if not any(c is best for same in running.values() for c in same):
            best = max((c for same in running.values() for c in same), key=Candidate.rank)
        return running, best

    def _settled(self, tried: list[Candidate], located: Located, left: int) -> str:
        """When the vote is the model's majority answer (only an answer or data file changes)
        and the passing candidates that wrote one answer lead the next by more votes than
        ``left`` more candidates could bring: how many they are ("3", "3 (2 computed, counted
        twice)"); else ""."""
        vote_files = set(_vote_files(located)[0])
        groups: dict[str, list[Candidate]] = {}
        for cand in tried:
            if cand.result is not None and cand.result.passed:
                if any(rel in vote_files or runnable_script(rel, text)
                       for rel, text in cand.files.items()) and not located.answer_file:
                    return ""  # code or a script changes: its behaviour votes, not its text
                key = repr(sorted((r, t.rstrip()) for r, t in cand.files.items()))
                groups.setdefault(key, []).append(cand)
        counts = sorted((_votes(g) for g in groups.values()), reverse=True) + [0, 0]
        if not groups or counts[0] - counts[1] <= left:
            return ""
        lead = max(groups.values(), key=_votes)
        computed = sum(1 for c in lead if c.command)
        return str(len(lead)) + (f" ({computed} computed, counted twice)" if computed else "")

    async def _majority(self, groups: dict[str, list[Candidate]], best: Candidate,
                        why: str) -> Candidate:
        """The change most passing candidates wrote word for word: the model's own majority
        answer (self-consistency), before the best-ranked one."""
        def has_best(g: list[Candidate]) -> bool:
            return any(c is best for c in g)

        same = max(groups.values(), key=lambda g: (_votes(g), has_best(g), -g[0].number),
                   default=[best])
        if _votes(same) > 1 and not has_best(same):
            passing = sum(len(g) for g in groups.values())
            computed = sum(1 for c in same if c.command)
            by = f" ({computed} computed by a command, counted twice)" if computed else ""
            await self.emit(NoticeEvent(message=f"vote: {why}; {len(same)} of the {passing} "
                                                f"that pass wrote the change of candidate "
                                                f"{same[0].number} word for word{by}"))
            return same[0]
        return best

    def _debugging(self, base: list[Message], best: Candidate, broken: list[str],
                   fmt: EditFormat, located: Located) -> list[Message]:
        """The next round's request after the chosen code raised a programming error on the
        example calls: the errors and the lines that raised them."""
        shown = "\n".join(broken[:4])[-MAX_SHOWN_FAILURE:]
        return [*base, {"role": "assistant", "content": best.reply},
                {"role": "user", "content": (
                    "That code was run on example calls in a copy of the project, and it "
                    f"breaks:\n```\n{shown}\n```\nFix the code so these calls work as the task "
                    "describes. " + fmt.instructions(located.editable))}]

    def _review(self, base: list[Message], best: Candidate, misses: list[tuple[str, str]],
                fmt: EditFormat, located: Located) -> list[Message]:
        """The request after the chosen code missed results the model worked out: what the
        code gives on those calls (not what was worked out), to be checked against the task."""
        if not misses:
            return base
        shown = "\n".join(f"{call}  ->  {value}" for call, value in misses[:6])
        return [*base, {"role": "assistant", "content": best.reply},
                {"role": "user", "content": (
                    "That code was run on example calls in a copy of the project. On these "
                    f"calls it gives:\n```\n{shown}\n```\nWork out by hand what the task "
                    "says each of these calls must give. Where the code gives something else, "
                    "fix the code. " + fmt.instructions(located.editable))}]

    def _refinement(self, base: list[Message], best: Candidate, fmt: EditFormat,
                    located: Located, oracle: Oracle) -> list[Message]:
        failure = (best.result.detail if best.result else "").strip()[-MAX_SHOWN_FAILURE:]
        if best.files:
            said = ("That change was applied to a copy of the project and checked. It is not "
                    f"right yet:\n```\n{failure}\n```\n")
        else:
            said = (f"That reply did not change the code ({failure.removeprefix('no usable change: ')}"
                    "). Repeating a file unchanged does not help: change the code.\n")
        return [*base, {"role": "assistant", "content": best.reply},
                {"role": "user", "content": (
                    f"{said}What must hold: {oracle.description}. Fix it. "
                    + fmt.instructions(located.editable))}]

    @staticmethod
    def _verdict(cand: Candidate, fmt: EditFormat) -> str:
        r = cand.result
        files = ", ".join(cand.files) or "nothing"
        state = "PASSES the oracle" if r and r.passed else (
            f"fails ({(r.detail if r else '').strip().splitlines()[0][:160] if r and r.detail else '?'})")
        how = f"output of `{cand.command[:120]}`" if cand.command else fmt.name
        return (f"candidate {cand.number} ({how}, temperature {cand.temperature:g}): "
                f"changes {files}; {state}")

    async def _finish(self, best: Candidate | None, tried: list[Candidate], oracle: Oracle,
                      located: Located) -> SolveOutcome:
        # candidates asked for (one stopped unfinished is not among those tried)
        n = max([len(tried), *(c.number for c in tried)])
        if best is None or best.result is None or not best.files:
            why = best.result.detail.splitlines()[0] if best and best.result else "no reply"
            return SolveOutcome(False, f"no usable candidate in {n}: {why}", "none", [],
                                self.usage, self.calls)
        r = best.result
        # some of the failing tests or of the task's examples now pass: keep that much, unless
        # it breaks tests that passed at the start (seen: a candidate that stopped the crash by
        # deleting every space from the text was kept, and the user's passing test failed)
        partial = (not r.passed and r.score > 0 and not r.regressed
                   and oracle.kind in ("tests", "repro"))
        if not r.passed and not partial:
            first = r.detail.strip().splitlines()[0] if r.detail.strip() else "failed"
            return SolveOutcome(False, f"no candidate of {n} passed the oracle ({oracle.kind}): "
                                f"best: {first}", "none", [], self.usage, self.calls)
        if self.allow_edit is not None and not await self.allow_edit(
                self._diff(located, best.files)):
            return SolveOutcome(False, f"the user did not allow the edit ({best.name} of {n})",
                                "none", [], self.usage, self.calls)
        changed = self._apply(best.files)
        if r.passed and oracle.no_result_checked:
            # "returns without an error" holds for code that catches the error and returns
            # anything: the crash is gone, the result is unchecked
            voted = f" ({self.vote_note})" if self.vote_note else ""
            return SolveOutcome(True, f"applied candidate {best.number} of {n}{voted} "
                                f"({', '.join(changed)}): {oracle.description.split(' (fails')[0]}"
                                f", but what it {'returns' if oracle.repro else 'does'} is "
                                "NOT verified", "none", changed,
                                self.usage, self.calls)
        if r.passed and oracle.strong and not oracle.from_document:
            return SolveOutcome(True, f"{best.name} of {n} passed the oracle "
                                f"({oracle.description}); changed {', '.join(changed)}",
                                oracle.kind, changed, self.usage, self.calls)
        if r.passed:
            voted = f" ({self.vote_note})" if self.vote_note else ""
            if oracle.from_document:
                # a specification's examples pass; its other rules were never checked
                return SolveOutcome(True, f"applied candidate {best.number} of {n}{voted} "
                                    f"({', '.join(changed)}): it passes the document's "
                                    f"examples, but the rest of the specification is NOT "
                                    f"verified", "none", changed, self.usage, self.calls)
            return SolveOutcome(True, f"applied candidate {best.number} of {n}{voted} "
                                f"({', '.join(changed)}), but it is NOT verified: "
                                f"{oracle.description}", "none", changed, self.usage, self.calls)
        return SolveOutcome(False, f"partial: kept candidate {best.number} of {n}, which passes "
                            f"{r.score:.0%} of the oracle; still failing: "
                            f"{r.detail.strip().splitlines()[0] if r.detail.strip() else '?'}",
                            oracle.kind, changed, self.usage, self.calls)

    @staticmethod
    def _diff(located: Located, files: dict[str, str]) -> str:
        """The change as a unified diff (what the user confirms in ask mode)."""
        out: list[str] = []
        for rel, text in files.items():
            old = located.files.get(rel) or ""
            out += difflib.unified_diff(old.splitlines(keepends=True),
                                        text.splitlines(keepends=True), f"a/{rel}", f"b/{rel}")
        return "".join(out)

    def _apply(self, files: dict[str, str]) -> list[str]:
        """Write the chosen candidate to the real workspace, each file recorded in the open
        snapshot first so `smallcode undo` reverts the whole change."""
        changed: list[str] = []
        for rel, text in files.items():
            path = self.ws.resolve(rel)
            pre = path.read_bytes() if path.exists() else None
            if self.snapshots is not None:
                self.snapshots.record(rel, pre)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(rel)
        return changed


COMPUTE_ASK = ("\n\nDo not write {file} yourself: its content is computed from the project's "
               "files. Reply with one shell command, run from the project's root (grep, find, "
               "wc, sort and the like), whose output is exactly what {file} must contain, in "
               "one ```bash block, and nothing else.")
COMMAND_TOKENS = 200
# a command that prints only text written into it computes nothing
_LITERAL_ONLY = re.compile(r"^\s*(?:echo|printf)\b[^|;&`$]*$|<<")
# a new file whose content is data a command can print
COMPUTED_SUFFIXES = ("", ".txt", ".csv", ".tsv", ".list", ".lst")


def _votes(group: list[Candidate]) -> int:
    """The votes of candidates that wrote the same answer: an answer a command read off the
    files counts twice one the model recalled."""
    return sum(2 if c.command else 1 for c in group)


def _computed_file(located: Located) -> str | None:
    """The one new data file the task asks for (``answer.txt``, ``todos.txt``), when the
    task's only new file is one."""
    new = [r for r in located.editable if located.files.get(r) is None]
    if len(new) != 1 or Path(new[0]).suffix.lower() not in COMPUTED_SUFFIXES:
        return None
    return new[0]


CODE_ONLY = ("\n\nThis time skip the explanation: reply with only the file blocks asked for "
             "above.")


def _vote_files(located: Located) -> tuple[list[str], list[str]]:
    """The files the vote's example calls run against and the names they are loaded by: the
    Python modules that may change, else the CommonJS files (by path); none for other code."""
    # (a task whose only change is an answer file writes no calls: the candidates' majority
    # answer decides)
    pool = located.editable
    py = [r for r in pool if r.endswith(".py")]
    if py:
        return py, [module_name(r) for r in py]
    js = [r for r in pool if r.endswith(JS_CODE) and not testrunner.is_test_file(r)]
    return js, list(js)


def _anew(base: list[Message], failure: str) -> list[Message]:
    """The first request again, with what went wrong when an earlier attempt ran (not its code:
    a round's other candidates write the code anew instead of repairing the failed one)."""
    failure = failure.strip()[-MAX_SHOWN_FAILURE:]
    if not failure:
        return base
    return _appended(base, "\n\nAn earlier attempt at this task was run and failed:\n```\n"
                     + failure + "\n```\nWrite the code anew, and avoid that mistake.")


def _appended(messages: list[Message], text: str) -> list[Message]:
    """``messages`` with ``text`` added to the end of the last one (the prefix stays cached)."""
    last = messages[-1]
    return [*messages[:-1], {**last, "content": str(last["content"]) + text}]


def _code_only(messages: list[Message]) -> list[Message]:
    """The request for every candidate of a round after its first: the same prompt (its cached
    prefix is shared) asking for the code without the explanation the first one wrote. The 1.5B writes
    paragraphs of prose before the code when allowed (seen: 500 of 880 completion tokens), so
    this about doubles the candidates a time budget buys."""
    return _appended(messages, CODE_ONLY)


def outcome_event(outcome: SolveOutcome, turns: int) -> DoneEvent:
    """The DoneEvent of a solve (``verified`` says how the result was checked)."""
    return DoneEvent(success=outcome.success, reason=outcome.reason, verified=outcome.verified,
                     summary=outcome.reason, turns=turns, tool_calls=0,
                     prompt_tokens=outcome.usage.prompt_tokens,
                     completion_tokens=outcome.usage.completion_tokens)


__all__ = ["Candidate", "SolveOutcome", "Solver", "outcome_event"]
