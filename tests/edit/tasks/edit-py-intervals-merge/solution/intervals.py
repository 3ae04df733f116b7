"""Merging and querying closed integer intervals [start, end]."""

from __future__ import annotations


def normalize(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for start, end in intervals:
        if end < start:
            start, end = end, start
        out.append((start, end))
    return sorted(out)


def merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or touching intervals: (1, 3) and (3, 5) become (1, 5)."""
    merged: list[tuple[int, int]] = []
    for start, end in normalize(intervals):
        if merged and start <= merged[-1][1]:
            last_start, last_end = merged[-1]
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def total_length(intervals: list[tuple[int, int]]) -> int:
    return sum(end - start for start, end in merge(intervals))


def contains(intervals: list[tuple[int, int]], point: int) -> bool:
    return any(start <= point <= end for start, end in merge(intervals))
