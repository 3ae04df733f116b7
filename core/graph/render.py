"""Text the model reads: budgeted, deterministic renderings of graph queries.

Every renderer takes a token budget and never exceeds it (tokens estimated as characters / 3.5,
the calibration used across smallcode); output depends only on the graph and the arguments, never
on dictionary order or process-local ids.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict, deque
from pathlib import Path

from .languages import CLASS_KINDS
from .model import Reference, Symbol
from .symbol_graph import SymbolGraph

CHARS_PER_TOKEN = 3.5
MAX_CANDIDATES_SHOWN = 3
MAX_CALLER_SCAN = 300  # uses of a name scanned for callers during a graph_search walk
_STOPWORDS = frozenset({
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "by", "from", "is",
    "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "what",
    "where", "when", "how", "why", "who", "which", "does", "do", "did", "can", "could", "should",
    "would", "will", "shall", "may", "might", "must", "not", "no", "yes", "all", "any", "some",
    "each", "every", "my", "your", "our", "their", "there", "here", "into", "onto", "about",
    "find", "show", "explain", "tell", "me", "please", "code", "function", "method", "class",
    "file", "files", "symbol", "symbols", "uses", "use", "used", "calls", "call", "called",
    "caller", "callers", "callee", "callees", "work", "works", "working", "get", "set", "make",
    "see", "look", "list", "add", "fix", "change", "update", "new",
})
_CODE_LIKE = re.compile(r"_|\d|[a-z][A-Z]")
_TERM = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|#)[A-Za-z_$][\w$]*)*")


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def budget_chars(max_tokens: int) -> int:
    return max(0, int(max_tokens * CHARS_PER_TOKEN))


class TextBudget:
    """Lines added only while the whole text stays within the budget."""

    def __init__(self, max_tokens: int):
        self.limit = budget_chars(max_tokens)
        self.parts: list[str] = []
        self.used = -1  # no newline before the first part

    def room(self) -> int:
        return self.limit - self.used - 1

    def fits(self, text: str) -> bool:
        return self.used + 1 + len(text) <= self.limit

    def add(self, text: str) -> bool:
        if not self.fits(text):
            return False
        self.parts.append(text)
        self.used += 1 + len(text)
        return True

    def text(self) -> str:
        return "\n".join(self.parts)


def fit_line(text: str, max_tokens: int) -> str:
    limit = budget_chars(max_tokens)
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"[: limit > 0]


class SourceReader:
    """Lines of workspace files, cached by (path, content hash), bounded by total characters."""

    def __init__(self, root: Path, max_chars: int = 32_000_000):
        self.root = root
        self.max_chars = max_chars
        self._cache: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self._chars = 0

    def lines(self, path: str, content_hash: str) -> list[str]:
        key = (path, content_hash)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        try:
            text = (self.root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        lines = text.splitlines()
        self._cache[key] = lines
        self._chars += len(text)
        while self._chars > self.max_chars and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._chars -= sum(len(x) + 1 for x in old)
        return lines

    def clear(self) -> None:
        self._cache.clear()
        self._chars = 0


def _kind_rank(kind: str) -> int:
    if kind in CLASS_KINDS:
        return 0
    if kind in ("function", "method"):
        return 1
    if kind in ("module", "type", "macro"):
        return 2
    return 3


def query_terms(text: str) -> list[str]:
    """Identifier-like terms of a query or message, without common English words."""
    out: list[str] = []
    for term in _TERM.findall(text):
        if term.lower() in _STOPWORDS or (len(term) < 3 and "." not in term):
            continue
        if term not in out:
            out.append(term)
    return out


def match_symbols(graph: SymbolGraph, query: str, limit: int = 10) -> list[tuple[float, int]]:
    """Symbols best matching a free-text query, best first (score, id). Deterministic."""
    terms = query_terms(query) or ([query.strip()] if query.strip() else [])
    per_symbol: dict[int, list[float]] = {}
    for term in terms[:8]:
        if "." in term or "::" in term or "#" in term:
            for sid in graph.lookup(term):
                per_symbol.setdefault(sid, []).append(110.0)
            term = re.split(r"\.|::|#", term)[-1]
        for score, name in graph.fuzzy_names(term, limit=12):
            for sid in graph.by_name.get(name, ()):
                per_symbol.setdefault(sid, []).append(score)
    scored: list[tuple[float, int]] = []
    for sid, scores in per_symbol.items():
        scores.sort(reverse=True)
        sym = graph.symbols[sid]
        score = scores[0] + 0.25 * sum(scores[1:]) - 2.0 * _kind_rank(sym.kind)
        if _CODE_LIKE.search(sym.name):  # add_subparsers, parseArgs: surely meant as code
            score += 10.0
        # a name defined in many places (handle, run, get) says less than a rare one
        score -= min(12.0, 3.0 * math.log2(len(graph.by_name.get(sym.name, ())) or 1))
        scored.append((score, sid))
    scored.sort(key=lambda t: (-t[0], graph.symbols[t[1]].sort_key()))
    return scored[:limit]


def _code_block(graph: SymbolGraph, reader: SourceReader, sym: Symbol, max_lines: int
                ) -> list[str]:
    entry = graph.files.get(sym.path)
    lines = reader.lines(sym.path, entry.hash if entry else "")
    body = lines[sym.start_line - 1:sym.end_line]
    if not body:
        return [sym.signature]
    if len(body) > max_lines:
        more = len(body) - max_lines
        body = body[:max_lines] + [f"    … {more} more line{'s' if more != 1 else ''}"]
    return body


def _header(sym: Symbol, relation: str) -> str:
    span = f"{sym.start_line}-{sym.end_line}" if sym.end_line != sym.start_line \
        else str(sym.start_line)
    return f"### {sym.path}:{span} {sym.kind} {sym.qualname} ({relation})"


def _summary(sym: Symbol, relation: str) -> str:
    return f"- {sym.path}:{sym.start_line} {sym.kind} {sym.qualname}: {sym.signature} ({relation})"


def render_search(graph: SymbolGraph, reader: SourceReader, query: str, max_tokens: int,
                  *, max_seeds: int = 3, max_depth: int = 2, fan_out: int = 8) -> str:
    """Fuzzy match, then breadth-first over callees and callers until the budget is spent."""
    matches = match_symbols(graph, query, limit=max_seeds * 3)
    if not matches:
        return fit_line(f"graph_search: no symbol matches {query!r}.", max_tokens)
    top = matches[0][0]
    seeds = [sid for score, sid in matches if score >= top - 15.0][:max_seeds]
    out = TextBudget(max_tokens)
    head = (f"graph_search {query!r}: {len(seeds)} best match(es), then callees/callers "
            f"breadth-first (budget {max_tokens} tokens)")
    if not out.add(fit_line(head, max_tokens)):
        return ""
    footer_room = 60
    out.limit -= footer_room
    queue: deque[tuple[int, int, str]] = deque((sid, 0, "match") for sid in seeds)
    seen = set(seeds)
    shown = 0
    stopped = False
    block_lines = {0: 60, 1: 25, 2: 12}
    while queue:
        sid, depth, relation = queue.popleft()
        sym = graph.symbols[sid]
        block = [_header(sym, relation), *_code_block(graph, reader, sym,
                                                        block_lines.get(depth, 8))]
        text = "\n".join(block)
        if not out.add(text) and not out.add(_summary(sym, relation)):
            stopped = True
            break
        shown += 1
        if depth >= max_depth:
            continue
        for nid, rel in _neighbours(graph, sym, fan_out):
            if nid not in seen:
                seen.add(nid)
                queue.append((nid, depth + 1, rel))
    out.limit += footer_room
    if stopped or queue:
        out.add(f"[{len(queue) + (1 if stopped else 0)} more connected symbol(s) left out: "
                f"budget]")
    return out.text()


def _neighbours(graph: SymbolGraph, sym: Symbol, fan_out: int) -> list[tuple[int, str]]:
    """Callees then callers of ``sym``: sure ones first, then up to 3-way ambiguous ones."""
    callees: dict[int, int] = {}
    for _ref, targets in graph.callees(sym.id):
        if 0 < len(targets) <= MAX_CANDIDATES_SHOWN:
            for t in targets:
                if t != sym.id:
                    callees[t] = min(callees.get(t, 99), len(targets))
    callers: dict[int, int] = {}
    uses = graph.refs_by_name.get(sym.name, ())
    # A name used thousands of times (assertEqual, __init__) makes a poor walk and a slow one:
    # its callers are left out of the walk (explain/references still list them all).
    for ref, count in graph.callers(sym.id) if len(uses) <= MAX_CALLER_SCAN else ():
        src = graph.source_of(ref)
        if src >= 0 and src != sym.id and count <= MAX_CANDIDATES_SHOWN:
            callers[src] = min(callers.get(src, 99), count)
    out: list[tuple[int, str]] = []
    symbols = graph.symbols
    for t in sorted(callees, key=lambda i: (callees[i], symbols[i].sort_key()))[:fan_out]:
        note = "" if callees[t] == 1 else f", 1 of {callees[t]} candidates"
        out.append((t, f"called by {sym.qualname}{note}"))
    for c in sorted(callers, key=lambda i: (callers[i], symbols[i].sort_key()))[:fan_out]:
        note = "" if callers[c] == 1 else f", 1 of {callers[c]} candidates"
        out.append((c, f"calls {sym.qualname}{note}"))
    return out


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _where(graph: SymbolGraph, ref: Reference) -> str:
    src = graph.source_of(ref)
    if src >= 0 and src in graph.symbols:
        return graph.symbols[src].qualname
    return "<module>"


def not_found(graph: SymbolGraph, name: str, max_tokens: int) -> str:
    close = graph.fuzzy_names(name.rsplit(".", 1)[-1], limit=5)
    if not close:
        return fit_line(f"No symbol named {name!r} in the code graph.", max_tokens)
    hints = []
    for _score, cand in close:
        ids = sorted(graph.by_name.get(cand, ()), key=lambda i: graph.symbols[i].sort_key())
        if ids:
            sym = graph.symbols[ids[0]]
            more = f" (+{len(ids) - 1})" if len(ids) > 1 else ""
            hints.append(f"{sym.qualname} ({sym.location()}){more}")
    return fit_line(f"No symbol named {name!r}. Closest: " + "; ".join(hints), max_tokens)


def render_explain(graph: SymbolGraph, name: str, max_tokens: int, *, max_defs: int = 3) -> str:
    ids = graph.lookup(name)
    if not ids:
        return not_found(graph, name, max_tokens)
    out = TextBudget(max_tokens)
    symbols = graph.symbols
    for n, sid in enumerate(ids[:max_defs]):
        sym = symbols[sid]
        if n:
            out.add("")
        lines = [f"{sym.kind} {sym.qualname} — {sym.path}:{sym.start_line}-{sym.end_line}",
                 f"  signature: {sym.signature}"]
        if sym.doc:
            lines.append(f"  doc: {_one_line(sym.doc, 300)}")
        if sym.parent >= 0 and sym.parent in symbols:
            parent = symbols[sym.parent]
            lines.append(f"  in: {parent.kind} {parent.qualname} ({parent.location()})")
        members = sorted(graph.children.get(sid, ()), key=lambda i: symbols[i].sort_key())
        if members:
            names = ", ".join(symbols[m].name for m in members[:30])
            extra = f", +{len(members) - 30} more" if len(members) > 30 else ""
            lines.append(f"  members ({len(members)}): {names}{extra}")
        callers = graph.callers(sid)
        if callers:
            seen: dict[str, tuple[str, int]] = {}
            for ref, count in sorted(callers, key=lambda rc: (rc[1] > 1, rc[0].path, rc[0].line)):
                key = f"{_where(graph, ref)} ({ref.path}:{ref.line})"
                where = _where(graph, ref)
                if where not in seen:
                    seen[where] = (key, count)
            items = [k + ("" if c == 1 else f" [1 of {c}]") for k, c in seen.values()]
            lines.append(f"  callers ({len(seen)}): " + "; ".join(items[:12])
                         + (f"; +{len(items) - 12} more" if len(items) > 12 else ""))
        else:
            lines.append("  callers: none found")
        callees = graph.callees(sid)
        if callees:
            by_name: dict[str, str] = {}
            for ref, targets in sorted(callees, key=lambda rt: rt[0].line):
                if ref.name in by_name:
                    continue
                if not targets:
                    by_name[ref.name] = f"{ref.name} (not in workspace)"
                elif len(targets) == 1:
                    t = symbols[targets[0]]
                    by_name[ref.name] = f"{t.qualname} ({t.location()})"
                else:
                    locs = sorted(targets, key=lambda i: symbols[i].sort_key())
                    shown = ", ".join(symbols[i].location() for i in locs[:MAX_CANDIDATES_SHOWN])
                    more = f", +{len(locs) - MAX_CANDIDATES_SHOWN}" \
                        if len(locs) > MAX_CANDIDATES_SHOWN else ""
                    by_name[ref.name] = f"{ref.name} ({len(locs)} candidates: {shown}{more})"
            items = list(by_name.values())
            lines.append(f"  calls/uses ({len(items)}): " + "; ".join(items[:15])
                         + (f"; +{len(items) - 15} more" if len(items) > 15 else ""))
        for line in lines:
            if not out.add(line):
                out.add(fit_line(line, max(0, int(out.room() / CHARS_PER_TOKEN))))
                break
    if len(ids) > max_defs:
        rest = ", ".join(symbols[i].location() for i in ids[max_defs:max_defs + 10])
        out.add(f"also defined ({len(ids) - max_defs} more): {rest}")
    return out.text()


def render_references(graph: SymbolGraph, reader: SourceReader, name: str,
                      max_tokens: int) -> str:
    ids = set(graph.lookup(name))
    simple = re.split(r"\.|::|#", name.strip())[-1]
    rows: list[tuple[str, int, str, str]] = []  # (path, line, tag, where)
    for ref in graph.refs_by_name.get(simple, ()):
        targets = graph.resolve(ref)
        if ids:
            hit = ids.intersection(targets)
            if not hit:
                continue
            tag = ref.kind if len(targets) == 1 else f"{ref.kind}?{len(targets)}"
        else:
            tag = ref.kind
        rows.append((ref.path, ref.line, tag, _where(graph, ref)))
    for path, entry in graph.files.items():
        for _module, imported, alias, line in entry.imports:
            if imported == simple or alias == simple:
                rows.append((path, line, "import", "<module>"))
    if not rows:
        if ids:
            return fit_line(f"No references to {name!r} found (defined at "
                            + ", ".join(graph.symbols[i].location() for i in sorted(
                                ids, key=lambda i: graph.symbols[i].sort_key())[:5]) + ").",
                            max_tokens)
        return not_found(graph, name, max_tokens)
    rows.sort()
    files = sorted({r[0] for r in rows})
    defined = ""
    if ids:
        locs = sorted(ids, key=lambda i: graph.symbols[i].sort_key())
        defined = " — defined at " + ", ".join(graph.symbols[i].location() for i in locs[:5])
    else:
        defined = " — not defined in the workspace (name match only)"
    out = TextBudget(max_tokens)
    out.add(fit_line(f"{len(rows)} reference(s) to {name} in {len(files)} file(s){defined}. "
                     f"Tags: call, ref, import; call?N = one of N candidates.", max_tokens))
    footer_room = 50
    out.limit -= footer_room
    shown = 0
    current = ""
    for path, line, tag, where in rows:
        if path != current:
            if not out.add(f"{path}:"):
                break
            current = path
        file_entry = graph.files.get(path)
        lines = reader.lines(path, file_entry.hash if file_entry else "")
        code = _one_line(lines[line - 1], 120) if 0 < line <= len(lines) else ""
        if not out.add(f"  {line} [{tag}] in {where}: {code}"):
            break
        shown += 1
    out.limit += footer_room
    if shown < len(rows):
        out.add(f"[{len(rows) - shown} more reference(s) left out: budget]")
    return out.text()


def render_repo_map(graph: SymbolGraph, rank: dict[int, float], max_tokens: int) -> str:
    """Top-ranked definitions grouped by file, files ordered by their best symbol."""
    if not rank or max_tokens <= 0:
        return ""
    symbols = graph.symbols
    order = sorted(rank, key=lambda i: (-rank[i], symbols[i].sort_key()))
    limit = budget_chars(max_tokens)
    chosen: dict[str, list[int]] = {}
    used = -1
    for sid in order:
        sym = symbols[sid]
        line_len = len(_map_line(graph, sym)) + 1
        extra = line_len + (0 if sym.path in chosen else len(sym.path) + 2)
        if used + extra > limit:
            if used + 40 > limit:
                break
            continue
        chosen.setdefault(sym.path, []).append(sid)
        used += extra
    if not chosen:
        return ""
    best = {p: max(rank[i] for i in ids) for p, ids in chosen.items()}
    parts: list[str] = []
    for path in sorted(chosen, key=lambda p: (-best[p], p)):
        parts.append(f"{path}:")
        for sid in sorted(chosen[path], key=lambda i: symbols[i].sort_key()):
            parts.append(_map_line(graph, symbols[sid]))
    text = "\n".join(parts)
    while len(text) > limit and parts:  # safety net; the accounting above should prevent it
        parts.pop()
        text = "\n".join(parts)
    return text


def _map_line(graph: SymbolGraph, sym: Symbol) -> str:
    depth = 0
    parent = sym.parent
    while parent >= 0 and depth < 4:
        depth += 1
        p = graph.symbols.get(parent)
        parent = p.parent if p is not None else -1
    return f"{'  ' * (depth + 1)}{sym.start_line}: {_one_line(sym.signature, 150)}"
