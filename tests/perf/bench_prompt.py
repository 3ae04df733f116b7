"""Prompt-cache stability benchmark: how much of each request a server could reuse.

    python tests/perf/bench_prompt.py

Builds the requests of a 6-call task (read, patch, test, fix, test, finish) with
:class:`PromptLayout` — system prompt and tools fixed, history append-only (memory and retrieved
code loaded once into the task's first user message), the plan anchor in a trailing note — renders each as a ChatML prompt (tools in the system turn, like
Qwen2.5's template) and reports the byte-identical prefix shared with the previous request and
the estimated tokens the server must re-process. For contrast, the same task with the volatile
context in the system prompt (what breaks the cache). Real llama.cpp ``timings.prompt_n`` is
measured with the integrated agent.
"""

from __future__ import annotations

import json

from smallcode.core.context.budget import TokenCounter
from smallcode.core.context.layout import PromptLayout, render_chatml, shared_prefix_chars
from smallcode.core.router import Router
from smallcode.core.tools import build_registry

SYSTEM = ("You are smallcode, a careful coding agent working in a project folder. You act by "
          "calling tools.\nRules:\n- Make the smallest change that does the task.\n- To change a "
          "file use `patch`: old_str must be copied exactly from the file.\n- Paths are relative "
          "to the project root.\n- When the task is done, call `finish` with a one-line summary.\n")

CALC = "\n".join(f"{i}| " + line for i, line in enumerate([
    "def add(a, b):", "    return a - b", "", "def mul(a, b):", "    return a * b", "",
    "def div(a, b):", "    return a / b", ""], 1))

STEPS = [
    ("read_file", {"path": "calc.py"}, CALC),
    ("patch", {"path": "calc.py", "old_str": "    return a - b", "new_str": "    return a + b"},
     ("patched calc.py (1 line)\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n"
     "-    return a - b\n+    return a + b")),
    ("bash", {"command": "python -m pytest -q"},
     "F.\n=== FAILURES ===\ntest_div: ZeroDivisionError: division by zero\n1 failed, 1 passed"),
    ("patch", {"path": "calc.py", "old_str": "    return a / b",
               "new_str": "    if b == 0:\n        raise ValueError('b is zero')\n    return a / b"},
     "patched calc.py (3 lines)"),
    ("bash", {"command": "python -m pytest -q"}, "..\n2 passed in 0.01s"),
]
PLAN = ["Read calc.py", "Fix add", "Run the tests", "Fix div", "Run the tests", "Finish"]
MEMORY = "Project memory:\n- convention: tests live in tests/, run with python -m pytest -q"


def anchor(step: int) -> str:
    lines = [f"ACTIVE PLAN (step {step + 1} of {len(PLAN)}):"]
    for i, text in enumerate(PLAN):
        mark = "✓" if i < step else ("→" if i == step else " ")
        lines.append(f"{mark} {i + 1}. {text}")
    return "\n".join(lines)


def task_requests(stable: bool) -> list[str]:
    registry = build_registry()
    decision = Router(registry).route("fix the failing tests in calc.py")
    tools = registry.schemas(decision.tool_names)
    # Context loaded once at the start of the task (memory, retrieved code) is part of the
    # task's first user message and so of the stable history; only the plan anchor moves.
    history = [{"role": "user", "content": "fix the failing tests in calc.py\n\n" + MEMORY
                + "\n\nRetrieved:\n" + CALC}]
    layout = PromptLayout(SYSTEM, tools)
    rendered = []
    for call_no in range(len(STEPS) + 1):
        volatile = [anchor(call_no)]
        if stable:
            msgs = layout.build(history, volatile)
        else:  # the cache-breaking layout: volatile context inside the system prompt
            msgs = [{"role": "system", "content": "\n\n".join(volatile) + "\n\n" + SYSTEM},
                    *history]
        rendered.append(render_chatml(msgs, tools))
        if call_no < len(STEPS):
            name, args, output = STEPS[call_no]
            cid = f"call_{call_no}"
            history.append({"role": "assistant", "content": "", "tool_calls": [
                {"id": cid, "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}]})
            history.append({"role": "tool", "tool_call_id": cid, "content": output})
    return rendered


def report(label: str, rendered: list[str]) -> None:
    counter = TokenCounter()
    print(f"{label}:")
    fractions = []
    reprocessed = []
    for i, cur in enumerate(rendered):
        total = counter.count(cur)
        if i == 0:
            print(f"  call 1: {total:>5} prompt tokens (cold)")
            continue
        shared = shared_prefix_chars(rendered[i - 1], cur)
        frac = shared / len(cur)
        new_tokens = counter.count(cur[shared:])
        fractions.append(frac)
        reprocessed.append(new_tokens / total)
        print(f"  call {i + 1}: {total:>5} prompt tokens, prefix shared with call {i}: "
              f"{frac:6.1%}, re-processed ~{new_tokens:>4} tokens ({new_tokens / total:5.1%})")
    print(f"  mean prefix reuse {sum(fractions) / len(fractions):.1%}; mean re-processed "
          f"{sum(reprocessed) / len(reprocessed):.1%} of the prompt (goal <= 15%)")


def main() -> None:
    report("PromptLayout (system + tools fixed, volatile note last)", task_requests(stable=True))
    report("contrast: volatile context in the system prompt", task_requests(stable=False))


if __name__ == "__main__":
    main()
