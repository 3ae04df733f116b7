"""Word frequencies of a text."""

import re
from collections import Counter

WORD = re.compile(r"[A-Za-z']+")


def words(text: str) -> list[str]:
    return [w.strip("'") for w in WORD.findall(text) if w.strip("'")]


def frequencies(text: str) -> Counter:
    """Case-insensitive word counts."""
    return Counter(words(text))


def top(text: str, n: int = 3) -> list[tuple[str, int]]:
    return sorted(frequencies(text).items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def vocabulary_size(text: str) -> int:
    """How many different words the text uses (case-insensitive)."""
    return len(frequencies(text))
