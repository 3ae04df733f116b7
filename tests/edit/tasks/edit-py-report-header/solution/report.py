"""Sum a CSV export by category."""

import csv
import io
from collections import defaultdict


def read_rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return [dict(zip(header, row)) for row in reader if row]


def totals(text: str) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for row in read_rows(text):
        out[row["category"]] += float(row["amount"])
    return dict(out)


def render(totals_by_category: dict[str, float]) -> str:
    lines = [f"{cat}: {amount:.2f}" for cat, amount in sorted(totals_by_category.items())]
    return "\n".join(lines)
