"""Validators per language, run right after every write or patch.

``validate_file`` returns compact :class:`Diagnostic` records (file, line, column, message, tool).
Each external toolchain (ruff, node, tsc, go, cargo) runs with a timeout and is *skipped* when it
is missing or the project does not configure it; a missing toolchain is never an error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_TIMEOUT = 30.0  # seconds per external tool
BUILD_TIMEOUT = 120.0  # go build / cargo check / tsc compile a whole project

PY_SUFFIXES = {".py", ".pyi"}
JS_SUFFIXES = {".js", ".mjs", ".cjs"}
TS_SUFFIXES = {".ts", ".tsx", ".mts", ".cts"}
YAML_SUFFIXES = {".yaml", ".yml"}
RUFF_SELECT = "E9,F63,F7,F82"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found by a validator. ``file`` is workspace-relative when possible."""

    file: str
    line: int
    col: int
    message: str
    tool: str

    def compact(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


def format_diagnostics(diags: Sequence[Diagnostic], limit: int = 5) -> str:
    """``file:line: message`` lines, at most ``limit``, plus a count of the rest."""
    shown = [d.compact() for d in diags[:limit]]
    if len(diags) > limit:
        shown.append(f"... and {len(diags) - limit} more")
    return "\n".join(shown)


# ----------------------------------------------------------------------------------------------
# running external tools


@dataclass(frozen=True)
class ToolRun:
    """Result of one external command: None ``returncode`` means it timed out."""

    returncode: int | None
    stdout: str
    stderr: str


def run_command(
    cmd: Sequence[str], cwd: Path, timeout: float, env: dict[str, str] | None = None
) -> ToolRun:
    """Run a command in its own process group; on timeout kill the whole group."""
    proc = subprocess.Popen(
        list(cmd),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
        env=env,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        return ToolRun(None, out, err)
    return ToolRun(proc.returncode, out, err)


def _find_up(start: Path, names: Sequence[str], stop: Path) -> Path | None:
    """The nearest ancestor of ``start`` (up to ``stop``) holding one of ``names``."""
    d = start if start.is_dir() else start.parent
    stop = stop.resolve()
    while True:
        for name in names:
            if (d / name).exists():
                return d / name
        if d == stop or stop not in d.parents:
            return None
        d = d.parent


def _rel(path: Path | str, root: Path) -> str:
    p = Path(path)
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _tool_path(name: str, root: Path) -> str | None:
    local = root / "node_modules" / ".bin" / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


# ----------------------------------------------------------------------------------------------
# Python


def _python_compile(path: Path, rel: str, source: str) -> list[Diagnostic]:
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        msg = exc.msg
        if exc.text and exc.text.strip():
            msg = f"{msg}: {exc.text.strip()[:120]}"
        return [Diagnostic(rel, exc.lineno or 0, exc.offset or 0, f"SyntaxError: {msg}", "python")]
    except ValueError as exc:  # source with NUL bytes
        return [Diagnostic(rel, 0, 0, f"cannot compile: {exc}", "python")]
    return []


def ruff_configured(path: Path, root: Path) -> bool:
    """True when the project configures ruff (ruff.toml, .ruff.toml or pyproject [tool.ruff])."""
    d = path if path.is_dir() else path.parent
    stop = root.resolve()
    while True:
        if (d / "ruff.toml").is_file() or (d / ".ruff.toml").is_file():
            return True
        pp = d / "pyproject.toml"
        if pp.is_file():
            try:
                if "ruff" in tomllib.loads(pp.read_text(errors="replace")).get("tool", {}):
                    return True
            except tomllib.TOMLDecodeError:
                pass
        if d == stop or stop not in d.parents:
            return False
        d = d.parent


def _python_ruff(path: Path, root: Path) -> list[Diagnostic]:
    ruff = shutil.which("ruff")
    if ruff is None or not ruff_configured(path, root):
        return []
    run = run_command(
        [
            ruff,
            "check",
            "--select",
            RUFF_SELECT,
            "--output-format",
            "json",
            "--no-cache",
            "--no-fix",
            str(path),
        ],
        root,
        DEFAULT_TIMEOUT,
    )
    if run.returncode is None or not run.stdout.strip().startswith("["):
        return []
    out = []
    for item in json.loads(run.stdout):
        loc = item.get("location") or {}
        out.append(
            Diagnostic(
                _rel(item.get("filename", path), root),
                int(loc.get("row", 0)),
                int(loc.get("column", 0)),
                f"{item.get('code', '')} {item.get('message', '')}".strip(),
                "ruff",
            )
        )
    return out


# ----------------------------------------------------------------------------------------------
# JavaScript / TypeScript

_NODE_LOC = re.compile(r"^(?P<file>.+?):(?P<line>\d+)\s*$", re.MULTILINE)
_NODE_ERR = re.compile(r"^(?P<kind>\w*Error): (?P<msg>.+)$", re.MULTILINE)
_TSC = re.compile(
    r"^(?P<file>[^\n(]+)\((?P<line>\d+),(?P<col>\d+)\): error (?P<msg>.+)$", re.MULTILINE
)


def parse_node_check(output: str, rel: str) -> list[Diagnostic]:
    """Parse ``node --check`` stderr: ``file:LINE``, the source line, a caret, ``SyntaxError: ...``."""
    err = _NODE_ERR.search(output)
    if err is None:
        return [
            Diagnostic(
                rel,
                0,
                0,
                output.strip().splitlines()[-1][:200] if output.strip() else "node --check failed",
                "node",
            )
        ]
    loc = _NODE_LOC.search(output)
    line = int(loc.group("line")) if loc else 0
    return [Diagnostic(rel, line, 0, f"{err.group('kind')}: {err.group('msg').strip()}", "node")]


def _javascript(path: Path, rel: str, root: Path) -> list[Diagnostic]:
    node = shutil.which("node")
    if node is None:
        return []
    run = run_command([node, "--check", str(path)], root, DEFAULT_TIMEOUT)
    if run.returncode in (0, None):
        return []
    return parse_node_check(run.stderr or run.stdout, rel)


def parse_tsc(output: str, cwd: Path, root: Path) -> list[Diagnostic]:
    out = []
    for m in _TSC.finditer(output):
        out.append(
            Diagnostic(
                _rel(cwd / m.group("file").strip(), root),
                int(m.group("line")),
                int(m.group("col")),
                m.group("msg").strip(),
                "tsc",
            )
        )
    return out


def _typescript(path: Path, rel: str, root: Path) -> list[Diagnostic]:
    config = _find_up(path, ["tsconfig.json"], root)
    if config is None:
        return []
    tsc = _tool_path("tsc", config.parent) or _tool_path("tsc", root)
    if tsc is None:
        return []
    run = run_command(
        [tsc, "--noEmit", "--pretty", "false", "-p", str(config)], config.parent, BUILD_TIMEOUT
    )
    if run.returncode in (0, None):
        return []
    diags = parse_tsc(run.stdout + run.stderr, config.parent, root)
    return _this_file_first(diags, rel)


# ----------------------------------------------------------------------------------------------
# data files

_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _json(rel: str, source: str) -> list[Diagnostic]:
    try:
        json.loads(source)
    except json.JSONDecodeError as exc:
        return [Diagnostic(rel, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}", "json")]
    return []


def _is_jsonc(path: Path) -> bool:
    """Files that are JSON-with-comments by convention (tsconfig, jsconfig, VS Code settings)."""
    name = path.name.lower()
    return (
        name.startswith(("tsconfig", "jsconfig"))
        or path.parent.name == ".vscode"
        or name in {"devcontainer.json", ".eslintrc.json"}
    )


def _toml(rel: str, source: str) -> list[Diagnostic]:
    try:
        tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        m = _TOML_AT.search(text)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        return [
            Diagnostic(rel, line, col, f"invalid TOML: {_TOML_AT.sub('', text).strip()}", "toml")
        ]
    return []


def _yaml(rel: str, source: str) -> list[Diagnostic]:
    try:
        for _ in yaml.safe_load_all(source):
            pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        col = mark.column + 1 if mark else 0
        msg = " ".join(x for x in (exc.context, exc.problem) if x) or "parse error"
        return [Diagnostic(rel, line, col, f"invalid YAML: {msg}", "yaml")]
    except yaml.YAMLError as exc:
        return [Diagnostic(rel, 0, 0, f"invalid YAML: {exc}", "yaml")]
    return []


# ----------------------------------------------------------------------------------------------
# shell scripts and Makefiles

SHELL_SUFFIXES = {".sh", ".bash"}
MAKEFILE_NAMES = {"makefile", "gnumakefile"}
_BASH_AT = re.compile(r"line (\d+): (.+)$", re.MULTILINE)
_MAKE_AT = re.compile(r"^[^:\n]*:(\d+): \*\*\* (.+?)\.?\s+Stop\.", re.MULTILINE)


def is_makefile(path: Path | str) -> bool:
    name = Path(path).name
    return name.lower() in MAKEFILE_NAMES or name.endswith(".mk")


_RULE = re.compile(r"^[^\s#=:][^=#]*?(?<!:):(?![:=])(?!.*\\$)")  # ``target: deps``, not ``X := y``
_CONDITIONAL = re.compile(r"^\s*(?:ifn?eq|ifn?def|else|endif)\b")


def recipe_tabs(path: str, text: str) -> tuple[str, int]:
    """A Makefile's recipe lines indented with spaces (a chat model's code block turns tabs
    into spaces; make then stops at "missing separator") indented with a tab, and how many.
    A recipe line follows a rule line (``target: deps``) and runs to the next line that is
    blank, a comment at the margin, or not indented."""
    if not is_makefile(path):
        return text, 0
    lines = text.split("\n")
    fixed, in_recipe = 0, False
    for i, line in enumerate(lines):
        if not line.strip() or not line[0].isspace() and line.startswith("#"):
            in_recipe = False
        elif not line[0].isspace():
            in_recipe = bool(_RULE.match(line)) and not _CONDITIONAL.match(line)
        elif in_recipe and line.startswith(" ") and not _CONDITIONAL.match(line):
            lines[i] = "\t" + line.lstrip(" \t")
            fixed += 1
    return "\n".join(lines), fixed


def _shell(path: Path, rel: str) -> list[Diagnostic]:
    """``bash -n``: the script parses (nothing of it runs)."""
    bash = shutil.which("bash")
    if bash is None:
        return []
    run = run_command([bash, "-n", str(path)], path.parent, DEFAULT_TIMEOUT)
    if run.returncode in (0, None):
        return []
    m = _BASH_AT.search(run.stderr)
    line, msg = (int(m.group(1)), m.group(2).strip()) if m else (0, _last_line(run.stderr))
    return [Diagnostic(rel, line, 0, f"shell syntax error: {msg}", "bash")]


def _makefile(path: Path, rel: str, source: str) -> list[Diagnostic]:
    """``make`` reads the file (a recipe indented with spaces is "missing separator"); no
    recipe runs: it is asked for a target no Makefile has. A file that runs commands while it is
    read (``$(shell ...)``) or reads others (``include``) is left alone."""
    make = shutil.which("make")
    if make is None or "$(shell" in source or re.search(r"^\s*-?include\s", source, re.MULTILINE):
        return []
    run = run_command([make, "-n", "-f", path.name, "--no-print-directory",
                       ".smallcode-parse-check"], path.parent, DEFAULT_TIMEOUT,
                      env={**os.environ, "MAKEFLAGS": ""})
    m = _MAKE_AT.search(run.stderr)
    if run.returncode is None or m is None:
        return []
    hint = (" (recipe lines must start with a tab, not spaces)"
            if "missing separator" in m.group(2) else "")
    return [Diagnostic(rel, int(m.group(1)), 0, f"invalid Makefile: {m.group(2)}{hint}",
                       "make")]


# ----------------------------------------------------------------------------------------------
# Go / Rust

_GO_LOC = re.compile(
    r"^(?P<file>[^\s:][^:\n]*\.go):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<msg>.+)$", re.MULTILINE
)
_CARGO_SHORT = re.compile(
    r"^(?P<file>[^\s:][^:\n]*\.rs):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning)(?P<code>\[\w+\])?: "
    r"(?P<msg>.+)$",
    re.MULTILINE,
)


def parse_go_output(output: str, cwd: Path, root: Path, tool: str) -> list[Diagnostic]:
    out = []
    seen = set()
    for m in _GO_LOC.finditer(output):
        d = Diagnostic(
            _rel(cwd / m.group("file"), root),
            int(m.group("line")),
            int(m.group("col") or 0),
            m.group("msg").strip(),
            tool,
        )
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def _go(path: Path, rel: str, root: Path) -> list[Diagnostic]:
    gomod = _find_up(path, ["go.mod"], root)
    go = shutil.which("go")
    if gomod is None or go is None:
        return []
    mod_dir = gomod.parent
    env = dict(os.environ, GOFLAGS=os.environ.get("GOFLAGS", "") + " -mod=mod", GOPROXY="off")
    run = run_command([go, "build", "./..."], mod_dir, BUILD_TIMEOUT, env=env)
    if run.returncode is None:
        return []
    if run.returncode != 0:
        return _this_file_first(
            parse_go_output(run.stderr + run.stdout, mod_dir, root, "go build")
            or [Diagnostic(rel, 0, 0, _last_line(run.stderr), "go build")],
            rel,
        )
    pkg = "./" + (path.parent.relative_to(mod_dir).as_posix() or ".")
    run = run_command([go, "vet", pkg], mod_dir, BUILD_TIMEOUT, env=env)
    if run.returncode in (0, None):
        return []
    return _this_file_first(parse_go_output(run.stderr + run.stdout, mod_dir, root, "go vet"), rel)


def parse_cargo_short(output: str, cwd: Path, root: Path) -> list[Diagnostic]:
    out = []
    for m in _CARGO_SHORT.finditer(output):
        if m.group("sev") != "error":
            continue
        code = m.group("code") or ""
        out.append(
            Diagnostic(
                _rel(cwd / m.group("file"), root),
                int(m.group("line")),
                int(m.group("col")),
                f"error{code}: {m.group('msg').strip()}",
                "cargo",
            )
        )
    return out


def _rust(path: Path, rel: str, root: Path) -> list[Diagnostic]:
    manifest = _find_up(path, ["Cargo.toml"], root)
    cargo = shutil.which("cargo")
    if manifest is None or cargo is None:
        return []
    run = run_command(
        [cargo, "check", "--offline", "--quiet", "--message-format", "short"],
        manifest.parent,
        BUILD_TIMEOUT,
    )
    if run.returncode in (0, None):
        return []
    diags = parse_cargo_short(run.stderr + run.stdout, manifest.parent, root)
    return _this_file_first(diags or [Diagnostic(rel, 0, 0, _last_line(run.stderr), "cargo")], rel)


# ----------------------------------------------------------------------------------------------


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "failed"


def _this_file_first(diags: list[Diagnostic], rel: str) -> list[Diagnostic]:
    return sorted(diags, key=lambda d: d.file != rel)


def validate_file(path: Path, workspace_root: Path) -> list[Diagnostic]:
    """Check one file right after an edit. Returns [] for a clean file, an unknown language, or
    a language whose toolchain is not installed."""
    root = Path(workspace_root).resolve()
    path = Path(path)
    path = (path if path.is_absolute() else root / path).resolve()
    rel = _rel(path, root)
    if not path.is_file():
        return [Diagnostic(rel, 0, 0, "file does not exist", "fs")]
    suffix = path.suffix.lower()
    makefile = is_makefile(path)
    if suffix in PY_SUFFIXES | JS_SUFFIXES | TS_SUFFIXES | {".json", ".toml"} | YAML_SUFFIXES \
            or makefile:
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            return [
                Diagnostic(
                    rel, 0, 0, f"not valid UTF-8 text ({exc.reason} at byte {exc.start})", "fs"
                )
            ]
    if suffix in PY_SUFFIXES:
        return _python_compile(path, rel, source) or _python_ruff(path, root)
    if suffix in JS_SUFFIXES:
        return _javascript(path, rel, root)
    if suffix in TS_SUFFIXES:
        return _typescript(path, rel, root)
    if suffix == ".json":
        return [] if _is_jsonc(path) else _json(rel, source)
    if suffix == ".toml":
        return _toml(rel, source)
    if suffix in YAML_SUFFIXES:
        return _yaml(rel, source)
    if suffix in SHELL_SUFFIXES:
        return _shell(path, rel)
    if makefile:
        return _makefile(path, rel, source)
    if suffix == ".go":
        return _go(path, rel, root)
    if suffix == ".rs":
        return _rust(path, rel, root)
    return []


# one %-conversion: %% or %[(key)][flags][width][.precision][length]type
_PERCENT = re.compile(r"%(?:%|(\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(.))")
_PERCENT_TYPES = set("diouxXeEfFgGcrsa")


def percent_format_errors(source: str) -> list[tuple[int, str]]:
    """``'...' % values`` expressions that raise whatever the values are: a conversion Python
    does not have (``'%d/%m/%Y' % text``: strftime's codes, ValueError "unsupported format
    character"), or a tuple of values written out whose length is not the number of
    conversions (TypeError "not enough arguments"). (line, message) each; [] when the source
    does not parse."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)
                and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)):
            continue
        fmt = node.left.value
        specs = [m for m in _PERCENT.finditer(fmt) if m.group(0) != "%%"]
        bad = sorted({"%" + m.group(2) for m in specs if m.group(2) not in _PERCENT_TYPES})
        if bad:
            out.append((node.lineno, (f"{fmt[:60]!r} % ...: {', '.join(bad)} is no %-format "
                                     "conversion (strftime's codes only work in strftime/"
                                     "strptime): this line raises an error whenever it runs")))
            continue
        if any(m.group(1) for m in specs) or any("*" in m.group(0) for m in specs):
            continue  # by key, or widths taken from the values: not counted here
        right = node.right
        if isinstance(right, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in right.elts):
            given = len(right.elts)
        elif isinstance(right, ast.Constant) and not isinstance(right.value, tuple):
            given = 1
        else:
            continue  # a name may hold a tuple of any length
        if given != len(specs):
            out.append((node.lineno, (f"{fmt[:60]!r} % ...: {len(specs)} conversion(s) but "
                                     f"{given} value(s): this line raises an error whenever it "
                                     "runs")))
    return out


# a named JavaScript function and its parameters: ``function f(a, b)``, ``const f = (a, b) =>``
_JS_FUNCTION = re.compile(r"\bfunction\s+([A-Za-z_$][\w$]*)\s*\(([^)]*)\)|"
                          r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s+)?"
                          r"(?:function\s*)?\(([^)]*)\)\s*(?:=>|\{)")
# a function passed as it is to an array method that calls it with (element, index, array)
_JS_CALLBACK = re.compile(r"\.(map|forEach|filter|flatMap|some|every|find|findIndex)\(\s*"
                          r"([A-Za-z_$][\w$]*)\s*\)")


def js_index_traps(sources: dict[str, str]) -> set[tuple[str, str, str]]:
    """(function, array method, its second parameter) for each function of ``sources`` (path
    -> JavaScript) that takes two or more parameters and is passed as it is to ``.map(f)``,
    ``.forEach(f)`` and the like, which call it with each element's *index* as its second
    argument (``row.map(formatCell)`` once ``formatCell(value, sep)`` takes a separator:
    ``sep`` is 0, 1, 2...)."""
    params: dict[str, list[str]] = {}
    for text in sources.values():
        for m in _JS_FUNCTION.finditer(text):
            name, args = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            if "{" in args or "[" in args:
                continue  # destructured: its commas are not between parameters
            names = [a.split("=")[0].strip().lstrip(".") for a in args.split(",") if a.strip()]
            params[name] = names
    found: set[tuple[str, str, str]] = set()
    for text in sources.values():
        for m in _JS_CALLBACK.finditer(text):
            method, fn = m.group(1), m.group(2)
            if len(params.get(fn, [])) >= 2:
                found.add((fn, method, params[fn][1]))
    return found
