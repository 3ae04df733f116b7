"""Recognise a rename of a name as an operation, whatever the sentence around it.

Not a phrase rule: the message must use a naming verb (rename, call, name, new name), and of the
identifiers it mentions exactly one must be *defined* in the project (a def, a class, a top-level
assignment or a JS function/const) while exactly one other, written after it in the same
sentence, is defined nowhere yet. "Rename the function calc_total to compute_total everywhere",
"calc_total should be called compute_total" and "can you give calc_total the new name
compute_total" all give (calc_total, compute_total); a file rename gives nothing (a path is not an
identifier). A plain capitalised word ("Keep", at the start of a sentence) or an all-caps word
("ISO", "NOTES") is English, not a new name, unless it is in backticks or follows a naming word
directly ("rename Cart to Basket"); the plural noun "names" ("keep the method names") is not a
naming verb.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..tools.refactor import files_using
from ..tools.workspace import Workspace

NAMING_VERB = re.compile(r"\b(?:renam\w*|renmae\w*|call(?:ed)?|named?|naming)\b",
                         re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?;:](?:\s|$)|\n")
# the words right before a name that make a capitalised word a name ("to Basket", "called Basket")
NAMING_LEAD = re.compile(r"(?:\bto|\binto|\bas|\bcalled|\bname|->|=>)\s*$", re.IGNORECASE)
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
    """snake_case, camelCase, or PascalCase with a second capital (``OrderItem``)."""
    return "_" in name or (any(c.isupper() for c in name[1:]) and not name.isupper())


def _is_name(m: re.Match[str], task: str) -> bool:
    """An identifier the message means as code: code-shaped, in backticks, or a capitalised word
    right after a naming word."""
    name = m.group(1)
    if _code_like(name) or m.group(0).startswith("`"):
        return True
    return (name[0].isupper() and not name.isupper()
            and bool(NAMING_LEAD.search(task[:m.start()])))


def _sentence_of(task: str, pos: int) -> tuple[int, int]:
    start = 0
    for m in SENTENCE_END.finditer(task):
        if m.end() <= pos:
            start = m.end()
        else:
            return start, m.start()
    return start, len(task)


def find_rename(task: str, ws: Workspace) -> RenameRequest | None:
    """(old, new) when the message asks to rename a name defined in the project, else None."""
    if not NAMING_VERB.search(task):
        return None
    defined: dict[str, bool] = {}  # each name's files are read once

    def is_defined(name: str) -> bool:
        if name not in defined:
            defined[name] = _defined(name, ws)
        return defined[name]

    # name -> its first mention; a capitalised word that is a class of the project (``Cart``)
    # is a name even where it is not code-shaped
    found: dict[str, re.Match[str]] = {}
    for m in IDENT.finditer(task):
        name = m.group(1)
        if name not in found and (_is_name(m, task) or (name[0].isupper() and is_defined(name))):
            found[name] = m
    olds = [n for n in found if is_defined(n) and files_using(ws, n)]
    if len(olds) != 1:
        return None
    old = olds[0]
    lo, hi = _sentence_of(task, found[old].start())
    fresh = [n for n, m in found.items()
             if found[old].start() < m.start() < hi and n != old and _is_name(m, task)
             and not is_defined(n)]
    if len(fresh) != 1 or not NAMING_VERB.search(task[lo:hi]):
        return None
    return RenameRequest(old, fresh[0], f"{old} is defined in the project; {fresh[0]} is not "
                                        "defined yet")
