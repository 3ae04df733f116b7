"""Loop guards: catch a small model going round in circles, nudge it once, then stop it.

Four patterns, each with its own nudge text and a hard bound:

- the same call (name + arguments) repeated with nothing changed in between;
- read loops: the same file read again and again with no edit, or a long streak of reads and
  searches without any edit;
- patch spirals: patches on one file failing one after another;
- empty replies: no text and no tool call.

The agent calls :meth:`LoopGuard.check` after every tool call and :meth:`LoopGuard.check_empty_reply`
after a reply with nothing in it; ``action == "nudge"`` means "add ``message`` to the conversation",
``"stop"`` means end the turn with ``message`` as the reason.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["ok", "nudge", "stop"]

EDIT_TOOLS = frozenset(
    {
        "write_file",
        "patch",
        "read_and_patch",
        "edit_and_verify",
        "create_and_run",
        "edit",
        "apply_patch",
        "create_file",
    }
)
PATCH_TOOLS = frozenset({"patch", "read_and_patch", "edit_and_verify", "edit", "apply_patch"})
READ_TOOLS = frozenset({"read_file", "find_and_read", "read", "view"})
EXPLORE_TOOLS = READ_TOOLS | frozenset(
    {"find_files", "search", "grep", "list_files", "glob", "list_dir", "search_code", "find_symbol"}
)
PATH_KEYS = ("path", "file", "file_path", "filename")


@dataclass(frozen=True)
class GuardVerdict:
    action: Action
    message: str = ""
    rule: str = ""  # same_call | read_loop | explore_streak | patch_spiral | empty_reply


OK = GuardVerdict("ok")


@dataclass
class GuardLimits:
    """Nudge at the first number, stop at the second."""

    same_call: tuple[int, int] = (3, 5)
    same_file_reads: tuple[int, int] = (3, 5)
    explore_streak: tuple[int, int] = (8, 14)
    failed_patches: tuple[int, int] = (3, 6)
    empty_replies: tuple[int, int] = (1, 3)


def _canonical(args: Mapping[str, Any] | Any) -> str:
    try:
        return json.dumps(args, sort_keys=True, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(args)


def _path_of(args: Mapping[str, Any] | Any) -> str | None:
    if not isinstance(args, Mapping):
        return None
    for key in PATH_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().removeprefix("./")
    return None


@dataclass
class LoopGuard:
    """Per-task loop detector. Tool-name sets can be extended for plugin tools."""

    limits: GuardLimits = field(default_factory=GuardLimits)
    edit_tools: frozenset[str] = EDIT_TOOLS
    patch_tools: frozenset[str] = PATCH_TOOLS
    read_tools: frozenset[str] = READ_TOOLS
    explore_tools: frozenset[str] = EXPLORE_TOOLS
    _calls: Counter[str] = field(default_factory=Counter, repr=False)
    _reads: Counter[str] = field(default_factory=Counter, repr=False)
    _failed_patches: Counter[str] = field(default_factory=Counter, repr=False)
    _explore_streak: int = 0
    _empty: int = 0
    nudges: int = 0  # how many nudges were given (for reports)

    def reset(self) -> None:
        """Forget everything (a new task)."""
        self._calls.clear()
        self._reads.clear()
        self._failed_patches.clear()
        self._explore_streak = 0
        self._empty = 0

    def check(
        self,
        call_name: str,
        args: Mapping[str, Any] | Any,
        result_ok: bool,
        *,
        changed: bool | None = None,
    ) -> GuardVerdict:
        """Record one executed tool call and say whether the model is looping.

        ``changed`` (when known) says whether the call changed files: an edit that was applied
        but failed validation or tests is progress for the loop guards (the improvement loop
        deals with its errors), not a failed patch. Without it, ``result_ok`` decides.
        """
        self._empty = 0
        path = _path_of(args)
        applied = result_ok if changed is None else changed
        if call_name in self.edit_tools and applied:
            # the workspace changed: repeating a read or a test run is legitimate again
            self._calls.clear()
            self._reads.clear()
            self._explore_streak = 0
            if path:
                self._failed_patches.pop(path, None)
            return OK
        verdicts = []
        key = f"{call_name}:{_canonical(args)}"
        self._calls[key] += 1
        verdicts.append(self._same_call(call_name, self._calls[key]))
        if call_name in self.patch_tools and not result_ok and path:
            self._failed_patches[path] += 1
            verdicts.append(self._patch_spiral(path, self._failed_patches[path]))
        if call_name in self.read_tools and path:
            self._reads[path] += 1
            verdicts.append(self._read_loop(path, self._reads[path]))
        if call_name in self.explore_tools:
            self._explore_streak += 1
            verdicts.append(self._streak(self._explore_streak))
        elif call_name not in self.edit_tools:
            self._explore_streak = 0
        return self._worst(verdicts)

    def check_empty_reply(self) -> GuardVerdict:
        """Record a reply with no text and no tool call."""
        self._empty += 1
        nudge, stop = self.limits.empty_replies
        if self._empty >= stop:
            return GuardVerdict(
                "stop",
                f"The model gave {self._empty} empty replies in a row; stopping.",
                "empty_reply",
            )
        if self._empty >= nudge:
            return self._nudge(
                "Your last reply was empty. Reply with exactly one tool call, or with your final "
                "answer as plain text.",
                "empty_reply",
            )
        return OK

    def note_reply(self) -> None:
        """A non-empty reply arrived: the empty-reply count starts again."""
        self._empty = 0

    # ------------------------------------------------------------------------------------------

    def _worst(self, verdicts: list[GuardVerdict]) -> GuardVerdict:
        for action in ("stop", "nudge"):
            for v in verdicts:
                if v.action == action:
                    return v
        return OK

    def _nudge(self, message: str, rule: str) -> GuardVerdict:
        self.nudges += 1
        return GuardVerdict("nudge", message, rule)

    def _same_call(self, name: str, n: int) -> GuardVerdict:
        nudge, stop = self.limits.same_call
        if n >= stop:
            return GuardVerdict(
                "stop",
                f"{name} was called {n} times with the same arguments and "
                f"nothing changed in between; stopping the loop.",
                "same_call",
            )
        if n == nudge:
            return self._nudge(
                f"You have called {name} with exactly these arguments {n} times; the result will "
                f"not change. Use the result you already have: make the edit, try a different "
                f"tool or different arguments, or give your final answer.",
                "same_call",
            )
        return OK

    def _read_loop(self, path: str, n: int) -> GuardVerdict:
        nudge, stop = self.limits.same_file_reads
        if n >= stop:
            return GuardVerdict(
                "stop",
                f"{path} was read {n} times without any edit; stopping the loop.",
                "read_loop",
            )
        if n == nudge:
            return self._nudge(
                f"You have read {path} {n} times without changing anything. Its content is "
                f"already above. Now make the change with patch (old_str copied from it), or "
                f"answer if no change is needed.",
                "read_loop",
            )
        return OK

    def _streak(self, n: int) -> GuardVerdict:
        nudge, stop = self.limits.explore_streak
        if n >= stop:
            return GuardVerdict(
                "stop",
                f"{n} reads and searches in a row without an edit or an answer; stopping.",
                "explore_streak",
            )
        if n == nudge:
            return self._nudge(
                f"You have made {n} read/search calls in a row. Stop exploring: edit the file you "
                f"found, or answer with what you know.",
                "explore_streak",
            )
        return OK

    def _patch_spiral(self, path: str, n: int) -> GuardVerdict:
        nudge, stop = self.limits.failed_patches
        if n >= stop:
            return GuardVerdict(
                "stop",
                f"{n} patches of {path} failed in a row; stopping edits of this file.",
                "patch_spiral",
            )
        if n == nudge:
            return self._nudge(
                f"{n} patches of {path} failed in a row. Read the exact lines first "
                f"(read_file with a line range), then copy old_str character for character "
                f"from that output without the line numbers, keep it short (3-6 lines), and "
                f"make one change at a time. For a small file, write_file with the whole new "
                f"content is also fine.",
                "patch_spiral",
            )
        return OK
