"""Micro-task features: small async functions that ask the model one focused thing, each with a
cache keyed by its inputs, a timeout and a fallback. None of them can break the agent loop.

(Repairing a tool call lives in ``core/toolcalls/repair.py`` and semantic merge in
``core/edit/merge.py``.)
"""

from __future__ import annotations

from .clarify import NEEDS_CLARIFICATION, Clarification, needs_clarification
from .commit import COMMIT_MESSAGE, commit_message, fallback_message
from .compaction import COMPACT_HISTORY, compact_history, history_compactor, transcript
from .diagnose import DIAGNOSE_COMMAND, Diagnosis, diagnose_by_rules, diagnose_command
from .microtask import Cache, MicroResult, MicroTask, MicroTaskOutputError, strip_reply
from .plan_extract import EXTRACT_PLAN, extract_plan, parse_plan_text
from .summarize import SUMMARIZE_FILE, outline, summarize_file

__all__ = [
    "COMMIT_MESSAGE", "COMPACT_HISTORY", "DIAGNOSE_COMMAND", "EXTRACT_PLAN",
    "NEEDS_CLARIFICATION", "SUMMARIZE_FILE", "Cache", "Clarification", "Diagnosis",
    "MicroResult", "MicroTask", "MicroTaskOutputError", "commit_message", "compact_history",
    "diagnose_by_rules", "diagnose_command", "extract_plan", "fallback_message",
    "history_compactor", "needs_clarification", "outline", "parse_plan_text", "strip_reply",
    "summarize_file", "transcript",
]
