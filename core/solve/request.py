"""Whether a message asks for a change (the solve path) or a question, a command to run or a
search (the tool loop).

The router's keyword vote is not the judge. Its "read" category is also its fallback for
messages with no known action word, such as a bug report in a user's own words ("the calculator
gives the wrong answers"), and a report that mentions running something ("when I run
backup.sh it stops with ...") votes for "run". The message's form decides instead, sentence by
sentence:

- a **question** is a sentence that ends with a question mark or opens with an interrogative or
  a request to explain ("Which setting controls the retry limit?", "explain how the cache is
  invalidated");
- a **request for a change** is a change verb the sentence asks for — as its first word ("fix
  it", "please handle spaces"), after a request opener ("can you fix the backup script?",
  "I'd like it to round up"), joined by "and" to a search or an explanation ("find every use
  of x and rename it"), asked as a possibility or a suggestion ("is it possible to make it
  return 0.0?", "how about renaming it?") or as "find the bug in ..." — whatever else the
  sentence says;
- a **defect report** is a statement (not a question) that says the code misbehaves: a symptom
  word ("crashes", "is wrong", "ignores", "instead of", "should be", a ``...Error``) or an example
  call and what it gave ("apply_discount(200, 10) returns 0"); a why-question beside a
  statement of what the code should do ("Why does average([]) crash? It should return 0.0.")
  reports one too.

A message is a question when it holds a question and no request or defect report (a request to
write the answer into a file does not count). A message the router sent to a run, search or
respond route goes to the solve path only on a defect report, or (not a run) an asked-for
change: "rename every .txt file to .md" and "run the tests" stay commands.
"""

from __future__ import annotations

import re

# an interrogative, or a request for information, opening a sentence ("where is the retry limit
# configured", "explain how ..."); "when I run it ..." and "is" openers ask only with a "?"
QUESTION_OPENERS = re.compile(
    r"^\s*(?:what|why|how|where|which|who|whom|whose|explain|describe|summari[sz]e|show\s+me|"
    r"list|tell\s+me|find|search|count|locate|walk\s+me\s+through|trace|"
    r"help\s+me\s+understand)\b",
    re.IGNORECASE)
# a question that asks for information; a yes/no request ("can you check?") may ask for work
WH_QUESTION = re.compile(r"^\s*(?:what|why|how|where|which|who|whom|whose)\b|"
                         r"\b(?:what|which|where|how\s+(?:many|much|does|do|is))\b[^.!]*\?$",
                         re.IGNORECASE)
# the one change a question asks for: its answer written into a file
ANSWER_INTO_FILE = re.compile(r"^\s*(?:\w+\s+){0,2}?(?:writ\w*|put|sav\w*|record|stor\w*)\b"
                              r"[^.]*\b(?:in|into|to)\s+`?[\w./-]+\.\w+", re.IGNORECASE)
# the router's categories whose messages may ask for a change; run, search, web and respond
# requests are carried out by the tool loop unless the message reports a defect
CHANGE_CATEGORIES = ("write", "plan", "read", "code_intel")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+|\s+[—–]\s+|\s+-\s+|;\s+")
CHANGE_VERB = (r"(?:fix\w*|fxi|repair\w*|correct\w*|chang\w*|updat\w*|add|adding|mak(?:e|ing)|"
               r"handl\w*|implement\w*|support|remov\w*|delet\w*|renam\w*|replac\w*|set|bump|"
               r"refactor\w*|rewrit\w*|writ(?:e|ing)|creat\w*|adjust\w*|patch\w*|resolv\w*|"
               r"sort\s+out|get\s+rid\s+of|stop|allow|let|prevent|ensure|restore|use|mov(?:e|ing)|"
               r"turn|switch|enabl\w*|disabl\w*|increas\w*|decreas\w*|rais(?:e|ing)|lower|"
               r"convert\w*)")
# "please fix it", "just make it ...", "then add ..." at the start of a sentence
IMPERATIVE = re.compile(rf"^\s*(?:(?:please|pls|just|then|and|also|so|now|kindly)\s+)*"
                        rf"{CHANGE_VERB}\b", re.IGNORECASE)
# "can you fix ...", "could someone please make ...", "I'd like it to ...", "we need to add ..."
REQUEST = re.compile(
    rf"\b(?:(?:can|could|would|will)\s+(?:you|we|someone|somebody)|please|pls|"
    rf"(?:is|would)\s+it\s+(?:be\s+)?possible\s+to|"
    rf"i\s*(?:'d|would)\s+like|i\s+(?:need|want)|we\s+(?:need|want)|need\s+to|needs\s+to|"
    rf"has\s+to|have\s+to|let'?s|you\s+should|it\s+should|must)\b(?:\s+\w+){{0,3}}?\s+"
    rf"{CHANGE_VERB}\b"
    # a change verb joined to a search or a question: "find every use of x and rename it",
    # "search and replace", "explain the parser and fix it" (the base form: "what opens the
    # file and changes its mode?" describes code)
    r"|\band\s+(?:then\s+)?(?:fix|repair|correct|change|update|add|make|handle|implement|"
    r"support|remove|delete|rename|replace|set|bump|refactor|rewrite|write|create|adjust|patch|"
    r"resolve)\b"
    # a thing wanted in the code: "I want a `clean` rule in the Makefile", "we need a
    # --reverse flag for sortlines.py", "I'd like a retry option in the client"
    r"|\b(?:(?:i|we)\s+(?:need|want|would\s+like)|i\s*'d\s+like)\s+(?:a|an|another|some|one)"
    r"\s+[^.?!]{1,60}?\b(?:in|into|to|for|on)\s+(?:the\s+|this\s+|our\s+|my\s+)?"
    r"(?:`[^`]+`|[\w/-]+\.\w+\b|makefile|readme|project|repo\w*|code\w*|script|module|"
    r"class|function|api|cli|config\w*|app\w*|client|server|library|package)"
    # a suggestion: "how about renaming it", "what about returning 0.0 instead"
    r"|^\s*(?:how|what)\s+about\s+\w+ing\b"
    r"|\b(?:find|locate|track\s+down|hunt\s+down|spot|look\s+for|search\s+for)\s+(?:and\s+fix\s+)?"
    r"(?:the|this|that|a|what'?s?\s+causing\s+the)\s+(?:bug|problem|issue|cause|error|mistake)",
    re.IGNORECASE)
SYMPTOM = re.compile(
    r"\b(?:wrong\w*|bug\w*|buggy|broken|break\w*|crash\w*|fail\w*|error\w*|exception\w*|raises?|"
    r"raised|throws?|threw|traceback|incorrect\w*|instead\s+of|should(?:n't|\s+not)?\s+(?:be|"
    r"return|give|raise|print|count|say|show|include|work|produce|match|stay|keep|start|end|"
    r"only|never|always|not|also)|does(?:n't|\s+not)|is(?:n't|\s+not)|are(?:n't|\s+not)|"
    r"do(?:n't|\s+not)|won't|can't|cannot|never|no\s+longer|ignor\w*|drop\w*|los(?:e|es|t|ing)|"
    r"skip\w*|miss\w*|swallow\w*|hang\w*|off\s+by\s+one|negative|garbled|mangl\w*|"
    r"unbound|undefined|nan|not\s+working|stopped\s+working|but\s+(?:it|they|that|this|"
    r"the|we|i))\b|,\s*but\b|\b\w+(?:Error|Exception)\b|[\w.]+\([^()]*\)\s*(?:returns?|gives?|yields?|"
    r"prints?|produces?|outputs?|is|equals|==|->|→)\s",
    re.IGNORECASE)


# what the code should do, stated: "it should return 0.0", "the result must be sorted"
EXPECTS = re.compile(r"\b(?:should|must|ought\s+to|(?:is|are)\s+(?:supposed|expected)\s+to)\s+"
                     r"(?:not\s+)?\w+", re.IGNORECASE)


def _sentences(message: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(message.strip()) if s and s.strip()]


def _asks(sentence: str) -> bool:
    return sentence.endswith("?") or bool(QUESTION_OPENERS.match(sentence))


def asks_for_change(message: str, *, answer_file: bool = True) -> bool:
    """A sentence that asks for a change: an imperative change verb, a change verb after a
    request opener, or "find the bug in ...". ``answer_file=False`` leaves out a request to
    write an answer into a file ("... Write its name into answer.txt")."""
    return any((IMPERATIVE.match(s) or REQUEST.search(s))
               and (answer_file or not ANSWER_INTO_FILE.match(s)) for s in _sentences(message))


def reports_defect(message: str) -> bool:
    """A statement (not a question) saying the code misbehaves; a message that asks what,
    which, where or how many is asking for information about it, not reporting it — unless a
    statement says what the code should do instead ("Why does average([]) crash? It should
    return 0.0.")."""
    sentences = _sentences(message)
    asked = any(WH_QUESTION.search(s) for s in sentences if _asks(s))
    expects = any(not _asks(s) and EXPECTS.search(s) for s in sentences)
    if asked and not expects:
        return False
    return expects and asked or any(not _asks(s) and SYMPTOM.search(s) for s in sentences)


def is_question(message: str) -> bool:
    """True when the message asks a question or for an explanation, and asks for no change
    and reports no defect ("Can you fix the backup script?" is a request)."""
    sentences = _sentences(message)
    if not sentences or not any(_asks(s) for s in sentences):
        return False
    return not asks_for_change(message, answer_file=False) and not reports_defect(message)


def wants_change(category: str, message: str, asks_for_files: bool = False) -> bool:
    """Whether a message routed to ``category`` goes to the solve path: it may ask for a change
    and is not a question (a question whose answer goes into a file is an edit of that file).

    The router's keyword vote is not the judge: "Write report.py's render_table so it produces
    the output in FORMAT.md" ties between code_intel and read, and is still a change; "when I
    run the tests, slugify gives 'a---b' instead of 'a-b'" votes for run and reports a defect.
    """
    if category in CHANGE_CATEGORIES:
        return not is_question(message) or asks_for_files
    if category in ("run", "search", "respond"):
        return reports_defect(message) or (category != "run" and asks_for_change(message))
    return False
