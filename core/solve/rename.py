"""Recognise a rename of a name as an operation, whatever the sentence around it.

Not a phrase rule: the message must use a naming verb (rename, call, name, new name), and of the
identifiers it mentions exactly one must be *defined* in the project (a def, a class, a top-level
assignment or a JS function/const) while exactly one other, written after it, is defined
nowhere yet. "Rename the function calc_total to compute_total everywhere", "calc_total
should be called compute_total" and "can you give calc_total the new name compute_total" all
give (calc_total, compute_total); a file rename gives nothing (a path is not an identifier).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..tools.refactor import files_using
from ..tools.workspace import Workspace

NAMING_VERB = re.compile(r"\b(?:renam\w*|renmae\w*|call(?:ed)?|name[ds]?|naming)\b",
                         re.IGNORECASE)
IDENT = re.compile(r"(?<![\w./\\-])`?([A-Za-z_][A-Za-z0-9_]*)(?:\(\))?`?(?![\w/\\-]|\.\w)")
DEFINES = (r"^\s*(?:async\s+)?def\s+{n}\b", r"^\s*class\s+{n}\b", r"^{n}\s*[:=]",
           r"\bfunction\s+{n}\b", r"\b(?:const|let|var)\s+{n}\s*=")
CODE_EXT = (".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx")


@dataclass(frozen=True)
class RenameRequest:
    old: str
    new: str
    evidence: str


def _defined(name: str, ws: Workspace) -> bool:
    rx = re.compile("|".join(p.format(n=re.escape(name)) for p in DEFINES), re.MULTILINE)
    for path in ws.iter_files():
        if path.suffix not in CODE_EXT:
            continue
        try:
            if rx.search(path.read_text(errors="replace")):
                return True
        except OSError:
            continue
    return False


def _code_like(name: str) -> bool:
    return "_" in name or any(c.isupper() for c in name[1:]) or name[0].isupper()


def find_rename(task: str, ws: Workspace) -> RenameRequest | None:
    """(old, new) when the message asks to rename a name defined in the project, else None."""
    if not NAMING_VERB.search(task):
        return None
    seen: list[str] = []
    for m in IDENT.finditer(task):
        if m.group(1) not in seen:
            seen.append(m.group(1))
    names = [n for n in seen if _code_like(n) or f"`{n}" in task]
    defined = [n for n in names if files_using(ws, n) and _defined(n, ws)]
    if len(defined) != 1:
        return None
    old = defined[0]
    after = names[names.index(old) + 1:]
    fresh = [n for n in after if n != old and not _defined(n, ws)]
    if len(fresh) != 1:
        return None
    return RenameRequest(old, fresh[0], f"{old} is defined in the project; {fresh[0]} is not "
                                        "defined yet")
