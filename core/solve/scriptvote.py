"""What the shell makes of what candidates write (scripts, commands, make targets), for the
vote among candidates.

A task that asks for a script ("write scripts/count_lines.sh that prints the total number of
lines...") has nothing that checks it but the shell parsing it, and the vote's example calls are
Python or JavaScript calls that never reach a script. Run in a throw-away copy of the project,
each candidate's script prints something: candidates sampled independently that print the same
thing agree on what the task asks (the model's majority, by behaviour rather than by text), and
one that stops with an error or prints nothing is worth less than one that runs.

The same runs compute a new data file's content (a count, a list of files): the model writes
a command that prints it (``grep -rl TODO src | sort``), which reads the files instead of
recalling them, and its output is a candidate like any other.

A Makefile target a candidate adds is run the same way: one whose recipe fails (a ``find``
missing its ``\\;``, an ``rm`` of what is not there without ``-f``) loses the vote to those that
run.

Only a script that takes no arguments is run (one that reads ``$1`` or ``"$@"`` needs values
nobody gave); it runs from the project's root, with ``HOME`` pointing into the copy, no input,
and a timeout.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from ..edit.validate import run_command

SCRIPT_SUFFIXES = (".sh", ".bash")
_SHEBANG = re.compile(r"^#!\s*\S*(?:/|\benv\s+)(?:ba)?sh\b")
# a positional parameter, its count, or option parsing: the script wants arguments
_TAKES_ARGS = re.compile(r"\$\{?[1-9#@*]|\bgetopts\b|\bshift\b")
SCRIPT_TIMEOUT = 10.0
MAX_OUTPUT = 2000


def runnable_script(rel: str, text: str) -> bool:
    """Whether ``text`` (at ``rel``) is a shell script that can run without arguments."""
    if not (rel.endswith(SCRIPT_SUFFIXES) or _SHEBANG.match(text)):
        return False
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return not _TAKES_ARGS.search(code)


def script_output(root: Path, rel: str, timeout: float = SCRIPT_TIMEOUT) -> tuple[int, str]:
    """The exit code and the output (stripped, at most ``MAX_OUTPUT`` characters) of running
    ``bash rel`` in ``root``; -1 when it does not finish in ``timeout`` seconds."""
    return _run(["bash", rel], root, timeout)


def command_output(root: Path, command: str,
                   timeout: float = SCRIPT_TIMEOUT) -> tuple[int, str]:
    """Like :func:`script_output`, for one command line run by ``bash -c``."""
    return _run(["bash", "-c", command], root, timeout)


def _run(argv: list[str], root: Path, timeout: float) -> tuple[int, str]:
    """(exit code, stdout stripped and cut) of ``argv`` in ``root`` with ``HOME`` there; on a
    timeout its whole process group is killed (a ``find /`` it started too) and the code is
    -1."""
    run = run_command(argv, root, timeout, env={**os.environ, "HOME": str(root)})
    if run.returncode is None:
        return -1, ""
    return run.returncode, run.stdout.strip()[:MAX_OUTPUT]


_FENCE = re.compile(r"```[\w-]*\n(.*?)```", re.DOTALL)


def reply_command(reply: str, target: str) -> str | None:
    """The shell command of a reply asked for one (its first fenced block): the lines joined,
    ``$ `` prompts and comments dropped, and a redirect into ``target`` taken off (the command
    is to print the file's content). None when there is none."""
    fenced = _FENCE.search(reply)
    if fenced is None:
        return None
    cmd = [ln.strip().removeprefix("$ ").strip() for ln in fenced.group(1).splitlines()]
    cmd = [ln for ln in cmd if ln and not ln.startswith("#")]
    text = " ".join(ln.removesuffix("\\").strip() for ln in cmd).strip()
    name = re.escape(target)
    text = re.sub(rf"\s*(?:>>?|\|\s*tee(?:\s+-a)?)\s*(?:\./)?{name}\s*$", "", text)
    return text or None


_TARGET = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*:(?![:=])", re.MULTILINE)


def new_targets(before: str, after: str) -> list[str]:
    """The make targets ``after`` defines that ``before`` did not (special ones like
    ``.PHONY`` and pattern rules left out)."""
    had = set(_TARGET.findall(before))
    return [t for t in dict.fromkeys(_TARGET.findall(after)) if t not in had]


def target_runs(root: Path, rel: str, target: str,
                timeout: float = SCRIPT_TIMEOUT) -> tuple[int, str]:
    """The exit code (-1 on timeout) and the last line of the errors of ``make target`` run
    with the Makefile ``rel`` in ``root``."""
    make = shutil.which("make")
    if make is None:
        return 0, ""  # no make here: nothing to tell the candidates apart by
    path = root / rel
    run = run_command([make, "-f", path.name, target], path.parent, timeout,
                      env={**os.environ, "HOME": str(root), "MAKEFLAGS": ""})
    if run.returncode is None:
        return -1, "timed out"
    errors = [ln for ln in run.stderr.splitlines() if ln.strip()]
    return run.returncode, errors[-1][:200] if errors else ""


def runs_cleanly(outputs: tuple[tuple[int, str], ...]) -> bool:
    """Every script exits 0 and at least one prints something."""
    return all(rc == 0 for rc, _ in outputs) and any(out for _, out in outputs)


def majority_output(weights: dict[tuple[tuple[int, str], ...], int],
                    preferred: tuple[tuple[int, str], ...] | None
                    ) -> tuple[tuple[int, str], ...] | None:
    """The outputs most candidates share, those that run cleanly first (``preferred``, the
    best-ranked candidate's, breaks ties); None when they do not tell the candidates apart (one
    output for all, or none that runs cleanly)."""
    if len(weights) < 2:
        return None
    clean = {sig: n for sig, n in weights.items() if runs_cleanly(sig)}
    if not clean:
        return None
    return max(clean, key=lambda sig: (clean[sig], sig == preferred))


__all__ = ["SCRIPT_SUFFIXES", "command_output", "majority_output", "new_targets",
           "reply_command", "runnable_script", "runs_cleanly", "script_output", "target_runs"]
