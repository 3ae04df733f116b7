"""Record real replies of local models to agent-style prompts into the tool-call corpus.

Usage::

    python tests/toolcalls/record_real.py --base-url http://127.0.0.1:18080/v1 --label qwen1.5b
    python tests/toolcalls/record_real.py --base-url http://127.0.0.1:18081/v1 --label qwen0.5b

Each reply becomes ``corpus/real_<label>_<scenario>_<mode>.json`` with ``"expected": null``: a
person reads the raw output and fills in the call the model meant (or ``[]`` for no call) before
the case counts. Existing files are never overwritten (``--force`` to redo).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
sys.path.insert(0, str(HERE.parents[1]))

from tests.toolcalls.tool_set import build_test_registry

CALC = '''def add(a, b):
    return a - b


def mul(a, b):
    return a * b
'''
TEST_CALC = '''from src.calc import add, mul


def test_add():
    assert add(2, 3) == 5


def test_mul():
    assert mul(2, 3) == 6
'''
SYSTEM_TOOLS = ("You are smallcode, a coding agent working in a git repository. Use the tools to "
                "inspect and change files. Call exactly one tool per reply. When the task is "
                "done, call finish with a short summary.")
SYSTEM_TEXT = SYSTEM_TOOLS + (
    "\n\nTools:\n"
    "- read_file(path, start_line?, end_line?): read a file with line numbers\n"
    "- write_file(path, content): create or overwrite a file\n"
    "- patch(path, old_str, new_str): replace one unique occurrence of old_str\n"
    "- bash(command): run a shell command\n"
    "- find_files(pattern): find files by glob\n"
    "- search(query): search file contents\n"
    "- finish(summary): end the task\n\n"
    "To call a tool, reply with:\n<tool_call>\n{\"name\": \"<tool>\", \"arguments\": {...}}\n"
    "</tool_call>")


def _numbered(text: str) -> str:
    return "\n".join(f"{i:>4}| {line}" for i, line in enumerate(text.splitlines(), 1))


def _tool_turn(name: str, args: dict[str, Any], result: str, native: bool) -> list[dict[str, Any]]:
    """A previous call and its result, as native tool messages or as text."""
    if native:
        return [{"role": "assistant", "content": "",
                 "tool_calls": [{"id": "call_1", "type": "function",
                                 "function": {"name": name, "arguments": json.dumps(args)}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": result}]
    call = json.dumps({"name": name, "arguments": args})
    return [{"role": "assistant", "content": f"<tool_call>\n{call}\n</tool_call>"},
            {"role": "user", "content": f"Tool result ({name}):\n{result}"}]


def scenarios(native: bool) -> dict[str, list[dict[str, Any]]]:
    fix_task = ("The test tests/test_calc.py::test_add fails: add(2, 3) returns -1 instead of 5. "
                "Fix the bug in src/calc.py.")
    read_result = _numbered(CALC)
    pytest_fail = ("FAILED tests/test_calc.py::test_add - assert -1 == 5\n"
                   " +  where -1 = add(2, 3)\n1 failed, 1 passed in 0.03s")
    return {
        "fix_first": [{"role": "user", "content": fix_task}],
        "fix_after_read": [{"role": "user", "content": fix_task},
                           *_tool_turn("read_file", {"path": "src/calc.py"}, read_result, native)],
        "fix_after_patch": [
            {"role": "user", "content": fix_task},
            *_tool_turn("read_file", {"path": "src/calc.py"}, read_result, native),
            *_tool_turn("patch", {"path": "src/calc.py", "old_str": "return a - b",
                                  "new_str": "return a + b"},
                        "Patched src/calc.py (1 line changed).", native)],
        "after_tests_pass": [
            {"role": "user", "content": fix_task},
            *_tool_turn("bash", {"command": "python -m pytest -q"},
                        "2 passed in 0.02s\n(exit code 0)", native)],
        "run_tests": [{"role": "user", "content": "Run the test suite and tell me what fails."}],
        "run_tests_after": [
            {"role": "user", "content": "Run the test suite and tell me what fails."},
            *_tool_turn("bash", {"command": "python -m pytest -q"}, pytest_fail, native)],
        "find_config": [{"role": "user", "content": "Where is the logging configured in this "
                                                    "project? Find the file."}],
        "new_file": [{"role": "user", "content": "Create a file src/greet.py with a function "
                                                 "greet(name) that returns 'Hello, <name>!'."}],
        "search_usage": [{"role": "user", "content": "Find every place that calls the function "
                                                     "parse_config."}],
        "rename": [{"role": "user", "content": "In src/calc.py rename the function mul to "
                                               "multiply."},
                   *_tool_turn("read_file", {"path": "src/calc.py"}, read_result, native)],
        "question": [{"role": "user", "content": "What does this function do?\n\n```python\n"
                                                 "def mul(a, b):\n    return a * b\n```"}],
        "read_test": [{"role": "user", "content": "Show me the test file for calc and explain "
                                                  "what it checks."}],
        "multiline_write": [{"role": "user", "content": "Write tests/test_greet.py with two "
                                                        "pytest tests for greet() from "
                                                        "src/greet.py."}],
    }


def record(base_url: str, label: str, modes: list[str], only: list[str] | None,
           force: bool, max_tokens: int, timeout: float, temperature: float = 0.2) -> int:
    registry = build_test_registry()
    tools = registry.schemas()
    written = 0
    with httpx.Client(timeout=timeout) as http:
        for mode in modes:
            native = mode == "tools"
            system = SYSTEM_TOOLS if native else SYSTEM_TEXT
            for name, history in scenarios(native).items():
                if only and name not in only:
                    continue
                out = CORPUS / f"real_{label}_{name}_{mode}.json"
                if out.exists() and not force:
                    continue
                body: dict[str, Any] = {"model": "local-model",
                                        "messages": [{"role": "system", "content": system},
                                                     *history],
                                        "max_tokens": max_tokens, "temperature": temperature}
                if native:
                    body["tools"] = tools
                started = time.monotonic()
                try:
                    resp = http.post(base_url.rstrip("/") + "/chat/completions", json=body)
                    resp.raise_for_status()
                except httpx.HTTPError as exc:
                    print(f"{name}/{mode}: request failed: {exc}", file=sys.stderr)
                    continue
                msg = resp.json()["choices"][0]
                message = msg.get("message", {})
                case = {
                    "id": out.stem,
                    "source": f"real:{label}",
                    "format": None,
                    "content": message.get("content") or "",
                    "reasoning": message.get("reasoning_content") or "",
                    "native": message.get("tool_calls") or None,
                    "expected": None,
                    "note": f"scenario {name}, mode {mode}, temperature {temperature}, finish_reason "
                            f"{msg.get('finish_reason')}, {time.monotonic() - started:.1f}s",
                }
                out.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n")
                written += 1
                print(f"{out.name}: {case['content'][:100]!r}", flush=True)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--label", required=True, help="short model label for file names")
    parser.add_argument("--modes", default="tools,text",
                        help="tools (OpenAI tools field) and/or text (tools described in prompt)")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--max-tokens", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--temperature", type=float, default=0.2)
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s] or None
    n = record(args.base_url, args.label, args.modes.split(","), only, args.force,
               args.max_tokens, args.timeout, args.temperature)
    print(f"recorded {n} replies into {CORPUS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
