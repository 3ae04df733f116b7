"""Micro-task features: small async functions that ask the model one focused thing, each with a
cache keyed by its inputs, a timeout and a fallback. None of them can break the agent loop.

What is here: the framework (``microtask``), history compaction (``compaction``, used by the
agent loop and the TUI's compact command) and plan extraction (``plan_extract``, used by the plan
tracker).
(Repairing a tool call lives in ``core/toolcalls/repair.py`` and semantic merge in
``core/edit/merge.py``.)
"""

from __future__ import annotations

from .compaction import COMPACT_HISTORY, compact_history, history_compactor, transcript
from .microtask import Cache, MicroResult, MicroTask, MicroTaskOutputError, strip_reply
from .plan_extract import EXTRACT_PLAN, extract_plan, parse_plan_text

__all__ = [
    "COMPACT_HISTORY", "EXTRACT_PLAN", "Cache", "MicroResult", "MicroTask",
    "MicroTaskOutputError", "compact_history", "extract_plan", "history_compactor",
    "parse_plan_text", "strip_reply", "transcript",
]
