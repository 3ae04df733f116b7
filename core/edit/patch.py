"""The patch matching ladder: exact → whitespace-normalized → indentation-flexible → anchored fuzzy.

A small model rarely copies ``old_str`` perfectly: trailing spaces, CRLF, a dropped blank line, the
wrong indentation, a one-character typo, or the ``  12| `` prefixes of ``read_file`` output. Each
rung of the ladder forgives one more kind of difference, and every rung demands a *unique* match,
so the ladder never makes a silent wrong edit. When nothing matches, :class:`PatchError` carries a
message written for the model: the closest region with line numbers, or the lines of every match.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Literal

Strategy = Literal["exact", "whitespace", "indent", "quotes", "fuzzy"]

FUZZY_FLOOR = 0.9  # minimum similarity of a fuzzy window
FUZZY_MARGIN = 0.05  # the best window must beat every other (non-overlapping) window by this
BOUNDARY_FLOOR = 0.7  # first and last line of a fuzzy window must each resemble old's
INDENT_PENALTY = 0.25  # weight of lines whose relative indentation differs, in fuzzy scoring
TAB_WIDTH = 4
MAX_REGION_LINES = 14  # lines shown in a "closest region" error
CLOSEST_REFINE = 8  # windows scored exactly when locating the closest region


NO_OP_EDIT = "old_str and new_str are identical"  # how an edit that changes nothing is refused


class PatchError(ValueError):
    """A patch that could not be applied. ``str(error)`` is ready to send to the model.

    ``kind`` is ``"no_match"``, ``"ambiguous"`` or ``"invalid"``; ``lines`` holds the 1-based
    start lines of the matches (ambiguous) or of the closest region (no_match).
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "no_match",
        lines: list[int] | None = None,
        similarity: float | None = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.lines = list(lines or [])
        self.similarity = similarity


@dataclass(frozen=True)
class PatchOutcome:
    """A successful patch.

    ``start_line``/``end_line`` (1-based, inclusive) locate the replacement in ``new_text``; for
    a pure deletion both are the line that now follows the removed text. ``matched_start`` /
    ``matched_end`` locate the replaced text in the original.
    """

    new_text: str
    strategy: Strategy
    start_line: int
    end_line: int
    matched_start: int = 0
    matched_end: int = 0
    similarity: float = 1.0
    line_numbers_stripped: bool = False


@dataclass(frozen=True)
class RegionMatch:
    """The part of a text most similar to a snippet: 1-based inclusive lines and a 0..1 score."""

    start_line: int
    end_line: int
    similarity: float


# ----------------------------------------------------------------------------------------------
# line model


def _split_keepends(text: str) -> list[str]:
    """Split on ``\\n`` only (``str.splitlines`` also splits on form feeds and friends)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _content(line: str) -> str:
    line = line.removesuffix("\n")
    line = line.removesuffix("\r")
    return line


def _ending(line: str) -> str:
    return line[len(_content(line)) :]


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _cols(ws: str) -> int:
    return len(ws.expandtabs(TAB_WIDTH))


def _dominant_eol(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


@dataclass
class _Text:
    raw: list[str]  # lines with their endings
    content: list[str]  # lines without endings
    nb: list[int]  # indices of non-blank lines
    eol: str

    @classmethod
    def of(cls, text: str) -> _Text:
        raw = _split_keepends(text)
        content = [_content(line) for line in raw]
        nb = [i for i, c in enumerate(content) if c.strip()]
        return cls(raw, content, nb, _dominant_eol(text))


def _snippet_lines(snippet: str) -> list[str]:
    """Non-blank lines of a snippet, endings normalized."""
    return [ln.rstrip("\r") for ln in snippet.replace("\r\n", "\n").split("\n") if ln.strip()]


# ----------------------------------------------------------------------------------------------
# line-number prefixes copied from read_file output

_NUMBERED = re.compile(r"^[ \t]*(\d+)(?:[ \t]*([|│→:])| ?(\t))(.*)$")


def strip_line_numbers(snippet: str) -> str | None:
    """Remove ``  12| `` style prefixes when *every* non-blank line carries one, in increasing
    order; return None when the snippet is not numbered (so it is left untouched)."""
    lines = snippet.replace("\r\n", "\n").split("\n")
    parsed: list[tuple[int, str, str] | None] = []
    for line in lines:
        if not line.strip():
            parsed.append(None)
            continue
        m = _NUMBERED.match(line)
        if m is None:
            return None
        parsed.append((int(m.group(1)), m.group(2) or m.group(3), m.group(4)))
    numbered = [p for p in parsed if p is not None]
    if not numbered:
        return None
    numbers = [p[0] for p in numbered]
    if any(b <= a for a, b in itertools.pairwise(numbers)):
        return None
    separators = {p[1] for p in numbered}
    consecutive = numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    if ":" in separators and (len(numbered) < 2 or not consecutive):
        return None  # "12: value" is also YAML/dict syntax: demand consecutive numbered lines
    rests = [p[2] for p in numbered]
    drop_space = all(r.startswith(" ") for r in rests if r)
    out = []
    for p in parsed:
        if p is None:
            out.append("")
        else:
            rest = p[2]
            out.append(rest[1:] if drop_space and rest.startswith(" ") else rest)
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# replacement of a line region


def _edge_blank_count(snippet: str, leading: bool) -> int:
    lines = snippet.replace("\r\n", "\n").split("\n")
    if not leading:
        if lines and lines[-1] == "":
            lines = lines[:-1]  # the final newline is not a blank line
        lines = lines[::-1]
    n = 0
    for line in lines:
        if line.strip():
            break
        n += 1
    return n


def _new_lines(old: str, new: str) -> list[str]:
    """``new`` as a list of lines, without the blank edge lines that mirror ``old``'s."""
    body = new.replace("\r\n", "\n")
    if body == "":
        return []
    body = body.removesuffix("\n")
    lines = body.split("\n")
    lead = min(_edge_blank_count(old, True), _edge_blank_count(new, True))
    trail = min(_edge_blank_count(old, False), _edge_blank_count(new, False))
    lines = lines[lead : len(lines) - trail if trail else None]
    return [ln.rstrip("\r") for ln in lines]


@dataclass(frozen=True)
class _IndentMap:
    """How old's indentation maps onto the file's: ``file = text_base + (old - old_base) * scale``
    (``scale`` != 1 when the model used another indent width, e.g. 2 spaces for 4)."""

    old_base: int = 0
    text_base: int = 0
    scale: float = 1.0

    @property
    def identity(self) -> bool:
        return self.old_base == self.text_base and self.scale == 1.0

    def cols(self, c: int) -> int:
        return max(0, self.text_base + round((c - self.old_base) * self.scale))


def _indent_map(old_cols: list[int], text_cols: list[int]) -> _IndentMap | None:
    """The map that turns every old indentation into the file's, or None if there is none."""
    old_base, text_base = old_cols[0], text_cols[0]
    scale: float | None = None
    for oc, tc in zip(old_cols, text_cols):
        o_rel, t_rel = oc - old_base, tc - text_base
        if o_rel == 0 or t_rel == 0:
            if o_rel != t_rel:
                return None
            continue
        if (o_rel > 0) != (t_rel > 0):
            return None
        here = t_rel / o_rel
        if scale is None:
            scale = here
        elif abs(here - scale) > 1e-9:
            return None
    if scale is not None and scale not in (0.5, 1.0, 2.0, 4.0, 0.25, 1.5, 2 / 3):
        return None
    return _IndentMap(old_base, text_base, scale or 1.0)


def _reindent(lines: list[str], imap: _IndentMap, use_tabs: bool) -> list[str]:
    out = []
    for line in lines:
        if not line.strip():
            out.append(line if imap.identity else "")
            continue
        ws = _indent_of(line)
        style_ok = ("\t" in ws) == use_tabs or ws == ""
        if imap.identity and style_ok:
            out.append(line)
            continue
        cols = imap.cols(_cols(ws))
        lead = "\t" * (cols // TAB_WIDTH) + " " * (cols % TAB_WIDTH) if use_tabs else " " * cols
        out.append(lead + line[len(ws) :])
    return out


def _replace_region(
    t: _Text,
    a: int,
    b: int,
    old: str,
    new: str,
    imap: _IndentMap,
    strategy: Strategy,
    similarity: float = 1.0,
) -> PatchOutcome:
    region_ws = [_indent_of(t.content[i]) for i in range(a, b + 1) if t.content[i].strip()]
    use_tabs = any("\t" in ws for ws in region_ws)
    lines = _reindent(_new_lines(old, new), imap, use_tabs)
    if lines:
        replacement = t.eol.join(lines) + _ending(t.raw[b])
    else:
        replacement = ""
    new_text = "".join(t.raw[:a]) + replacement + "".join(t.raw[b + 1 :])
    end = a + len(lines) if lines else a + 1
    return PatchOutcome(
        new_text=new_text,
        strategy=strategy,
        start_line=a + 1,
        end_line=end,
        matched_start=a + 1,
        matched_end=b + 1,
        similarity=similarity,
    )


# ----------------------------------------------------------------------------------------------
# the rungs


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _ambiguous(count: int, lines: list[int], how: str = "") -> PatchError:
    shown = ", ".join(str(n) for n in lines[:8]) + (", ..." if len(lines) > 8 else "")
    return PatchError(
        f"old_str matches {count} places{how} (lines {shown}); set \"line\" to the line where "
        f"the one to change starts, or include more surrounding lines in old_str.",
        kind="ambiguous",
        lines=lines,
    )


def _indent_continuation(text: str, pos: int, old: str, new: str) -> str:
    """old_str that starts after a line's indentation (``self.x -= n`` in an indented body) with
    a multi-line new_str written from column 0: small models do this constantly. The matched
    line's indentation is added to new_str's later lines when they are clearly relative to it
    (all indented less than the match); absolute indentation is left alone."""
    if "\n" not in new or old[:1].isspace():
        return new
    line_start = text.rfind("\n", 0, pos) + 1
    prefix = text[line_start:pos]
    if not prefix or prefix.strip():
        return new
    first, *rest = new.split("\n")
    body = [ln for ln in rest if ln.strip()]
    if not body or min(len(ln) - len(ln.lstrip()) for ln in body) >= len(prefix):
        return new
    return "\n".join([first] + [prefix + ln if ln.strip() else ln for ln in rest])


def _exact(text: str, old: str, new: str, *, reindent: bool = True) -> PatchOutcome | None:
    first = text.find(old)
    if first < 0:
        return None
    starts = [first]
    pos = text.find(old, first + len(old))
    while pos >= 0:
        starts.append(pos)
        pos = text.find(old, pos + len(old))
    if len(starts) > 1:
        raise _ambiguous(len(starts), [_line_of(text, s) for s in starts])
    if reindent:
        new = _indent_continuation(text, first, old, new)
    if "\n" in new and _dominant_eol(text) == "\r\n":
        new = re.sub(r"(?<!\r)\n", "\r\n", new)  # keep a CRLF file CRLF
    new_text = text[:first] + new + text[first + len(old) :]
    start = _line_of(text, first)
    if new:
        tail = first + len(new) - (1 if new.endswith("\n") else 0)
        end = max(start, _line_of(new_text, tail))
    else:
        end = start
    matched_end = _line_of(text, first + len(old) - (1 if old.endswith("\n") else 0))
    return PatchOutcome(
        new_text=new_text,
        strategy="exact",
        start_line=start,
        end_line=end,
        matched_start=start,
        matched_end=max(start, matched_end),
    )


def _windows_equal(t: _Text, old_lines: list[str], key: str) -> list[tuple[int, int]]:
    """Windows of k non-blank text lines equal to old's under ``key`` (rstrip | strip)."""
    k = len(old_lines)
    norm = str.rstrip if key == "rstrip" else str.strip
    want = [norm(x) for x in old_lines]
    text_norm = [norm(t.content[i]) for i in t.nb]
    hits = []
    for s in range(len(t.nb) - k + 1):
        if text_norm[s] == want[0] and text_norm[s : s + k] == want:
            hits.append((s, s + k - 1))
    return hits


def _whitespace(t: _Text, old: str, new: str) -> PatchOutcome | None:
    old_lines = _snippet_lines(old)
    if not old_lines:
        return None
    hits = _windows_equal(t, old_lines, "rstrip")
    if not hits:
        return None
    if len(hits) > 1:
        raise _ambiguous(len(hits), [t.nb[s] + 1 for s, _ in hits], " (ignoring whitespace)")
    s, e = hits[0]
    return _replace_region(t, t.nb[s], t.nb[e], old, new, _IndentMap(), "whitespace")


def _indent(t: _Text, old: str, new: str) -> PatchOutcome | None:
    old_lines = _snippet_lines(old)
    if not old_lines:
        return None
    old_cols = [_cols(_indent_of(x)) for x in old_lines]
    found: list[tuple[int, int, _IndentMap]] = []
    for s, e in _windows_equal(t, old_lines, "strip"):
        text_cols = [_cols(_indent_of(t.content[t.nb[j]])) for j in range(s, e + 1)]
        imap = _indent_map(old_cols, text_cols)
        if imap is not None:
            found.append((s, e, imap))
    if not found:
        return None
    if len(found) > 1:
        raise _ambiguous(len(found), [t.nb[s] + 1 for s, _, _ in found], " (ignoring indentation)")
    s, e, imap = found[0]
    return _replace_region(t, t.nb[s], t.nb[e], old, new, imap, "indent")


class _WindowScorer:
    """Similarity of old's non-blank lines to each same-size window of the text's non-blank
    lines: a length-weighted mean of per-line ratios, minus a penalty for lines whose indentation
    relative to the window's first line differs from old's."""

    def __init__(self, t: _Text, old_lines: list[str]):
        self.t = t
        self.k = len(old_lines)
        self.old_stripped = [x.strip() for x in old_lines]
        old_cols = [_cols(_indent_of(x)) for x in old_lines]
        self.old_rel = [c - old_cols[0] for c in old_cols]
        self.matchers = [SequenceMatcher(None, b=x, autojunk=False) for x in self.old_stripped]
        self.text_stripped = [t.content[i].strip() for i in t.nb]
        self.text_cols = [_cols(_indent_of(t.content[i])) for i in t.nb]
        self.weights = [len(x) + 2 for x in self.old_stripped]
        self._cache: dict[tuple[int, int], float] = {}
        self.old_tokens = [_tokens(x) for x in self.old_stripped]
        self.text_tokens = [_tokens(x) for x in self.text_stripped]

    def line_ratio(self, j: int, i: int) -> float:
        key = (j, i)
        hit = self._cache.get(key)
        if hit is None:
            a = self.text_stripped[i]
            if a == self.old_stripped[j]:
                hit = 1.0
            else:
                sm = self.matchers[j]
                sm.set_seq1(a)
                hit = sm.ratio() if sm.real_quick_ratio() > 0.3 else 0.0
            self._cache[key] = hit
        return hit

    def score(self, s: int, floor: float = 0.0) -> float:
        """Score of the window starting at non-blank line s; returns early (a value below
        ``floor``) once the window cannot reach ``floor``."""
        total_w = 0.0
        acc = 0.0
        all_w = 0
        for j in range(self.k):
            all_w += self.weights[j] + len(self.text_stripped[s + j]) + 2
        for j in range(self.k):
            w = self.weights[j] + len(self.text_stripped[s + j]) + 2
            acc += w * self.line_ratio(j, s + j)
            total_w += w
            if (acc + (all_w - total_w)) / all_w < floor:
                return (acc + (all_w - total_w)) / all_w - 1e-9
        content = acc / all_w
        base = self.text_cols[s]
        mismatched = sum(
            1 for j in range(self.k) if self.text_cols[s + j] - base != self.old_rel[j]
        )
        return content - INDENT_PENALTY * mismatched / self.k

    def upper_bound(self, j: int, i: int) -> float:
        """A cheap upper bound of ``line_ratio(j, i)`` (character multiset overlap)."""
        hit = self._cache.get((j, i))
        if hit is not None:
            return hit
        a = self.text_stripped[i]
        if a == self.old_stripped[j]:
            return 1.0
        sm = self.matchers[j]
        sm.set_seq1(a)
        return sm.quick_ratio()

    def could_reach(self, s: int, floor: float) -> bool:
        """Whether the window at s might score ``floor`` or more (upper bounds, early exit)."""
        all_w = sum(self.weights[j] + len(self.text_stripped[s + j]) + 2 for j in range(self.k))
        lost = 0.0
        limit = (1.0 - floor) * all_w
        for j in range(self.k):
            w = self.weights[j] + len(self.text_stripped[s + j]) + 2
            lost += w * (1.0 - self.upper_bound(j, s + j))
            if lost > limit:
                return False
        return True

    @property
    def windows(self) -> int:
        return max(0, len(self.text_stripped) - self.k + 1)

    def anchored_starts(self) -> list[int]:
        """Window starts where at least one line of old equals the aligned text line."""
        index: dict[str, list[int]] = {}
        for i, line in enumerate(self.text_stripped):
            index.setdefault(line, []).append(i)
        starts: set[int] = set()
        for j, line in enumerate(self.old_stripped):
            for i in index.get(line, ()):
                if 0 <= i - j < self.windows:
                    starts.add(i - j)
        return sorted(starts)

    def approximate(self, s: int) -> float:
        """Token-overlap similarity of a window: cheap, for locating the closest region."""
        total = 0.0
        all_w = 0.0
        for j in range(self.k):
            a, b = self.old_tokens[j], self.text_tokens[s + j]
            w = self.weights[j] + len(self.text_stripped[s + j]) + 2
            total += w * (2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0)
            all_w += w
        return total / all_w


_TOKEN = re.compile(r"\w+|[^\w\s]")


def _tokens(line: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(line))


def _fuzzy(t: _Text, old: str, new: str) -> PatchOutcome | None:
    old_lines = _snippet_lines(old)
    if len(old_lines) < 2 or len(old_lines) > len(t.nb):
        return None  # one line is too little evidence for a fuzzy edit
    scorer = _WindowScorer(t, old_lines)
    k = scorer.k
    # anchored: the match must share at least one whole line with old, at the same position
    scored = sorted(((scorer.score(s), s) for s in scorer.anchored_starts()), reverse=True)
    if not scored or scored[0][0] < FUZZY_FLOOR:
        return None
    best_score, s = scored[0]
    # a rival is any window not overlapping the best that might score within the margin
    # (anchored or not): exact scores for anchored ones, upper bounds then exact for the rest
    anchored = {r for _, r in scored}
    floor = best_score - FUZZY_MARGIN
    rivals = [r for sc, r in scored[1:] if sc >= floor and abs(r - s) >= k]
    for r in range(scorer.windows):
        if r in anchored or abs(r - s) < k:
            continue
        if scorer.could_reach(r, floor) and scorer.score(r, floor) >= floor:
            rivals.append(r)
    if rivals:
        lines = sorted({t.nb[s] + 1} | {t.nb[r] + 1 for r in rivals})
        raise _ambiguous(len(lines), lines, " about equally well (fuzzy)")
    if (
        scorer.line_ratio(0, s) < BOUNDARY_FLOOR
        or scorer.line_ratio(k - 1, s + k - 1) < BOUNDARY_FLOOR
    ):
        return None
    e = s + k - 1
    old_cols = [_cols(_indent_of(x)) for x in old_lines]
    imap = _indent_map(old_cols, scorer.text_cols[s : e + 1]) or _IndentMap(
        old_cols[0], scorer.text_cols[s], 1.0
    )
    return _replace_region(t, t.nb[s], t.nb[e], old, new, imap, "fuzzy", round(best_score, 3))


# ----------------------------------------------------------------------------------------------
# errors


def closest_region(text: str, old: str) -> RegionMatch | None:
    """The window of the text most similar to ``old`` (any similarity), or None for an empty
    text or snippet."""
    t = _Text.of(text)
    old_lines = _snippet_lines(old)
    if not old_lines or not t.nb:
        return None
    if len(old_lines) > len(t.nb):
        old_lines = old_lines[: len(t.nb)]
    scorer = _WindowScorer(t, old_lines)
    if not scorer.windows:
        return None
    # rank every window by token overlap (cheap), then score the best few exactly
    approx = sorted(range(scorer.windows), key=lambda w: -scorer.approximate(w))[:CLOSEST_REFINE]
    candidates = set(approx) | set(scorer.anchored_starts()[:CLOSEST_REFINE])
    score, s = max((scorer.score(w), -w) for w in candidates)
    s = -s
    return RegionMatch(t.nb[s] + 1, t.nb[s + scorer.k - 1] + 1, max(0.0, round(score, 2)))


def number_lines(text: str, start: int, end: int) -> str:
    """Lines ``start..end`` (1-based, inclusive) in ``  12| code`` form."""
    lines = [_content(x) for x in _split_keepends(text)]
    width = max(4, len(str(end)))
    return "\n".join(
        f"{n:>{width}}| {lines[n - 1]}" for n in range(start, min(end, len(lines)) + 1)
    )


def _not_found(text: str, old: str) -> PatchError:
    if not text.strip():
        return PatchError(
            "old_str not found: the file is empty. Use write_file to give it content.",
            kind="no_match",
        )
    region = closest_region(text, old)
    if region is None:
        return PatchError("old_str not found: it contains only whitespace.", kind="invalid")
    end = min(region.end_line, region.start_line + MAX_REGION_LINES - 1)
    shown = number_lines(text, region.start_line, end)
    more = " (first lines shown)" if end < region.end_line else ""
    if region.similarity < 0.5:
        lead = (
            f"old_str not found, and nothing in the file resembles it (best similarity "
            f"{region.similarity:.2f}, lines {region.start_line}-{region.end_line}{more}):"
        )
        hint = "Read the file again and copy old_str exactly from it (without line numbers)."
    else:
        lead = (
            f"old_str not found. Closest region: lines {region.start_line}-{region.end_line}"
            f" (similarity {region.similarity:.2f}){more}:"
        )
        hint = (
            "Copy old_str exactly from these lines (without the line numbers), "
            "then set new_str to the changed version."
        )
    return PatchError(
        f"{lead}\n{shown}\n{hint}",
        kind="no_match",
        lines=[region.start_line],
        similarity=region.similarity,
    )


# ----------------------------------------------------------------------------------------------
# entry point


_QUOTE_SWAP = str.maketrans({"'": '"', '"': "'"})


def _quotes(text: str, old: str, new: str) -> PatchOutcome | None:
    """old_str written with the other quote style ('x' for "x"): when old_str uses one style
    only and the swapped text matches exactly once, new_str is swapped to the file's style."""
    if ("'" in old) == ('"' in old):
        return None
    if any(x.count("'") % 2 or x.count('"') % 2 for x in (old, new)):
        return None  # a partial string literal: swapping would unbalance the line
    found = _exact(text, old.translate(_QUOTE_SWAP), new.translate(_QUOTE_SWAP))
    return replace(found, strategy="quotes") if found is not None else None


def _ladder(text: str, old: str, new: str) -> PatchOutcome | None:
    found = _exact(text, old, new)
    if found is not None:
        return found
    t = _Text.of(text)
    for rung in (_whitespace, _indent):
        found = rung(t, old, new)
        if found is not None:
            return found
    found = _quotes(text, old, new)
    if found is not None:
        return found
    return _fuzzy(t, old, new)


def apply_patch_at(text: str, old: str, new: str, line: int) -> PatchOutcome:
    """Replace the exact occurrence of ``old`` that starts on ``line`` (1-based): how a model
    picks one of several identical matches."""
    pos = text.find(old)
    while pos >= 0:
        if _line_of(text, pos) == line:
            head, tail = text[:pos], text[pos + len(old):]
            found = _exact(old, old, new)  # the one occurrence on its own
            assert found is not None
            shift = head.count("\n")
            return replace(found, new_text=head + found.new_text + tail,
                           start_line=found.start_line + shift, end_line=found.end_line + shift,
                           matched_start=found.matched_start + shift,
                           matched_end=found.matched_end + shift)
        pos = text.find(old, pos + 1)
    starts = []
    pos = text.find(old)
    while pos >= 0:
        starts.append(_line_of(text, pos))
        pos = text.find(old, pos + 1)
    # a line guessed a little off (models count from a def or a docstring): the nearest
    # occurrence, when it is clearly nearest and close, is the one meant
    by_distance = sorted(starts, key=lambda n: abs(n - line))
    if by_distance and abs(by_distance[0] - line) <= 2 and (
            len(by_distance) == 1 or abs(by_distance[1] - line) >= abs(by_distance[0] - line) + 3):
        return apply_patch_at(text, old, new, by_distance[0])
    where = ", ".join(map(str, starts)) or "nowhere"
    raise PatchError(f"old_str does not start on line {line}; it starts on line(s) {where}.",
                     kind="no_match" if not starts else "ambiguous", lines=starts)


def apply_patch(text: str, old: str, new: str, *, ladder: bool = True) -> PatchOutcome:
    """Replace the one place in ``text`` that matches ``old`` with ``new``.

    With ``ladder=False`` only an exact, unique match is accepted (the ablation baseline).
    Raises :class:`PatchError` with a model-ready message when there is no unique match.
    """
    if not old:
        raise PatchError(
            "old_str is empty. To create or overwrite a whole file use write_file; "
            "to insert, put the neighbouring lines in old_str.",
            kind="invalid",
        )
    if old == new:
        raise PatchError(NO_OP_EDIT + ", so nothing would change. Put the changed text in "
                         "new_str.", kind="invalid")
    if not ladder:
        found = _exact(text, old, new, reindent=False)
        if found is None:
            raise _not_found(text, old)
        return found
    found = _exact(text, old, new)
    if found is not None:
        return found
    stripped = strip_line_numbers(old)
    if stripped is not None and stripped.strip():
        # numbered lines copied from read_file: never match them fuzzily as they are
        new_stripped = strip_line_numbers(new) if new else None
        found = _ladder(text, stripped, new if new_stripped is None else new_stripped)
        if found is not None:
            return replace(found, line_numbers_stripped=True)
        raise _not_found(text, stripped)
    found = _ladder(text, old, new)
    if found is not None:
        return found
    raise _not_found(text, old)
