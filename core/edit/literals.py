"""Did the change include what the user literally asked for?

A 1.5B model given "change the port to 9090 and add a \"debug\": false setting" reliably makes the
first change, then calls ``finish`` with a summary claiming both. Values the user spelled out — a
number, a quoted string, a backticked name — are cheap evidence: when the task is done they are
in the files that changed. :func:`missing_literals` lists the ones no changed file contains, so
``finish`` can be sent back once with a precise reminder.

Only values the user asks to put somewhere count: the few words before them must say so ("to
9090", "add a \"debug\" setting", "default 'USD'", "set LOG_LEVEL to debug"). Values in bug
reports ("returns 148", "gives 'hello---world'", "should be [9, 8, 7]") describe behaviour, not
text that must appear, and are ignored. Literals the user wants *gone* ("rename X to Y", "replace X with Y", "remove X", "instead of X",
"from X to Y") are not required; paths are files, not content; tiny numbers (0–9) and common
words are too weak to check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

_QUOTED = re.compile(r"`([^`\n]{1,80})`|\"([^\"\n]{1,80})\"|'([^'\n]{2,80})'")
# numbers of two digits or more, versions (0.4.0, 3.12), requirement specs (requests>=2.31) and
# KEY=value settings, written without quotes
_NUMBER = re.compile(r"(?<![\w./=<>~!^:-])([A-Za-z_][\w.-]*(?:[<>=~!^]=?|==)[\w.*/:-]*\w"
                     r"|\d+(?:\.\d+)+|\d{2,})(?![\w/])")
_GONE_BEFORE = re.compile(r"(?:\brenam\w*|\breplac\w*|\bremov\w*|\bdelet\w*|\bdrop\w*|\bstrip\w*|"
                          r"\binstead\s+of|\bfrom|\brather\s+than|\bnot|\bno\s+longer|\bold)"
                          r"\s+(?:the\s+)?(?:\w+\s+)?$", re.IGNORECASE)
_DIRECTIVE_BEFORE = re.compile(r"\b(?:to|add|adds|adding|set|sets|include|includes|require|requires|"
                               r"with|default|defaults|bump|raise|use|uses|become|becomes)\b"
                               r"(?:\s+(?:a|an|the|new|its|it))?(?:\s+[\w-]+)?\s*[(=:]?\s*$",
                               re.IGNORECASE)
_PATHLIKE = re.compile(r"^[\w./-]+\.[A-Za-z]{1,5}$|/")
_WEAK = {"true", "false", "none", "null", "yes", "no", "on", "off"}


def _is_gone(text: str, start: int) -> bool:
    return bool(_GONE_BEFORE.search(text[max(0, start - 40):start]))


_REPORTED_BEFORE = re.compile(r"\binstead\b|\breturns?\b|\bgives?\b|\byields?\b|\bshows?\b|"
                              r"\bshould\s+(?:be|give|return)\b|\braise[sd]\b|\bfails?\b|"
                              r"\w*Error\b|\bcould\s+not\b|\bcannot\b|\bthrows?\b",
                              re.IGNORECASE)


def _is_asked(text: str, start: int) -> bool:
    """A directive right before the literal, in the same sentence, and no bug-report words."""
    before = re.split(r"[.;!?](?:\s|$)", text[max(0, start - 40):start])[-1]
    return bool(_DIRECTIVE_BEFORE.search(before)) and not _REPORTED_BEFORE.search(before)


def required_literals(task: str) -> list[str]:
    """Values the task spells out that a finished change should contain."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _QUOTED.finditer(task):
        spans.append(m.span())
        value = next(g for g in m.groups() if g is not None).strip()
        if not value or _PATHLIKE.search(value) or value.lower() in _WEAK \
                or _is_gone(task, m.start()) or not _is_asked(task, m.start()):
            continue
        if len(value) < 2 or value in out:
            continue
        out.append(value)
    for m in _NUMBER.finditer(task):
        if any(a <= m.start() < b for a, b in spans) or _is_gone(task, m.start()) \
                or not _is_asked(task, m.start()):
            continue
        tail = task[m.end():m.end() + 1]
        if tail in ("%",) or task[max(0, m.start() - 1):m.start()] in ("v",):
            continue
        if m.group(1) not in out:
            out.append(m.group(1))
    return out


def _contains(text: str, literal: str) -> bool:
    if re.search(rf"(?<![\w-]){re.escape(literal)}(?![\w-])", text):
        return True
    # key: value literals written with other spacing/quotes ("debug": false vs debug = false)
    words = re.findall(r"[\w.-]+", literal)
    if len(words) >= 2:
        rx = r"\W{1,6}".join(re.escape(w) for w in words)
        return re.search(rx, text, re.IGNORECASE) is not None
    return False


def missing_literals(task: str, root: str | Path, changed_files: Iterable[str]) -> list[str]:
    """The task's literals that none of the changed files contains (empty: nothing to say)."""
    wanted = required_literals(task)
    if not wanted:
        return []
    texts = []
    for rel in changed_files:
        p = Path(root) / rel
        try:
            texts.append(p.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    if not texts:
        return []
    blob = "\n".join(texts)
    return [w for w in wanted if not _contains(blob, w)]


_MAKE_BEFORE = re.compile(r"\b(?:write|put|save|store|record|create|make|add|generate|produce|"
                          r"output|dump|list)\b[^.;!?]{0,80}$", re.IGNORECASE)


def asked_files(task: str, root: str | Path) -> list[str]:
    """Files the task asks to create: named, absent now, with a writing verb before them in the
    same sentence ("write the number into `answer.txt`", "make a file todos.txt")."""
    from smallcode.core.plan.depgraph import mentioned_paths

    out = []
    for path in mentioned_paths(task):
        if (Path(root) / path).exists() or path.endswith("/"):
            continue
        for m in re.finditer(re.escape(path), task):
            if _MAKE_BEFORE.search(task[max(0, m.start() - 90):m.start()]):
                out.append(path)
                break
    return out


# A verb that starts an instruction ("add …", "bump …"), not a function name ("add() returns …").
IMPERATIVE_VERB = (r"(?:add|create|write|update|append|put|change|set|remove|delete|make|bump|"
                   r"fix|replace|move|raise|lower|insert|implement|document|drop|extend|export|"
                   r"import|register|enable|disable|accept|include|pass|thread|keep|throw|handle|"
                   r"support|use|require|exclude|let|rename)\s(?!\s*\()")
_PART_START = re.compile(IMPERATIVE_VERB, re.IGNORECASE)
_PART_SPLIT = re.compile(rf"(?<=[.!?;])\s+|,\s+(?:and\s+)?(?={IMPERATIVE_VERB})"
                         rf"|\s+and\s+(?:also\s+)?(?={IMPERATIVE_VERB})", re.IGNORECASE)


def task_parts(task: str) -> list[str]:
    """The separate things a message asks for, each starting with a verb ("bump the version to
    0.4.0", "add requests>=2.31 to the dependencies"). A 1.5B model does the first and finishes."""
    out = []
    for part in _PART_SPLIT.split(task):
        part = re.sub(r"^(?:and\s+)?(?:also|then|please)\s+", "", (part or "").strip(" .;,"),
                      flags=re.IGNORECASE)
        if part and _PART_START.match(part + " "):
            out.append(part)
    return out


_TESTS_ASKED = re.compile(
    r"\b(?:add|write|update|change|edit|modify|extend|create|rename|adjust|rewrite|correct|"
    r"remove|delete)\b[^.;!?]{0,40}\b(?:tests?|specs?|test\s+(?:case|file|suite)s?)\b"
    r"|\btest_\w+\.py\b[^.;!?]{0,30}\b(?:is|are)\s+wrong\b|\bthe\s+tests?\s+(?:is|are)\s+wrong\b",
    re.IGNORECASE)


def tests_protected(task: str) -> bool:
    """Whether the task leaves the existing tests alone. A 1.5B told "titleCase(...) throws,
    fix it" edits the test's expectation until it passes; only a task that asks to add, change
    or rename tests (or says they are wrong) may edit an existing test file."""
    from smallcode.core.tools.refactor import RENAME_RE

    return not (_TESTS_ASKED.search(task) or RENAME_RE.search(task))


__all__ = ["asked_files", "missing_literals", "required_literals", "task_parts", "tests_protected"]
