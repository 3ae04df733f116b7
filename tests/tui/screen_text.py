"""Plain text of a Textual SVG screenshot, row by row (for snapshot-style assertions).

Rich's SVG export places each text run at ``x = column * 12.2`` on a line clipped by
``line-N``; the rows are rebuilt on a character grid, so spacing and indentation survive.
"""

from __future__ import annotations

import html
import re

CHAR_WIDTH = 0.61 * 20  # rich's export_svg: char_height 20, font_aspect_ratio 0.61
_TEXT_RE = re.compile(r'<text[^>]*\bx="([\d.]+)"[^>]*clip-path="url\(#[\w-]*-line-(\d+)\)"[^>]*>'
                      r"(.*?)</text>", re.DOTALL)


def svg_rows(svg: str) -> list[str]:
    """Rows of the screen, each rebuilt from its text runs at their columns."""
    rows: dict[int, list[str]] = {}
    for x, line, body in _TEXT_RE.findall(svg):
        text = html.unescape(re.sub(r"<[^>]+>", "", body)).replace("\xa0", " ")
        row = rows.setdefault(int(line), [])
        col = round(float(x) / CHAR_WIDTH)
        if len(row) < col + len(text):
            row.extend(" " * (col + len(text) - len(row)))
        row[col:col + len(text)] = list(text)
    height = max(rows) + 1 if rows else 0
    return ["".join(rows.get(i, [])) for i in range(height)]


def svg_text(svg: str) -> str:
    return "\n".join(r.rstrip() for r in svg_rows(svg))
