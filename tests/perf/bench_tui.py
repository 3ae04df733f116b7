"""TUI rendering figures: streamed tokens per second into one markdown answer, tool cards with
diffs per second, and start-up to a ready session against the scripted server. Prints figures.

Run: python tests/perf/bench_tui.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from smallcode.cli.tui.app import SmallcodeApp
from smallcode.core.config import Settings
from smallcode.core.events import AssistantText, TextDelta, ToolCallEvent, ToolResultEvent

from tests.support.scripted_server import ScriptedServer

ANSWER = """The bug is in `add`: it subtracts instead of adding. Here is the fix:

```python
def add(a, b):
    return a + b
```

What changed:

- `add` now returns the sum
- the test `test_add` passes again
- nothing else in `calc.py` was touched

Run the tests with `pytest -q` to check. If you also want `sub` reviewed, say so and I will
read `ops.py` next; it has a similar pattern that may hide the same mistake in a loop.
"""
DIFF = "--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a = 1\n-b = 2\n+b = 3\n c = 4\n"


async def bench() -> None:
    n_tokens = int(sys.argv[1]) if len(sys.argv) > 1 else 1600
    root = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    (root / "x.py").write_text("a = 1\nb = 2\nc = 4\n")
    with ScriptedServer([]) as srv:
        settings = Settings.model_validate({"model": {"base_url": srv.base_url,
                                                      "detect_local": False}})
        started = time.perf_counter()
        app = SmallcodeApp(root, settings)
        async with app.run_test(size=(120, 40)) as pilot:
            while app.session is None and not app.session_error:
                await pilot.pause(0.01)
            ready = time.perf_counter() - started
            answer = ANSWER * max(1, n_tokens // 400)
            pieces = [answer[i:i + 4] for i in range(0, len(answer), 4)]  # ~1 token each
            t0 = time.perf_counter()
            for piece in pieces:
                await app.handle_event(TextDelta(text=piece))
            await app.handle_event(AssistantText(text=answer))  # ends the stream: all rendered
            await pilot.pause()
            stream_s = time.perf_counter() - t0
            n_tokens = len(pieces)
            n_cards = int(sys.argv[2]) if len(sys.argv) > 2 else 200
            t0 = time.perf_counter()
            for i in range(n_cards):
                cid = f"c{i}"
                await app.handle_event(ToolCallEvent(call_id=cid, name="patch",
                                                     arguments={"path": "x.py", "old_str": "b = 2",
                                                                "new_str": "b = 3"}))
                await app.handle_event(ToolResultEvent(call_id=cid, name="patch", ok=True,
                                                       output="patched x.py", diff=DIFF))
            await pilot.pause()
            cards_s = time.perf_counter() - t0
    print(f"start-up to ready session (scripted server): {ready * 1000:.0f} ms")
    print(f"streamed answer: {n_tokens} deltas of ~1 token in {stream_s:.2f} s = "
          f"{n_tokens / stream_s:.0f} tokens/s (markdown with code, list, paragraphs)")
    print(f"tool cards with diffs: {n_cards} in {cards_s:.2f} s = {n_cards / cards_s:.0f} cards/s")


if __name__ == "__main__":
    asyncio.run(bench())
