"""Git context for messages about recent changes: ``git diff --stat`` plus a capped diff.

"what did I just change", "review the diff", "my changes" → the working tree against HEAD (staged
and unstaged, plus untracked file names); "the last commit" → ``git show`` of HEAD. Not a git
repository, no git binary, or nothing changed → ``None``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

MAX_DIFF_CHARS = 6_000
GIT_TIMEOUT = 10.0

_WORKTREE_RE = re.compile(
    r"\bwhat (?:did|have) (?:i|we) (?:just )?(?:change|changed|do|done|edit|edited|modify"
    r"|modified|break|broken)\b|\b(?:my|our|the|these|recent|current|uncommitted|local|staged)"
    r" (?:local |recent |uncommitted |latest )?(?:changes|edits|modifications|diff)\b"
    r"|\breview (?:the |my |this )?(?:diff|changes|patch|pr|work)\b|\bgit diff\b"
    r"|\bwhat(?:'s| is) changed\b|\bwhat changed\b|\bdiff (?:so far|since)\b",
    re.IGNORECASE,
)
_COMMIT_RE = re.compile(
    r"\b(?:the |my |our )?(?:last|latest|previous|most recent|recent) commit\b"
    r"|\bhead commit\b|\bwhat did (?:i|we|the last commit) commit\b",
    re.IGNORECASE,
)


def wants_git_context(message: str) -> str | None:
    """``"commit"``, ``"worktree"`` or ``None``: which git view the message asks for."""
    if _COMMIT_RE.search(message):
        return "commit"
    if _WORKTREE_RE.search(message):
        return "worktree"
    return None


def _git(root: Path, *args: str) -> str | None:
    env = {**os.environ, "GIT_PAGER": "cat", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(["git", "-C", str(root), "--no-pager", *args], capture_output=True,
                              text=True, errors="replace", timeout=GIT_TIMEOUT, env=env,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_context(message: str, root: str | os.PathLike[str], *,
                max_diff_chars: int = MAX_DIFF_CHARS) -> str | None:
    """The git view the message implies, as prompt text, or ``None``."""
    kind = wants_git_context(message)
    if kind is None:
        return None
    root = Path(root)
    if _git(root, "rev-parse", "--is-inside-work-tree") is None:
        return None
    has_head = _git(root, "rev-parse", "--verify", "-q", "HEAD") is not None
    if kind == "commit":
        if not has_head:
            return None
        header = _git(root, "log", "-1", "--format=commit %h %s (%an, %ar)") or ""
        stat = _git(root, "show", "--stat", "--format=", "HEAD") or ""
        diff = _git(root, "show", "--format=", "--no-color", "HEAD") or ""
        title = "Git: the last commit"
    else:
        base = ["HEAD"] if has_head else ["--cached"]
        stat = _git(root, "diff", "--stat", *base) or ""
        diff = _git(root, "diff", "--no-color", *base) or ""
        untracked = _git(root, "ls-files", "--others", "--exclude-standard") or ""
        header = ""
        if untracked.strip():
            names = untracked.split()
            header = "Untracked files: " + ", ".join(names[:30]) + \
                (f" (+{len(names) - 30} more)" if len(names) > 30 else "")
        title = "Git: uncommitted changes (working tree against HEAD)"
        if not stat.strip() and not header:
            return f"{title}: none — the working tree is clean."
    body = diff
    if len(body) > max_diff_chars:
        from .budget import cut_output

        body = cut_output(body, max_diff_chars, hint="run `git diff -- <file>` for one file")
    parts = [title]
    if header.strip():
        parts.append(header.strip())
    if stat.strip():
        parts.append(stat.rstrip())
    if body.strip():
        parts.append("```diff\n" + body.rstrip() + "\n```")
    return "\n".join(parts)


__all__ = ["git_context", "wants_git_context"]
