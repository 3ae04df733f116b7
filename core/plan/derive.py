"""Plans derived from the message itself, without asking the model.

Asked for a plan, a 1.5B model writes generic steps ("open the project", "make the changes",
"commit") that name no files, so the dependency graph can only run them one by one and the
tracker has no evidence to check. When the message already says what to do and where, the plan
can be read off it deterministically:

- a **rename** ("rename calc_total to compute_total") becomes one step that owns every source
  file using the name (found now, whole words), so one worker does the whole rename;
- every other clause that names files ("also add a line to `NOTES.md`") becomes its own step
  owning those files.

A plan is derived only when this gives at least two steps and every clause is covered (a clause
that names no file and is not the rename leaves the plan to the model). The steps' files are
declared, so the dependency graph needs no guessing from their text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from smallcode.core.edit.literals import IMPERATIVE_VERB
from smallcode.core.tools.refactor import RENAME_RE as _RENAME
from smallcode.core.tools.refactor import files_using

from .depgraph import mentioned_paths

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`'\"])")
_CLAUSE = re.compile(rf",?\s+(?:and\s+)?(?:also|then)\s+|;\s+|,\s+and\s+(?={IMPERATIVE_VERB})",
                     re.IGNORECASE)
_LEAD = re.compile(r"^(?:and\s+)?(?:also|then|please|finally|after\s+that|afterwards)\b,?\s*",
                   re.IGNORECASE)
_SEQUEL = re.compile(r"^(?:and\s+)?(?:then|finally|after\s+that|afterwards)\b", re.IGNORECASE)
_BACK_REFERENCE = re.compile(r"\b(?:it|its|this|that|them|these|those)\b(?!\s+\w+\s*=)",
                             re.IGNORECASE)
_IMPERATIVE = re.compile(IMPERATIVE_VERB, re.IGNORECASE)
_FILLER = re.compile(r"^\W*(?:and|also|then|please|finally)?\W*$", re.IGNORECASE)


@dataclass
class DerivedPlan:
    steps: list[str]
    files: dict[int, list[str]] = field(default_factory=dict)  # step number (1-based) -> files
    reason: str = ""


def _clauses(task: str) -> list[str]:
    out = []
    for sentence in _SENTENCE.split(task.strip()):
        for part in _CLAUSE.split(sentence):
            part = part.strip()
            if part and not _FILLER.match(part):
                out.append(part)
    return out


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def derive_plan(task: str, workspace: Any) -> DerivedPlan | None:
    """The plan the message spells out, or None (then the model is asked for one)."""
    clauses = _clauses(task)
    if len(clauses) < 2:
        return None
    steps: list[str] = []
    files: dict[int, list[str]] = {}
    owned: set[str] = set()
    reasons: list[str] = []
    rename_done = False
    for clause in clauses:
        m = _RENAME.search(clause)
        if m and not rename_done:
            old, new = m.group(1), m.group(2)
            users = [rel for rel, _ in files_using(workspace, old)]
            if not users:
                return None
            rename_done = True
            shown = ", ".join(f"`{u}`" for u in users)
            steps.append(f"Rename {old} to {new} in {shown} (definitions, imports, calls and "
                         f"tests), with rename_symbol.")
            files[len(steps)] = users
            owned.update(users)
            reasons.append(f"the rename of {old} touches {len(users)} file"
                           f"{'s' if len(users) != 1 else ''}")
            continue
        if clause.rstrip().endswith("?") or not _IMPERATIVE.match(_LEAD.sub("", clause) + " "):
            return None  # a question or a description: not a step the message spells out
        paths = [p for p in mentioned_paths(clause) if p not in owned]
        if not paths:
            if m or rename_done and len(clause.split()) <= 8 and not re.search(
                    r"\b(?:add|create|write|update|append|change|set|remove|delete|bump)\b",
                    clause, re.IGNORECASE):
                continue  # a qualifier of the rename ("keep the tests passing")
            return None
        after = bool(_SEQUEL.match(clause) or _BACK_REFERENCE.search(clause)) and steps
        text = _capital(_LEAD.sub("", clause).rstrip("."))
        text += f" (after step {len(steps)})." if after else "."
        for p in paths:
            if not (workspace.root / p).exists():
                text += f" Create `{p}` with write_file: it does not exist yet."
        steps.append(text)
        files[len(steps)] = paths
        owned.update(paths)
        reasons.append(f"{', '.join(paths)} named")
    if len(steps) < 2:
        return None
    return DerivedPlan(steps=steps, files=files, reason="; ".join(reasons))


__all__ = ["DerivedPlan", "derive_plan"]
