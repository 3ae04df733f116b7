"""A stand-in for a peer agent (Aider ...): plain text out, no smallcode events, its own flags.

usage: fake_peer.py [--url BASE_URL] [--model NAME] [--ws PATH] --message INSTRUCTION FILE...

It prints what it was given (argv, cwd) as one JSON line, then, with ``--url``, asks the model
once (streamed, as Aider does) and writes the reply over ``calc.py`` when that is among the files
it was handed, like a whole-file edit. FAKE_PEER_EXIT makes it exit with that code afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--model", default="")
    parser.add_argument("--ws", default="")
    parser.add_argument("--message", required=True)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    print(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}), flush=True)
    print(f"Added {len(args.files)} files to the chat.")
    if args.url:
        import httpx

        text = ""
        body = {"model": args.model, "stream": True, "temperature": 0,
                "messages": [{"role": "user", "content": args.message}]}
        with httpx.stream("POST", args.url + "/chat/completions", json=body, timeout=30) as resp:
            for line in resp.iter_lines():
                if line.startswith("data:") and line.strip() != "data: [DONE]":
                    chunk = json.loads(line[5:])
                    for choice in chunk.get("choices") or []:
                        text += choice.get("delta", {}).get("content") or ""
        if "calc.py" in args.files:
            Path("calc.py").write_text(text)
            print("Applied edit to calc.py")
    return int(os.environ.get("FAKE_PEER_EXIT", "0"))


if __name__ == "__main__":
    sys.exit(main())
