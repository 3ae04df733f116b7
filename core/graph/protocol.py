"""The graph interface the agent, tools and planner depend on.

Satisfied by :class:`~smallcode.core.graph.codegraph.CodeGraph` in-process and by
``smallcode.actors.indexer.IndexerClient`` (an actor handle wrapped for synchronous calls).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from .model import IndexReport


@runtime_checkable
class GraphProtocol(Protocol):
    def index(self, paths: Sequence[str] | None = None) -> IndexReport: ...

    def update_files(self, changed: Sequence[str], deleted: Sequence[str] = ()) -> IndexReport:
        ...

    def search(self, query: str, max_tokens: int = 2000) -> str: ...

    def explain(self, name: str, max_tokens: int = 1500) -> str: ...

    def references(self, name: str, max_tokens: int = 2000) -> str: ...

    def repo_map(self, max_tokens: int, focus_files: Sequence[str] = (),
                 focus_names: Sequence[str] = ()) -> str: ...

    def resolve_symbol_files(self, name: str) -> list[str]: ...

    def relevant_files(self, text: str, limit: int = 5) -> list[str]: ...

    def stats(self) -> dict[str, Any]: ...
