"""What a task text says about files: which it asks to create, and whether tests may change.

(The earlier check that values from the task appear in the changed files is gone: a small model
satisfied it by pasting the value into the code. The solve path's oracles replace it.)
"""

from __future__ import annotations

import re
from pathlib import Path

_MAKE_BEFORE = re.compile(r"\b(?:write|written|put|save|saved|store|stored|record|recorded|create|"
                          r"make|add|generate|produce|output|dump|list)\b(?:[^.;!?]|\.(?=\w)){0,80}$", re.IGNORECASE)


# the file as the subject of what it must hold ("answer.txt must hold the count", "todos.txt
# should list ...", "answer.txt: just the number"); "results.json holds the totals" describes
# what a program writes, not a file to make
_HOLDS_AFTER = re.compile(r"^`?\s*(?::\s|<-|←|<<|(?:must|should|shall|needs?\s+to|has\s+to|is\s+to|"
                          r"will)\s+(?:only\s+)?(?:hold|contain|have|list|say|show|include|"
                          r"give|be)\b)", re.IGNORECASE)
# "the port goes in answer.txt", "default port -> answer.txt"
_GOES_BEFORE = re.compile(r"(?:\b(?:goes|go|belongs?)\s+(?:in|into|to)|->|=>|→|>>)\s*`?$",
                          re.IGNORECASE)


def asked_files(task: str, root: str | Path) -> list[str]:
    """Files the task asks to create: named, absent now, with a writing verb before them in the
    same sentence ("write the number into `answer.txt`", "make a file todos.txt") or said to
    hold something after them ("answer.txt must hold the count")."""
    from smallcode.core.plan.depgraph import mentioned_paths

    out = []
    for path in mentioned_paths(task):
        if (Path(root) / path).exists() or path.endswith("/"):
            continue
        for m in re.finditer(re.escape(path), task):
            before = task[max(0, m.start() - 90):m.start()]
            if _MAKE_BEFORE.search(before) or _GOES_BEFORE.search(before) \
                    or _HOLDS_AFTER.search(task[m.end():m.end() + 40]):
                out.append(path)
                break
    return out


# A verb that starts an instruction ("add …", "bump …"), not a function name ("add() returns …").
IMPERATIVE_VERB = (r"(?:add|create|write|update|append|put|change|set|remove|delete|make|bump|"
                   r"fix|replace|move|raise|lower|insert|implement|document|drop|extend|export|"
                   r"import|register|enable|disable|accept|include|pass|thread|keep|throw|handle|"
                   r"support|use|require|exclude|let|rename)\s(?!\s*\()")
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


__all__ = ["IMPERATIVE_VERB", "asked_files", "tests_protected"]
