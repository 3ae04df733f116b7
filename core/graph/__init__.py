"""The code graph: tree-sitter symbols and references of a workspace, stored in DuckDB, queried
in memory within token budgets."""

from .codegraph import DB_RELATIVE_PATH, CodeGraph
from .model import FileFacts, IndexReport, Reference, Symbol
from .protocol import GraphProtocol
from .render import estimate_tokens
from .store import GraphStore, GraphStoreBusy

__all__ = ["DB_RELATIVE_PATH", "CodeGraph", "FileFacts", "GraphProtocol", "GraphStore",
           "GraphStoreBusy", "IndexReport", "Reference", "Symbol", "estimate_tokens"]
