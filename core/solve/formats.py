"""Edit formats for the solve path: the model writes code as plain fenced text, never in JSON.

One strategy object per format (as Aider has one coder per format): it renders the request that
goes after the shown code and parses a reply into whole-file contents. :func:`choose_format`
picks one per model profile and file size: whole files while the files to change are small, the
whole functions or methods that change (laid over the file by their spans) when one is larger,
SEARCH/REPLACE blocks (applied through the patch ladder) when a long file has no definitions to
find.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Protocol

from ..edit.patch import PatchError, apply_patch
from .excerpt import drop_elided

FENCE_RE = re.compile(r"^(`{3,}|~{3,})[ \t]*([\w+.#-]*)[ \t]*$")
PATH_LINE_RE = re.compile(r"^[#*`\s>-]*(?:file(?:name)?\s*[:=]?\s*)?`?([\w./-]+\.[\w]+|"
                          r"Makefile|Dockerfile)`?[*:\s]*(?:\([^)]*\)[*:\s]*)?$", re.IGNORECASE)
LANG_BY_EXT = {".py": "python", ".js": "javascript", ".mjs": "javascript", ".ts": "typescript",
               ".json": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".sh": "bash",
               ".md": "markdown", ".ini": "ini", ".cfg": "ini", ".go": "go", ".rs": "rust"}

KNOWN_LANGUAGES = frozenset(LANG_BY_EXT.values())


def language_of(path: str) -> str:
    return LANG_BY_EXT.get(PurePosixPath(path).suffix.lower(), "")


@dataclass
class ParsedEdit:
    """What one reply asks for: new whole contents per file, and what could not be used."""

    files: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class EditFormat(Protocol):
    """How code is asked for and read back."""

    name: str

    def instructions(self, editable: list[str]) -> str:
        """What the model is asked to reply, after the task and the code."""

    def parse(self, reply: str, current: dict[str, str], *, cut_off: bool = False) -> ParsedEdit:
        """The files a reply changes (whole new contents), given the current contents;
        ``cut_off``: the reply was ended by the token limit."""

    def complete(self, reply: str, current: dict[str, str]) -> int | None:
        """While a reply streams in: the length of the part of ``reply`` that already holds
        the whole edit (the rest is prose or echoed files: it need not be generated), or
        None while more is needed."""


def _blocks(reply: str) -> list[tuple[str, str, str]]:
    """(path line before the fence, language, body) for every fenced block in a reply."""
    out: list[tuple[str, str, str]] = []
    lines = reply.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i].strip())
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2)
        indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
        prev = ""
        for back in range(i - 1, max(-1, i - 3), -1):
            if lines[back].strip():
                prev = lines[back].strip()
                break
        body: list[str] = []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence[:3])
                                      and lines[i].strip().strip(fence[0]) == ""):
            body.append(lines[i])
            i += 1
        i += 1
        # "```python / durations.py / ```python / <code>": the model opened the block again
        # after writing the path inside it; the inner opener is not code
        for skip in (1, 2):
            opener = FENCE_RE.match(body[skip - 1].strip()) if len(body) > skip else None
            if opener and opener.group(2) and (skip == 1 or PATH_LINE_RE.match(body[0].strip())):
                prev = body[0].strip() if skip == 2 else prev
                body = body[skip:]
                break
        if indent and all(not ln.strip() or ln.startswith(indent) for ln in body):
            # a block inside a list item ("1. **Update `pkg/a.py`**:" then an indented fence):
            # the code is indented as far as its fence
            body = [ln[len(indent):] for ln in body]
        out.append((prev, lang, "\n".join(body)))
    return out


def _closed(reply: str) -> tuple[str, str, str] | None:
    """The part of a streaming reply up to its last closed fenced block (prose after it and a
    block still open are left out); with the line before a block still open and its language
    ("" when none is open). None when no block is closed yet."""
    end = reply.rfind("\n")
    lines = reply[:max(end, 0)].split("\n")
    opened: int | None = None
    closed = -1
    fence = ""
    lang = ""
    for i, line in enumerate(lines):
        text = line.strip()
        if opened is None:
            m = FENCE_RE.match(text)
            if m:
                opened, fence, lang = i, m.group(1), m.group(2)
        elif text.startswith(fence[:3]) and text.strip(fence[0]) == "":
            opened, closed = None, i
    if closed < 0:
        return None
    prev = ""
    if opened is not None:
        prev = next((ln.strip() for ln in reversed(lines[max(0, opened - 2):opened])
                     if ln.strip()), "")
    return "\n".join(lines[:closed + 1]) + "\n", prev, lang if opened is not None else ""


def _open_at_end(reply: str) -> bool:
    """Whether a reply ends inside a fenced block (cut off by the token limit)."""
    fence = ""
    for line in reply.splitlines():
        text = line.strip()
        if not fence:
            m = FENCE_RE.match(text)
            if m:
                fence = m.group(1)
        elif text.startswith(fence[:3]) and text.strip(fence[0]) == "":
            fence = ""
    return bool(fence)


def _complete_definitions(body: str) -> str:
    """Python code cut off mid-way, up to the start of its last top-level statement (the one
    the cut fell in); a decorator or comment right above it goes with it."""
    lines = body.splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.strip() and not ln[0].isspace()
              and not ln.lstrip().startswith((")", "]", "}"))]
    if not starts:
        return ""
    last = starts[-1]
    while last > 0 and lines[last - 1].lstrip().startswith(("@", "#")):
        last -= 1
    return "\n".join(lines[:last]).rstrip() + "\n"


def _path_from(line: str, lang: str, editable: list[str]) -> str | None:
    """The file a block is for: the path on the line before it (or in its language tag), else
    the one editable file a sentence before it names ("Here is the fixed `report.py`:")."""
    for text in (line, lang):
        m = PATH_LINE_RE.match(text) if text else None
        if m:
            name = m.group(1).strip("`*")
            # "Cart.py" for cart.py: a small model capitalises a file name it writes as a title
            for exact in (True, False):
                for rel in editable:
                    a, b = (rel, name) if exact else (rel.lower(), name.lower())
                    if a == b or a.endswith("/" + b) or b.endswith("/" + a):
                        return rel
            if "/" in name or "." in name:
                return name
    named = {rel for rel in editable if line and any(re.search(
        r"(?<![\w./-])" + re.escape(name) + r"(?![\w/-]|\.\w)", line, re.IGNORECASE)
        for name in {rel, PurePosixPath(rel).name})}
    return named.pop() if len(named) == 1 else None


def _language(tag: str) -> str:
    """A fence's language tag as :func:`language_of` names it ("py" is "python")."""
    return {"py": "python", "js": "javascript", "sh": "bash", "shell": "bash",
            "yml": "yaml"}.get(tag.lower(), tag.lower())


def _only_file_in(lang: str, editable: list[str]) -> str | None:
    """The one editable file written in the block's language (a ```python block when the only
    Python file is report.py and the other one is data)."""
    wanted = _language(lang)
    same = [rel for rel in editable if wanted and language_of(rel) == wanted]
    return same[0] if len(same) == 1 else None


def _owner(body: str, lang: str, current: dict[str, str]) -> str | None:
    """The one file a path-less block belongs to among several: the file in the block's
    language whose current top-level definitions the block defines most of (a tie, or none
    shared, gives None)."""
    wanted = _language(lang)
    shared: dict[str, int] = {}
    for rel, text in current.items():
        if wanted and language_of(rel) != wanted:
            continue
        common = top_level_names(rel, body) & top_level_names(rel, text)
        if common:
            shared[rel] = len(common)
    if not shared:
        return None
    best = max(shared.values())
    owners = [rel for rel, n in shared.items() if n == best]
    return owners[0] if len(owners) == 1 else None


# a block that stands for "this file stays as it is" rather than holding its content
NO_CHANGE = re.compile(r"[<(\[]?\s*(?:#\s*|//\s*)?(?:no\s+changes?(?:\s+(?:needed|here|"
                       r"required))?|unchanged|(?:the\s+)?same\s+as\s+before)\s*[.>)\]]?",
                       re.IGNORECASE)


class WholeFileFormat:
    """The whole file back, each in a fence after its path: the format small models do best."""

    name = "whole"

    def instructions(self, editable: list[str]) -> str:
        example = editable[0] if editable else "path/to/file.py"
        lang = language_of(example)
        return (
            "First say in one or two sentences what you will change and why (for a question: "
            "the answer). Then reply with the COMPLETE new content of every file you change (and "
            "only those): the file's path on its own line, then the whole file in a fenced "
            "code block. Write every line of the file, not only the changed part. The file "
            f"part looks like this:\n\n{example}\n```{lang}\n<the whole updated file>\n```")

    def parse(self, reply: str, current: dict[str, str], *,
              cut_off: bool = False) -> ParsedEdit:
        parsed = ParsedEdit()
        editable = list(current)
        blocks = _blocks(reply)
        # blocks without a path that hold only definitions of the one file in their language
        # ("New formatCell function:", "New formatRow function:"): pieces of that file
        pieces: dict[str, list[str]] = {}
        for prev, lang, body in blocks:
            path = _path_from(prev, lang, editable)
            if path is None and len(blocks) == 1:
                path = editable[0] if len(editable) == 1 else _only_file_in(lang, editable)
            if path is None:
                code = [r for r in editable if language_of(r) in ("python", "javascript")]
                target = (editable[0] if len(editable) == 1 else _only_file_in(lang, editable)
                          or (code[0] if not lang and len(code) == 1 else None)
                          or _owner(body, lang, current))
                defined = top_level_names(target, current.get(target, "")) if target else set()
                if defined and defined <= top_level_names(target, body):
                    # the whole of one of several files, its path left out (asked for the
                    # code only, the 1.5B drops the path lines): the file defining its names
                    if target not in parsed.files:
                        parsed.files[target] = body.rstrip("\n") + "\n"
                elif target and current.get(target, "").strip() and merge_partial(
                        target, current[target], body) is not None:
                    pieces.setdefault(target, []).append(body.strip("\n"))
                else:
                    parsed.problems.append("a code block without a file path before it")
                continue
            text = body.rstrip("\n") + "\n"
            if NO_CHANGE.fullmatch(body.strip()):
                # "<no changes>" for a file the reply leaves as it is: not its new content
                continue
            if path in parsed.files:  # the last complete version wins
                parsed.problems.append(f"{path} was written twice; the last one is used")
            parsed.files[path] = text
        for path, parts in pieces.items():
            # read as a partial file: the solve path lays its definitions over the current one
            if path not in parsed.files:
                parsed.files[path] = "\n\n".join(parts) + "\n"
        return parsed

    def complete(self, reply: str, current: dict[str, str]) -> int | None:
        """Every file that may change written whole (each keeping the current file's
        definitions: a usage example or a one-function snippet is not the file), or one of
        them written and the model now opening a block for a file it may not change (it echoes
        a document back)."""
        cut = _closed(reply)
        if cut is None:
            return None
        text, prev, lang = cut
        files = self.parse(text, current).files
        # a new or empty file has no definitions to look for: its block must name it (an
        # echoed error message is not the file)
        named = {_path_from(prev_line, tag, list(current)) for prev_line, tag, _ in _blocks(text)}
        whole = [rel for rel, body in files.items() if rel in current
                 and top_level_names(rel, current[rel]) <= top_level_names(rel, body)
                 and (top_level_names(rel, current[rel]) or rel in named)]
        if not whole:
            return None
        if len(whole) == len(current):
            return len(text)
        if prev or lang:  # a block is open
            path = _path_from(prev, lang, list(current))
            if path is not None and path not in current:
                return len(text)
            langs = {language_of(r) for r in current}
            if path is None and "" not in langs and _language(lang) in KNOWN_LANGUAGES - langs:
                return len(text)  # a ```markdown block when only Python may change
        return None


class AnswerFileFormat(WholeFileFormat):
    """A question whose answer goes into a new file: the file's content, nothing else."""

    name = "answer-file"

    def instructions(self, editable: list[str]) -> str:
        path = editable[0] if editable else "answer.txt"
        return (f"Answer by writing the content of {path}: reply with {path} on its own line, "
                f"then its exact content in a fenced block, exactly as the task asks (for "
                f"example just a number, if it asks for the number). Example:\n\n{path}\n"
                "```\n<the content>\n```")


ECHO_LINES = 30  # non-blank lines copied from a file's top that make a reply a whole-file copy
SR_RE = re.compile(r"^<{5,9} SEARCH[^\n]*\n(.*?)^={5,9}[ \t]*\n(.*?)^>{5,9} REPLACE[^\n]*$",
                   re.MULTILINE | re.DOTALL)


class SearchReplaceFormat:
    """SEARCH/REPLACE blocks for files too long to write whole; applied through the ladder."""

    name = "search-replace"

    def instructions(self, editable: list[str]) -> str:
        example = editable[0] if editable else "path/to/file.py"
        # no concrete example: the 1.5B copied one ("return a - b") into its replies as the edit
        return (
            "Reply with one or more SEARCH/REPLACE blocks, each like this:\n\n"
            f"{example}\n<<<<<<< SEARCH\n<lines copied exactly from the file>\n=======\n"
            "<the new lines>\n>>>>>>> REPLACE\n\nThe SEARCH part must copy enough whole lines "
            "of the file (for example the whole function) to be unique.")

    def parse(self, reply: str, current: dict[str, str], *,
              cut_off: bool = False) -> ParsedEdit:
        parsed = ParsedEdit()
        editable = list(current)
        text = reply.replace("\r\n", "\n")
        for m in SR_RE.finditer(text):
            before = text[:m.start()].rstrip("\n").splitlines()
            prev = next((ln.strip() for ln in reversed(before[-3:])
                         if ln.strip() and not FENCE_RE.match(ln.strip())), "")
            path = _path_from(prev, "", editable) or (editable[0] if len(editable) == 1 else None)
            if path is None:
                parsed.problems.append("a SEARCH/REPLACE block without a file path")
                continue
            search, replace = m.group(1), m.group(2)
            base = parsed.files.get(path, current.get(path))
            if base is None:
                if search.strip():
                    parsed.problems.append(f"{path} does not exist; SEARCH must be empty to "
                                           "create it")
                    continue
                parsed.files[path] = replace
                continue
            if not search.strip():
                parsed.files[path] = base.rstrip("\n") + "\n" + replace
                continue
            try:
                parsed.files[path] = apply_patch(base, search.rstrip("\n"),
                                                 replace.rstrip("\n")).new_text
            except PatchError as exc:
                parsed.problems.append(f"{path}: {str(exc).splitlines()[0]}")
        if not parsed.files and not parsed.problems:
            parsed.problems.append("no SEARCH/REPLACE block in the reply")
        return parsed

    def complete(self, reply: str, current: dict[str, str]) -> int | None:
        """Never known early: any number of blocks may follow."""
        return None


class FunctionFormat:
    """The whole function, method or class that changes, each in a fence after its file's path,
    laid over the current file by its definitions' spans: for a file too long to write back
    whole. The model writes only complete definitions (nothing to copy exactly, no line to
    anchor); a reply that is the whole file after all is taken as one."""

    name = "function"
    # a file longer than this does not fit in a reply of solve.max_tokens (4096) tokens
    WHOLE_REPLY_CHARS = 14000

    def instructions(self, editable: list[str]) -> str:
        example = editable[0] if editable else "path/to/file.py"
        lang = language_of(example)
        return (
            "First say in one or two sentences what you will change and why. Then reply with "
            "the COMPLETE new version of every function or method you change (and only "
            "those): the file's path on its own line, then the whole function, from its first "
            "line to its last, in a fenced code block. Write every line of the function, not "
            "only the changed ones, and not the rest of the file. A new function is written "
            f"the same way. The part looks like this:\n\n{example}\n```{lang}\n"
            "<the whole updated function>\n```")

    def _target(self, prev: str, lang: str, body: str, current: dict[str, str]) -> str | None:
        editable = list(current)
        return (_path_from(prev, lang, editable)
                or (editable[0] if len(editable) == 1 else _only_file_in(lang, editable))
                or _owner(textwrap.dedent(body), lang, current))

    def parse(self, reply: str, current: dict[str, str], *,
              cut_off: bool = False) -> ParsedEdit:
        parsed = ParsedEdit()
        blocks = _blocks(reply)
        for n, (prev, lang, body) in enumerate(blocks):
            if not body.strip():
                continue
            path = self._target(prev, lang, body, current)
            if path is None:
                parsed.problems.append("a code block without a file path before it")
                continue
            if not (current.get(path) or "").strip():
                parsed.files[path] = body.rstrip("\n") + "\n"  # a new or empty file: whole
                continue
            if path.endswith(".py"):
                # a definition written back with the excerpt's "..." body is no change to it
                body = drop_elided(body, current[path])
                if not body.strip():
                    continue
            base = parsed.files.get(path, current[path])
            last_open = n == len(blocks) - 1 and _open_at_end(reply)
            if last_open and self._echo(body, current[path]):
                lines = current[path].count("\n") + 1
                parsed.problems.append(f"the reply began to copy the whole of {path} ({lines} "
                                       "lines), too long to write back; write only the "
                                       "functions you change")
                continue
            if cut_off and last_open and path.endswith(".py"):
                # cut off by the token limit (asked for functions, the 1.5B often writes the
                # whole file): the definitions it finished are used
                body = _complete_definitions(body)
            merged = merge_partial(path, base, body) if body.strip() else None
            if merged is not None:
                parsed.files[path] = merged
                continue
            names = top_level_names(path, current[path])
            if names and names <= top_level_names(path, body):
                parsed.files[path] = body.rstrip("\n") + "\n"  # the whole file after all
                continue
            parsed.problems.append(f"{path}: a block that is neither whole functions of the "
                                   "file nor the whole file")
        if not parsed.files and not parsed.problems:
            parsed.problems.append("no code block in the reply")
        return parsed

    def _echo(self, body: str, text: str) -> bool:
        """An open block copying a file too long to write back whole from its first line
        (asked for functions, the 1.5B often starts writing the whole file; cut off by the
        token limit, a reply of ``solve.max_tokens`` = 4096 tokens never reaches the end)."""
        if len(text) <= self.WHOLE_REPLY_CHARS:
            return False
        mine = [ln.strip() for ln in body.splitlines() if ln.strip()][:ECHO_LINES]
        theirs = [ln.strip() for ln in text.splitlines() if ln.strip()][:ECHO_LINES]
        return len(mine) == ECHO_LINES and mine == theirs

    def complete(self, reply: str, current: dict[str, str]) -> int | None:
        """Once a closed block lays over its file and a line of prose follows it (neither a
        path nor a fence: the explanation has begun) or a block opens for a file that may not
        change (it echoes a test file), the reply up to there; and as soon as an open block is
        copying a file too long to write back whole."""
        blocks = _blocks(reply)
        if blocks and _open_at_end(reply):
            prev, lang, body = blocks[-1]
            path = self._target(prev, lang, body, current)
            if path in current and self._echo(body, current[path]):
                return len(reply)
        cut = _closed(reply)
        if cut is None:
            return None
        text, prev, lang = cut
        if prev or lang:  # a block is open: done when it is for a file that may not change
            path = _path_from(prev, lang, list(current))
            if path is None or path in current:
                return None
            return len(text) if self.parse(text, current).files else None
        rest = [ln.strip() for ln in reply[len(text):].split("\n")[:-1] if ln.strip()]
        if not rest or PATH_LINE_RE.match(rest[0]) or FENCE_RE.match(rest[0]):
            return None
        return len(text) if self.parse(text, current).files else None


FORMATS: dict[str, EditFormat] = {"whole": WholeFileFormat(),
                                  "function": FunctionFormat(),
                                  "search-replace": SearchReplaceFormat(),
                                  "answer-file": AnswerFileFormat()}


def choose_format(files: dict[str, str], *, whole_file_lines: int,
                  preferred: str | None = None, answer: bool = False) -> EditFormat:
    """The profile's preferred format if it names one; else whole files while every file that
    may change is at most ``whole_file_lines`` lines, whole functions when the longer ones are
    Python or JavaScript with definitions, SEARCH/REPLACE otherwise. ``answer``: the
    only file to write is a new one holding the answer to a question."""
    if answer:
        return FORMATS["answer-file"]
    if preferred and preferred in FORMATS:
        return FORMATS[preferred]
    longest = max((text.count("\n") + 1 for text in files.values()), default=0)
    if longest <= whole_file_lines:
        return FORMATS["whole"]
    # a long file: whole definitions when every file that may change is code whose
    # definitions can be found, SEARCH/REPLACE blocks otherwise
    spans = {rel: _py_spans(text) if rel.endswith(".py") else _js_spans(text)
             if rel.endswith((".js", ".mjs", ".cjs")) else None for rel, text in files.items()}
    return FORMATS["function"] if all(spans.values()) else FORMATS["search-replace"]


_JS_DEF = re.compile(r"^\s*(?:export\s+)?(?:async\s+)?function\s+([A-Za-z_$][\w$]*)|"
                     r"^\s*(?:export\s+)?class\s+([A-Za-z_$][\w$]*)|"
                     r"^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=", re.MULTILINE)
_PY_DEF = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*=",
                     re.MULTILINE)


def top_level_names(path: str, text: str) -> set[str]:
    """Top-level functions, classes and assignments of a Python or JavaScript file."""
    rx = _PY_DEF if path.endswith(".py") else _JS_DEF if path.endswith(
        (".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx")) else None
    if rx is None:
        return set()
    return {next(g for g in m.groups() if g) for m in rx.finditer(text)}


def dropped_names(path: str, before: str, after: str, task: str) -> list[str]:
    """Definitions a whole-file reply lost (a small model often writes back only the function
    it changed). Names the task itself mentions may go (it may ask to remove them)."""
    gone = top_level_names(path, before) - top_level_names(path, after)
    return sorted(n for n in gone if not re.search(rf"\b{re.escape(n)}\b", task))


_EXPORT_LISTS = {
    # the export list of a CommonJS module and of a Python package: the body, its entries
    "js": re.compile(r"^(?:module\.)?exports\s*=\s*\{([^{}]*)\}", re.MULTILINE),
    "py": re.compile(r"^__all__\s*(?::[^=]*)?=\s*[\[(]([^\[\]()]*)[\])]", re.MULTILINE),
}
_ENTRY = re.compile(r"""\s*['"]?([A-Za-z_$][\w$]*)['"]?""")


def _export_entries(body: str) -> dict[str, str]:
    """name -> entry text of the entries of an export list's body (``a, b: helper`` or
    ``"a", "b"``); comments are not entries."""
    out: dict[str, str] = {}
    for entry in body.split(","):
        lines = [ln for ln in entry.strip().splitlines()
                 if ln.strip() and not ln.strip().startswith(("//", "#"))]
        text = " ".join(ln.strip() for ln in lines)
        m = _ENTRY.match(text)
        if m:
            out[m.group(1)] = text
    return out


def kept_exports(path: str, before: str, after: str, task: str) -> tuple[str, list[str]]:
    """``after`` with the names its export list (``module.exports = {...}``, ``__all__``)
    lost put back, and those names. A small model adding a function often writes the export
    list anew with only the new name, and every user of the old ones breaks. A name goes back
    only while it is still defined in ``after`` and the task does not name it (it may ask to
    stop exporting it)."""
    lang = "py" if path.endswith(".py") else "js" if path.endswith((".js", ".cjs")) else None
    if lang is None:
        return after, []
    rx = _EXPORT_LISTS[lang]
    old, new = rx.search(before), rx.search(after)
    if old is None or new is None:
        return after, []
    was, now = _export_entries(old.group(1)), _export_entries(new.group(1))
    defined = top_level_names(path, after)

    def still_defined(name: str, entry: str) -> bool:
        value = re.search(r":\s*([A-Za-z_$][\w$]*)\s*$", entry)  # ``run: helper``
        return (value.group(1) if value else name) in defined

    lost = [name for name, entry in was.items() if name not in now
            and still_defined(name, entry) and not re.search(rf"\b{re.escape(name)}\b", task)]
    if not lost:
        return after, []
    body = new.group(1)
    entries = [was[n] for n in lost] + list(now.values())
    if "\n" in body.strip("\n ") or body.startswith("\n"):
        indent = re.search(r"\n([ \t]*)\S", body)
        pad = indent.group(1) if indent else "  "
        joined = "\n" + "".join(f"{pad}{e},\n" for e in entries)
    else:
        space = " " if body.startswith(" ") else ""
        joined = f"{space}{', '.join(entries)}{space}"
    start, end = new.span(1)
    return after[:start] + joined + after[end:], lost


def _py_spans(text: str) -> dict[str, tuple[int, int]] | None:
    """name -> (first line, end line) (0-based, end exclusive) of each top-level definition of
    Python source, decorators included; None when the text does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    spans: dict[str, tuple[int, int]] = {}
    for node in tree.body:
        name = None
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = node.name
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                name = targets[0].id
        if name is None or node.end_lineno is None:
            continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        spans[name] = (start - 1, node.end_lineno)
    return spans


def _js_regex_end(line: str, j: int) -> int:
    """The index of the closing ``/`` of the regex literal opening at ``line[j]`` (escapes and
    character classes skipped), or ``j`` when it does not close on this line (a division)."""
    k, in_class = j + 1, False
    while k < len(line):
        ch = line[k]
        if ch == "\\":
            k += 1
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            return k
        k += 1
    return j


def _js_block_end(lines: list[str], start: int) -> int:
    """The line after the end of the JavaScript definition starting at ``start``: where its
    braces close (strings, template literals and comments skipped), or the first ``;``."""
    depth, opened, quote = 0, False, ""
    for i in range(start, len(lines)):
        line, j = lines[i], 0
        while j < len(line):
            ch = line[j]
            if quote:
                if ch == "\\":
                    j += 1
                elif ch == quote:
                    quote = ""
            elif ch in "'\"`":
                quote = ch
            elif line.startswith("//", j):
                break
            elif ch == "/" and (line[:j].rstrip()[-1:] or "(") in "(,=:[!&|?{};+":
                j = _js_regex_end(line, j)  # a regex literal: /"/g holds no string
            elif ch in "{([":
                depth, opened = depth + 1, True
            elif ch in "})]":
                depth -= 1
            j += 1
        if quote in "'\"":
            quote = ""  # an unclosed one-line string: do not carry it to the next line
        if depth <= 0 and (opened or line.rstrip().endswith(";")):
            return i + 1
    return len(lines)


_JS_TOP = re.compile(r"^(?:export\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)|"
                     r"^(?:export\s+)?class\s+([A-Za-z_$][\w$]*)|"
                     r"^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=|"
                     r"^((?:module\.)?exports(?:\.[A-Za-z_$][\w$]*)?)\s*=")


def _js_spans(text: str) -> dict[str, tuple[int, int]]:
    lines = text.splitlines()
    spans: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(lines):
        m = _JS_TOP.match(lines[i])
        if m:
            end = _js_block_end(lines, i)
            spans[next(g for g in m.groups() if g)] = (i, end)
            i = max(end, i + 1)
        else:
            i += 1
    return spans


_IMPORT_LINE = re.compile(r"^(?:import\s|from\s+\S+\s+import\s|(?:const|let|var)\s+.*=\s*require\()")


def _py_members(text: str) -> dict[str, dict[str, tuple[int, int, int]]]:
    """class name -> method name -> (first line, end line, indent) of the methods of each
    top-level class of Python source (0-based, end exclusive, decorators included)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    out: dict[str, dict[str, tuple[int, int, int]]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        methods = out.setdefault(node.name, {})
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.end_lineno:
                start = min([item.lineno] + [d.lineno for d in item.decorator_list])
                methods[item.name] = (start - 1, item.end_lineno, item.col_offset)
    return out


def _indented(lines: list[str], indent: int) -> list[str]:
    return [" " * indent + ln if ln.strip() else "" for ln in lines]


def _member_edits(before: str, after: str, name: str,
                  a_lines: list[str]) -> list[tuple[int, int, list[str]]] | None:
    """The edits that lay the methods of ``after``'s class ``name`` over the same class of
    ``before`` one by one, when the reply's class leaves out some of the current methods (it
    wrote back only the ones it changed); None when it has them all (the class is replaced)."""
    old_members = _py_members(before).get(name, {})
    new_members = _py_members(after).get(name, {})
    if not old_members or set(old_members) <= set(new_members):
        return None
    edits: list[tuple[int, int, list[str]]] = []
    added: list[str] = []
    for method, (ns, ne, nindent) in new_members.items():
        seg = _indented([ln[nindent:] for ln in a_lines[ns:ne]], 0)
        if method in old_members:
            os_, oe, oindent = old_members[method]
            edits.append((os_, oe, _indented(seg, oindent)))
        else:
            indent = next(iter(old_members.values()))[2]
            added += [""] + _indented(seg, indent)
    if added:
        end = max(e for _s, e, _i in old_members.values())
        edits.append((end, end, added))
    return edits


def merge_partial(path: str, before: str, after: str) -> str | None:
    """A reply that wrote back only some definitions of a file, laid over the current file.

    Small models asked for the whole file often return just the function they changed. When
    every line of ``after`` outside its definitions is blank, a comment, an import, or a line the
    current file already has, ``after`` is read as a patch: each definition replaces the one of
    the same name, new definitions are appended, new imports go on top. In Python a function
    whose name is a method of one class of the file (written at any indentation) replaces that
    method, and a class written with only some of its methods has those laid over the class.
    ``None`` when ``after`` is not such a partial file (or the result would not parse)."""
    is_py = path.endswith(".py")
    if not is_py and not path.endswith((".js", ".mjs", ".cjs")):
        return None
    if is_py:
        after = textwrap.dedent(after)  # a method written at its class's indentation
    spans_of = _py_spans if is_py else _js_spans
    old, new = spans_of(before), spans_of(after)
    if not old or not new:
        return None
    a_lines, b_lines = after.splitlines(), before.splitlines()
    inside = {i for s, e in new.values() for i in range(s, e)}
    known = {line.strip() for line in b_lines if line.strip()}
    imports: list[str] = []
    for i, line in enumerate(a_lines):
        bare = line.strip()
        if i in inside or not bare or bare.startswith(("#", "//")) or bare in known:
            continue
        if _IMPORT_LINE.match(line):
            imports.append(line)
            continue
        return None  # other top-level code: the reply is a whole file, not a partial one
    # (start, end, lines): each definition in place of its old self; new ones after the last old
    # definition (before a trailing exports line or main block)
    members = _py_members(before) if is_py else {}
    methods: dict[str, list[tuple[int, int, int]]] = {}
    for per_class in members.values():
        for method, span in per_class.items():
            methods.setdefault(method, []).append(span)
    edits: list[tuple[int, int, list[str]]] = []
    added: list[str] = []
    for name, (ns, ne) in new.items():
        if name in old:
            partial = (_member_edits(before, after, name, a_lines)
                       if name in members else None)
            edits += partial if partial is not None else [(*old[name], a_lines[ns:ne])]
        elif len(methods.get(name, [])) == 1 and a_lines[ns].lstrip().startswith(
                ("def ", "async def ", "@")):
            start, end, indent = methods[name][0]
            edits.append((start, end, _indented(a_lines[ns:ne], indent)))
        else:
            added += ["", ""] + a_lines[ns:ne] if is_py else [""] + a_lines[ns:ne]
    if added:
        ends = [e for n, (_s, e) in old.items() if "exports" not in n] or [len(b_lines)]
        edits.append((max(ends), max(ends), added))
    out = list(b_lines)
    for s, e, seg in sorted(edits, key=lambda x: (-x[0], -x[1])):
        out[s:e] = seg
    if imports:
        at = 0
        for i, line in enumerate(out):
            if _IMPORT_LINE.match(line):
                at = i + 1
        out[at:at] = imports + ([""] if at == 0 and out and out[0].strip() else [])
    merged = "\n".join(out).rstrip("\n") + "\n"
    if is_py and _py_spans(merged) is None:
        return None
    return merged
