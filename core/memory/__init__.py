"""Long-term project memory (DuckDB + full-text search), sessions on disk, instruction files,
and secret redaction."""

from .database import DatabaseError, fts_extension_path, load_fts
from .instructions import INSTRUCTION_FILES, load_instructions
from .redact import redact, redact_obj
from .sessions import SessionError, SessionInfo, SessionNotFound, SessionStore, render_transcript
from .store import (
    MEMORY_DB,
    MEMORY_TYPES,
    MemoryEntry,
    MemoryProtocol,
    MemoryStore,
    MemoryStoreError,
    RememberedFact,
    classify_memory,
    detect_remember,
    remember_from_message,
)

__all__ = [
    "INSTRUCTION_FILES",
    "MEMORY_DB",
    "MEMORY_TYPES",
    "DatabaseError",
    "MemoryEntry",
    "MemoryProtocol",
    "MemoryStore",
    "MemoryStoreError",
    "RememberedFact",
    "SessionError",
    "SessionInfo",
    "SessionNotFound",
    "SessionStore",
    "classify_memory",
    "detect_remember",
    "fts_extension_path",
    "load_fts",
    "load_instructions",
    "redact",
    "redact_obj",
    "remember_from_message",
    "render_transcript",
]
