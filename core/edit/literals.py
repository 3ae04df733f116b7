"""What a task text says about files: which it asks to create, and whether tests may change.

(The earlier check that values from the task appear in the changed files is gone: a small model
satisfied it by pasting the value into the code. The solve path's oracles replace it.)
"""

from __future__ import annotations

import re
from pathlib import Path

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
