"""Personalised PageRank over the symbol reference graph, for the ranked repository map.

Nodes are symbols plus one node per file (for module-level code). A use contributes an edge from
its enclosing symbol (or file) to each definition it may refer to, weighted 1/candidates so an
ambiguous name spreads its vote; a member also votes for its container. The edge arrays are built
once per graph version and reused for every personalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .symbol_graph import SymbolGraph

MAX_RANK_CANDIDATES = 8


@dataclass
class RankEdges:
    version: int
    symbol_ids: list[int]  # node index -> symbol id (first len(symbol_ids) nodes)
    file_paths: list[str]  # node index - len(symbol_ids) -> file
    index_of: dict[int, int]  # symbol id -> node index
    file_index: dict[str, int]
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray  # normalised per source (row-stochastic)
    dangling: np.ndarray  # bool per node: no outgoing edges


def build_edges(graph: SymbolGraph) -> RankEdges:
    symbol_ids = sorted(graph.symbols, key=lambda i: graph.symbols[i].sort_key())
    index_of = {sid: n for n, sid in enumerate(symbol_ids)}
    file_paths = sorted(graph.files)
    offset = len(symbol_ids)
    file_index = {p: offset + n for n, p in enumerate(file_paths)}
    src: list[int] = []
    dst: list[int] = []
    weight: list[float] = []
    for path in file_paths:
        base = graph.files[path].base
        for ref in graph.files[path].refs:
            targets = graph.resolve(ref)
            if not targets or len(targets) > MAX_RANK_CANDIDATES:
                continue  # unknown, or so ambiguous (x.get()) that it says nothing
            s = index_of.get(base + ref.src, -1) if ref.src >= 0 else file_index[path]
            if s < 0:
                continue
            w = 1.0 / len(targets)
            for t in targets:
                d = index_of.get(t)
                if d is not None and d != s:
                    src.append(s)
                    dst.append(d)
                    weight.append(w)
    for sid in symbol_ids:
        sym = graph.symbols[sid]
        if sym.parent >= 0 and sym.parent in index_of:
            src.append(index_of[sid])
            dst.append(index_of[sym.parent])
            weight.append(0.5)
    n = offset + len(file_paths)
    src_a = np.asarray(src, dtype=np.int64)
    dst_a = np.asarray(dst, dtype=np.int64)
    w_a = np.asarray(weight, dtype=np.float64)
    out = np.bincount(src_a, weights=w_a, minlength=n) if n else np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(out[src_a] > 0, w_a / out[src_a], 0.0) if len(src_a) else w_a
    return RankEdges(graph.version, symbol_ids, file_paths, index_of, file_index, src_a, dst_a,
                     norm, out == 0)


def personalised_pagerank(edges: RankEdges, personal: dict[int, float] | None = None,
                          damping: float = 0.85, iterations: int = 40,
                          tol: float = 1e-10) -> np.ndarray:
    """Rank per node; ``personal`` maps node index -> weight (None = uniform teleport)."""
    n = len(edges.symbol_ids) + len(edges.file_paths)
    if n == 0:
        return np.zeros(0)
    if personal:
        p = np.zeros(n)
        for node, w in personal.items():
            p[node] += w
        total = p.sum()
        p = p / total if total > 0 else np.full(n, 1.0 / n)
    else:
        p = np.full(n, 1.0 / n)
    rank = p.copy()
    for _ in range(iterations):
        spread = np.bincount(edges.dst, weights=rank[edges.src] * edges.weight, minlength=n)
        lost = rank[edges.dangling].sum()
        new = damping * (spread + lost * p) + (1.0 - damping) * p
        if np.abs(new - rank).sum() < tol:
            rank = new
            break
        rank = new
    return rank
