"""Benchmark tasks and suites: loading ``task.toml`` folders, preparing workspaces, running verify.

A task is a folder holding ``task.toml`` (id, category, language, instruction, verify, timeout),
``repo/`` (the starting files), ``hidden/`` (files copied in only for verification, e.g. tests) and
``solution/`` (files that overwrite or add to ``repo/`` so that verify passes). A suite is a folder
of task folders; the suites shipped with smallcode live in ``core/bench/suites/<name>/``.

A task may instead name a ``base = "<suite>/<task-id>"`` (a sibling suite's task) and give only its
own ``id`` and ``instruction``: it inherits everything else, files and verify included, so the same
oracle judges a reworded instruction (the paraphrase suites are built this way).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

SUITES_DIR = Path(__file__).resolve().parent / "suites"

CATEGORIES = ("bugfix", "feature", "rename", "threading", "config", "shell", "question", "search")
LANGUAGES = ("python", "javascript", "shell", "config", "text")
VERIFY_OUTPUT_LIMIT = 4000


class TaskError(ValueError):
    """A task or suite folder is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class BenchTask:
    """One benchmark task, as described by its folder."""

    id: str
    category: str
    language: str
    instruction: str
    verify: str
    path: Path
    timeout: float = 600.0
    verify_timeout: float = 60.0
    max_turns: int | None = None
    tags: tuple[str, ...] = ()
    solution_removes: tuple[str, ...] = ()  # paths the reference solution deletes (renames)
    base: str | None = None  # "<suite>/<task-id>" this task rewords (files and verify come from it)
    files_path: Path | None = None  # the folder holding repo/, hidden/, solution/ (default: path)

    @property
    def files_dir(self) -> Path:
        return self.files_path or self.path

    @property
    def repo_dir(self) -> Path:
        return self.files_dir / "repo"

    @property
    def hidden_dir(self) -> Path:
        return self.files_dir / "hidden"

    @property
    def solution_dir(self) -> Path:
        return self.files_dir / "solution"


@dataclass(frozen=True)
class BenchSuite:
    name: str
    path: Path
    tasks: tuple[BenchTask, ...]
    description: str = ""


@dataclass
class VerifyResult:
    passed: bool
    exit_code: int | None
    output: str
    seconds: float
    timed_out: bool = False


@dataclass
class SuiteInfo:
    name: str
    path: Path
    task_count: int
    description: str = ""
    categories: dict[str, int] = field(default_factory=dict)


def _require_str(data: dict[str, object], key: str, where: Path) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TaskError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


BASE_KEYS = ("id", "base", "instruction")


def _load_based(path: Path, toml_path: Path, data: dict[str, object], task_id: str) -> BenchTask:
    """A task that rewords ``base`` (``<suite>/<task-id>`` next to this task's suite)."""
    base = _require_str(data, "base", toml_path)
    extra = sorted(set(data) - set(BASE_KEYS))
    if extra:
        raise TaskError(f"{toml_path}: a task with a 'base' sets only {', '.join(BASE_KEYS)} "
                        f"(it inherits the rest); remove {', '.join(extra)}")
    parts = base.split("/")
    if len(parts) != 2 or not all(parts) or any(p in (".", "..") for p in parts):
        raise TaskError(f"{toml_path}: 'base' must be '<suite>/<task-id>', not '{base}'")
    base_dir = path.parent.parent / parts[0] / parts[1]
    if not (base_dir / "task.toml").is_file():
        raise TaskError(f"{toml_path}: base '{base}' not found ({base_dir} has no task.toml)")
    parent = load_task(base_dir, _allow_base=False)
    return replace(parent, id=task_id, instruction=_require_str(data, "instruction", toml_path),
                   path=path, base=base, files_path=parent.path)


def load_task(task_dir: str | os.PathLike[str], *, _allow_base: bool = True) -> BenchTask:
    """Read one task folder. Raises :class:`TaskError` naming the file and field when malformed."""
    path = Path(task_dir).resolve()
    toml_path = path / "task.toml"
    if not toml_path.is_file():
        raise TaskError(f"{path}: no task.toml")
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TaskError(f"{toml_path}: not valid TOML: {exc}") from None
    task_id = _require_str(data, "id", toml_path)
    if task_id != path.name:
        raise TaskError(f"{toml_path}: id '{task_id}' differs from the folder name '{path.name}'")
    if "base" in data:
        if not _allow_base:
            raise TaskError(f"{toml_path}: is itself the base of another task, so it cannot "
                            "have a 'base' of its own")
        return _load_based(path, toml_path, data, task_id)
    category = _require_str(data, "category", toml_path)
    if category not in CATEGORIES:
        raise TaskError(f"{toml_path}: category '{category}' is not one of {', '.join(CATEGORIES)}")
    language = _require_str(data, "language", toml_path)
    if language not in LANGUAGES:
        raise TaskError(f"{toml_path}: language '{language}' is not one of {', '.join(LANGUAGES)}")
    timeout = data.get("timeout", 600)
    verify_timeout = data.get("verify_timeout", 60)
    for key, value in (("timeout", timeout), ("verify_timeout", verify_timeout)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise TaskError(f"{toml_path}: '{key}' must be a positive number of seconds")
    max_turns = data.get("max_turns")
    if max_turns is not None and (not isinstance(max_turns, int) or max_turns <= 0):
        raise TaskError(f"{toml_path}: 'max_turns' must be a positive integer")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise TaskError(f"{toml_path}: 'tags' must be a list of strings")
    removes = data.get("solution_removes", [])
    if not isinstance(removes, list) or not all(isinstance(r, str) and r for r in removes):
        raise TaskError(f"{toml_path}: 'solution_removes' must be a list of paths")
    if not (path / "repo").is_dir():
        raise TaskError(f"{path}: no repo/ folder")
    return BenchTask(
        id=task_id,
        category=category,
        language=language,
        instruction=_require_str(data, "instruction", toml_path),
        verify=_require_str(data, "verify", toml_path),
        path=path,
        timeout=float(timeout),
        verify_timeout=float(verify_timeout),
        max_turns=max_turns,
        tags=tuple(tags),
        solution_removes=tuple(removes),
    )


def list_suites() -> list[SuiteInfo]:
    """The suites shipped with smallcode, sorted by name."""
    out = []
    if SUITES_DIR.is_dir():
        for child in sorted(SUITES_DIR.iterdir()):
            if child.is_dir() and any(child.glob("*/task.toml")):
                suite = load_suite(child)
                cats: dict[str, int] = {}
                for t in suite.tasks:
                    cats[t.category] = cats.get(t.category, 0) + 1
                out.append(SuiteInfo(suite.name, suite.path, len(suite.tasks),
                                     suite.description, cats))
    return out


def resolve_suite_path(name_or_path: str | os.PathLike[str]) -> Path:
    """A shipped suite name (``smoke``, ``dev``) or a path to a suite folder."""
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return candidate.resolve()
    shipped = SUITES_DIR / str(name_or_path)
    if "/" not in str(name_or_path) and shipped.is_dir():
        return shipped
    known = ", ".join(s.name for s in list_suites()) or "none"
    raise TaskError(f"no suite '{name_or_path}': not a folder and not a shipped suite ({known})")


def load_suite(name_or_path: str | os.PathLike[str]) -> BenchSuite:
    """Load every task of a suite, sorted by id. Duplicate ids are an error."""
    path = resolve_suite_path(name_or_path)
    tasks = [load_task(p.parent) for p in sorted(path.glob("*/task.toml"))]
    if not tasks:
        raise TaskError(f"{path}: no tasks (expected <task-id>/task.toml folders)")
    seen: set[str] = set()
    for t in tasks:
        if t.id in seen:
            raise TaskError(f"{path}: duplicate task id '{t.id}'")
        seen.add(t.id)
    description = ""
    readme = path / "README.md"
    if readme.is_file():
        lines = [ln.strip() for ln in readme.read_text(encoding="utf-8").splitlines()]
        description = next((ln for ln in lines if ln and not ln.startswith("#")), "")
    return BenchSuite(name=path.name, path=path, tasks=tuple(tasks), description=description)


def filter_tasks(tasks: tuple[BenchTask, ...] | list[BenchTask],
                 patterns: list[str] | None) -> list[BenchTask]:
    """Tasks whose id or category matches any of the globs (all tasks when no pattern is given)."""
    if not patterns:
        return list(tasks)
    return [t for t in tasks
            if any(fnmatch.fnmatchcase(t.id, p) or fnmatch.fnmatchcase(t.category, p)
                   for p in patterns)]


def overlay(src: Path, dest: Path) -> list[str]:
    """Copy every file under ``src`` into ``dest`` (overwriting); returns the relative paths."""
    copied: list[str] = []
    if not src.is_dir():
        return copied
    for f in sorted(src.rglob("*")):
        if f.is_file():
            rel = f.relative_to(src)
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir():
                shutil.rmtree(target)
            shutil.copy2(f, target)
            copied.append(rel.as_posix())
    return copied


GIT_IDENTITY = ["-c", "user.name=smallcode-bench", "-c", "user.email=bench@smallcode.invalid",
                "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]


def prepare_workspace(task: BenchTask, dest: Path, *, with_solution: bool = False,
                      git: bool = True) -> Path:
    """Copy the task's repo into ``dest`` (which must not exist or be empty) and commit it.

    ``with_solution`` lays the reference solution over the repo (used by the self-check).
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise TaskError(f"{dest}: workspace folder is not empty")
    shutil.copytree(task.repo_dir, dest, dirs_exist_ok=True)
    if with_solution:
        if not task.solution_dir.is_dir() and not task.solution_removes:
            raise TaskError(f"{task.path}: no solution/ folder")
        overlay(task.solution_dir, dest)
        root = dest.resolve()
        for rel in task.solution_removes:
            target = (dest / rel).resolve()
            if not target.is_relative_to(root) or target == root:
                raise TaskError(f"{task.path}: solution_removes entry '{rel}' leaves the repo")
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    if git:
        def git_cmd(*args: str) -> None:
            subprocess.run(["git", *GIT_IDENTITY, *args], cwd=dest, check=True,
                           capture_output=True)

        git_cmd("init", "-q")
        git_cmd("add", "-A")
        git_cmd("commit", "-q", "--no-verify", "-m", f"bench task {task.id}: starting files")
    return dest


def verify_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment verify commands run in: ``python`` is this interpreter, no pytest plugins.

    Verification must not depend on plugins the user happens to have installed, and must not be
    slowed by a version-manager shim in front of ``python``.
    """
    env = dict(os.environ if base is None else base)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTEST_ADDOPTS"] = "-p no:cacheprovider"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTHONPATH", None)
    return env


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def run_verify(task: BenchTask, workdir: Path, *, copy_hidden: bool = True) -> VerifyResult:
    """Copy ``hidden/`` into ``workdir`` and run the task's verify command there (bash -c)."""
    if copy_hidden:
        overlay(task.hidden_dir, workdir)
    start = time.monotonic()
    proc = subprocess.Popen(["bash", "-c", task.verify], cwd=workdir, env=verify_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=task.verify_timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        out, _ = proc.communicate()
    _kill_group(proc)  # nothing a check started may outlive it
    text = out.decode("utf-8", "replace")
    if len(text) > VERIFY_OUTPUT_LIMIT:
        text = "...\n" + text[-VERIFY_OUTPUT_LIMIT:]
    code = proc.returncode
    return VerifyResult(passed=(code == 0 and not timed_out), exit_code=code, output=text,
                        seconds=time.monotonic() - start, timed_out=timed_out)
