"""Plain records of the code graph: what one file yields, and what an index run reports.

Parsed facts travel between processes as tuples (cheap to pickle); the in-memory graph turns them
into :class:`Symbol` and :class:`Reference` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# One symbol as extracted: its ordinal in the file is its index in FileFacts.symbols.
# (name, qualname, kind, parent_ord, start_line, end_line, signature, doc)
SymbolTuple = tuple[str, str, str, int, int, int, str, str]
# One use of a name: (enclosing symbol ordinal or -1, name, qualifier, kind "call"|"ref", line)
RefTuple = tuple[int, str, str, str, int]
# One import: (module, imported name or "", local alias or "", line)
ImportTuple = tuple[str, str, str, int]

STATUS_OK = "ok"  # parsed cleanly
STATUS_PARTIAL = "partial"  # parsed with syntax errors; symbols kept as far as they parse
STATUS_SKIPPED = "skipped"  # binary, generated or too large: no symbols
STATUS_ERROR = "error"  # could not be read or extracted: no symbols


@dataclass
class FileFacts:
    """Everything the graph knows about one file, as produced by the extractor."""

    path: str  # workspace-relative POSIX path
    lang: str
    hash: str
    size: int
    mtime_ns: int
    lines: int = 0
    status: str = STATUS_OK
    message: str = ""  # parse error or skip reason
    symbols: list[SymbolTuple] = field(default_factory=list)
    refs: list[RefTuple] = field(default_factory=list)
    imports: list[ImportTuple] = field(default_factory=list)


class Symbol:
    """A definition in the in-memory graph. ``id`` is process-local; never shown or persisted."""

    __slots__ = (
        "doc",
        "end_line",
        "id",
        "kind",
        "name",
        "ord",
        "parent",
        "path",
        "qualname",
        "signature",
        "start_line",
    )

    def __init__(self, id: int, path: str, ord: int, name: str, qualname: str, kind: str,
                 parent: int, start_line: int, end_line: int, signature: str, doc: str):
        self.id = id
        self.path = path
        self.ord = ord
        self.name = name
        self.qualname = qualname
        self.kind = kind
        self.parent = parent  # id of the containing symbol, -1 at top level
        self.start_line = start_line
        self.end_line = end_line
        self.signature = signature
        self.doc = doc

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.start_line, self.qualname)

    def location(self) -> str:
        return f"{self.path}:{self.start_line}"

    def __repr__(self) -> str:
        return f"Symbol({self.kind} {self.qualname} @ {self.path}:{self.start_line})"


class Reference(NamedTuple):
    """One use of a name in a file: a call or another reference, inside symbol ``src`` (or -1)."""

    path: str
    src: int  # ordinal (in this file) of the innermost enclosing symbol, -1 at module level
    name: str
    qual: str  # receiver/qualifier text ("self", "os.path", "?" for an expression), or ""
    kind: str  # "call" | "ref"
    line: int


@dataclass
class IndexReport:
    """What one ``CodeGraph.index`` / ``update_files`` run did."""

    files_seen: int = 0
    parsed: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message), incl. partial
    symbols: int = 0  # total in the graph after the run
    references: int = 0
    files: int = 0  # files in the graph after the run
    seconds: float = 0.0

    def __str__(self) -> str:
        return self.summary().split("\n", 1)[0]

    def summary(self) -> str:
        head = (f"indexed {self.files} files ({self.parsed} parsed, {self.unchanged} unchanged, "
                f"{self.removed} removed, {len(self.skipped)} skipped) in {self.seconds:.2f}s: "
                f"{self.symbols} symbols, {self.references} references")
        lines = [head]
        for path, message in self.errors[:20]:
            lines.append(f"  parse problem: {path}: {message}")
        if len(self.errors) > 20:
            lines.append(f"  ... and {len(self.errors) - 20} more files with parse problems")
        return "\n".join(lines)
