"""The plan tracker: when a task needs a plan, the one-shot plan request, capturing the steps, the
``ACTIVE PLAN (step k of n)`` anchor re-injected every turn, and advancement that needs evidence.

A step is marked ✓ only when the model says "step N done" **and** the step's evidence holds: the
files it names were changed during the plan and validate, or the command it names succeeded.
Steps that only read (``Read``, ``Inspect``, ``Identify``...) or name neither files nor a command
need the claim alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smallcode.core.model.types import ChatModel

from .depgraph import mentioned_paths

MAX_PLAN_STEPS = 8
LONG_MESSAGE_CHARS = 600

PLAN_REQUEST = (
    "This task has several parts. Before any tool call, write a numbered plan of at most "
    f"{MAX_PLAN_STEPS} steps, one line each, in the form `1. <imperative sentence>`. Name in each "
    "step the exact files (in backticks) it changes, and the command it runs, if any. Write "
    "\"after step N\" in a step that needs an earlier step's result. Then start step 1 "
    "immediately. When a step is finished, say \"step N done\"."
)

_HOUSEKEEPING = re.compile(
    r"^\s*(?:open (?:the |your )?(?:project|folder|editor|terminal|ide|file explorer)|"
    r"navigate to|go to the|cd into|launch|start (?:your|the) (?:editor|ide)|save (?:the |all )?"
    r"(?:file|files|changes)|close|commit|push|review (?:the|your) changes|make sure you have)\b",
    re.IGNORECASE)


def actionable_steps(steps: list[str]) -> list[str]:
    """Drop editor housekeeping a small model puts in plans ("Open the project in your editor",
    "Navigate to the folder", "Commit and push"): a worker given such a step drifts into git
    commands. Kept when every step is housekeeping (then the model's plan is all there is)."""
    kept = [s for s in steps if not _HOUSEKEEPING.match(s)]
    return kept or steps


_PLAN_WORDS = re.compile(r"\b(?:refactor\w*|migrat(?:e|es|ed|ing)(?!\s+(?:folder|directory|dir|file)s?\b)|"
                         r"migration\s+(?:to|from|of)\b|rewrit\w*|rewrote|restructur\w*|"
                         r"overhaul\w*|port(?:ing)?\s+\w+\s+to)\b", re.IGNORECASE)
_UNIT = r"(?:feature|module|subsystem|system|service|api|package|component|plugin|endpoint)s?"
_IMPLEMENT = re.compile(rf"\b(?:implement|build)\b[^.\n]{{0,80}}?\b{_UNIT}\b"
                        rf"|\b(?:add|create|write)\s+(?:a\s+|an\s+)?new\s+(?:[\w-]+\s+){{0,3}}?"
                        rf"{_UNIT}\b", re.IGNORECASE)
_STEP_BY_STEP = re.compile(r"\bstep[- ]by[- ]step\b|\bin (?:several|multiple) steps\b",
                           re.IGNORECASE)
_MULTI_FILES = re.compile(r"\b(?:multiple|several|all|many|every|each|across)\s+(?:of\s+)?"
                          r"(?:the\s+)?(?:\w+\s+)?(?:files|modules)\b", re.IGNORECASE)
_IMPERATIVE = {
    "add", "create", "update", "fix", "rename", "remove", "delete", "write", "move", "change",
    "make", "implement", "replace", "refactor", "extract", "run", "test", "ensure", "convert",
    "split", "merge", "introduce", "document", "migrate", "rewrite", "use", "wire", "register",
    "then", "finally", "also", "next", "modify", "edit", "generate", "install", "configure",
}
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")
_DONE_CLAIM = re.compile(
    r"\bstep\s*#?(\d{1,2})\s*(?:is\s+|has\s+been\s+|was\s+)?(?:now\s+)?"
    r"(?:done|complete[d]?|finished|ok)\b"
    r"|\b(?:completed|finished|done\s+with)\s+step\s*#?(\d{1,2})\b"
    r"|✓\s*(?:step\s*)?(\d{1,2})\b", re.IGNORECASE)
_READ_ONLY = re.compile(r"^\s*(?:read|inspect|look|review|identify|find|locate|understand|"
                        r"explore|examine|check|study|open|search|list|analy[sz]e)\b",
                        re.IGNORECASE)
_RUN_TESTS = re.compile(r"\b(?:run|execute|rerun|re-run)\s+(?:all\s+)?(?:the\s+)?"
                        r"(?:unit\s+)?(?:tests?|test suite|specs?)\b", re.IGNORECASE)
_RUN_CMD = re.compile(r"\b(?:run|execute|rerun|re-run|invoke)\s+`([^`\n]+)`", re.IGNORECASE)
_TEST_CMD = re.compile(r"\b(?:pytest|unittest|jest|vitest|mocha|go test|cargo test|npm test|"
                       r"npm run test|yarn test|pnpm test|tox|nox|make test|rspec|phpunit)\b")

STATUS_MARK = {"done": "✓", "active": "→", "pending": " ", "failed": "✗", "skipped": "-"}


def detect_plan_needed(message: str) -> bool:
    """Whether a message is big enough to deserve a plan."""
    text = message.strip()
    if not text:
        return False
    if len(text) >= LONG_MESSAGE_CHARS:
        return True
    if _PLAN_WORDS.search(text) or _IMPLEMENT.search(text) or _STEP_BY_STEP.search(text) \
            or _MULTI_FILES.search(text):
        return True
    sentences = [s for s in _SENTENCE_SPLIT.split(text) if s.strip()]
    imperative = 0
    for s in sentences:
        words = re.findall(r"[A-Za-z']+", s.lower())
        if words and words[0] in _IMPERATIVE:
            imperative += 1
    return imperative >= 3


@dataclass
class PlanStep:
    n: int
    text: str
    status: str = "pending"  # pending | active | done | failed | skipped
    files: list[str] = field(default_factory=list)
    command: str | None = None  # a backticked command, or "tests"
    read_only: bool = False
    batch: int | None = None
    note: str = ""  # why the step is not done yet / why it failed

    def as_event(self) -> dict[str, Any]:
        return {"n": self.n, "text": self.text, "status": self.status, "batch": self.batch}


def step_from_text(n: int, text: str) -> PlanStep:
    cmd_match = _RUN_CMD.search(text)
    command = cmd_match.group(1).strip() if cmd_match else ("tests" if _RUN_TESTS.search(text)
                                                              else None)
    return PlanStep(n=n, text=text, files=mentioned_paths(text), command=command,
                    read_only=bool(_READ_ONLY.match(text)))


def _command_matches(wanted: str, ran: str) -> bool:
    if wanted == "tests":
        return bool(_TEST_CMD.search(ran))
    norm = " ".join(wanted.split())
    return norm in " ".join(ran.split())


@dataclass
class Observation:
    """What :meth:`PlanTracker.observe` did with one reply."""

    advanced: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # step -> why the claim was not enough

    @property
    def changed(self) -> bool:
        return bool(self.advanced)

    def message_for_model(self) -> str:
        """A short note for the model when a claim was refused ("" otherwise)."""
        return "\n".join(f"Step {n} is not done yet: {why}." for n, why in self.refused.items())


class PlanTracker:
    """Steps with status, the anchor, and evidence-checked advancement; persisted in the session
    via :meth:`to_dict` / :meth:`from_dict`."""

    def __init__(self, root: str | Path | None = None, steps: Sequence[str] | None = None):
        self.root = Path(root) if root is not None else None
        self.steps: list[PlanStep] = []
        self.changed_files: set[str] = set()
        self.commands: list[tuple[str, bool]] = []
        self.source = ""
        self.last_refusal = ""  # why the latest "step N done" claim was not accepted
        if steps:
            self.set_steps(steps)

    # -- capture -----------------------------------------------------------------------------
    def set_steps(self, steps: Sequence[str]) -> None:
        self.steps = [step_from_text(i, s.strip()) for i, s in
                      enumerate([s for s in steps if s.strip()][:MAX_PLAN_STEPS], 1)]
        self.changed_files.clear()
        self.commands.clear()
        if self.steps:
            self.steps[0].status = "active"

    async def capture(self, text: str, model: ChatModel | None = None) -> bool:
        """Take the plan out of the model's reply (numbered lines parse without a model call;
        prose goes to the extract-plan micro-task, regex fallback). True when a plan was found."""
        from smallcode.core.features.plan_extract import extract_plan

        result = await extract_plan(model, text)
        if not result.value:
            return False
        self.source = result.source
        self.set_steps(actionable_steps(list(result.value)))
        return bool(self.steps)

    # -- state -------------------------------------------------------------------------------
    @property
    def active(self) -> PlanStep | None:
        return next((s for s in self.steps if s.status == "active"), None)

    @property
    def complete(self) -> bool:
        return bool(self.steps) and all(s.status in ("done", "skipped") for s in self.steps)

    def step(self, n: int) -> PlanStep:
        return self.steps[n - 1]

    def anchor(self) -> str:
        """The block re-injected on every turn, e.g. ``ACTIVE PLAN (step 3 of 5):``."""
        if not self.steps:
            return ""
        total = len(self.steps)
        active = self.active
        if active is not None:
            head = f"ACTIVE PLAN (step {active.n} of {total}):"
        elif self.complete:
            head = f"PLAN COMPLETE ({total} of {total}):"
        else:
            current = next((s.n for s in self.steps if s.status not in ("done", "skipped")), total)
            head = f"ACTIVE PLAN (step {current} of {total}):"
        lines = [head] + [f"{STATUS_MARK.get(s.status, ' ')} {s.n}. {s.text}" for s in self.steps]
        return "\n".join(lines)

    def volatile_anchor(self) -> str | None:
        """For ``agent.volatile``: the anchor while the plan is open, None once it is complete."""
        return None if not self.steps or self.complete else self.anchor()

    def event_steps(self) -> list[dict[str, Any]]:
        return [s.as_event() for s in self.steps]

    # -- advancement -------------------------------------------------------------------------
    def evidence(self, step: PlanStep, changed_files: Iterable[str] | None = None,
                 commands: Iterable[tuple[str, bool]] | None = None) -> str | None:
        """None when the step's evidence holds, else why not. Judged on the plan's changed
        files and commands so far, or on the ones given (a step worker's own)."""
        changed = set(self.changed_files if changed_files is None else changed_files)
        ran = list(self.commands if commands is None else commands)
        if step.command is not None:
            if any(ok and _command_matches(step.command, cmd) for cmd, ok in ran):
                return None
            if not step.files or step.read_only:
                what = "the tests" if step.command == "tests" else f"`{step.command}`"
                return f"{what} did not run successfully yet"
        if step.read_only or not step.files:
            return None
        touched = [f for f in step.files if f in changed]
        if not touched:
            return f"{', '.join(step.files)} {'was' if len(step.files) == 1 else 'were'} not changed"
        if self.root is not None:
            from smallcode.core.edit.validate import format_diagnostics, validate_file

            for rel in touched:
                if not (self.root / rel).is_file():
                    continue  # removed by the step
                diags = validate_file(self.root / rel, self.root)
                if diags:
                    return f"{rel} does not validate: {format_diagnostics(diags, limit=2)}"
        return None

    def observe(self, reply_text: str, changed_files: Iterable[str] = (),
                command_results: Iterable[tuple[str, bool] | dict[str, Any]] = ()) -> Observation:
        """Call after each agent turn with the model's text, the files the turn changed and the
        commands it ran ((command, ok) or {"command", "ok"}). Advances steps whose "step N done"
        claim is backed by evidence; refused claims are reported (give the note to the model)."""
        self.changed_files.update(changed_files)
        for item in command_results:
            if isinstance(item, dict):
                self.commands.append((str(item.get("command", "")), bool(item.get("ok"))))
            else:
                self.commands.append((str(item[0]), bool(item[1])))
        obs = Observation()
        claimed = sorted({int(g) for m in _DONE_CLAIM.finditer(reply_text or "")
                          for g in m.groups() if g})
        for n in claimed:
            if not 1 <= n <= len(self.steps) or self.steps[n - 1].status in ("done", "skipped"):
                continue
            step = self.steps[n - 1]
            why = self.evidence(step)
            if why is None:
                step.status, step.note = "done", ""
                obs.advanced.append(n)
            else:
                step.note = why
                obs.refused[n] = why
        if obs.advanced:
            self._activate_next()
        if obs.refused or obs.advanced:
            self.last_refusal = obs.message_for_model()
        return obs

    def mark(self, n: int, status: str, note: str = "") -> None:
        step = self.steps[n - 1]
        step.status, step.note = status, note
        if status in ("done", "skipped", "failed") and self.active is None:
            self._activate_next()

    def _activate_next(self) -> None:
        for s in self.steps:
            if s.status == "active":
                s.status = "pending"
        nxt = next((s for s in self.steps if s.status == "pending"), None)
        if nxt is not None:
            nxt.status = "active"

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"steps": [asdict(s) for s in self.steps], "changed_files": sorted(self.changed_files),
                "commands": [list(c) for c in self.commands], "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any], root: str | Path | None = None) -> PlanTracker:
        tracker = cls(root)
        fields = set(PlanStep.__dataclass_fields__)
        tracker.steps = [PlanStep(**{k: v for k, v in s.items() if k in fields})
                         for s in data.get("steps", [])]
        tracker.changed_files = set(data.get("changed_files", []))
        tracker.commands = [(str(c[0]), bool(c[1])) for c in data.get("commands", [])]
        tracker.source = str(data.get("source", ""))
        return tracker


__all__ = ["MAX_PLAN_STEPS", "PLAN_REQUEST", "STATUS_MARK", "Observation", "PlanStep",
           "PlanTracker", "detect_plan_needed", "step_from_text"]
