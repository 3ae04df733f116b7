"""Put the likely-relevant code in the first prompt, so a small model needs fewer turns.

Deterministic and cheap: files named in the message, files that define identifiers named in it
(through the code graph when there is one, else a bounded text search), and — when the message
talks about a failing test or an error — the test run's output plus the files in its traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smallcode.core.awaitables import maybe_await

from .tools.workspace import Workspace, WorkspaceError

CODE_EXT = {".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".c", ".h",
            ".cpp", ".hpp", ".rb", ".json", ".toml", ".yaml", ".yml", ".cfg", ".ini", ".md", ".sh",
            ".txt", ".html", ".css"}
PATH_RE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.(?:" +
                     "|".join(e[1:] for e in sorted(CODE_EXT)) + r"))\b")
IDENT_RE = re.compile(r"`([^`]+)`|\b([A-Za-z_][A-Za-z0-9_]*(?:_[A-Za-z0-9_]+|[a-z][A-Z][A-Za-z0-9]*))\b|"
                      r"\b([A-Za-z_]\w*)\(\)")
TEST_WORDS = re.compile(r"\b(test|tests|failing|fails|failure|broken|error|exception|traceback|"
                        r"bug|crash|assert|pytest|wrong)\b", re.IGNORECASE)
TRACE_FILE_RE = re.compile(r"(?:File \"([^\"]+)\", line \d+|^([\w./-]+\.\w+):\d+)", re.MULTILINE)
PY_IMPORT_RE = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.MULTILINE)
JS_IMPORT_RE = re.compile(r"""(?:require\(\s*|from\s+|import\s+)['"](\.{1,2}/[^'"]+)['"]""")
JS_EXTS = ("", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", "/index.js", "/index.ts")
STOPWORDS = {"the", "and", "for", "with", "that", "this", "from", "into", "make", "sure", "should",
             "when", "test", "tests", "file", "function"}


@dataclass
class Prefetch:
    files: dict[str, str] = field(default_factory=dict)  # rel path -> content
    test_output: str = ""
    test_command: str = ""
    tests_failing: bool | None = None
    test_failures: list[str] | None = None  # ids of the tests failing at start (None: not run)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        parts: list[str] = []
        if self.test_output:
            parts.append(f"Output of `{self.test_command}` (run before you started):\n"
                         f"```\n{self.test_output}\n```")
        for rel, text in self.files.items():
            parts.append(f"File {rel}:\n```\n{text.rstrip()}\n```")
        parts += self.notes
        return "\n\n".join(parts)


def mentioned_paths(message: str, ws: Workspace) -> list[str]:
    out: list[str] = []
    for m in PATH_RE.finditer(message):
        cand = m.group(1).lstrip("@")
        try:
            p = ws.resolve(cand)
        except WorkspaceError:
            continue
        if p.is_file():
            rel = ws.rel(p)
            if rel not in out:
                out.append(rel)
        elif "/" not in cand:  # a bare name: find it anywhere in the project
            for f in ws.iter_files():
                if f.name == cand:
                    rel = ws.rel(f)
                    if rel not in out:
                        out.append(rel)
                    break
    return out


def local_imports(rel: str, ws: Workspace) -> list[str]:
    """Project files imported by ``rel`` (Python and JS/TS, relative or top-level modules)."""
    try:
        p = ws.resolve(rel)
        text = p.read_text(errors="replace")
    except (OSError, WorkspaceError):
        return []
    found: list[str] = []
    candidates: list[Path] = []
    if p.suffix == ".py":
        for m in PY_IMPORT_RE.finditer(text):
            mod = (m.group(1) or m.group(2)).lstrip(".")
            if not mod:
                continue
            sub = mod.replace(".", "/")
            for base in (p.parent, ws.root, ws.root / "src"):
                candidates += [base / f"{sub}.py", base / sub / "__init__.py"]
    else:
        for m in JS_IMPORT_RE.finditer(text):
            for ext in JS_EXTS:
                candidates.append(p.parent / (m.group(1) + ext))
    for c in candidates:
        try:
            c = ws.resolve(c)
        except WorkspaceError:
            continue
        if c.is_file():
            r = ws.rel(c)
            if r != rel and r not in found:
                found.append(r)
    return found


def identifiers(message: str) -> list[str]:
    names: list[str] = []
    for m in IDENT_RE.finditer(message):
        for g in m.groups():
            if g and g.lower() not in STOPWORDS and len(g) > 2 and not PATH_RE.fullmatch(g):
                g = g.strip("()")
                if re.fullmatch(r"[A-Za-z_][\w.]*", g) and g not in names:
                    names.append(g)
    return names


def files_defining(names: list[str], ws: Workspace, limit: int = 4) -> list[str]:
    """Files that define (or, failing that, mention) the given identifiers; bounded text scan."""
    if not names:
        return []
    defs = re.compile(r"^\s*(?:def|class|function|async function|const|let|var|func|fn|export "
                      r"(?:default )?(?:function|class|const))\s+(" +
                      "|".join(re.escape(n.split(".")[-1]) for n in names) + r")\b", re.MULTILINE)
    uses = re.compile(r"\b(" + "|".join(re.escape(n.split(".")[-1]) for n in names) + r")\b")
    defining: list[str] = []
    using: list[tuple[int, str]] = []
    for i, f in enumerate(ws.iter_files()):
        if i > 3000 or f.suffix not in CODE_EXT:
            continue
        try:
            if f.stat().st_size > 200_000:
                continue
            text = f.read_text(errors="replace")
        except OSError:
            continue
        if defs.search(text):
            defining.append(ws.rel(f))
        else:
            n = len(uses.findall(text))
            if n:
                using.append((-n, ws.rel(f)))
    ranked = defining + [r for _, r in sorted(using)]
    return ranked[:limit]


async def gather(message: str, ws: Workspace, *, budget_chars: int, graph: Any = None,
                 test_runner: Any = None, run_tests: Any = None,
                 always_test: bool = False) -> Prefetch:
    """Collect context for the first prompt within ``budget_chars``. The tests run first when
    the message talks about failures, or always for edits (``always_test``) so that `finish` can
    be checked against them."""
    pf = Prefetch()
    candidates = mentioned_paths(message, ws)
    wants_tests = always_test or TEST_WORDS.search(message)
    if wants_tests and test_runner is not None and run_tests is not None:
        run = await run_tests(test_runner)
        if run is not None:
            pf.test_command = run.command
            pf.tests_failing = not run.ok
            pf.test_failures = run.failure_ids()
            text = test_run_text(run)
            pf.test_output = _cap(text, budget_chars // 3)
            for m in TRACE_FILE_RE.finditer(text + "\n" + "\n".join(run.failures)):
                raw = m.group(1) or m.group(2)
                try:
                    p = ws.resolve(raw)
                except WorkspaceError:
                    continue
                rel = ws.rel(p)
                if p.is_file() and "site-packages" not in rel and rel not in candidates:
                    candidates.append(rel)
    names = identifiers(message)
    if graph is not None:
        try:
            for rel in await maybe_await(graph.relevant_files(message, limit=4)):
                if rel not in candidates:
                    candidates.append(rel)
        except Exception:  # noqa: BLE001, S110 - the graph is an optimisation; never fatal
            pass
    for rel in files_defining(names, ws):
        if rel not in candidates:
            candidates.append(rel)
    for rel in list(candidates):
        for imported in local_imports(rel, ws):
            if imported not in candidates:
                candidates.append(imported)
    # the code under test matters more than the tests: non-test files first (stable order)
    candidates.sort(key=lambda r: "test" in Path(r).name.lower())
    used = len(pf.test_output)
    for rel in candidates[:6]:
        try:
            text = ws.resolve(rel).read_text(errors="replace")
        except OSError:
            continue
        if used + len(text) > budget_chars:
            if used + 2000 > budget_chars:
                continue
            pf.notes.append(f"({rel} is large; read it with read_file and a line range.)")
            continue
        pf.files[rel] = text
        used += len(text)
    return pf


def test_run_text(run: Any, tail: int = 1800) -> str:
    """A test run as the model should see it: the compact summary, then the output's tail."""
    out = (run.output_tail or "").strip()
    if len(out) > tail:
        out = "[...]\n" + out[-tail:]
    return (run.compact() + ("\n" + out if out else "")).strip()


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit // 3] + "\n[...]\n" + text[-(2 * limit) // 3:]

