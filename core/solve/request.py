"""Whether a message asks a question (answered in the tool loop) rather than for a change.

The router's "read" category is also its fallback for messages with no known action word, such
as a bug report in a user's own words ("the calculator gives the wrong answers"); those belong
on the solve path. A question is recognised by its form, not by topic words: a question mark at
the end of a sentence, or a sentence that opens with an interrogative or a request to explain.
"""

from __future__ import annotations

import re

QUESTION_OPENERS = re.compile(
    r"^\s*(?:what|why|how|where|which|who|whom|whose|when|is|are|was|were|does|do|did|can|"
    r"could|would|should|will|has|have|explain|describe|summari[sz]e|show\s+me|list|tell\s+me|"
    r"find|search|count|locate|walk\s+me\s+through|trace|help\s+me\s+understand)\b",
    re.IGNORECASE)
# the router's categories whose messages may ask for a change; run, search, web and respond
# requests are carried out by the tool loop
CHANGE_CATEGORIES = ("write", "plan", "read", "code_intel")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def is_question(message: str) -> bool:
    """True when the message's first or last sentence is a question or a request to explain."""
    sentences = [s.strip() for s in SENTENCE_END.split(message.strip()) if s.strip()]
    if not sentences:
        return False
    if sentences[-1].endswith("?") or sentences[0].endswith("?"):
        return True
    return bool(QUESTION_OPENERS.match(sentences[0]))


def wants_change(category: str, message: str, asks_for_files: bool = False) -> bool:
    """Whether a message routed to ``category`` goes to the solve path: it may ask for a change
    and is not a question (a question whose answer goes into a file is an edit of that file).

    The router's keyword vote is not the judge: "Write report.py's render_table so it produces
    the output in FORMAT.md" ties between code_intel and read, and is still a change.
    """
    return category in CHANGE_CATEGORIES and (not is_question(message) or asks_for_files)
