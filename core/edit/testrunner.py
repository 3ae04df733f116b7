"""Test-runner detection, the tests that cover a changed file, and compact test results.

Supported: pytest, unittest, ``node --test``, jest and vitest (from package.json), ``go test``,
``cargo test``. Results are reduced to what a small model can use: one summary line and a short
list of failures (``test - message (at file:line)``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .validate import run_command

RunnerName = Literal["pytest", "unittest", "node", "jest", "vitest", "go", "cargo"]

MAX_FAILURES = 8
MAX_FAILURE_CHARS = 240
SKIP_DIRS = {
    ".git",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".smallcode",
    "target",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "dist",
    "build",
    ".tox",
}
JS_EXTS = (".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".mts", ".cts")
_JS_TEST = re.compile(r"(\.|_)(test|spec)\.[cm]?[jt]sx?$")


@dataclass(frozen=True)
class TestRunner:
    """A detected test runner: its name and the folder to run it in."""

    __test__ = False  # not a pytest test class

    name: RunnerName
    root: Path
    command: tuple[str, ...]  # the command prefix; targets are appended


@dataclass
class TestRun:
    """The outcome of a test run, compact enough to show a small model."""

    __test__ = False

    ok: bool
    summary: str
    failures: list[str] = field(default_factory=list)
    timed_out: bool = False
    command: str = ""
    output_tail: str = ""

    def failure_ids(self) -> list[str]:
        """``tests/test_x.py::test_y - AssertionError: ...`` -> ``tests/test_x.py::test_y``."""
        return [i for i in (f.split(" - ", 1)[0].strip() for f in self.failures) if i]

    def regressions(self, start_failures: list[str] | None) -> list[str]:
        """Tests failing now that were not failing when the task started (they passed, or cannot
        even be collected now). Empty when the start is unknown or this run passed."""
        if start_failures is None or self.ok or self.timed_out:
            return []
        before = set(start_failures)
        return [i for i in self.failure_ids() if i not in before]

    def passed_count(self) -> int | None:
        """How many tests passed, read off the summary (None when it does not say): a run that
        cannot even load the test file passes none, where counting failures alone would call it
        as good as fixing one test."""
        m = re.search(r"(\d+) passed", self.summary)
        if m:
            return int(m.group(1))
        if "packages" in self.summary:
            return None  # go counts packages, not tests
        if re.search(r"\d+ (failed|errors?)\b", self.summary):
            return 0  # "1 error in 0.05s", "3 failed, 3 total": counted, and none passed
        m = re.match(r"ran (\d+) tests: (OK|FAILED \((?P<detail>[^)]*)\))", self.summary)
        if m:
            bad = sum(int(n) for n in re.findall(r"(?:failures|errors)=(\d+)", m.group("detail") or ""))
            return max(0, int(m.group(1)) - bad)
        return None

    def compact(self, limit: int = 5) -> str:
        lines = [self.summary] + [f"- {f}" for f in self.failures[:limit]]
        if len(self.failures) > limit:
            lines.append(f"- ... and {len(self.failures) - limit} more")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# walking the project


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        out.extend(Path(dirpath) / f for f in sorted(filenames))
    return out


def _is_py_test(p: Path) -> bool:
    return p.suffix == ".py" and (p.name.startswith("test_") or p.stem.endswith("_test"))


def _is_js_test(p: Path) -> bool:
    return p.suffix in JS_EXTS and (bool(_JS_TEST.search(p.name)) or "__tests__" in p.parts)


def is_test_file(p: Path | str) -> bool:
    """A test file of a runner smallcode knows (pytest/unittest, node/jest/vitest, go, rust)."""
    p = Path(p)
    return _is_py_test(p) or _is_js_test(p) or p.name.endswith("_test.go") \
        or (p.suffix == ".rs" and "tests" in p.parts)


def _read(p: Path) -> str:
    try:
        return p.read_text(errors="replace")
    except OSError:
        return ""


def _package_json(root: Path) -> dict:
    pj = root / "package.json"
    if not pj.is_file():
        return {}
    try:
        data = json.loads(pj.read_text(errors="replace"))
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _pytest_configured(root: Path) -> bool:
    if (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return True
    pp = root / "pyproject.toml"
    if pp.is_file():
        try:
            if "pytest" in tomllib.loads(pp.read_text(errors="replace")).get("tool", {}):
                return True
        except tomllib.TOMLDecodeError:
            pass
    for name, marker in (("setup.cfg", "[tool:pytest]"), ("tox.ini", "[pytest]")):
        f = root / name
        if f.is_file() and marker in _read(f):
            return True
    return False


def _node_bin(root: Path, name: str) -> tuple[str, ...] | None:
    local = root / "node_modules" / ".bin" / name
    if local.is_file():
        return (str(local),)
    found = shutil.which(name)
    if found:
        return (found,)
    npx = shutil.which("npx")
    return (npx, "--no-install", name) if npx else None


# ----------------------------------------------------------------------------------------------
# detection


def _detect_python(root: Path, files: list[Path]) -> TestRunner | None:
    tests = [p for p in files if _is_py_test(p)]
    if not tests and not _pytest_configured(root):
        return None
    if importlib.util.find_spec("pytest") is not None:
        # pytest also runs unittest.TestCase classes, and reports failures more compactly
        return TestRunner(
            "pytest",
            root,
            (
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-rfE",
                "--tb=short",
                "--no-header",
                "-p",
                "no:cacheprovider",
                "--color=no",
            ),
        )
    return TestRunner("unittest", root, (sys.executable, "-m", "unittest"))


def _detect_node(root: Path, files: list[Path]) -> TestRunner | None:
    pkg = _package_json(root)
    script = str((pkg.get("scripts") or {}).get("test", ""))
    deps = {**(pkg.get("dependencies") or {}), **(pkg.get("devDependencies") or {})}
    for name in ("vitest", "jest"):
        if name in script or name in deps:
            cmd = _node_bin(root, name)
            if cmd is None:
                return None
            return TestRunner(name, root, cmd + (("run",) if name == "vitest" else ("--ci",)))
    if not pkg and not any(_is_js_test(p) for p in files):
        return None
    if "node --test" in script or any(_is_js_test(p) for p in files):
        node = shutil.which("node")
        return TestRunner("node", root, (node, "--test", "--test-reporter=tap")) if node else None
    return None


def detect_test_runner(root: Path, for_path: Path | None = None) -> TestRunner | None:
    """The project's test runner, or None. With ``for_path``, prefer the runner of its language
    (a repo can hold both a Python package and a JS front end)."""
    root = Path(root).resolve()
    files = _walk(root)
    detectors: list[tuple[str, Callable[[], TestRunner | None]]] = []
    if (root / "Cargo.toml").is_file() and shutil.which("cargo"):
        detectors.append(
            (
                "rust",
                lambda: TestRunner(
                    "cargo", root, (shutil.which("cargo") or "cargo", "test", "--quiet")
                ),
            )
        )
    if (
        (root / "go.mod").is_file()
        and shutil.which("go")
        and any(p.name.endswith("_test.go") for p in files)
    ):
        detectors.append(
            ("go", lambda: TestRunner("go", root, (shutil.which("go") or "go", "test")))
        )
    detectors.append(("js", lambda: _detect_node(root, files)))
    detectors.append(("python", lambda: _detect_python(root, files)))
    if for_path is not None:
        lang = _language(Path(for_path))
        detectors.sort(key=lambda d: d[0] != lang)
    for _, detect in detectors:
        runner = detect()
        if runner is not None:
            return runner
    return None


def _language(p: Path) -> str:
    if p.suffix in (".py", ".pyi"):
        return "python"
    if p.suffix in JS_EXTS:
        return "js"
    if p.suffix == ".go":
        return "go"
    if p.suffix == ".rs":
        return "rust"
    return ""


# ----------------------------------------------------------------------------------------------
# covering tests


def tests_for_file(root: Path, changed_path: Path | str) -> list[str]:
    """Workspace-relative test targets that cover ``changed_path`` (the file itself when it is a
    test). An empty list means no specific tests were found."""
    root = Path(root).resolve()
    changed = Path(changed_path)
    changed = (changed if changed.is_absolute() else root / changed).resolve()
    rel = _relpath(changed, root)
    if changed.suffix == ".py":
        return _python_tests(root, changed, rel)
    if changed.suffix in JS_EXTS:
        return _js_tests(root, changed, rel)
    if changed.suffix == ".go":
        d = changed.parent
        if any(p.name.endswith("_test.go") for p in d.glob("*.go")):
            return ["./" + (_relpath(d, root) if d != root else "")]
        return []
    return []


tests_for_file.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _relpath(p: Path, root: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return p.as_posix()


def _python_tests(root: Path, changed: Path, rel: str) -> list[str]:
    if _is_py_test(changed):
        return [rel]
    stem = changed.parent.name if changed.stem == "__init__" else changed.stem
    names = {f"test_{stem}.py", f"{stem}_test.py"}
    imports = re.compile(
        rf"^\s*(from\s+[\w.]*\b{re.escape(stem)}\b[\w.]*\s+import|import\s+"
        rf"[\w., ]*\b{re.escape(stem)}\b)",
        re.MULTILINE,
    )
    found = []
    for p in _walk(root):
        if not _is_py_test(p):
            continue
        if p.name in names or imports.search(_read(p)):
            found.append(_relpath(p, root))
    return sorted(set(found))


def _js_tests(root: Path, changed: Path, rel: str) -> list[str]:
    if _is_js_test(changed):
        return [rel]
    stem = changed.name.split(".")[0]
    refs = re.compile(
        rf"""(require\(|from\s+|import\s*\(?)\s*['"][^'"]*\b{re.escape(stem)}"""
        rf"""(\.[cm]?[jt]sx?)?['"]"""
    )
    found = []
    for p in _walk(root):
        if not _is_js_test(p):
            continue
        if p.name.split(".")[0] == stem or refs.search(_read(p)):
            found.append(_relpath(p, root))
    return sorted(set(found))


# ----------------------------------------------------------------------------------------------
# running and parsing


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_FAILURE_CHARS else text[: MAX_FAILURE_CHARS - 3] + "..."


_PYTEST_SECTION = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$", re.MULTILINE)
# what ends a failure's traceback: the next "=== ... ===" header (warnings, short test summary;
# stderr is appended after it) or the test's captured output, which can hold anything
_PYTEST_SECTION_END = re.compile(r"^(=+ .* =+|-+ Captured .* -+)$", re.MULTILINE)
_PYTEST_SECTION_PREFIX = re.compile(r"^(ERROR at (setup|teardown) of|ERROR collecting) ")
_PYTEST_LOC = re.compile(r"^(?P<loc>[^\s:][^:\n]*\.py:\d+): ", re.MULTILINE)
_PYTEST_SUMMARY = re.compile(r"^(=+ )?(?P<s>(\d+ \w+(, )?)+ in [\d.]+s.*?)( =+)?$", re.MULTILINE)
_PYTEST_SHORT = re.compile(r"^(FAILED|ERROR) (?P<id>\S+)(?: - (?P<msg>.*))?$", re.MULTILINE)
# folders of installed code: a frame in one is a library's even when it lies in the workspace
_INSTALLED_DIRS = {"site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox", "node_modules"}


def _workspace_path(path: str, root: Path | None) -> str | None:
    """``path`` (absolute, or relative to ``root``, where the tests ran) relative to ``root`` when
    it is a file of the workspace; None for a frame of the standard library, site-packages, a
    plugin or anything else outside. Without ``root`` only relative paths count as inside."""
    p = Path(path)
    if root is None:
        if p.is_absolute():
            return None
        rel = Path(os.path.normpath(p))
        if rel.parts[:1] == ("..",):
            return None
    else:
        full = Path(os.path.normpath(p if p.is_absolute() else root / p))
        try:
            rel = full.relative_to(root)
        except ValueError:
            try:  # the same file reached through a symlink
                rel = full.resolve().relative_to(root.resolve())
            except (OSError, ValueError):
                return None
    if any(part in _INSTALLED_DIRS for part in rel.parts):
        return None
    return rel.as_posix()


def _workspace_frame(frames: list[tuple[str, str]], root: Path | None) -> str:
    """``file:line`` of the deepest (last) frame that is in the workspace, or "" when none is."""
    for path, line in reversed(frames):
        rel = _workspace_path(path, root)
        if rel is not None:
            return f"{rel}:{line}"
    return ""


def parse_pytest(output: str, root: Path | None = None) -> tuple[str, list[str]]:
    """Summary and compact failures of ``pytest -q -rfE --tb=short`` output run in ``root``.
    A failure's location is its deepest frame in the workspace, never a library's."""
    summaries = _PYTEST_SUMMARY.findall(output)
    summary = summaries[-1][1] if summaries else ""
    where: dict[str, str] = {}
    sections = list(_PYTEST_SECTION.finditer(output))
    for i, sec in enumerate(sections):
        end = sections[i + 1].start() if i + 1 < len(sections) else len(output)
        body = output[sec.end() : end]
        stop = _PYTEST_SECTION_END.search(body)
        frames = [
            (path, line)
            for path, _, line in (
                loc.rpartition(":")
                for loc in _PYTEST_LOC.findall(body[: stop.start()] if stop else body)
            )
        ]
        deepest = _workspace_frame(frames, root)
        if deepest:
            where[_PYTEST_SECTION_PREFIX.sub("", sec.group("name").strip())] = deepest
    failures = []
    for m in _PYTEST_SHORT.finditer(output):
        test_id = m.group("id")
        msg = (m.group("msg") or "").strip()
        func = test_id.split("::")[-1]
        loc = where.get(func) or where.get(test_id.split("::", 1)[-1].replace("::", "."))
        text = f"{test_id}" + (f" - {msg}" if msg else "") + (f" (at {loc})" if loc else "")
        failures.append(_clip(("ERROR " if m.group(1) == "ERROR" else "") + text))
    return summary, failures


_UNITTEST_BLOCK = re.compile(
    r"^(?P<kind>FAIL|ERROR): (?P<name>\S+) \((?P<where>[^)]+)\)", re.MULTILINE
)
_UNITTEST_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)', re.MULTILINE)


def parse_unittest(output: str, root: Path) -> tuple[str, list[str]]:
    ran = re.search(r"^Ran (\d+) tests? in ([\d.]+)s", output, re.MULTILINE)
    status = re.search(r"^(OK|FAILED)(?: \((?P<detail>[^)]*)\))?\s*$", output, re.MULTILINE)
    summary = ""
    if ran:
        summary = f"ran {ran.group(1)} tests: " + (
            "OK"
            if status and status.group(1) == "OK"
            else f"FAILED ({status.group('detail')})"
            if status
            else "did not finish"
        )
    blocks = list(_UNITTEST_BLOCK.finditer(output))
    failures = []
    for i, b in enumerate(blocks):
        end = blocks[i + 1].start() if i + 1 < len(blocks) else len(output)
        body = output[b.end() : end].lstrip("\n")
        if body.startswith("-" * 70):
            body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.split("\n" + "-" * 70)[0]
        lines = [ln for ln in body.strip().splitlines() if ln.strip() and not set(ln) <= {"-", "="}]
        msg = lines[-1].strip() if lines else ""
        loc = _workspace_frame(_UNITTEST_FRAME.findall(body), root)
        failures.append(_clip(f"{b.group('where')} - {msg}" + (f" (at {loc})" if loc else "")))
    return summary, failures


_TAP_NOT_OK = re.compile(r"^(?P<indent>\s*)not ok \d+ - (?P<name>.+?)\s*$", re.MULTILINE)


def _tap_error(block: str) -> str:
    """The ``error:`` value of a TAP YAML diagnostic block (inline or a ``|-`` literal)."""
    lines = block.splitlines()
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped.startswith("error:"):
            continue
        value = stripped[len("error:") :].strip()
        if value not in ("|-", "|", ">-", ">"):
            return value.strip("'\"")
        indent = len(line) - len(stripped)
        body = []
        for nxt in lines[i + 1 :]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            if nxt.strip():
                body.append(nxt.strip())
        return " ".join(body)
    return ""


def parse_node_tap(output: str, root: Path | None = None) -> tuple[str, list[str]]:
    counts = dict(re.findall(r"^# (tests|pass|fail|cancelled|skipped) (\d+)", output, re.MULTILINE))
    summary = (
        f"{counts.get('pass', '0')} passed, {counts.get('fail', '0')} failed" if counts else ""
    )
    failures = []
    matches = list(_TAP_NOT_OK.finditer(output))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(output)
        block = output[m.end() : end]
        if re.search(r"failureType: 'subtestsFailed'", block):
            continue  # a suite whose children failed: the child is reported on its own
        msg = _tap_error(block)
        loc = re.search(r"^\s*location: '(?P<l>[^']+)'", block, re.MULTILINE)
        text = m.group("name") + (f" - {msg}" if msg else "")
        if loc:
            where = loc.group("l")
            if root is not None and where.startswith(str(root) + os.sep):
                where = where[len(str(root)) + 1 :]
            text += f" (at {where})"
        failures.append(_clip(text))
    return summary, failures


def parse_go_test(output: str) -> tuple[str, list[str]]:
    failures = []
    for m in re.finditer(
        r"^\s*--- FAIL: (?P<name>\S+)[^\n]*\n(?P<body>(?:[ \t]+.*\n?)*)", output, re.MULTILINE
    ):
        detail = [ln.strip() for ln in m.group("body").splitlines() if ln.strip()]
        failures.append(_clip(m.group("name") + (f" - {detail[0]}" if detail else "")))
    oks = len(re.findall(r"^ok\s", output, re.MULTILINE))
    fails = len(re.findall(r"^FAIL\s", output, re.MULTILINE))
    summary = f"{oks} packages ok, {fails} failed" if oks or fails else ""
    return summary, failures


def parse_cargo_test(output: str) -> tuple[str, list[str]]:
    results = re.findall(r"^test result: (.+)$", output, re.MULTILINE)
    summary = "; ".join(r.strip() for r in results)
    failures = []
    for m in re.finditer(
        r"^---- (?P<name>\S+) stdout ----\n(?P<body>(?:(?!----).*\n?)*)", output, re.MULTILINE
    ):
        body = m.group("body")
        panic = re.search(r"panicked at (?P<loc>[^\n:]+:\d+:\d+):?\n?(?P<msg>.*)", body)
        if panic:
            failures.append(
                _clip(f"{m.group('name')} - {panic.group('msg').strip()} (at {panic.group('loc')})")
            )
        else:
            failures.append(_clip(m.group("name")))
    if not failures:
        failures = [
            _clip(n) for n in re.findall(r"^test (\S+) \.\.\. FAILED", output, re.MULTILINE)
        ]
    return summary, failures


def parse_jest(output: str) -> tuple[str, list[str]]:
    summary_m = re.search(r"^Tests:\s+(.+)$", output, re.MULTILINE)
    failures = []
    for m in re.finditer(r"^\s*● (?P<name>.+?)\n\n(?P<body>(?:.*\n){0,12})", output, re.MULTILINE):
        body = [ln.strip() for ln in m.group("body").splitlines() if ln.strip()]
        loc = re.search(r"\(([^()\s]+:\d+:\d+)\)", m.group("body"))
        msg = body[0] if body else ""
        detail = [ln for ln in body[1:6] if ln.startswith(("Expected", "Received"))]
        if detail:
            msg = "; ".join(detail)  # "Expected: 20; Received: 12.5" says more than the matcher
        failures.append(
            _clip(
                m.group("name").strip()
                + (f" - {msg}" if msg else "")
                + (f" (at {loc.group(1)})" if loc else "")
            )
        )
    return (summary_m.group(1).strip() if summary_m else ""), failures


def parse_vitest(output: str) -> tuple[str, list[str]]:
    summary_m = re.search(r"^\s*Tests\s+(.+)$", output, re.MULTILINE)
    failures = []
    for m in re.finditer(
        r"^\s*FAIL\s+(?P<name>.+? > .+?)\n(?P<body>(?:.*\n){0,6})", output, re.MULTILINE
    ):
        body = [ln.strip() for ln in m.group("body").splitlines() if ln.strip()]
        loc = next((ln.lstrip("❯ ").strip() for ln in body[1:4] if ln.startswith("❯")), "")
        text = m.group("name").strip() + (f" - {body[0]}" if body else "")
        text += f" (at {loc})" if loc else ""
        if _clip(text) not in failures:
            failures.append(_clip(text))
    return (summary_m.group(1).strip() if summary_m else ""), failures


def _targets_for(runner: TestRunner, targets: list[str]) -> list[str]:
    if runner.name == "unittest" and not targets:
        # unittest's discovery skips folders without __init__.py: name the files instead
        return [_relpath(p, runner.root) for p in _walk(runner.root) if _is_py_test(p)]
    if runner.name == "go" and not targets:
        return ["./..."]
    if runner.name == "cargo":
        return []  # cargo test filters by test name, not file: run the crate's tests
    return list(targets)


def run_tests(
    runner: TestRunner, targets: list[str] | None = None, timeout: float = 120.0
) -> TestRun:
    """Run ``targets`` (all tests when empty) and reduce the output to a :class:`TestRun`."""
    args = list(runner.command) + _targets_for(runner, list(targets or []))
    cmd_text = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(args))
    env = dict(os.environ, CI="1", NO_COLOR="1", FORCE_COLOR="0", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    try:
        run = run_command(args, runner.root, timeout, env=env)
    except OSError as exc:
        return TestRun(False, f"could not start {runner.name}: {exc}", command=cmd_text)
    output = run.stdout + ("\n" + run.stderr if run.stderr else "")
    tail = "\n".join(output.strip().splitlines()[-30:])
    if run.returncode is None:
        return TestRun(
            False,
            f"tests timed out after {timeout:.0f}s ({cmd_text})",
            timed_out=True,
            command=cmd_text,
            output_tail=tail,
        )
    parsers = {
        "node": parse_node_tap,
        "go": parse_go_test,
        "cargo": parse_cargo_test,
        "jest": parse_jest,
        "vitest": parse_vitest,
    }
    if runner.name == "pytest":
        summary, failures = parse_pytest(output, runner.root)
    elif runner.name == "unittest":
        summary, failures = parse_unittest(output, runner.root)
    elif runner.name == "node":
        summary, failures = parse_node_tap(output, runner.root)
    else:
        summary, failures = parsers[runner.name](output)
    code = run.returncode
    if runner.name == "pytest" and code == 5:
        return TestRun(True, "no tests ran", command=cmd_text, output_tail=tail)
    ok = code == 0
    if not summary:
        last = [ln for ln in output.strip().splitlines() if ln.strip()]
        summary = (
            "tests passed"
            if ok
            else f"{runner.name} exited with code {code}: {last[-1][:200] if last else ''}"
        )
    if not ok and not failures:
        failures = [
            _clip(ln) for ln in output.strip().splitlines() if re.search(r"Error|error:|FAIL", ln)
        ][-3:]
    return TestRun(ok, summary, failures[:MAX_FAILURES], command=cmd_text, output_tail=tail)
