"""Semantic merge: the last resort when ``old_str`` no longer matches because the file moved.

A micro-task asks the model to apply the intended change (old → new) to the *current* text of a
region around the closest match (or the whole file when it is small). The answer is accepted only
if it keeps the region's surrounding context, has a plausible length and contains the new lines;
everything outside the region is kept byte-identical, so a file can never be truncated. Any
failure (timeout, model error, an implausible answer) returns None; this function never raises.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import OrderedDict
from difflib import get_close_matches
from typing import Any

from .patch import _content, _dominant_eol, _split_keepends, closest_region

WHOLE_FILE_MAX_LINES = 150  # at most this many lines: merge the whole file
CONTEXT_LINES = 12  # lines kept around the closest region
MIN_LOCATE_SIMILARITY = 0.45  # below this the region cannot be located with any confidence
CACHE_SIZE = 64

_cache: OrderedDict[str, str] = OrderedDict()

SYSTEM = (
    "You apply a code change to the current version of a file region. Reply with the "
    "complete updated region in one fenced code block and nothing else."
)

_FENCE = re.compile(r"```[^\n`]*\n(?P<body>.*?)(?:\n```|```|\Z)", re.DOTALL)


def _key(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _extract_code(content: str) -> str | None:
    blocks = [m.group("body") for m in _FENCE.finditer(content)]
    if blocks:
        return max(blocks, key=len)
    stripped = content.strip()
    return stripped or None


def _nonblank(lines: list[str]) -> list[str]:
    return [ln.strip() for ln in lines if ln.strip()]


def _plausible(
    region: list[str], merged: list[str], old: str, new: str, before: list[str], after: list[str]
) -> bool:
    """Keep-the-context, length and content checks on a merged region (lines without endings)."""
    got = _nonblank(merged)
    if before and got[: len(before)] != before:
        return False
    if after and got[len(got) - len(after) :] != after:
        return False
    old_nb, new_nb = _nonblank(old.split("\n")), _nonblank(new.split("\n"))
    expected = len(_nonblank(region)) - len(old_nb) + len(new_nb)
    slack = max(3, len(old_nb) + len(new_nb) // 2, expected // 10)
    if not expected - slack <= len(got) <= expected + slack:
        return False
    fresh = [ln for ln in new_nb if ln not in set(old_nb)]
    if fresh:
        # the new lines must be there, though names may have been adapted to the current code
        present = sum(1 for ln in fresh if ln in got or get_close_matches(ln, got, 1, 0.6))
        if present * 2 < len(fresh):
            return False
    return got != _nonblank(region)


async def semantic_merge(
    model: Any,
    text: str,
    old: str,
    new: str,
    *,
    timeout: float = 60.0,
    path: str = "",
    whole_file_max_lines: int = WHOLE_FILE_MAX_LINES,
) -> str | None:
    """Merge the change ``old → new`` into ``text`` with one model call; the merged full text,
    or None when the merge cannot be done safely. ``model`` is a ChatModel."""
    try:
        return await asyncio.wait_for(
            _merge(model, text, old, new, path, whole_file_max_lines), timeout
        )
    except Exception:  # noqa: BLE001 - a micro-task must never break the loop
        return None


async def _merge(
    model: Any, text: str, old: str, new: str, path: str, whole_file_max_lines: int
) -> str | None:
    raw = _split_keepends(text)
    if not raw or not old.strip():
        return None
    match = closest_region(text, old)
    located = match is not None and match.similarity >= MIN_LOCATE_SIMILARITY
    if len(raw) <= whole_file_max_lines:
        a, b = 0, len(raw) - 1
    elif located:
        assert match is not None
        a = max(0, match.start_line - 1 - CONTEXT_LINES)
        b = min(len(raw) - 1, match.end_line - 1 + CONTEXT_LINES)
    else:
        return None  # a large file and no idea where the change goes: refuse
    region_lines = [_content(x) for x in raw[a : b + 1]]
    # context that must survive: the region's first and last (up to 3) lines outside the match
    before: list[str] = []
    after: list[str] = []
    if located:
        assert match is not None
        before = _nonblank([_content(x) for x in raw[a : match.start_line - 1]])[:3]
        after = _nonblank([_content(x) for x in raw[match.end_line : b + 1]])[-3:]
    region_text = "\n".join(region_lines)
    cache_key = _key(getattr(model, "model_name", ""), region_text, old, new)
    merged_text = _cache.get(cache_key)
    if merged_text is None:
        where = f" of {path}" if path else ""
        prompt = (
            f"Current code (lines {a + 1}-{b + 1}{where}):\n```\n{region_text}\n```\n\n"
            f"A change was written against an older version of this code. It replaced:\n"
            f"```\n{old.rstrip()}\n```\nwith:\n```\n{new.rstrip()}\n```\n\n"
            f"Apply the same change to the current code. Keep every other line exactly as it "
            f"is. Reply with all {b - a + 1} lines of the updated code in one ``` block."
        )
        max_tokens = min(8192, max(256, len(region_text) // 2 + len(new) // 2 + 128))
        reply = await model.chat(
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
            max_tokens=max_tokens,
            temperature=0.0,
        )
        if reply.finish_reason == "length":
            return None  # cut off: never splice a truncated region
        code = _extract_code(reply.content or "")
        if code is None:
            return None
        merged_text = code
    merged_lines = merged_text.replace("\r\n", "\n").rstrip("\n").split("\n")
    if not _plausible(region_lines, merged_lines, old, new, before, after):
        return None
    eol = _dominant_eol(text)
    tail = raw[b][len(_content(raw[b])) :]
    replacement = eol.join(merged_lines) + tail
    prefix, suffix = "".join(raw[:a]), "".join(raw[b + 1 :])
    result = prefix + replacement + suffix
    if not (result.startswith(prefix) and result.endswith(suffix)):
        return None
    _cache[cache_key] = merged_text
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return result
