"""Benchmark result records: one :class:`TaskRecord` per attempt, one :class:`BenchRun` per run.

Results are JSON files under ``<project>/.smallcode/benchmarks/<timestamp>-<label>.json``; the
transcripts (the agent's ``--json`` event lines) sit next to them in ``<timestamp>-<label>/``.
"""

from __future__ import annotations

import collections
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

RESULTS_SUBDIR = Path(".smallcode") / "benchmarks"


class ResultsError(ValueError):
    """A results file is missing or malformed."""


class TaskRecord(BaseModel):
    """The outcome of one attempt at one task."""

    task_id: str
    category: str
    language: str
    attempt: int = 0
    passed: bool
    wall_seconds: float
    turns: int = 0
    tool_calls: int = 0
    prompt_tokens: int | None = 0  # None: unknown (a peer agent that reports no usage)
    completion_tokens: int | None = 0
    # of the prompt tokens, those the server reused from its prompt cache (None: not reported)
    cached_tokens: int | None = None
    tokens_from: str = "transcript"  # transcript | meter (counted on the wire) | unknown
    agent_exit_code: int | None = None
    agent_timed_out: bool = False
    agent_success: bool | None = None  # the done event's own verdict, if one arrived
    agent_reason: str = ""
    verify_exit_code: int | None = None
    verify_output: str = ""
    verify_seconds: float = 0.0
    changed_files: list[str] = Field(default_factory=list)
    error: str = ""  # the runner's own problem (agent would not start ...), not a task failure
    transcript: str = ""  # path of the transcript (a peer's: its output), relative to the results
    events: int = 0
    # with --score-candidates: the distinct candidate edits the transcript records, and how many
    # of them pass the task's verify (None: not scored)
    candidates: int | None = None
    candidates_passing: int | None = None

    @property
    def tokens(self) -> int | None:
        if self.prompt_tokens is None or self.completion_tokens is None:
            return None
        return self.prompt_tokens + self.completion_tokens

    @property
    def processed_tokens(self) -> int | None:
        """The tokens the model computed: the prompt tokens not taken from the server's cache,
        and the completion (candidates sampled from one cached prompt cost their prompt once)."""
        if self.tokens is None or self.cached_tokens is None:
            return None
        return self.tokens - self.cached_tokens


class RunSummary(BaseModel):
    tasks: int
    attempts: int
    passed_tasks: int  # pass@k: at least one attempt passed
    pass_rate: float  # passed_tasks / tasks
    pass_at_1: float  # mean success over all attempts
    total_tokens: int | None  # None when any attempt's tokens are unknown
    tokens_per_solved: float | None  # all tokens spent / attempts that passed (None: unknown)
    # the same without the prompt tokens the server took from its cache (None: not reported)
    processed_tokens: int | None = None
    processed_per_solved: float | None = None
    mean_wall_seconds: float
    total_wall_seconds: float
    mean_turns: float
    by_category: dict[str, list[int]] = Field(default_factory=dict)  # category -> [passed, total]
    # how the agent's exit code (0: "done and checked") matched the verify's verdict, per
    # attempt: exit 0 & passed, exit 0 & failed, other exit & passed, other exit & failed
    exit_vs_verdict: dict[str, int] = Field(default_factory=dict)
    scored_tasks: int = 0  # tasks whose candidates were scored (--score-candidates)
    solvable_tasks: int = 0  # of those, tasks where at least one candidate passed the verify


class BenchRun(BaseModel):
    """One benchmark run: what was run, with which model and settings, and every attempt."""

    format: int = 1
    label: str
    agent: str = "smallcode"  # smallcode, or the peer's program (aider-run ...)
    suite: str
    suite_path: str = ""
    started_at: str
    finished_at: str = ""
    smallcode_version: str
    model: str | None = None
    base_url: str | None = None
    endpoint_source: str = ""  # configured | detected:<kind> | embedded:<size> (shared by tasks)
    model_served: str | None = None  # what the server's /v1/models reported
    settings: dict[str, str] = Field(default_factory=dict)
    repeats: int = 1
    max_turns: int | None = None
    task_filter: list[str] = Field(default_factory=list)
    agent_command: list[str] = Field(default_factory=list)
    host: dict[str, Any] = Field(default_factory=dict)
    complete: bool = False
    records: list[TaskRecord] = Field(default_factory=list)

    def task_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.records:
            seen.setdefault(r.task_id, None)
        return list(seen)

    def attempts_of(self, task_id: str) -> list[TaskRecord]:
        return [r for r in self.records if r.task_id == task_id]

    def task_passed(self, task_id: str) -> bool:
        """pass@k for one task: any attempt passed."""
        return any(r.passed for r in self.attempts_of(task_id))

    def summary(self) -> RunSummary:
        ids = self.task_ids()
        attempts = len(self.records)
        passed_attempts = sum(r.passed for r in self.records)
        passed_tasks = sum(self.task_passed(t) for t in ids)
        counts = [r.tokens for r in self.records]
        total_tokens = None if None in counts else sum(c or 0 for c in counts)
        computed = [r.processed_tokens for r in self.records]
        processed = None if None in computed or not computed else sum(c or 0 for c in computed)
        walls = [r.wall_seconds for r in self.records]
        by_cat: dict[str, list[int]] = {}
        for t in ids:
            cat = self.attempts_of(t)[0].category
            entry = by_cat.setdefault(cat, [0, 0])
            entry[0] += int(self.task_passed(t))
            entry[1] += 1
        scored = [t for t in ids if any(r.candidates is not None for r in self.attempts_of(t))]
        solvable = [t for t in scored if any(r.candidates_passing or r.passed
                                             for r in self.attempts_of(t))]
        return RunSummary(
            tasks=len(ids),
            attempts=attempts,
            passed_tasks=passed_tasks,
            pass_rate=passed_tasks / len(ids) if ids else 0.0,
            pass_at_1=passed_attempts / attempts if attempts else 0.0,
            total_tokens=total_tokens,
            tokens_per_solved=(total_tokens / passed_attempts
                               if passed_attempts and total_tokens is not None else None),
            processed_tokens=processed,
            processed_per_solved=(processed / passed_attempts
                                  if passed_attempts and processed is not None else None),
            mean_wall_seconds=sum(walls) / len(walls) if walls else 0.0,
            total_wall_seconds=sum(walls),
            mean_turns=sum(r.turns for r in self.records) / attempts if attempts else 0.0,
            by_category=dict(sorted(by_cat.items())),
            exit_vs_verdict=dict(collections.Counter(
                f"{'0' if r.agent_exit_code == 0 else 'other'}/{'pass' if r.passed else 'fail'}"
                for r in self.records)),
            scored_tasks=len(scored),
            solvable_tasks=len(solvable),
        )


def results_dir(project: str | os.PathLike[str]) -> Path:
    return Path(project) / RESULTS_SUBDIR


def save_run(run: BenchRun, path: Path) -> None:
    """Write atomically, so an interrupted run never leaves half a JSON file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(run.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def load_run(path: str | os.PathLike[str]) -> BenchRun:
    p = Path(path)
    if not p.is_file():
        raise ResultsError(f"{p}: no such results file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{p}: not valid JSON: {exc}") from None
    try:
        return BenchRun.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise ResultsError(f"{p}: not a smallcode benchmark result ({loc}: {first['msg']})") from None


@dataclass(frozen=True)
class StoredRun:
    path: Path
    run: BenchRun


def list_runs(directory: Path) -> list[StoredRun]:
    """Every readable results file in ``directory``, oldest first (file names start with the time)."""
    out = []
    if directory.is_dir():
        for p in sorted(directory.glob("*.json")):
            try:
                out.append(StoredRun(p, load_run(p)))
            except ResultsError:
                continue
    return out


def resolve_run(ref: str, directory: Path) -> Path:
    """A results file path, or a label / file-name fragment matched in ``directory`` (newest wins).

    ``latest`` is the newest run; ``latest~1`` the one before it.
    """
    p = Path(ref)
    if p.is_file():
        return p
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if ref == "latest" or ref.startswith("latest~"):
        back = int(ref.split("~", 1)[1]) if "~" in ref else 0
        if back < len(files):
            return files[-1 - back]
        raise ResultsError(f"'{ref}': only {len(files)} runs in {directory}")
    exact = [f for f in files if f.stem == ref or f.stem.split("-", 1)[-1] == ref]
    matches = exact or [f for f in files if ref in f.stem]
    if not matches:
        raise ResultsError(f"no results file or run matching '{ref}' in {directory}")
    return matches[-1]
