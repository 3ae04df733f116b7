"""Benchmark: llama.cpp's n-gram speculative decoding on the embedded server, on and off.

Starts the installed embedded model (1.5B, else 0.5B) twice with ``smallcode model serve``'s
flags, once per ``--spec-type`` choice, and asks each the same requests: a whole-file edit (the
file comes back almost as it was: the drafts come from the prompt) and new code from a short
specification (nothing to copy). Each request runs alone and then as two at once (two slots).
Prints completion tokens per second and the drafts accepted. The sampled replies differ in
length between settings, so the figure to compare is tokens per second, not wall time.

    python tests/perf/bench_speculative.py [--kinds none,ngram-mod,ngram-simple] [--size 1.5b]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from smallcode.core.model.embedded import EmbeddedServer, installed_model, llama_server_path

ROOT = Path(__file__).resolve().parents[2]
SPEC = """\
Write `parse_size(text)` in sizes.py: it turns a size such as "512", "10k", "1.5M" or "2 GiB"
into a number of bytes (int). Units: k/K = 1000, M = 1000**2, G = 1000**3, and KiB, MiB, GiB
are powers of 1024; no unit means bytes; spaces between number and unit are allowed. Anything
else raises ValueError naming the text.
"""


def requests() -> dict[str, str]:
    source = (ROOT / "core" / "solve" / "checker.py").read_text()
    return {
        "whole-file edit": f"checker.py\n```python\n{source}\n```\n\nRename the class "
                           "LocalChecker to InProcessChecker. Reply with the COMPLETE new "
                           "content of checker.py in one fenced block.",
        "new code": f"sizes.py\n```python\ndef parse_size(text):\n    pass\n```\n\n{SPEC}\n"
                    "Reply with the COMPLETE new content of sizes.py in one fenced block.",
    }


async def ask(client: httpx.AsyncClient, url: str, prompt: str, seed: int) -> dict:
    reply = await client.post(f"{url}/chat/completions", timeout=900, json={
        "messages": [{"role": "user", "content": prompt}], "temperature": 0.7, "seed": seed,
        "max_tokens": 1500, "cache_prompt": False})
    reply.raise_for_status()
    return reply.json()


async def measure(url: str) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        for name, prompt in requests().items():
            for together in (1, 2):
                start = time.monotonic()
                bodies = await asyncio.gather(*(ask(client, url, prompt, seed)
                                                for seed in range(1, together + 1)))
                wall = time.monotonic() - start
                tokens = sum(b["usage"]["completion_tokens"] for b in bodies)
                drafted = sum(b.get("timings", {}).get("draft_n", 0) or 0 for b in bodies)
                accepted = sum(b.get("timings", {}).get("draft_n_accepted", 0) or 0
                               for b in bodies)
                print(f"  {name:<16} x{together}: {tokens:5d} tokens in {wall:6.1f} s = "
                      f"{tokens / wall:5.1f} tok/s; drafts accepted {accepted}/{drafted}",
                      flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kinds", default="none,ngram-mod")
    parser.add_argument("--size", default=None)
    args = parser.parse_args()
    model = installed_model(args.size or "1.5b") or installed_model("0.5b")
    if model is None:
        print("no embedded model installed (smallcode model install)", file=sys.stderr)
        return 1
    print(f"{model.name}, llama-server {llama_server_path()}")
    for kind in args.kinds.split(","):
        with EmbeddedServer(model, ctx=32768, parallel=2, speculative=kind) as server:
            print(f"--spec-type {kind}: {' '.join(server.command(server.port or 0)[3:])}")
            asyncio.run(measure(server.base_url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
