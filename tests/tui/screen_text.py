"""Plain text of a Textual SVG screenshot, row by row (for snapshot-style assertions)."""

from __future__ import annotations

import html
import re

_TEXT_RE = re.compile(r'<text[^>]*\bx="([\d.]+)"[^>]*\by="([\d.]+)"[^>]*>(.*?)</text>', re.DOTALL)


def svg_rows(svg: str) -> list[str]:
    """Rows of the screen: the <text> runs of the SVG grouped by their y, ordered by x."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, body in _TEXT_RE.findall(svg):
        text = html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " ")
        rows.setdefault(float(y), []).append((float(x), text))
    return ["".join(t for _, t in sorted(runs)) for _, runs in sorted(rows.items())]


def svg_text(svg: str) -> str:
    return "\n".join(r.rstrip() for r in svg_rows(svg))
