"""A shell script that fails when it runs: running it is the reproduction check.

"backup.sh fails with 'source: unbound variable'", "the backup script is broken", "running
`./backup.sh data out` dies": whatever the words, a script of the project that exits non-zero
when run the way the task writes it, or else the way its own usage line says, reproduces the
fault; after the fix the same run must exit 0. The arguments come from the task's command line
when it writes one (`bash backup.sh data out`), else from the script's ``Usage:`` comment, each
placeholder filled deterministically: a source-like one (``SOURCE_DIR``, ``INPUT_FILE``) with a
directory or file of the project, a destination-like one (``DEST_DIR``, ``OUT``) with a fresh
path outside it (with a space in it: a script that breaks on one is not fixed). A script that
takes no argument runs bare. Runs happen in the scratch copy being checked, never in the user's
tree.

A Python or Node.js script is run the same way when the task writes its command line
("`python report.py sales.csv` crashes with KeyError", "node cli.js --count fails"), never
from a guess, and its start run must end in an uncaught error (a traceback, a thrown error), not
in a usage message.

Like "the call returns without an error", an exit 0 says the crash is gone, not that the script
does the right thing: the solver applies such a candidate as unverified.
:func:`command_checks` is called by :meth:`smallcode.core.solve.solver.Solver._oracle`; the
checks run in :meth:`smallcode.core.solve.oracle.Oracle.check`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SCRIPT_EXT = (".sh", ".bash")
# scripts run only by a command line the task writes: their interpreter, and what their
# output shows when the run ended in an uncaught error
WRITTEN_ONLY = {".py": ("python", "Traceback (most recent call last)"),
                ".js": ("node", "Error"), ".cjs": ("node", "Error")}
RUNNABLE_EXT = SCRIPT_EXT + tuple(WRITTEN_ONLY)
RUN_SECONDS = 20
USAGE = re.compile(r"^\s*#\s*usage:\s*(?:\S*/)?(\S+)[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)
# placeholders of a usage line: SOURCE_DIR, <src>, FILE...
PLACEHOLDER = re.compile(r"^<?([A-Za-z][\w-]*)>?(?:\.\.\.)?$")
DEST_WORDS = ("dest", "dst", "out", "target", "backup", "to")
SOURCE_WORDS = ("src", "source", "in", "input", "from", "dir", "file", "path", "data")
FRESH = "\x00fresh:"  # an argument filled with a new path outside the project at run time


@dataclass(frozen=True)
class CommandCheck:
    """``bash script args`` in the project must exit 0 (it does not on the untouched code)."""

    script: str  # relative path of the script
    args: tuple[str, ...]  # a FRESH-prefixed argument is a new path made per run
    start_output: str = ""  # what the untouched run printed (its last lines)

    @property
    def interpreter(self) -> str:
        return WRITTEN_ONLY.get(Path(self.script).suffix, ("bash", ""))[0]

    def shown(self) -> str:
        args = [a[len(FRESH):].replace("_", " ") if a.startswith(FRESH) else a
                for a in self.args]
        return shlex.join([self.interpreter, self.script, *args])

    def describe(self) -> str:
        return f"`{self.shown()}` exits 0"

    def run(self, root: Path) -> tuple[bool, str]:
        code, out = self.execute(root)
        if code == 0:
            return True, ""
        return False, f"reproduction check failed: `{self.shown()}` exited {code}: {out}"

    def execute(self, root: Path) -> tuple[int, str]:
        """The run's exit code and the last lines it printed (stderr first)."""
        done = self.complete(root)
        return done if isinstance(done, tuple) else (done.returncode, _tail(done, root))

    def complete(self, root: Path) -> subprocess.CompletedProcess[str] | tuple[int, str]:
        """The finished run in ``root``, or (code, why) when it could not start or finish."""
        with tempfile.TemporaryDirectory(prefix="smallcode-run-") as tmp:
            argv = [str(Path(tmp) / a[len(FRESH):].replace("_", " ")) if a.startswith(FRESH)
                    else a for a in self.args]
            program = sys.executable if self.interpreter == "python" else self.interpreter
            try:
                return subprocess.run([program, self.script, *argv], cwd=root, check=False,
                                      capture_output=True, text=True, timeout=RUN_SECONDS,
                                      stdin=subprocess.DEVNULL,
                                      env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
            except subprocess.TimeoutExpired:
                return 124, f"did not finish in {RUN_SECONDS} s"
            except OSError as exc:
                return 126, f"cannot run {self.interpreter}: {exc}"


def command_checks(task: str, root: Path, files: list[str]) -> list[CommandCheck]:
    """The runs of the scripts among ``files`` that fail on the untouched code (``root`` is a
    scratch copy), at most one per script: shell scripts as the task or their usage line says,
    Python and Node.js scripts only as the task writes them."""
    out: list[CommandCheck] = []
    for rel in files:
        if not rel.endswith(RUNNABLE_EXT) or not (root / rel).is_file():
            continue
        written = _outside_kept_out(_task_command(task, rel, root))
        crash = WRITTEN_ONLY.get(Path(rel).suffix, ("", ""))[1]
        if crash:
            args = written
        else:
            usage = _usage_args(root, rel)
            # fewer arguments than the usage line asks for would fail for that alone
            args = written if written is not None and len(written) >= len(usage or []) \
                else usage
        if args is None:
            continue
        check = CommandCheck(rel, tuple(args))
        done = check.complete(root)
        # a Python or Node.js run must end in an uncaught error, not a usage message
        if isinstance(done, tuple) or done.returncode == 0 or crash not in done.stderr:
            continue
        out.append(CommandCheck(rel, tuple(args), _tail(done, root)))
    return out


def _tail(done: subprocess.CompletedProcess[str], root: Path) -> str:
    """The last lines a run printed, stderr first, without Node.js's stack frames and version
    line (its error message stands above them)."""
    lines = [line for line in (done.stderr.strip() or done.stdout.strip()).splitlines()
             if not line.lstrip().startswith("at ") and not line.startswith("Node.js v")
             and line.strip()]
    return "\n".join(lines[-4:]).replace(str(root) + "/", "")


def _task_command(task: str, rel: str, root: Path) -> list[str] | None:
    """The arguments of the command line the task writes for ``rel`` ("`./backup.sh data
    out`", "bash scripts/backup.sh data out"), None when it writes none. Outside backticks the
    arguments are the words after the script's name up to the first that is prose: an
    argument has a slash, a dot, a digit, a dash in front, capitals only, or names a path of
    the project ("backup.sh data /tmp/x fails": data, /tmp/x)."""
    name = re.escape(Path(rel).name)
    for m in re.finditer(r"`([^`\n]+)`", task):
        args = _after_script(m.group(1), name)
        if args is not None:
            return args
    line = re.search(rf"(?:^|\s)(?:(?:ba)?sh\s+)?(?:\./)?(?:[\w./-]*/)?{name}((?:[ \t]+"
                     r"[^\s,;:!?`'\"]+)*)", task)
    if line is None:
        return None
    args = []
    for word in line.group(1).split():
        word = word.rstrip(".") if word.count(".") == 1 and word.endswith(".") else word
        if not ("/" in word or "." in word or word.isupper() or word.startswith("-")
                or any(c.isdigit() for c in word) or (root / word).exists()):
            break
        args.append(word)
    return args or None


def _outside_kept_out(args: list[str] | None) -> list[str] | None:
    """A path outside the project the task writes (``/tmp/out``) becomes a fresh path made per
    run: checks never write outside their scratch copy. One that exists already (``~/photos``)
    may hold the user's files: no run of the written command then."""
    if args is None:
        return None
    out = []
    for arg in args:
        if arg.startswith(("/", "~")):
            if Path(arg).expanduser().exists():
                return None
            out.append(FRESH + (Path(arg).name or "out"))
        else:
            out.append(arg)
    return out


def _after_script(command: str, name: str) -> list[str] | None:
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for i, w in enumerate(words):
        if re.fullmatch(rf"(?:\./)?(?:[\w./-]*/)?{name}", w) and (
                i == 0 or words[i - 1] in ("bash", "sh", "python", "python3", "node")
                or (i == 1 and words[0] == "sudo")):
            return words[i + 1:]
    return None


def _usage_args(root: Path, rel: str) -> list[str] | None:
    """Arguments for the script's ``Usage:`` line, placeholders filled; [] for a script that
    reads no positional argument; None when a placeholder cannot be filled."""
    text = (root / rel).read_text(errors="replace")
    m = USAGE.search("\n".join(text.splitlines()[:30]))
    if m is None or Path(m.group(1)).name != Path(rel).name:
        return [] if not re.search(r"\$\{?[1-9@*#]", text) else None
    args: list[str] = []
    used: set[str] = set()
    for word in m.group(2).split():
        if word.startswith("["):
            break  # optional arguments: the required ones are enough
        pm = PLACEHOLDER.match(word)
        if pm is None:
            if word.startswith("-"):
                args.append(word)
                continue
            return None
        value = _fill(pm.group(1), root, rel, used)
        if value is None:
            return None
        args.append(value)
    return args


def _fill(placeholder: str, root: Path, rel: str, used: set[str]) -> str | None:
    words = [w for w in re.split(r"[_\-]|(?<=[a-z])(?=[A-Z])", placeholder.lower()) if w]
    if any(w in DEST_WORDS for w in words):
        return FRESH + placeholder.lower()
    if not any(w in SOURCE_WORDS for w in words):
        return None
    want_dir = any(w in ("dir", "directory", "folder") for w in words)
    for path in sorted(root.iterdir()):
        name = path.name
        if name.startswith(".") or name in used or path == root / rel:
            continue
        if (want_dir and path.is_dir()) or (not want_dir and path.is_file()
                                            and not name.endswith(SCRIPT_EXT)):
            used.add(name)
            return name
    return None
