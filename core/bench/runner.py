"""The benchmark runner: each task in a fresh git-initialised copy, the agent as a subprocess, verify.

For every task (and every repeat) the runner copies ``repo/`` into a temporary folder, commits it,
runs ``smallcode run --yes --json --max-turns K "<instruction>"`` there under the task's timeout,
then copies ``hidden/`` in and runs the verify command. The agent's JSON event lines are the
transcript; the final ``done`` event (or the ``usage`` events) give turns, tool calls and tokens.
Settings to compare (``agent.router=false`` ...) reach the agent as ``SMALLCODE_<SECTION>__<KEY>``
environment variables, so an ablation is one command.

A peer agent (Aider ...) runs through the same runner and oracles when its command line holds
placeholders (see :data:`PLACEHOLDERS`): it is then run exactly as given, with nothing appended,
and judged by the task's verify command like smallcode. Its output is kept as a plain-text log;
its model calls and tokens are counted on the wire by a :class:`UsageMeter` when it takes
``{base_url}``, and recorded as unknown (None) otherwise.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from smallcode.core import __version__
from smallcode.core.bench.meter import UsageMeter
from smallcode.core.bench.results import BenchRun, TaskRecord, results_dir, save_run
from smallcode.core.bench.tasks import (
    BenchTask,
    filter_tasks,
    load_suite,
    prepare_workspace,
    run_verify,
)

DEFAULT_AGENT_COMMAND: tuple[str, ...] = (sys.executable, "-m", "smallcode.cli.main", "run")
DEFAULT_MAX_TURNS = 12
STDERR_TAIL = 2000

# Placeholders in a peer agent's command line, filled in for every attempt:
#   {instruction}  the task's instruction, one argument
#   {files}        every file of the task's repo, one argument each, relative to the workspace
#                  (hidden ones such as .github/workflows/ci.yml included; .git/ excluded); must
#                  stand alone as an argument
#   {base_url}     the model server's OpenAI-compatible base URL (through the usage meter)
#   {model}        --model, else the model the server lists
#   {workspace}    the absolute path of the attempt's fresh workspace (also the agent's cwd)
PLACEHOLDERS = ("instruction", "files", "base_url", "model", "workspace")
_PLACEHOLDER_RE = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_INTERPRETERS = re.compile(r"^(python[0-9.]*|bash|sh|env|node|uv|uvx|npx)$")


class BenchError(ValueError):
    """Bad benchmark options (unknown setting, empty task selection ...)."""


def parse_setting_overrides(items: list[str]) -> dict[str, str]:
    """``["agent.router=false", ...]`` -> ``{"agent.router": "false"}``, checked against Settings.

    Unknown sections or keys and values of the wrong type are rejected with a message naming them,
    before any task runs.
    """
    from smallcode.core.config import Settings

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BenchError(f"--set '{item}': expected section.key=value, e.g. agent.router=false")
        parts = key.split(".")
        if len(parts) < 2 or not all(parts):
            raise BenchError(f"--set '{item}': the key needs a section, e.g. agent.{key}")
        section, name = parts[0], parts[1]
        if section not in Settings.model_fields:
            raise BenchError(f"--set '{item}': unknown section '{section}' "
                             f"(one of {', '.join(Settings.model_fields)})")
        if section != "extra":
            if len(parts) != 2:
                raise BenchError(f"--set '{item}': expected exactly section.key")
            section_model = Settings.model_fields[section].annotation
            fields = getattr(section_model, "model_fields", {})
            if name not in fields:
                raise BenchError(f"--set '{item}': unknown setting '{name}' in [{section}] "
                                 f"(one of {', '.join(fields)})")
            try:
                Settings.model_validate({section: {name: value}})
            except ValidationError as exc:
                raise BenchError(f"--set '{item}': {exc.errors()[0]['msg']}") from None
        out[key] = value
    return out


def placeholders_in(command: list[str] | tuple[str, ...]) -> set[str]:
    """The placeholder names a command line uses (empty: smallcode's own protocol)."""
    return {m.group(1) for arg in command for m in _PLACEHOLDER_RE.finditer(arg)}


def expand_command(command: list[str] | tuple[str, ...], values: dict[str, str],
                   files: list[str]) -> list[str]:
    """Fill in the placeholders; an argument that is exactly ``{files}`` becomes one per file."""
    argv: list[str] = []
    for arg in command:
        if arg == "{files}":
            argv.extend(files)
        else:
            argv.append(_PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], arg))
    return argv


def repo_files(workdir: Path) -> list[str]:
    """Every file of a freshly prepared workspace (the task's repo), sorted, without ``.git/``.

    Hidden files count: a task's file to change may live in one (``.github/workflows/ci.yml``),
    and a user handing a peer "every file" would hand those over too.
    """
    return sorted(p.relative_to(workdir).as_posix() for p in workdir.rglob("*")
                  if p.is_file() and ".git" not in p.relative_to(workdir).parts)


def agent_name(command: list[str] | tuple[str, ...]) -> str:
    """A short name for the agent a command runs: ``smallcode`` for the default, else its program."""
    if tuple(command) == DEFAULT_AGENT_COMMAND:
        return "smallcode"
    words = [w for w in command if not w.startswith("-")]
    for word in words:
        stem = Path(word).stem
        if not _INTERPRETERS.match(stem):
            return stem or "agent"
    return Path(command[0]).stem if command else "agent"


def settings_env(settings: dict[str, str]) -> dict[str, str]:
    """``{"agent.router": "false"}`` -> ``{"SMALLCODE_AGENT__ROUTER": "false"}``."""
    return {"SMALLCODE_" + "__".join(p.upper() for p in key.split(".")): value
            for key, value in settings.items()}


@dataclass
class BenchOptions:
    suite: str = "smoke"
    task_patterns: list[str] = field(default_factory=list)
    model: str | None = None
    base_url: str | None = None
    repeats: int = 1
    settings: dict[str, str] = field(default_factory=dict)  # already parsed: "agent.router" -> "false"
    label: str = ""
    jobs: int = 1
    max_turns: int | None = None  # None: the task's own max_turns, else DEFAULT_MAX_TURNS
    timeout_scale: float = 1.0
    agent_command: list[str] = field(default_factory=lambda: list(DEFAULT_AGENT_COMMAND))
    project_dir: Path = field(default_factory=Path.cwd)  # results go to <project>/.smallcode/benchmarks
    keep_workspaces: bool = False
    # Run the task's verify on every candidate edit smallcode's transcript records, not only the
    # one it kept: tells a generation failure (no candidate passes) from a selection failure.
    score_candidates: bool = False
    # Resolve the model endpoint once (configured, detected, or the embedded llama-server started
    # here) and hand it to every task, instead of each `smallcode run` starting its own server.
    # None: only when the agent is the default `smallcode run`.
    shared_endpoint: bool | None = None


@dataclass(frozen=True)
class ProgressUpdate:
    """Sent to the progress callback when an attempt starts and when it finishes."""

    task: BenchTask
    attempt: int
    state: Literal["running", "done"]
    record: TaskRecord | None = None


@dataclass
class TranscriptStats:
    events: list[dict[str, Any]]
    turns: int = 0
    tool_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int | None = None  # None: no usage event said
    success: bool | None = None
    reason: str = ""

    @property
    def reported(self) -> bool:
        """Whether the agent spoke smallcode's event protocol (usage or done events)."""
        return any(e.get("type") in ("usage", "done") for e in self.events)


def parse_transcript(text: str) -> TranscriptStats:
    """Read ``--json`` event lines. Lines that are not JSON objects are kept as ``raw`` events.

    The ``done`` event's figures win; without one, usage events are summed and tool_call events
    and usage events counted (one usage event per model call).
    """
    events: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            obj = None
        events.append(obj if isinstance(obj, dict) else {"type": "raw", "text": line})
    usage = [e for e in events if e.get("type") == "usage"]
    stats = TranscriptStats(
        events=events,
        turns=len(usage),
        tool_calls=sum(1 for e in events if e.get("type") == "tool_call"),
        prompt_tokens=sum(int(e.get("prompt_tokens") or 0) for e in usage),
        completion_tokens=sum(int(e.get("completion_tokens") or 0) for e in usage),
        cached_tokens=(sum(int(e.get("cached_tokens") or 0) for e in usage)
                       if any("cached_tokens" in e for e in usage) else None),
    )
    done = next((e for e in reversed(events) if e.get("type") == "done"), None)
    if done is not None:
        stats.success = bool(done.get("success"))
        stats.reason = str(done.get("reason") or "")
        stats.turns = int(done.get("turns") or stats.turns)
        stats.tool_calls = int(done.get("tool_calls") or stats.tool_calls)
        stats.prompt_tokens = int(done.get("prompt_tokens") or stats.prompt_tokens)
        stats.completion_tokens = int(done.get("completion_tokens") or stats.completion_tokens)
    return stats


def candidate_files(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The distinct candidate edits a smallcode transcript records (its ``candidate`` events),
    in the order they were made; a candidate identical to an earlier one is not repeated."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for e in events:
        files = e.get("files") if e.get("type") == "candidate" else None
        if not isinstance(files, dict) or not files:
            continue
        clean = {str(k): str(v) for k, v in files.items()}
        key = json.dumps(clean, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(clean)
    return out


def score_candidates(task: BenchTask, candidates: list[dict[str, str]]) -> int:
    """How many ``candidates`` pass the task's verify (hidden tests included), each written over
    a fresh copy of the task's repo. A candidate writing outside that copy counts as failing."""
    passing = 0
    for files in candidates:
        with tempfile.TemporaryDirectory(prefix=f"smallcode-bench-{task.id}-cand-") as tmp:
            root = prepare_workspace(task, Path(tmp) / "ws", git=False).resolve()
            inside = True
            for rel, text in files.items():
                target = (root / rel).resolve()
                if not target.is_relative_to(root) or target == root:
                    inside = False
                    break
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            passing += inside and run_verify(task, root).passed
    return passing


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _clean_label(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-") or "run"


def _changed_files(workdir: Path) -> list[str]:
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                             cwd=workdir, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    files = []
    for line in out.stdout.splitlines():
        name = line[3:].strip()
        if " -> " in name:
            name = name.split(" -> ", 1)[1]
        if not name.startswith(".smallcode/"):
            files.append(name)
    return files


def _served_model(base_url: str, api_key: str | None) -> str | None:
    """The first model id the server lists at ``/models`` (None when it does not answer)."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        resp = httpx.get(base_url.rstrip("/") + "/models", headers=headers, timeout=5.0)
        data = resp.json().get("data") or []
        return str(data[0]["id"]) if resp.status_code == 200 and data else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None


class BenchRunner:
    """Runs a suite's tasks against the agent command and records every attempt."""

    def __init__(self, options: BenchOptions,
                 progress: Callable[[ProgressUpdate], None] | None = None,
                 notice: Callable[[str], None] | None = None) -> None:
        if options.repeats < 1:
            raise BenchError("repeats must be at least 1")
        if options.jobs < 1:
            raise BenchError("jobs must be at least 1")
        if options.timeout_scale <= 0:
            raise BenchError("timeout scale must be positive")
        if not options.agent_command:
            raise BenchError("the agent command is empty")
        self.placeholders = placeholders_in(options.agent_command)
        self.peer = bool(self.placeholders)
        if "files" in self.placeholders and "{files}" not in options.agent_command:
            raise BenchError("{files} must be an argument of its own (it becomes one per file)")
        self.options = options
        self.progress = progress
        self.notice = notice or (lambda _msg: None)
        self._endpoint_stop: Callable[[], None] | None = None
        self.suite = load_suite(options.suite)
        self.tasks = filter_tasks(self.suite.tasks, options.task_patterns)
        if not self.tasks:
            raise BenchError(f"no task in suite '{self.suite.name}' matches "
                             f"{' '.join(options.task_patterns)}")
        name = agent_name(options.agent_command)
        default_label = f"{name}-{self.suite.name}" if self.peer else self.suite.name
        label = _clean_label(options.label or default_label)
        stamp = _timestamp()
        out_dir = results_dir(options.project_dir)
        self.results_path = out_dir / f"{stamp}-{label}.json"
        n = 1
        while self.results_path.exists():
            n += 1
            self.results_path = out_dir / f"{stamp}-{label}-{n}.json"
        self.transcripts_dir = self.results_path.with_suffix("")
        self.run_record = BenchRun(
            label=options.label or default_label,
            agent=name,
            suite=self.suite.name,
            suite_path=str(self.suite.path),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            smallcode_version=__version__,
            model=options.model,
            base_url=options.base_url,
            settings=dict(options.settings),
            repeats=options.repeats,
            max_turns=options.max_turns,
            task_filter=list(options.task_patterns),
            agent_command=list(options.agent_command),
            host={"platform": platform.platform(), "python": platform.python_version(),
                  "cpus": os.cpu_count() or 0, "jobs": options.jobs},
        )
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._cancelled = threading.Event()

    # --- one attempt -------------------------------------------------------------------------

    def agent_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(settings_env(self.options.settings))
        if self.options.model:
            env["SMALLCODE_MODEL"] = env["SMALLCODE_MODEL__MODEL"] = self.options.model
        base_url = self.options.base_url or self.run_record.base_url
        if base_url:
            env["SMALLCODE_BASE_URL"] = env["SMALLCODE_MODEL__BASE_URL"] = base_url
        env["SMALLCODE_BENCH"] = "1"
        return env

    def _uses_shared_endpoint(self) -> bool:
        if self.options.base_url:
            return False
        if self.options.shared_endpoint is not None:
            return self.options.shared_endpoint
        if self.peer:  # a peer is pointed at the server smallcode would use
            return bool(self.placeholders & {"base_url", "model"})
        return tuple(self.options.agent_command) == DEFAULT_AGENT_COMMAND

    def _base_url(self) -> str | None:
        return self.options.base_url or self.run_record.base_url

    def _model(self) -> str | None:
        return self.options.model or self.run_record.model_served

    def _check_verify(self) -> None:
        """Each kind of verify command (its program: python, node, bash ...) must pass on the
        reference solution of the first selected task that has one: a verify that cannot run
        here (``python -m pytest`` in an interpreter without pytest, no node) would fail every
        task whatever the agent did, and the run would report that as the agent's failures."""
        checked: set[str] = set()
        for task in self.tasks:
            program = (task.verify.split() or [""])[0]
            if program in checked or not (task.solution_dir.is_dir() or task.solution_removes):
                continue
            checked.add(program)
            with tempfile.TemporaryDirectory(prefix="smallcode-bench-check-") as tmp:
                workdir = prepare_workspace(task, Path(tmp) / "ws", with_solution=True,
                                            git=False)
                verdict = run_verify(task, workdir)
            if not verdict.passed:
                tail = "\n".join(verdict.output.strip().splitlines()[-5:])
                raise BenchError(
                    f"the verify command of {task.id} ({task.verify}) fails on the task's own "
                    "reference solution, so every task would fail whatever the agent does; "
                    f"fix the environment first (is its tool installed here?):\n{tail}")

    def _check_peer_values(self) -> None:
        """A peer's {base_url} and {model} need values before any task runs."""
        if "base_url" in self.placeholders and not self._base_url():
            raise BenchError("the agent command uses {base_url}: give --base-url")
        if "model" in self.placeholders and not self._model():
            raise BenchError("the agent command uses {model}, and the server lists no model: "
                             "give --model")

    def resolve_endpoint(self) -> None:
        """Find (or start) the model server once, as `smallcode run` would, for every task."""
        from smallcode.core.config import ConfigError, load_settings
        from smallcode.core.session import resolve_endpoint

        try:
            settings = load_settings(None, env=self.agent_env())
        except ConfigError as exc:
            raise BenchError(str(exc)) from None
        endpoint = resolve_endpoint(settings, self.notice)
        self._endpoint_stop = endpoint.stop
        self.run_record.base_url = endpoint.base_url
        self.run_record.endpoint_source = endpoint.source
        self.run_record.model_served = _served_model(endpoint.base_url, endpoint.api_key)
        self.notice(f"model server {endpoint.base_url} ({endpoint.source}"
                    f"{', ' + self.run_record.model_served if self.run_record.model_served else ''})")

    def agent_argv(self, task: BenchTask, workdir: Path | None = None,
                   base_url: str | None = None) -> list[str]:
        """smallcode's command with its flags appended, or a peer's with its placeholders filled.

        ``workdir`` is the prepared workspace (for ``{files}`` and ``{workspace}``), ``base_url``
        the address a peer is given (the usage meter's; default: the model server's).
        """
        if not self.peer:
            turns = self.options.max_turns or task.max_turns or DEFAULT_MAX_TURNS
            return [*self.options.agent_command, "--yes", "--json", "--max-turns", str(turns),
                    task.instruction]
        values = {"instruction": task.instruction, "workspace": str(workdir or ""),
                  "base_url": base_url or self._base_url() or "", "model": self._model() or ""}
        files = repo_files(workdir) if workdir is not None and "files" in self.placeholders else []
        return expand_command(self.options.agent_command, values, files)

    def _run_agent(self, argv: list[str], task: BenchTask,
                   workdir: Path) -> tuple[int | None, bool, str, str]:
        timeout = task.timeout * self.options.timeout_scale
        proc = subprocess.Popen(argv, cwd=workdir, env=self.agent_env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        with self._lock:
            self._running.add(proc)
            if self._cancelled.is_set():  # interrupted between the check in _one and here
                self._kill(proc)
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            self._kill(proc)
            out, err = proc.communicate()
        finally:
            with self._lock:
                self._running.discard(proc)
            self._kill(proc)  # anything the agent left running in its process group
        return (proc.returncode, timed_out, out.decode("utf-8", "replace"),
                err.decode("utf-8", "replace"))

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the agent's whole process group (it runs in its own session)."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            if proc.poll() is None:
                proc.kill()

    def run_attempt(self, task: BenchTask, attempt: int = 0) -> TaskRecord:
        """One attempt in a fresh temporary copy; the copy is removed afterwards."""
        workdir = Path(tempfile.mkdtemp(prefix=f"smallcode-bench-{task.id}-"))
        start = time.monotonic()
        base: dict[str, Any] = {"task_id": task.id, "category": task.category,
                                "language": task.language, "attempt": attempt}
        upstream = self._base_url() if "base_url" in self.placeholders else None
        try:
            prepare_workspace(task, workdir)
            with UsageMeter(upstream) if upstream else nullcontext() as meter:
                argv = self.agent_argv(task, workdir, meter.base_url if meter else None)
                try:
                    code, timed_out, stdout, stderr = self._run_agent(argv, task, workdir)
                except OSError as exc:
                    return TaskRecord(**base, passed=False, wall_seconds=time.monotonic() - start,
                                      error=f"could not start the agent: {exc}")
            wall = time.monotonic() - start
            stats = parse_transcript(stdout)
            prompt: int | None = stats.prompt_tokens
            completion: int | None = stats.completion_tokens
            cached: int | None = stats.cached_tokens
            tokens_from = "transcript"
            plain = self.peer and not stats.reported  # a peer's output, not smallcode events
            if plain:
                totals = meter.totals if meter else None
                stats.turns = totals.calls if totals else 0
                if totals is not None and totals.known:
                    prompt, completion = totals.prompt_tokens, totals.completion_tokens
                    cached = totals.cached_tokens
                    tokens_from = "meter"
                else:
                    prompt = completion = cached = None
                    tokens_from = "unknown"
            transcript = self._save_transcript(task, attempt, stdout, stderr,
                                               suffix=".log" if plain else ".jsonl")
            changed = _changed_files(workdir)
            verdict = run_verify(task, workdir)
            scored: dict[str, Any] = {}
            if self.options.score_candidates and not plain:
                made = candidate_files(stats.events)
                scored = {"candidates": len(made),
                          "candidates_passing": score_candidates(task, made)}
            error = ""
            if plain:
                if code not in (0, None) and not changed:
                    error = f"agent exited {code}: {stderr.strip()[-STDERR_TAIL:]}"
            elif code not in (0, None) and not stats.events:
                error = f"agent exited {code} without events: {stderr.strip()[-STDERR_TAIL:]}"
            return TaskRecord(
                **base, passed=verdict.passed, wall_seconds=wall, turns=stats.turns,
                tool_calls=stats.tool_calls, prompt_tokens=prompt,
                completion_tokens=completion, cached_tokens=cached, tokens_from=tokens_from,
                agent_exit_code=code,
                agent_timed_out=timed_out, agent_success=stats.success,
                agent_reason=stats.reason, verify_exit_code=verdict.exit_code,
                verify_output=verdict.output, verify_seconds=verdict.seconds,
                changed_files=changed, error=error, transcript=transcript,
                events=len(stats.events), **scored)
        finally:
            if not self.options.keep_workspaces:
                shutil.rmtree(workdir, ignore_errors=True)

    def _save_transcript(self, task: BenchTask, attempt: int, stdout: str, stderr: str,
                         suffix: str = ".jsonl") -> str:
        self.transcripts_dir.mkdir(parents=True, exist_ok=True)
        name = f"{task.id}.{attempt}{suffix}"
        (self.transcripts_dir / name).write_text(stdout, encoding="utf-8")
        if stderr.strip():
            (self.transcripts_dir / f"{task.id}.{attempt}.stderr.txt").write_text(
                stderr, encoding="utf-8")
        return f"{self.transcripts_dir.name}/{name}"

    # --- the whole run ----------------------------------------------------------------------

    def _one(self, task: BenchTask, attempt: int) -> TaskRecord | None:
        if self._cancelled.is_set():
            return None
        if self.progress:
            self.progress(ProgressUpdate(task, attempt, "running"))
        record = self.run_attempt(task, attempt)
        with self._lock:
            self.run_record.records.append(record)
            save_run(self.run_record, self.results_path)
        if self.progress:
            self.progress(ProgressUpdate(task, attempt, "done", record))
        return record

    def run(self) -> BenchRun:
        """Run every selected task ``repeats`` times; results are saved after each attempt.

        On KeyboardInterrupt the running agents are killed, the partial results are saved
        (``complete`` stays false) and the interrupt is re-raised.
        """
        work = [(t, a) for a in range(self.options.repeats) for t in self.tasks]
        if self._uses_shared_endpoint():
            self.resolve_endpoint()
        elif self.options.base_url:
            self.run_record.endpoint_source = "configured"
            self.run_record.model_served = _served_model(self.options.base_url, None)
        try:
            self._check_peer_values()
            self._check_verify()
        except BenchError:
            self._stop_endpoint()
            raise
        save_run(self.run_record, self.results_path)
        pool = ThreadPoolExecutor(max_workers=self.options.jobs,
                                  thread_name_prefix="smallcode-bench")
        futures: list[Future[TaskRecord | None]] = []
        try:
            futures = [pool.submit(self._one, t, a) for t, a in work]
            for fut in futures:
                fut.result()
        except BaseException:
            self._cancelled.set()
            for fut in futures:
                fut.cancel()
            with self._lock:
                for proc in list(self._running):
                    self._kill(proc)
            pool.shutdown(wait=True, cancel_futures=True)
            self._finish(complete=False)
            raise
        pool.shutdown(wait=True)
        self._finish(complete=True)
        return self.run_record

    def _stop_endpoint(self) -> None:
        if self._endpoint_stop is not None:
            stop, self._endpoint_stop = self._endpoint_stop, None
            stop()

    def _finish(self, complete: bool) -> None:
        self._stop_endpoint()
        with self._lock:
            order = {t.id: i for i, t in enumerate(self.tasks)}
            self.run_record.records.sort(key=lambda r: (order.get(r.task_id, 0), r.attempt))
            self.run_record.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
            self.run_record.complete = complete
            save_run(self.run_record, self.results_path)
