"""The zero-token vagueness check: is this message too vague to act on without guessing?

"fix it", "make it better", "do that" with nothing to resolve "it" against get a note asking the
model for one clarifying question. Replies to an assistant question, affirmations, option picks
and messages that name a path, a symbol, an error or quoted text are never flagged.
"""

from __future__ import annotations

import re

VAGUE_NOTE = ("The request is vague. Ask ONE short clarifying question instead of guessing "
              "(answer in plain text, or in the finish summary).")

_AFFIRMATION = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|y|no|nope|ok|okay|sure|go ahead|do it|please do|proceed|continue"
    r"|sounds good|lgtm|option\s*\d+|#?\d+|(?:the )?(?:first|second|third|last|other) (?:one"
    r"|option))\W*$", re.IGNORECASE)
_SPECIFIC = re.compile(
    r"(?<![\w-])[\w-]+/[\w./-]+|(?<![\w-])[\w-]+\.(?:py|js|ts|tsx|jsx|json|toml|ya?ml|md|txt|go|rs|java|c|h|cpp|rb"
    r"|sh|html|css|sql|cfg|ini)\b"  # a path
    r"|\b[a-z]+_[a-z0-9_]+\b|\b[a-z]+[A-Z]\w*\b|\b[A-Z][a-z]+[A-Z]\w*\b|\b\w+\(\)"  # a symbol
    r"|`[^`]+`|\"[^\"]{3,}\"|'[^']{3,}'"  # quoted text
    r"|\b\w*(?:Error|Exception)\b|\bline \d+|\d{2,}",  # an error, a line, a number
)
_VAGUE = re.compile(
    r"^\W*(?:(?:can|could|would) you |please |pls |just |now )*"
    r"(?:fix|repair|improve|optimi[sz]e|clean(?: it| this| that)? up|refactor|update|change"
    r"|redo|rewrite|make|do|handle|sort out|deal with|look into|help(?: me)?(?: with)?|finish"
    r"|complete|implement|correct)"
    r"(?: (?:it|this|that|them|these|those|everything|things|stuff|the (?:thing|code|bug|issue"
    r"|problem|error|stuff|rest)|the same|what i said|what we discussed|as discussed))?"
    r"(?: (?:up|better|work|working|nicer|cleaner|faster|good|right|properly|again|too|now"
    r"|please|for me|somehow|like before))*\W*$"
    r"|^\W*(?:it|this|that)(?:'s| is| does(?:n'?t| not)) (?:broken|wrong|bad|not working"
    r"|work)\W*$|^\W*(?:it|this|that) (?:doesn'?t|does not|won'?t) work\W*$"
    r"|^\W*(?:same|again|the usual|you know what to do)\W*$"
    r"|^\W*help\W*$",
    re.IGNORECASE,
)


def is_vague(message: str, has_context: bool, *, assistant_asked: bool = False) -> bool:
    """True when ``message`` cannot be acted on without guessing.

    ``has_context``: earlier conversation or mentioned files can resolve "it". ``assistant_asked``:
    the previous assistant message was a question, so this message is its answer.
    """
    text = message.strip()
    if not text or has_context or assistant_asked:
        return False
    if len(text.split()) > 8:
        return False
    if _AFFIRMATION.match(text) or _SPECIFIC.search(text):
        return False
    return bool(_VAGUE.match(text))


__all__ = ["VAGUE_NOTE", "is_vague"]
