"""The deterministic tool router: a weighted regex vote that picks one category per user message.

The winning category decides which tool schemas go into the prompt (``respond`` sends none). Every
decision is pure code — no model call, no I/O — and takes a few tens of microseconds. The same
module holds the one table of routes (:data:`ROUTE_TABLE`), the widening rules used after the
first tool call, and the two-stage routing used on small context windows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from smallcode.core.tools.file_suffix import CHANGE_SUFFIX_RE
from smallcode.core.tools.module_move import MOVE_RE
from smallcode.core.tools.refactor import RENAME_RE
from smallcode.core.tools.registry import CATEGORIES, ToolRegistry

# Tie-break order: ambiguous, action-oriented messages default to doing something.
PRIORITY: tuple[str, ...] = (
    "write", "run", "code_intel", "search", "plan", "read", "web", "respond",
)

# THE table of routes: category -> the built-in tools offered for it. Tools declare their own
# categories when they register (plugins and MCP tools too); tests assert that every built-in tool
# in the registry declares exactly the categories this table gives it. ``respond`` offers nothing.
ROUTE_TABLE: dict[str, tuple[str, ...]] = {
    "read": ("read_file", "find_files", "finish", "find_and_read", "memory_list"),
    "write": ("read_file", "write_file", "patch", "finish", "edit_and_verify",
              "memory_remember", "memory_forget", "rename_symbol", "move_module", "change_suffix"),
    "search": ("search", "finish", "graph_search", "explain_symbol", "find_references",
               "memory_search"),
    "run": ("bash", "finish", "create_and_run", "edit_and_verify"),
    "plan": ("read_file", "write_file", "patch", "find_files", "search", "bash", "finish",
             "read_and_patch", "rename_symbol", "move_module", "change_suffix"),
    "code_intel": ("read_file", "finish", "graph_search", "explain_symbol", "find_references"),
    "web": ("finish", "web_fetch", "web_search"),
    "respond": (),
}

# Tools of a category that are offered only when the user's message asks for them: a rename
# tool costs schema tokens on every write call but helps only when something is being renamed.
TRIGGERED_TOOLS: dict[str, re.Pattern[str]] = {
    "rename_symbol": RENAME_RE,  # a name to a name, not files
    "move_module": MOVE_RE,  # a Python module file to a new name or place
    "change_suffix": CHANGE_SUFFIX_RE,  # the files of one kind in a folder to another extension
}

# Offered with a category whenever they are registered, whatever they declare.
ALWAYS_OFFERED: dict[str, tuple[str, ...]] = {
    "write": ("finish",), "run": ("finish",), "plan": ("finish",),
}

# What a category may grow into after the first tool call of a turn.
WIDEN_TABLE: dict[str, tuple[str, ...]] = {
    "read": ("read", "search", "write"),
    "write": ("write", "read", "run", "search"),
    "search": ("search", "read", "code_intel"),
    "run": ("run", "read", "write"),
    "plan": ("plan", "read", "write", "run", "search", "code_intel"),
    "code_intel": ("code_intel", "search", "read"),
    "web": ("web", "read"),
    "respond": ("respond",),
}

def table_categories(tool_name: str) -> frozenset[str]:
    """The categories :data:`ROUTE_TABLE` gives a built-in tool (empty when it is not listed)."""
    return frozenset(c for c, names in ROUTE_TABLE.items() if tool_name in names)


NEAR_TIE_MARGIN = 1.0  # scores within this of the top are broken by PRIORITY
SHORT_MESSAGE_WORDS = 3
TWO_STAGE_WINDOW = 16_384

CATEGORY_DESCRIPTIONS: dict[str, str] = {
    "read": "look at files or the project layout",
    "write": "change, fix, add or create code or files",
    "search": "find where something is used or mentioned across files",
    "run": "run a command: tests, build, install, git",
    "plan": "a larger multi-step change across several files",
    "code_intel": "understand how code works: symbols, callers, flow",
    "web": "look something up on the web or fetch a URL",
    "respond": "just answer in words; no files or commands needed",
}


@dataclass(frozen=True)
class RouteState:
    """What the router remembers between the messages of a conversation."""

    previous: str | None = None  # category of the previous user message
    assistant_asked: bool = False  # the last assistant message ended with a question


@dataclass(frozen=True)
class RouteDecision:
    """The router's answer: one category, why, and the tool names to offer."""

    category: str
    scores: dict[str, float]
    reason: str
    tool_names: list[str]
    two_stage: bool = False
    categories: tuple[str, ...] = ()  # every category whose tools are offered (after widening)
    widened: bool = False
    triggered: tuple[str, ...] = ()  # TRIGGERED_TOOLS the message asked for

    def __post_init__(self) -> None:
        if not self.categories:
            object.__setattr__(self, "categories", (self.category,))

    @property
    def state(self) -> RouteState:
        """The :class:`RouteState` to pass with the next user message."""
        return RouteState(previous=self.category)


# --- signals ----------------------------------------------------------------------------------

_EXT = (r"py|pyi|js|jsx|ts|tsx|json|toml|ya?ml|md|rst|txt|cfg|ini|go|rs|java|kt|c|h|cc|cpp|hpp"
        r"|rb|php|sh|bash|html?|css|scss|sql|lock|xml|csv|env|example|mod|sum|proto|vue|svelte")
PATH_RE = re.compile(
    rf"(?:^|[\s`'\"(@])(?:\.{{0,2}}/)?[\w.-]+(?:/[\w.-]+)*\.(?:{_EXT})\b|"
    r"\b(?:src|lib|app|tests?|docs|cmd|pkg|internal|scripts)/[\w./-]*",
    re.IGNORECASE,
)

# (category, weight, pattern). Patterns of one (category, weight) are merged into one regex.
_SIGNALS: list[tuple[str, float, str]] = [
    # read ----------------------------------------------------------------------------------
    ("read", 2, (r"\b(?:read|re?ad|open|show|shwo|view|display|print|cat|see|look at|check out"
                r"|contents? of|what'?s in(?:side)?|whats in(?:side)?|what does .{1,40} contain"
                r"|tell me what'?s in|go through|review)\b")),
    ("read", 2, r"\b(?:summari[sz]e|summary of|overview of|tl;?dr|lines? \d+)"),
    ("read", 2, (r"\b(?:list (?:the |all )?(?:files|folders|directories)(?! that| which)"
                r"|what files|project (?:structure|layout)|directory (?:structure|tree)|ls)\b")),
    ("read", 1, r"\b(?:readme|changelog|license|dockerfile|makefile|config(?:uration)? file)\b"),
    ("read", 1, PATH_RE.pattern),
    # write ---------------------------------------------------------------------------------
    ("write", 3, r"\b(?:fi?x|fxi|fixe?s|repair|correct|resolve|patch)\b"),
    ("write", 3, (r"\b(?:change|chnage|chang|modify|edit|update|tweak|adjust|alter|rename|renmae"
                 r"|replace|remove|delete|drop|get rid of|strip out|comment out|uncomment"
                 r"|insert|append|bump|set|swap|increase|decrease|raise|lower|put|rework|upgrade"
                 r"|downgrade|enable|disable|wrap|extract|inline|introduce|allow|prevent"
                 r"|support|turn (?:on|off)|switch (?:on|off)|toggle)\b")),
    ("write", 3, r"\b(?:add|implement(?:s|ing)?|impl?ement|create|write|make)\b"),
    ("write", 4, r"\b(?:write|put|save|store)\b[^.?!]{0,60}\b(?:into|in|to)\s+`?[\w./-]+\.\w{1,5}\b"),
    ("write", 2, (r"\b(?:refactor|rewrite|clean ?up|simplify|restructure|convert|move|use .{1,30}"
                 r" instead of|handle)\b")),
    ("write", 2, (r"\b(?:should|must) (?:always|only|never|start|call|give|include|keep"
                 r"|use|count|stay)\b|\bgives up\b|\bcomes? back\b|\bkeep only\b"
                 r"|\breturns? (?:duplicates|nothing|none|null|undefined|an? (?:empty|wrong))\b"
                 r"|\b(?:shows|prints|displays) '|\bcounts? .{1,40} separately\b")),
    ("write", 2, (r"\bshould (?:return|be|raise|print|handle|accept|reject|work|not)\b"
                 r"|\b(?:returns?|gives?|prints?|raises?|shows?) \w+(?: \w+)? instead of\b"
                 r"|\b(?:chokes?|fails?|breaks?|hangs?) (?:on|when|with|if)\b")),
    ("write", 2, (r"\b(?:bug|typo|crash(?:es|ing)?|wrong (?:result|output|value|answer)"
                 r"|returns? the wrong|doesn'?t work|not working|broken"
                 r"|(?:key|type|value|attribute|index|name|zerodivision)error)\b")),
    ("write", -4, (r"\b(?:explain|describe|walk me through|understand|tell me about"
                  r"|what does|how does|how do|how is|how are|why do)\b")),
    ("write", -4, r"\b(?:don'?t change|do not change|without changing|no changes|read-only)\b"),
    ("write", -1, r"\b(?:run|execute|commit|push|install)\b"),
    ("write", -2, (r"\b(?:all|every) (?:the )?(?:files|modules)\b|\bacross\b|\beverywhere\b"
                  r"|\b(?:whole|entire) (?:\w+ )?(?:codebase|project|repo|app)\b")),
    ("write", -3, (r"\bwrite\b(?!.{0,40}\b(?:test|function|file|class|script|docstring|method"
                  r"|module|code)s?\b)")),
    # run -----------------------------------------------------------------------------------
    ("run", 4, (r"\b(?:run|rnu|runn|running|execute|exec|launch|start|invoke|kick off"
               r"|try (?:it|this|that)(?: out)?)\b|\bwhat does (?:pytest|the linter|mypy"
               r"|the build|git|ruff|npm) say\b")),
    ("run", 4, (r"\b(?:pytest|npm (?:test|install|run|ci)|yarn|pnpm|cargo (?:build|test|run)"
               r"|go (?:test|build|run)|make test|tox|jest|mvn|gradle|pip install|mypy|ruff"
               r"|flake8|eslint|black|timeit|benchmark)\b")),
    ("run", 4, (r"\bgit (?:status|log|diff|commit|push|pull|checkout|branch|stash|add|show)\b"
               r"|\b(?:commit|push) (?:these|this|my|the|it|to)\b|\b(?:last|latest) commit\b")),
    ("run", 3, (r"\b(?:install|compile|build|lint)\b|\bdoes (?:it|this|the code) (?:compile|build"
               r"|run|work)\b|\b(?:tests?|specs?) (?:pass|passing|green|still pass)"
               r"|\bare (?:the )?tests\b|\bdo (?:the )?tests\b|\boutput of\b")),
    ("run", 2, r"`[a-z][\w.-]* [^`]*`"),
    ("run", 7, (r"\b(?:rename|move|copy)\b[^.]{0,30}\b(?:files|folders|directories)\b"
               r"|\b(?:rename|move)\s+(?:every|all|each)\b[^.]{0,20}\.\w{1,5}\b"
               r"|\b(?:rename|move)\s+`?[\w./-]+\.\w{1,5}`?\s+(?:to|into)\s+`?[\w./-]+")),
    ("run", -3, r"\b(?:(?:how|where) (?:do|does|is|are)|explain|describe|\bplan\b|step)\b"),
    ("run", -2, r"\b(?:add|fix|write|implement|create|rename|update)\b"),
    ("run", -3, r"\b(?:rewrite|convert|migrate|switch|port)\b"),
    ("run", -3, r"\b(?:web|online|internet|website|https?://)"),
    # search --------------------------------------------------------------------------------
    ("search", 4, (r"\b(?:all|every) (?:the )?(?:uses|usages|occurrences|references|instances"
                  r"|places|callers|calls|files that|files which)\b"
                  r"|\b(?:who|what) calls\b|\bcallers of\b|\busages? of\b"
                  r"|\bwhere(?: is| are| do we| does|'s)\b.{1,40}\b(?:used|called|referenced"
                  r"|imported|set|configured|read|handled|caught)\b"
                  r"|\bwhich files?\b|\bwho uses\b|\b(?:list|show) (?:every|all) (?:files?"
                  r"|places?)\b|\b(?:anything|anyone|anywhere) (?:still )?(?:importing|using"
                  r"|calling|referencing)\b|\bwhat (?:imports|uses)\b")),
    ("search", 3, r"\b(?:find|search|serach|grep|look for|locate|hunt for)\b"),
    ("search", 2, (r"\b(?:todo|fixme|hardcoded|occurrences?|references? to|mentions?)\b"
                  r"|\bwhere (?:do we|are the|'?s)\b|\bwhere'?s\b|\bany .{1,20} in the (?:repo"
                  r"|codebase|code|project)\b")),
    ("search", -4, (r"\b(?:fi?x|fxi|online|web|internet|google|stackoverflow|github|docs? for"
                   r"|documentation)\b")),
    ("search", -2, r"\b(?:defined|definition|signature)\b"),
    # code_intel ----------------------------------------------------------------------------
    ("code_intel", 4, (r"\bhow (?:does|do|is|are)\b.{1,60}\b(?:work|works|handled|implemented"
                      r"|computed|loaded|applied|invalidated|interact|wired|validated?|handle"
                      r"|picked|chosen)\b|\bhow does\b")),
    ("code_intel", 4, (r"\b(?:walk me through|trace|call (?:path|graph)|data flow|architecture"
                      r"|dependencies of|depends on|inherit|subclass(?:es)?|signature of"
                      r"|where is .{1,40} defined|definition of|help me understand)\b")),
    ("code_intel", 3, (r"\bhow (?:is|are|does|do) (?:the |a |an |this |our )?(?!i\b|you\b|we\b)"
                      r"\w+(?: \w+)? (?:\w+ed|\w+en)\b|\b(?:purpose|role|responsibility) of\b"
                      r"|\bresponsible for\b|\bwhat is (?:the )?(?:purpose|point) of\b")),
    ("code_intel", 3, (r"\b(?:explain|describe)\b|\bwhat does\b.{1,60}\b(?:do|return|returns"
                      r"|look like)\b|\bwhat functions\b|\binteract\b")),
    ("code_intel", 1, (r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b|\b[A-Z][a-z0-9]+[A-Z]\w*\b|\b\w+\(\)"
                      r"|\b[A-Z][a-z]+\.[a-z_]+\b")),
    ("code_intel", -4, r"\b(?:explain|what) (?:what )?(?:is |are )?(?:a|an)\b|\bin python\b"),
    ("code_intel", -3, r"\b(?:fi?x|add|rename|change|run|find|search|list all|online|web)\b"),
    # plan ----------------------------------------------------------------------------------
    ("plan", 5, (r"\bstep[ -]by[ -]step\b|\b(?:make|create|write) a plan\b|\bplan (?:the|for|out)\b"
                r"|\blet'?s plan\b|\bbreak (?:it|this) down\b|\binto steps\b|\broadmap\b")),
    ("plan", 5, (r"\b(?:all|every|each) (?:the )?(?:files|modules|database calls|\w+ calls)\b"
                r"|\b(?:everywhere|across the (?:whole )?(?:codebase|project|repo|app)"
                r"|across (?:all|every)\b|throughout the|the (?:whole|entire) (?:\w+ )?(?:codebase|project|repo|app|cli"
                r"|test suite)|in all modules|every module|all modules|several modules"
                r"|multiple files|several files|whole repo|whole app|all imports)\b")),
    ("plan", 5, (r"\b(?:migrat(?:e|ion)|port (?:the|this)|overhaul|reorgani[sz]e|support for"
                r"|i18n|in addition to)\b")),
    ("plan", 3, r"\bfeature\b"),
    ("plan", 5, (r"\bthen\b.{1,80}\b(?:then|finally)\b|\b(?:first|1\.)\b.{1,120}"
                r"\b(?:then|2\.|and finally)\b|\bsplit .{1,30} into\b")),
    ("plan", -3, r"\b(?:explain|what does|how does)\b"),
    # web -----------------------------------------------------------------------------------
    ("web", 5, (r"https?://|\bwww\.|\b(?:on|from|search) the (?:web|internet)\b|\bonline\b"
               r"|\bgoogle\b|\bstack ?overflow\b|\bpypi\b|\bbrowse\b|\bwebsite\b")),
    ("web", 3, (r"\b(?:look up|lookup)\b|\b(?:latest|newest) (?:version|release)\b"
               r"|\brelease notes\b|\bofficial docs\b|\bgithub issue\b")),
    # respond -------------------------------------------------------------------------------
    ("respond", 4, (r"^\W*(?:thanks|thank you|thx|ty|cheers|great|cool|nice|awesome|perfect|hi"
                   r"|hello|hey|good (?:morning|afternoon|evening)|bye|goodbye|lol|hmm+|wow"
                   r"|got it)\b")),
    ("respond", 3, (r"\bwhat (?:is|are) (?:a|an)\b|\bwhat'?s the difference\b|\bdifference between\b"
                   r"|\bwho are you\b|\bwhat can you do\b|\bstand for\b|\bin python\b"
                   r"|\bshould i use\b|\bwhich is better\b|\bpros and cons\b|\bwhy do people\b"
                   r"|\bis (?:python|it|java|rust|go) (?:pass|faster|better|slower)\b")),
    ("respond", 2, r"\bwhat (?:is|are)\b|\bexplain what\b"),
    ("respond", -3, (r"\b(?:failing|fails|broken|read|show|error|bug|crash|this code|my code"
                    r"|the (?:repo|project|codebase)|in (?:the|this) (?:file|repo|project|code)"
                    r"|here)\b")),
    ("respond", -3, PATH_RE.pattern),
]

ACTION_WORD_RE = re.compile(
    r"\b(?:read|open|show|view|fix|fxi|add|change|edit|update|remove|delete|create|write|make"
    r"|implement|rename|run|rnu|execute|test|tests|build|install|commit|find|search|grep|explain"
    r"|list|look|check|summari[sz]e|refactor|move|replace|set|bump|debug|plan|fetch|cat)\b",
    re.IGNORECASE,
)

AFFIRMATION_RE = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|yup|y|ok|okay|k|sure|alright|right|fine|please|pls|go|proceed"
    r"|continue|do it|do that|go ahead|go for it|go on|sounds good|lgtm|agreed|correct"
    r"|exactly|that one|yes please|please do|let'?s do it|make it so|sure thing|again"
    r"|one more time|try again|retry|keep going|carry on)\b[\s,.!]*)+"
    r"(?:(?:and )?(?:do|go|start)\b.{0,30}|with (?:step|that|option)\b.{0,20})?\W*$"
    r"|^\W*(?:(?:ok|yes|sure)[\s,]+)?(?:option|choice|number|#)\s*\d+\W*$"
    r"|^\W*(?:(?:ok|yes|sure)[\s,]+)?(?:(?:do|use|take|pick|go with) )?(?:the )?(?:first"
    r"|second|third|fourth|last|other|1st|2nd|3rd) (?:one|option|choice|approach)\W*$"
    r"|^\W*\d\W*$",
    re.IGNORECASE,
)


def _compile_signals() -> list[tuple[str, float, re.Pattern[str], bool]]:
    grouped: dict[tuple[str, float], list[str]] = {}
    for cat, weight, pattern in _SIGNALS:
        grouped.setdefault((cat, weight), []).append(f"(?:{pattern})")
    out = []
    for (cat, weight), patterns in grouped.items():
        # Matching runs on the lower-cased message (much faster than IGNORECASE); only the
        # identifier signal (snake_case / CamelCase) needs the original case.
        case_sensitive = cat == "code_intel" and weight == 1
        out.append((cat, weight, re.compile("|".join(patterns)), case_sensitive))
    return out


_COMPILED = _compile_signals()
_WORD_RE = re.compile(r"\S+")
_IMPERATIVE_RE = re.compile(
    r"\b(?:add|fix|change|update|create|write|implement|wire|document|store|remove|delete"
    r"|rename|move|replace|regenerate|bump|test|run|support|migrate|refactor|split|convert"
    r"|profile|optimi[sz]e|find|use|tests?)\b")
_SENTENCE_END_RE = re.compile(r"[.!?;]\s+(?=\w)")


MAX_SCORED_CHARS = 4_000  # a pasted log or file must not make routing slow
# a name is not an action word: "implement it in grep.py", "fix search.py" or "find() returns
# None" ask for an edit, not a search; file names (their folders and extension kept as shape)
# and called names are scored as neutral ones
_FILE_NAME_RE = re.compile(r"(?<![\w@./-])(?P<dirs>(?:[\w-]+/)*)[\w-]*[A-Za-z][\w-]*"
                           r"(?P<ext>\.[A-Za-z]\w{0,4})\b(?!\(|\.\w|\w)")
_CALLED_RE = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?=\()")


def _neutral_names(message: str) -> str:
    message = _FILE_NAME_RE.sub(
        lambda m: "d/" * m.group("dirs").count("/") + "f" + m.group("ext"), message)
    return _CALLED_RE.sub("f", message)


def score_message(message: str) -> dict[str, float]:
    """The raw weighted vote, every category present (0.0 when nothing fired)."""
    words = len(_WORD_RE.findall(message))
    if len(message) > MAX_SCORED_CHARS:
        message = message[: MAX_SCORED_CHARS * 3 // 4] + "\n" + message[-MAX_SCORED_CHARS // 4:]
    scores = dict.fromkeys(CATEGORIES, 0.0)
    message = _neutral_names(message)
    lowered = message.lower()
    for cat, weight, rx, case_sensitive in _COMPILED:
        if rx.search(message if case_sensitive else lowered):
            scores[cat] += weight
    if words > 40:
        scores["plan"] += 3.0 if words > 70 else 2.0
    if words <= 5:
        scores["plan"] -= 2.0
    elif words >= 10:
        # several imperatives ("add X, wire it into Y, add tests and document it") mean a plan
        verbs = set(_IMPERATIVE_RE.findall(lowered))
        if len(verbs) >= 3:
            scores["plan"] += 2.0
        sentences = len(_SENTENCE_END_RE.findall(message)) + 1
        if sentences >= 3:
            scores["plan"] += 3.0
        if words > 30:
            scores["plan"] += 1.0
    return scores


class Router:
    """Routes a user message to one category and the tool names the registry holds for it.

    ``context_window`` and ``two_stage`` (``"auto" | "on" | "off"``) decide whether decisions are
    marked ``two_stage``: the first model call then offers only :data:`SELECT_CATEGORY_TOOL`.
    """

    def __init__(self, registry: ToolRegistry, *, context_window: int | None = None,
                 two_stage: Literal["auto", "on", "off"] = "auto",
                 margin: float = NEAR_TIE_MARGIN) -> None:
        self.registry = registry
        self.context_window = context_window
        self.two_stage_setting = two_stage
        self.margin = margin

    # -- deciding ----------------------------------------------------------------------------

    def route(self, message: str, state: RouteState | RouteDecision | None = None
              ) -> RouteDecision:
        """Route one user message. ``state`` carries the previous category (a previous
        :class:`RouteDecision` is accepted too) for the affirmation guard."""
        if isinstance(state, RouteDecision):
            state = state.state
        state = state or RouteState()
        text = message.strip()
        if AFFIRMATION_RE.match(text) and state.previous:
            category = "plan" if state.previous == "respond" else state.previous
            reason = f"affirmation keeps previous route {state.previous}"
            if state.previous == "respond":
                reason = "affirmation after respond widens to plan"
            # the previous route is the context a standalone classifier would not have
            return replace(self.decision_for(category, reason,
                                             scores=dict.fromkeys(CATEGORIES, 0.0)),
                           two_stage=False)
        scores = score_message(text)
        category, reason = self._pick(text, scores)
        triggered = tuple(n for n, rx in TRIGGERED_TOOLS.items() if rx.search(text))
        return self.decision_for(category, reason, scores=scores, triggered=triggered)

    def _pick(self, text: str, scores: Mapping[str, float]) -> tuple[str, str]:
        actionable = {c: s for c, s in scores.items() if c != "respond" and s > 0}
        if not actionable:
            words = len(_WORD_RE.findall(text))
            if scores["respond"] > 0:
                return "respond", "only conversational signals"
            if AFFIRMATION_RE.match(text):
                return "respond", "affirmation with nothing to continue"
            if words <= SHORT_MESSAGE_WORDS and not ACTION_WORD_RE.search(text) \
                    and not PATH_RE.search(text):
                return "respond", "short message with no action word"
            return "read", "no positive signal; default to reading"
        top = max(scores.values())
        contenders = [c for c in PRIORITY if scores[c] > 0 and top - scores[c] <= self.margin]
        winner = contenders[0]
        if len(contenders) > 1:
            return winner, (f"near-tie {'/'.join(contenders)} broken by priority "
                            f"({winner} {scores[winner]:g})")
        return winner, f"highest score {winner} {scores[winner]:g}"

    def decision_for(self, category: str, reason: str, scores: dict[str, float] | None = None,
                     triggered: tuple[str, ...] = ()) -> RouteDecision:
        """A decision for a category chosen elsewhere (two-stage choice, config, tests)."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown route category {category!r}; expected one of {CATEGORIES}")
        return RouteDecision(
            category=category,
            scores=scores if scores is not None else dict.fromkeys(CATEGORIES, 0.0),
            reason=reason,
            tool_names=self.tools_for([category], triggered),
            triggered=triggered,
            two_stage=category != "respond" and needs_two_stage(self.context_window,
                                                                self.two_stage_setting),
        )

    def tools_for(self, categories: Iterable[str], triggered: Iterable[str] = ()) -> list[str]:
        """Tool names for categories, in registry order; ``respond`` alone gives none. Tools of
        :data:`TRIGGERED_TOOLS` only when listed in ``triggered``."""
        cats = [c for c in categories if c != "respond"]
        if not cats:
            return []
        admitted = set(triggered)
        names = [t.name for t in self.registry.for_categories(cats)
                 if t.name not in TRIGGERED_TOOLS or t.name in admitted]
        for cat in cats:
            for extra in ALWAYS_OFFERED.get(cat, ()):
                if extra in self.registry and extra not in names:
                    names.append(extra)
        return names

    # -- after the first tool call -----------------------------------------------------------

    def widen(self, decision: RouteDecision, called_tool: str | None = None) -> RouteDecision:
        """Grow a route after the first tool call, or to admit a valid tool outside it.

        A tool that is registered but not offered is never "hallucinated": its categories join
        the route. Unknown names leave the decision unchanged (the caller reports them).
        """
        cats = list(decision.categories)
        for c in WIDEN_TABLE.get(decision.category, (decision.category,)):
            if c not in cats:
                cats.append(c)
        reason = f"widened from {decision.category} to {'+'.join(cats)}"
        tool = self.registry.get(called_tool) if called_tool else None
        if tool is not None and called_tool not in decision.tool_names:
            for c in sorted(tool.categories, key=PRIORITY.index):
                if c not in cats:
                    cats.append(c)
            reason += f" (admitted {called_tool})"
        names = self.tools_for(cats, decision.triggered)
        if tool is not None and tool.name not in names:
            names.append(tool.name)  # a respond-only tool; still allowed once called
        return replace(decision, categories=tuple(cats), tool_names=names, widened=True,
                       reason=reason, two_stage=False)

    def is_offered(self, decision: RouteDecision, tool_name: str) -> bool:
        return tool_name in decision.tool_names

    # -- two-stage ---------------------------------------------------------------------------

    def after_choice(self, decision: RouteDecision, choice: str | None) -> RouteDecision:
        """The second stage: the model's ``select_category`` choice (or the router's own when the
        choice is unusable) with that category's tools."""
        if choice is None or choice not in CATEGORIES:
            return replace(decision, two_stage=False,
                           reason=decision.reason + "; category choice unusable, kept router's")
        return replace(self.decision_for(choice, f"model selected {choice} (two-stage; router "
                                                 f"said {decision.category})",
                                         scores=decision.scores, triggered=decision.triggered),
                       two_stage=False)


def needs_two_stage(context_window: int | None,
                    setting: Literal["auto", "on", "off"] | str = "auto") -> bool:
    """Two-stage routing: always with ``on``, never with ``off``, under 16k tokens with ``auto``."""
    if setting == "on":
        return True
    if setting == "off":
        return False
    if setting != "auto":
        raise ValueError(f"two_stage_routing must be auto, on or off, got {setting!r}")
    return context_window is not None and context_window < TWO_STAGE_WINDOW


SELECT_CATEGORY_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "select_category",
        "description": "Pick the kind of work the user's message needs. Tools for it follow.",
        "parameters": {
            "type": "object",
            "properties": {"category": {
                "type": "string", "enum": list(CATEGORIES),
                "description": "; ".join(f"{c}: {CATEGORY_DESCRIPTIONS[c]}" for c in CATEGORIES),
            }},
            "required": ["category"],
        },
    },
}

SELECT_CATEGORY_RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "select_category", "strict": True, "schema": {
        "type": "object", "properties": {"category": {"type": "string",
                                                      "enum": list(CATEGORIES)}},
        "required": ["category"], "additionalProperties": False}},
}

_CATEGORY_WORD_RE = re.compile(r"\b(" + "|".join(sorted(CATEGORIES, key=len, reverse=True))
                               + r")\b", re.IGNORECASE)


def parse_category_choice(reply: Any) -> str | None:
    """The category from a ``select_category`` answer: native tool calls, JSON in the text, a
    fenced block, or a bare category word. ``None`` when nothing usable is there."""
    content = ""
    calls: list[Any] = []
    if isinstance(reply, str):
        content = reply
    elif isinstance(reply, Mapping):
        content = str(reply.get("content") or "")
        calls = list(reply.get("tool_calls") or [])
    else:
        content = str(getattr(reply, "content", "") or "")
        calls = list(getattr(reply, "tool_calls", None) or [])
    for call in calls:
        fn = call.get("function", call) if isinstance(call, Mapping) else {}
        args = fn.get("arguments") if isinstance(fn, Mapping) else None
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                args = {"category": args}
        if isinstance(args, Mapping):
            found = _category_in(str(args.get("category", "")))
            if found:
                return found
    for match in re.finditer(r"\{[^{}]*\}", content):
        try:
            obj = json.loads(match.group(0))
        except ValueError:
            continue
        if isinstance(obj, Mapping):
            inner = obj.get("arguments", obj)
            if isinstance(inner, Mapping):
                found = _category_in(str(inner.get("category", "")))
                if found:
                    return found
    words = _CATEGORY_WORD_RE.findall(content.replace("code intel", "code_intel"))
    distinct = {w.lower() for w in words}
    if len(distinct) == 1:
        return distinct.pop()
    return None


def _category_in(value: str) -> str | None:
    v = value.strip().strip("'\"").lower().replace(" ", "_").replace("-", "_")
    return v if v in CATEGORIES else None


def two_stage_messages(message: str) -> list[dict[str, str]]:
    """A compact standalone prompt for the first stage, when the caller wants one."""
    lines = "\n".join(f"- {c}: {d}" for c, d in CATEGORY_DESCRIPTIONS.items())
    return [
        {"role": "system", "content": "Classify the user's request. Call select_category with "
                                      "one of:\n" + lines},
        {"role": "user", "content": message},
    ]


async def choose_category(model: Any, router: Router, decision: RouteDecision, message: str, *,
                          constrained: bool = False, timeout: float = 30.0,
                          max_tokens: int = 40) -> RouteDecision:
    """Run the first stage of two-stage routing against ``model`` (a ChatModel).

    Sends a short standalone prompt offering only ``select_category`` (or, with ``constrained``,
    a json_schema ``response_format``), and returns :meth:`Router.after_choice`. Any failure — a
    timeout, a model error, an unusable answer — keeps the router's own category. Never raises.
    """
    import asyncio

    if not decision.two_stage:
        return decision
    kwargs: dict[str, Any] = {"max_tokens": max_tokens, "temperature": 0.0}
    if constrained:
        kwargs["response_format"] = SELECT_CATEGORY_RESPONSE_FORMAT
    else:
        kwargs["tools"] = [SELECT_CATEGORY_TOOL]
    try:
        reply = await asyncio.wait_for(model.chat(two_stage_messages(message), **kwargs),
                                       timeout=timeout)
        choice = parse_category_choice(reply)
    except Exception:  # noqa: BLE001 - the router's own choice is always a valid answer
        choice = None
    return router.after_choice(decision, choice)


def next_state(decision: RouteDecision, assistant_asked: bool = False) -> RouteState:
    """The state to pass with the next user message."""
    return RouteState(previous=decision.category, assistant_asked=assistant_asked)


__all__ = [
    "ALWAYS_OFFERED", "CATEGORY_DESCRIPTIONS", "PRIORITY", "ROUTE_TABLE",
    "SELECT_CATEGORY_RESPONSE_FORMAT", "SELECT_CATEGORY_TOOL", "WIDEN_TABLE", "RouteDecision",
    "RouteState", "Router", "choose_category", "needs_two_stage", "next_state", "parse_category_choice",
    "score_message", "table_categories", "two_stage_messages",
]
