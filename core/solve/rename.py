"""Recognise a rename of a name as an operation, whatever the sentence around it.

Not a phrase rule: the message must use a naming verb (rename, called, name, new name) or write a
substitution, and of the identifiers it mentions exactly one must be *defined* in the project (a
def, a class, a top-level assignment or a JS function/const) while exactly one other, in the same
sentence, is defined nowhere yet. "Rename the function calc_total to compute_total everywhere",
"calc_total should be called compute_total" and "can you give calc_total the new name
compute_total" all give (calc_total, compute_total); so does a substitution of one name by the
other written between them ("calc_total -> compute_total", "compute_total instead of
calc_total", "replace calc_total with compute_total", "calc_total to be known as
compute_total"). A message that asks to write new code ("add a function named compute_total that
calls calc_total") is not a rename unless it says rename; a file rename gives nothing (a path is
not an identifier). A plain capitalised word ("Keep", at the start of a sentence) or an all-caps word
("ISO", "NOTES") is English, not a new name, unless it is in backticks or follows a naming word
directly ("rename Cart to Basket"); the plural noun "names" ("keep the method names") is not a
naming verb.

Also a rename: "calc_total should be compute_total", sed's "s/calc_total/compute_total/", a
qualified name ("billing.totals.calc_total", its last part), and the verb or the noun "name" in
a sentence of its own ("calc_total: rename it to compute_total", "calc_total is a confusing
name. compute_total, please") when the message asks for no new code and writes one fresh name
after the old one. A bug report that mentions a name ("crashes when an item is named foo_bar")
is not a rename unless it says rename.

A move of a Python module ("rename app/helpers.py to app/text_tools.py", "rename the helpers
module to text_tools") is recognised by :func:`find_module_move` and done by ``move_module``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..tools.refactor import files_using
from ..tools.workspace import Workspace
from .request import WH_QUESTION

# "called", never the verb "call" ("make calc_total call apply_tax" names nothing)
NAMING_VERB = re.compile(r"\b(?:renam\w*|renmae\w*|called|named?|naming)\b", re.IGNORECASE)
# a cheap first look for a substitution; SUBSTITUTION below decides
SUBSTITUTION_HINT = re.compile(r"->|→|=>|\b(?:to|with|by|instead|rather|place|known|becomes?|"
                               r"be|now|over|not)\b", re.IGNORECASE)
RENAME_VERB = re.compile(r"\b(?:renam\w*|renmae\w*)\b", re.IGNORECASE)
# the message asks for new code next to the old name, not for the old name to change
CREATES = re.compile(r"\b(?:add\w*|writ\w*|creat\w*|implement\w*|defin\w*|introduc\w*)\b",
                     re.IGNORECASE)
# what stands between two names when one replaces the other ("a -> b", "b instead of a")
SUBSTITUTION = re.compile(r"^[\s`'\"]*(?:->|→|=>|to|with|by|instead\s+of|rather\s+than|"
                          r"in\s+place\s+of|(?:to\s+be\s+|is\s+)?(?:now\s+)?known\s+as|"
                          r"becomes?|(?:should|must|needs?\s+to|has\s+to|ought\s+to|will)\s+"
                          r"be(?:come)?|is\s+now|(?:now\s*)?,?\s*not|over)[\s`'\"]*$",
                          re.IGNORECASE)
# "change every occurrence to compute_total" after the old name ("grep for calc_total and ...")
EVERY_USE_TO = re.compile(r"\b(?:chang\w*|replac\w*|turn\w*|switch\w*|renam\w*|updat\w*)\s+"
                          r"(?:(?:every|all|each)\s+(?:of\s+)?(?:the\s+|its\s+)?)?"
                          r"(?:occurrences?|uses?|usages?|instances?|references?|mentions?|"
                          r"calls?|them|it)\s+(?:of\s+it\s+)?(?:to|into|with|by)\s*`?$",
                          re.IGNORECASE)
# English's naming verb with two objects, "call calc_total compute_total", "name the function
# calc_total compute_total": the old name, then the new one, nothing between
CALL_AS = re.compile(r"\b(?:call|name|renam\w*)\s+(?:(?:the|that|this|our)\s+(?:function|method|"
                     r"class|variable|constant|helper)\s+)?`?([A-Za-z_]\w*)(?:\(\))?`?\s+"
                     r"`?([A-Za-z_]\w*)(?:\(\))?`?(?=$|[\s.,;:!?)])", re.IGNORECASE)
# sed's substitution, "s/calc_total/compute_total/"
SED = re.compile(r"(?<![\w/])s/([A-Za-z_]\w*)/([A-Za-z_]\w*)/")
# "with"/"by" only replace a name when replace governs that name ("replace the function a with
# b", not "replace the loop in a with b")
REPLACE_BEFORE = re.compile(r"\breplac\w*\s+(?:(?!in\b|inside\b|within\b)\w+\s+){0,3}`?$",
                            re.IGNORECASE)
LOCATION_BEFORE = re.compile(r"\b(?:in|of|inside|within|from|into|on|at)\s+`?$", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?;:](?:\s|$)|\n")
# the words right before a name that make a capitalised word a name ("to Basket", "called Basket")
NAMING_LEAD = re.compile(r"(?:\bto|\binto|\bas|\bcalled|\bname|->|=>)\s*$", re.IGNORECASE)
# a qualified name ("billing.totals.calc_total") stands for its last part; a file name's
# extension ("totals.py" -> "py") is never code-shaped, so never a name
IDENT = re.compile(r"(?<![\w./\\-])`?(?:[A-Za-z_]\w*\.)*([A-Za-z_][A-Za-z0-9_]*)(?:\(\))?`?"
                   r"(?![\w/\\]|-(?!>)|\.\w)")
# a fault the message reports: a bug report that mentions a name ("crashes when an item is
# named foo_bar") is not a rename unless it says rename
FAULT = re.compile(r"\b(?:crash\w*|fail\w*|error\w*|exception|wrong|bug\w*|broken|raises?|"
                   r"traceback)\b|\w(?:Error|Exception)\b", re.IGNORECASE)
# the noun ("a better name", "the name calc_total is confusing"), not "named"/"called"
NAME_NOUN = re.compile(r"\bnames?\b(?!\s+(?:of|the|in|for)\b)|\bnew\s+name\b", re.IGNORECASE)
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
    defined: dict[str, bool] = {}  # each name's files are read once

    def is_defined(name: str) -> bool:
        if name not in defined:
            defined[name] = _defined(name, ws)
        return defined[name]

    sed = SED.search(task)
    if sed and is_defined(sed[1]) and not is_defined(sed[2]) and files_using(ws, sed[1]):
        return RenameRequest(sed[1], sed[2], f"s/{sed[1]}/{sed[2]}/: {sed[1]} is defined in "
                                             f"the project; {sed[2]} is not defined yet")
    for m in CALL_AS.finditer(task):
        old, new = m[1], m[2]
        start, end = _sentence_of(task, m.start())
        if WH_QUESTION.search(task[start:end + 1].strip()):
            continue  # "why do we call calc_total items_total in the docs?" asks, not renames
        if _code_like(new) and is_defined(old) and not is_defined(new) \
                and files_using(ws, old):
            return RenameRequest(old, new, f"call {old} {new}: {old} is defined in the project; "
                                           f"{new} is not defined yet")
    if not NAMING_VERB.search(task) and not SUBSTITUTION_HINT.search(task):
        return None
    if FAULT.search(task) and not RENAME_VERB.search(task):
        return None

    # name -> its first mention; a capitalised word that is a class of the project (``Cart``)
    # is a name even where it is not code-shaped
    found: dict[str, re.Match[str]] = {}
    mentions: dict[str, list[re.Match[str]]] = {}  # every mention, for the sentence of each
    for m in IDENT.finditer(task):
        name = m.group(1)
        if name in found or _is_name(m, task) or (name[0].isupper() and is_defined(name)):
            found.setdefault(name, m)
            mentions.setdefault(name, []).append(m)
    olds = [n for n in found if is_defined(n) and files_using(ws, n)]
    # several defined names ("format_invoice and grand_total call calc_total; rename
    # calc_total to compute_total"): the one the sentence renames, when only one is
    asked = {(r.old, r.new): r for old in olds for at in mentions[old]
             if (r := _in_sentence(task, old, at, found, is_defined)) is not None}
    if len(asked) == 1:
        return next(iter(asked.values()))
    verb = RENAME_VERB.search(task)
    if len(asked) > 1 and verb:
        # "Rename calc_total, which format_invoice uses, to compute_total": the verb's object
        after = [r for r in asked.values() if found[r.old].start() > verb.start()]
        first = min(after, key=lambda r: found[r.old].start(), default=None)
        return first if first is not None and len({r.new for r in asked.values()}) == 1 else None
    if len(olds) != 1 or asked:
        return None
    # the verb and the new name in a sentence of their own ("calc_total: rename it to
    # compute_total", "Rename calc_total. New name: compute_total", "calc_total is a confusing
    # name. compute_total, please"): the whole message says rename (or speaks of a name),
    # asks for no new code, and writes one fresh name, before or after the old one
    # ("compute_total is the new name for calc_total")
    old = olds[0]
    fresh = [n for n, m in found.items() if n != old and _is_name(m, task)
             and not is_defined(n)]
    named = RENAME_VERB.search(task) or NAME_NOUN.search(task)
    if named and not CREATES.search(task) and len(fresh) == 1:
        return RenameRequest(old, fresh[0], f"the message asks for a new name for {old}, "
                                            f"defined in the project; {fresh[0]} is not "
                                            "defined yet")
    return None


def _in_sentence(task: str, old: str, at: re.Match[str], found: dict[str, re.Match[str]],
                 is_defined: Callable[[str], bool]) -> RenameRequest | None:
    """The rename of ``old`` (mentioned ``at``) its sentence asks for: a naming verb and one
    fresh name after it, or a substitution of one fresh name for it; the sentence must write
    no other fresh name (two renames in one sentence are not one rename)."""
    lo, hi = _sentence_of(task, at.start())
    sentence = task[lo:hi]
    if CREATES.search(sentence) and not RENAME_VERB.search(sentence):
        return None
    others = [(n, m) for n, m in found.items()
              if lo <= m.start() < hi and n != old and _is_name(m, task) and not is_defined(n)]
    # a naming verb in the sentence: the new name is the one fresh name written after the old
    fresh = [n for n, m in others if m.start() > at.start()]
    if len(fresh) == 1 and len(others) == 1 and NAMING_VERB.search(sentence):
        return RenameRequest(old, fresh[0], f"{old} is defined in the project; {fresh[0]} is not "
                                            "defined yet")
    # "grep for calc_total and change every occurrence to compute_total"
    if len(others) == 1 and others[0][1].start() > at.start() \
            and EVERY_USE_TO.search(task[at.end():others[0][1].start()]):
        return RenameRequest(old, others[0][0], f"{old} is defined in the project; every use "
                                                f"of it becomes {others[0][0]}")
    # no naming verb: one name substituted for the other, with only the substitution between
    subst = [n for n, m in others if _substitutes(task, at, m)]
    if len(others) == 1 and subst:
        return RenameRequest(old, subst[0], f"{old} is defined in the project; {subst[0]} is "
                                            "not defined yet and replaces it")
    return None


def _substitutes(task: str, old: re.Match[str], new: re.Match[str]) -> bool:
    """Whether only a substitution stands between the two names ("old -> new", "new instead
    of old"; "old with new" only after "replace")."""
    first, second = (old, new) if old.start() < new.start() else (new, old)
    if first is old and LOCATION_BEFORE.search(task[:old.start()]):
        return False  # "change the rounding in calc_total to ...": a place, not the object
    between = task[first.end():second.start()]
    if SUBSTITUTION.match(between) is None:
        return False
    word = between.strip(" `'\"").lower()
    if word in ("with", "by"):
        return first is old and bool(REPLACE_BEFORE.search(task[:old.start()]))
    if word.startswith(("instead", "rather", "in place", "over")) or word.endswith("not"):
        return first is new  # "new instead of old", "new over old", "new now, not old"
    return first is old  # "old -> new", "old to new", "old becomes new", "old known as new"


# a Python module file written as a path ("app/helpers.py", "`helpers.py`")
PY_PATH = re.compile(r"(?<![\w./\\-])`?((?:[\w.-]+/)*[A-Za-z_]\w*\.py)`?(?![\w/])")
# a module written as a name next to the word module ("the helpers module", "module app.helpers")
MODULE_NAME = re.compile(r"`?\b([A-Za-z_][\w.]*)`?\s+module\b|\bmodule\s+`?([A-Za-z_][\w.]*)`?",
                         re.IGNORECASE)
# the new name after the old one ("... to text_tools", "-> text_tools", "as text_tools")
NEW_NAME = re.compile(r"^\s*(?:to|into|as|->|→|=>)\s+`?([A-Za-z_]\w*)`?(?![\w./])", re.IGNORECASE)
MOVE_VERB = re.compile(r"\b(?:renam\w*|renmae\w*|mov(?:e|es|ed|ing)|mv|called|named?)\b|->|→|=>",
                       re.IGNORECASE)
TOP_DEFINES = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*=",
                         re.MULTILINE)


@dataclass(frozen=True)
class ModuleMove:
    old: str  # the module file now (relative path)
    new: str  # where it goes
    evidence: str


def find_module_move(task: str, ws: Workspace) -> ModuleMove | None:
    """(old file, new file) when the message asks to rename or move one Python module of the
    project, else None. Not a phrase rule: the message must use a naming or moving verb (or an
    arrow), name exactly one module the project has (as a path, a file name, or a name next to
    the word "module") and, after it, exactly one that does not exist yet; a message that
    mentions a function or class the module defines moves that name, not the module."""
    if not MOVE_VERB.search(task):
        return None
    files = [ws.rel(p) for p in ws.iter_files() if p.suffix == ".py"]

    def existing(written: str) -> str | None:
        if written in files:
            return written
        if "/" not in written:
            same = [f for f in files if f.rsplit("/", 1)[-1] == written]
            return same[0] if len(same) == 1 else None
        return None

    # (position, written as, the project's file or None)
    mentions: list[tuple[int, str, str | None]] = []
    for m in PY_PATH.finditer(task):
        mentions.append((m.start(), m.group(1), existing(m.group(1))))
    for m in MODULE_NAME.finditer(task):
        name = m.group(1) or m.group(2)
        if name.lower() in ("the", "a", "this", "that", "python", "new", "old", "whole"):
            continue
        path = name.replace(".", "/") + ".py"
        found = existing(path)
        if found is None:
            continue
        mentions.append((m.start(), path, found))
        after = NEW_NAME.match(task[m.end():])
        if after and existing(after.group(1) + ".py") is None:
            mentions.append((m.end() + after.start(1), after.group(1) + ".py", None))
    olds = {found for _, _, found in mentions if found is not None}
    news = [(pos, written) for pos, written, found in mentions if found is None]
    if len(olds) != 1 or len({w for _, w in news}) != 1:
        return None
    old = next(iter(olds))
    first_old = min(pos for pos, _, found in mentions if found == old)
    pos, new = news[0]
    if pos < first_old or not re.fullmatch(r"[A-Za-z_]\w*", Path(new).stem):
        return None
    if "/" not in new and "/" in old:
        new = old.rsplit("/", 1)[0] + "/" + new
    try:
        source = (ws.root / old).read_text(errors="replace")
    except OSError:
        return None
    defined = {a or b for a, b in TOP_DEFINES.findall(source)}
    if any(re.search(rf"(?<![\w.]){re.escape(n)}(?![\w])", task) for n in defined
           if n != Path(old).stem):
        return None  # "move slug from helpers.py to text_tools.py" moves a function
    return ModuleMove(old, new, f"{old} is a module of the project; {new} does not exist yet")


# ---------------------------------------------------------------------------- file extensions

_EXT = r"\.[A-Za-z][A-Za-z0-9]{0,7}"
# ".txt", "*.txt", "notes/*.txt", "`.md`": an extension written on its own, not a file's name
SUFFIX_MENTION = re.compile(rf"(?:(?<=\s)|(?<=^)|(?<=[`'\"(/*]))\*?({_EXT})(?![\w.])")
# the verbs of a rename of files (not "convert": a conversion changes the contents too)
SUFFIX_VERB = re.compile(r"\b(?:renam\w*|mv|extensions?|suffix(?:es)?|file\s*endings?)\b|->|→",
                         re.IGNORECASE)
# the extension after one of these is the one the files have now
_FROM_CUE = re.compile(r"\b(?:instead\s+of|from|rather\s+than|not)\s+(?:the\s+)?\*?$",
                       re.IGNORECASE)
_FOLDER = re.compile(r"[`'\"]?((?:[\w.-]+/)*[\w.-]+)/?[`'\"]?")


@dataclass(frozen=True)
class SuffixChange:
    folder: str  # relative, "." for the project's root
    old: str  # ".txt"
    new: str  # ".md"
    evidence: str


def find_suffix_change(task: str, ws: Workspace) -> SuffixChange | None:
    """(folder, old extension, new extension) when the message asks to give the files of one
    kind in a folder another extension ("rename every .txt file in notes/ to .md", "notes/*.txt
    -> *.md", "give the .txt files in notes the .md extension"), else None. Not a phrase rule:
    it needs a renaming verb or the word extension, exactly two extensions written on their own,
    and exactly one folder of the project named, which holds files with one of them and none
    with the other's names; the extension after "from" / "instead of" is the old one, else the
    first one written. A message that names code to write, or a file rather than a kind of file,
    gives nothing."""
    if not SUFFIX_VERB.search(task) or "convert" in task.lower():
        return None
    mentions = [(m.start(), m.group(1).lower()) for m in SUFFIX_MENTION.finditer(task)]
    kinds = list(dict.fromkeys(s for _, s in mentions))
    if len(kinds) != 2:
        return None
    folders = []
    for m in _FOLDER.finditer(task):
        name = m.group(1).rstrip(".")
        if name and not name.startswith(".") and (ws.root / name).is_dir() \
                and name not in folders:
            folders.append(name)
    if len(folders) != 1:
        return None
    folder = folders[0]
    old = next((s for pos, s in mentions if _FROM_CUE.search(task[:pos])), kinds[0])
    new = kinds[1] if old == kinds[0] else kinds[0]
    files = [p for p in ws.iter_files(folder) if p.suffix.lower() == old]
    if not files or any(p.with_suffix(new).exists() for p in files):
        return None
    return SuffixChange(folder, old, new, f"{len(files)} {old} file(s) in {folder}/, to {new}")
