"""Tool-name spelling: folding, common aliases small models use, and nearness to known names."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

__all__ = ["TOOL_ALIASES", "fold_name", "near_known_name", "snake_name", "squash_name"]

TOOL_ALIASES: dict[str, tuple[str, ...]] = {
    "read_file": ("read", "cat", "open", "open_file", "view", "view_file", "readfile",
                  "get_file", "show_file", "file_read", "read_text", "read_files", "head",
                  "get_file_contents", "read_file_content"),
    "write_file": ("write", "create_file", "create", "save_file", "writefile", "file_write",
                   "overwrite_file", "new_file", "put_file", "write_to_file"),
    "patch": ("edit", "edit_file", "str_replace", "str_replace_editor", "replace",
              "replace_in_file", "apply_patch", "modify_file", "update_file", "search_replace",
              "replace_text", "apply_edit", "file_edit", "patch_file", "change_file",
              "replace_string"),
    "bash": ("run", "shell", "execute", "exec", "run_shell", "run_command", "execute_command",
             "terminal", "sh", "cmd", "command", "run_bash", "execute_bash", "shell_command",
             "run_terminal_cmd", "run_shell_command", "subprocess", "run_tests"),
    "search": ("grep", "rg", "ripgrep", "search_code", "code_search", "search_files",
               "grep_search", "find_in_files", "search_text", "find_text", "text_search",
               "search_file", "search_content"),
    "find_files": ("ls", "list_files", "list_dir", "list_directory", "glob", "find",
                   "file_search", "find_file", "list", "dir", "tree", "glob_files",
                   "search_filenames"),
    "finish": ("done", "submit", "final_answer", "complete", "answer", "attempt_completion",
               "task_complete", "stop", "end", "final", "respond", "finish_task", "exit",
               "task_done"),
}
"""Canonical tool name → names small models use for it. Applied only if the canonical exists."""

_PREFIXES = ("functions.", "function.", "default_api.", "tools.", "tool.", "api.", "mcp.")


def fold_name(name: str) -> str:
    """Lower case, hyphens and spaces as underscores: ``Read-File`` → ``read_file``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def snake_name(name: str) -> str:
    """camelCase to snake_case, then folded: ``readFile`` → ``read_file``."""
    return fold_name(re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name.strip()))


def squash_name(name: str) -> str:
    """Only letters and digits, lower case: ``read_file`` → ``readfile``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def name_variants(name: str) -> list[str]:
    """The written name and the same without a ``functions.``-style prefix or dotted path."""
    out = [name.strip()]
    lowered = out[0].lower()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix):
            out.append(out[0][len(prefix):])
    if "." in out[0]:
        out.append(out[0].rsplit(".", 1)[-1])
    return out


def near_known_name(name: str, known: Collection[str]) -> bool:
    """Is ``name`` a spelling, alias or near-typo of one of ``known``?"""
    if not known:
        return False
    squashed_known = {squash_name(k) for k in known}
    for cand in name_variants(name):
        squashed = squash_name(snake_name(cand))
        if squashed in squashed_known:
            return True
        for canonical, aliases in TOOL_ALIASES.items():
            if squash_name(canonical) in squashed_known and squashed in {
                    squash_name(a) for a in aliases}:
                return True
        if difflib.get_close_matches(squashed, list(squashed_known), n=1, cutoff=0.8):
            return True
    return False
