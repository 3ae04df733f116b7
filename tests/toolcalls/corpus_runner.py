"""Run one corpus case through extraction and resolution and compare with the labelled answer.

A case file (``corpus/*.json``) holds ``content``, ``reasoning``, ``native`` (what the model
sent), ``expected``: a list of ``{"name", "arguments"}`` calls or ``{"problem": kind}`` entries,
``[]`` for "no call", or ``null`` while a recorded reply is still unlabelled. Optional:
``text`` (the visible text expected), ``expect_errors`` (True when unparseable markup must be
reported), ``xfail`` (why we cannot recover it yet; still counted as unrecovered).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smallcode.core.toolcalls import CallProblem, extract_tool_calls, resolve_call
from smallcode.core.tools.registry import ToolRegistry

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"


@dataclass
class CaseOutcome:
    case_id: str
    fmt: str
    source: str
    ok: bool
    got: list[dict[str, Any]]
    expected: list[dict[str, Any]]
    detail: str
    seconds: float
    repairs: list[str]  # JSON repair rules and resolution fixes that were needed


def fix_category(fix: str) -> str:
    """Group a ResolvedCall fix message: name:alias, arg_key, positional, value:..., argv_join."""
    if fix.startswith("name "):
        return "name:" + fix[fix.rindex("(") + 1:-1]
    if fix.startswith("positional argument"):
        return "positional"
    if fix.startswith("argument list joined"):
        return "argv_join"
    if fix.startswith("argument ") and " -> " in fix:
        return "arg_key"
    if fix.startswith("argument "):
        return "value:" + fix.split(": ", 1)[-1]
    return fix


def load_cases(include_unlabelled: bool = False) -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CORPUS_DIR.glob("*.json")):
        case = json.loads(path.read_text())
        case.setdefault("id", path.stem)
        if case.get("expected") is None and not include_unlabelled:
            continue
        cases.append(case)
    return cases


def case_format(case: dict[str, Any]) -> str:
    return case.get("format") or "unlabelled"


def run_case(case: dict[str, Any], registry: ToolRegistry) -> CaseOutcome:
    started = time.perf_counter()
    extraction = extract_tool_calls(case.get("content") or "", case.get("reasoning") or "",
                                    case.get("native"), known_tools=registry.names())
    got: list[dict[str, Any]] = []
    repairs: list[str] = []
    for raw in extraction.calls:
        repairs += raw.repairs
        outcome = resolve_call(raw, registry)
        if isinstance(outcome, CallProblem):
            got.append({"problem": outcome.kind})
        else:
            repairs += [fix_category(fix) for fix in outcome.fixes]
            got.append({"name": outcome.name,
                        "arguments": outcome.args.model_dump(exclude_unset=True)})
    seconds = time.perf_counter() - started
    expected = case["expected"]
    problems: list[str] = []
    if got != expected:
        problems.append(f"calls {got!r} != expected {expected!r}")
    if "text" in case and extraction.text != case["text"]:
        problems.append(f"text {extraction.text!r} != expected {case['text']!r}")
    if case.get("expect_errors") and not extraction.errors:
        problems.append("expected an extraction error, got none")
    if not expected and not case.get("expect_errors") and extraction.errors:
        problems.append(f"unexpected errors {extraction.errors!r}")
    return CaseOutcome(case_id=case["id"], fmt=case_format(case),
                       source=case.get("source", "synthetic"), ok=not problems, got=got,
                       expected=expected, detail="; ".join(problems), seconds=seconds,
                       repairs=repairs)
