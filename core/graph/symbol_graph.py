"""The in-memory symbol graph: definitions, uses, import bindings, name resolution, fuzzy lookup.

Loaded once from the store, then patched file by file. Resolution of a use to its definitions is
done lazily and memoised until the next change: same file first, then what the file imports, then
same-package files (Go, Java), then every definition of that name — and when more than one
remains they are all kept as candidates, never guessed between.

Not thread-safe by itself; :class:`~smallcode.core.graph.codegraph.CodeGraph` serialises access.
"""

from __future__ import annotations

import bisect
import gc
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat

from .extract import normalize_join
from .languages import CLASS_KINDS, LANGUAGES
from .model import FileFacts, ImportTuple, Reference, Symbol
from .store import StoredGraph

SELF_WORDS = frozenset({"self", "this", "cls", "Self", "super", "super()", "@"})
# Languages where an unqualified call cannot reach a method (no implicit ``this``).
NO_IMPLICIT_THIS = frozenset({"python", "javascript", "typescript", "tsx", "go", "rust", "c"})
# Names resolve only within a family of languages that can call each other directly.
FAMILY = {"python": "python", "javascript": "js", "typescript": "js", "tsx": "js", "go": "go",
          "rust": "rust", "java": "java", "c": "c", "cpp": "c", "ruby": "ruby"}
_SUBWORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


_C_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".c++")


def subwords(name: str) -> list[str]:
    """``parseHTTPRequest_v2`` -> ['parse', 'http', 'request', 'v', '2']."""
    return [w.lower() for w in _SUBWORD.findall(name)]


@dataclass
class FileEntry:
    path: str
    lang: str
    hash: str
    size: int
    mtime_ns: int
    lines: int
    status: str
    message: str
    base: int = 0  # id of the file's first symbol; symbol id = base + ordinal
    count: int = 0
    refs: list[Reference] = field(default_factory=list)
    imports: list[ImportTuple] = field(default_factory=list)
    _refs_by_src: dict[int, list[Reference]] | None = None

    def refs_by_src(self) -> dict[int, list[Reference]]:
        """Uses grouped by the ordinal of their enclosing symbol (built on first need)."""
        if self._refs_by_src is None:
            grouped: dict[int, list[Reference]] = {}
            for ref in self.refs:
                grouped.setdefault(ref.src, []).append(ref)
            self._refs_by_src = grouped
        return self._refs_by_src

    _local_names: dict[str, list[int]] | None = None

    def local_names(self, symbols: dict[int, Symbol]) -> dict[str, list[int]]:
        """Ids of this file's definitions by name (built on first need)."""
        if self._local_names is None:
            names: dict[str, list[int]] = {}
            for sid in range(self.base, self.base + self.count):
                sym = symbols.get(sid)
                if sym is not None:
                    names.setdefault(sym.name, []).append(sid)
            self._local_names = names
        return self._local_names

    def symbol_id(self, ordinal: int) -> int:
        return self.base + ordinal if ordinal >= 0 else -1


@dataclass
class Bindings:
    """What a file's imports make visible, resolved to workspace files."""

    names: dict[str, tuple[frozenset[str], str]] = field(default_factory=dict)
    modules: dict[str, frozenset[str]] = field(default_factory=dict)
    star: frozenset[str] = frozenset()


class SymbolGraph:
    def __init__(self) -> None:
        self.files: dict[str, FileEntry] = {}
        self.symbols: dict[int, Symbol] = {}
        self.by_name: dict[str, list[int]] = {}
        self.by_qualname: dict[str, list[int]] = {}
        self.children: dict[int, list[int]] = {}
        self.refs_by_name: dict[str, list[Reference]] = {}
        self.ref_count = 0
        self.version = 0
        self._next_id = 0
        self._clear_derived()

    def _clear_derived(self) -> None:
        self._resolved: dict[int, tuple[int, ...]] = {}
        self._family_cache: dict[tuple[str, str], list[int]] = {}
        self._by_owner: dict[tuple[str, str], list[int]] | None = None
        self._bindings: dict[str, Bindings] = {}
        self._stems: dict[str, list[str]] | None = None
        self._stem_suffix: dict[str, list[str]] | None = None
        self._path_suffix: dict[str, list[str]] | None = None
        self._dir_suffix: dict[str, list[str]] | None = None
        self._name_lower: dict[str, list[str]] | None = None
        self._sorted_lower: list[str] = []
        self._token_index: dict[str, set[str]] | None = None

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def from_store(cls, stored: StoredGraph) -> SymbolGraph:
        # Hundreds of thousands of small objects: the cyclic GC would rescan them over and over
        # while they are created; pause it, then freeze the survivors out of future collections.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return cls._from_store(stored)
        finally:
            if enabled:
                gc.enable()
            gc.freeze()

    @classmethod
    def _from_store(cls, stored: StoredGraph) -> SymbolGraph:
        graph = cls()
        files = graph.files
        for row in stored.files:
            files[row.path] = FileEntry(row.path, row.lang, row.hash, row.size, row.mtime_ns,
                                        row.lines, row.status, row.message)
        s = stored.symbols
        current = None
        entry: FileEntry | None = None
        base = 0
        add = graph._add_symbol
        for path, ordinal, name, qualname, kind, parent, start, end, sig, doc in zip(
                s["path"], s["ord"], s["name"], s["qualname"], s["kind"], s["parent"],
                s["start_line"], s["end_line"], s["signature"], s["doc"]):
            if path != current:
                current = path
                entry = files.get(path)
                if entry is not None:
                    base = entry.base = graph._next_id
            if entry is None:  # orphan rows cannot happen with transactional writes; be safe
                continue
            entry.count = ordinal + 1
            graph._next_id = base + ordinal + 1
            add(Symbol(base + ordinal, path, ordinal, name, qualname, kind,
                       base + parent if parent >= 0 else -1, start, end, sig, doc))
        make = partial(tuple.__new__, Reference)
        for path, columns in stored.refs.items():
            entry = files.get(path)
            if entry is not None:
                entry.refs = list(map(make, zip(repeat(path), *columns)))
                graph._index_refs(entry.refs)
        for path, columns in stored.imports.items():
            entry = files.get(path)
            if entry is not None:
                entry.imports = list(zip(*columns))
        return graph

    def _add_symbol(self, sym: Symbol) -> None:
        self.symbols[sym.id] = sym
        ids = self.by_name.get(sym.name)
        if ids is None:
            self.by_name[sym.name] = [sym.id]
            if self._name_lower is not None:
                self._name_added(sym.name)
        else:
            ids.append(sym.id)
        self.by_qualname.setdefault(sym.qualname, []).append(sym.id)
        if sym.parent >= 0:
            self.children.setdefault(sym.parent, []).append(sym.id)
        if self._by_owner is not None:
            key = _owner_key(sym)
            if key is not None:
                self._by_owner.setdefault(key, []).append(sym.id)

    def _remove_symbol(self, sid: int) -> str | None:
        sym = self.symbols.pop(sid, None)
        if sym is None:
            return None
        _remove(self.by_name, sym.name, sid)
        if sym.name not in self.by_name and self._name_lower is not None:
            self._name_removed(sym.name)
        _remove(self.by_qualname, sym.qualname, sid)
        if sym.parent >= 0:
            _remove(self.children, sym.parent, sid)
        self.children.pop(sid, None)
        if self._by_owner is not None:
            key = _owner_key(sym)
            if key is not None:
                _remove(self._by_owner, key, sid)
        return sym.name

    def _name_added(self, name: str) -> None:
        assert self._name_lower is not None and self._token_index is not None
        low = name.lower()
        if low not in self._name_lower:
            bisect.insort(self._sorted_lower, low)
        self._name_lower.setdefault(low, []).append(name)
        for tok in subwords(name):
            self._token_index.setdefault(tok, set()).add(name)

    def _name_removed(self, name: str) -> None:
        assert self._name_lower is not None and self._token_index is not None
        low = name.lower()
        _remove(self._name_lower, low, name)
        if low not in self._name_lower:
            i = bisect.bisect_left(self._sorted_lower, low)
            if i < len(self._sorted_lower) and self._sorted_lower[i] == low:
                del self._sorted_lower[i]
        for tok in subwords(name):
            names = self._token_index.get(tok)
            if names is not None:
                names.discard(name)
                if not names:
                    del self._token_index[tok]

    def _index_refs(self, refs: list[Reference]) -> None:
        by_name = self.refs_by_name
        for ref in refs:
            lst = by_name.get(ref.name)
            if lst is None:
                by_name[ref.name] = [ref]
            else:
                lst.append(ref)
        self.ref_count += len(refs)

    def remove_file(self, path: str, *, replacing: bool = False) -> set[str]:
        """Drop a file's symbols and uses; returns the names it defined."""
        entry = self.files.pop(path, None)
        if entry is None:
            return set()
        names: set[str] = set()
        for sid in range(entry.base, entry.base + entry.count):
            name = self._remove_symbol(sid)
            if name is not None:
                names.add(name)
        resolved = self._resolved
        for ref in entry.refs:  # ids of dead objects may be reused: forget them now
            resolved.pop(id(ref), None)
        for name in {ref.name for ref in entry.refs}:
            lst = self.refs_by_name.get(name)
            if lst is not None:
                kept = [r for r in lst if r.path != path]
                if kept:
                    self.refs_by_name[name] = kept
                else:
                    del self.refs_by_name[name]
        self.ref_count -= len(entry.refs)
        if not replacing:
            self._changed(structure=True)
        return names

    def add_file(self, facts: FileFacts) -> None:
        existed = facts.path in self.files
        names = self.remove_file(facts.path, replacing=True)
        base = self._next_id
        entry = FileEntry(facts.path, facts.lang, facts.hash, facts.size, facts.mtime_ns,
                          facts.lines, facts.status, facts.message, base=base,
                          count=len(facts.symbols))
        self._next_id += len(facts.symbols)
        self.files[facts.path] = entry
        for ordinal, (name, qualname, kind, parent, start, end, sig, doc) in \
                enumerate(facts.symbols):
            self._add_symbol(Symbol(base + ordinal, facts.path, ordinal, name, qualname, kind,
                                    base + parent if parent >= 0 else -1, start, end, sig, doc))
            names.add(name)
        entry.refs = [Reference(facts.path, *r) for r in facts.refs]
        entry.imports = list(facts.imports)
        self._index_refs(entry.refs)
        self._changed(structure=not existed, names=names, path=facts.path)

    def touch_file(self, path: str, mtime_ns: int) -> None:
        entry = self.files.get(path)
        if entry is not None:
            entry.mtime_ns = mtime_ns

    def _changed(self, *, structure: bool, names: Iterable[str] = (), path: str = "") -> None:
        """A file was added/removed (``structure``: module resolution may change, forget all
        derived data) or re-parsed in place (forget only what depends on the names it defined
        before or after, and its own import bindings)."""
        self.version += 1
        if structure:
            self._clear_derived()
            return
        resolved = self._resolved
        families = set(FAMILY.values())
        for name in names:
            for ref in self.refs_by_name.get(name, ()):
                resolved.pop(id(ref), None)
            for family in families:
                self._family_cache.pop((name, family), None)
        self._bindings.pop(path, None)

    # -- paths and imports --------------------------------------------------------------------

    def _build_path_indexes(self) -> None:
        stems: dict[str, list[str]] = {}
        stem_suffix: dict[str, list[str]] = {}
        path_suffix: dict[str, list[str]] = {}
        dir_suffix: dict[str, list[str]] = {}
        for path in sorted(self.files):
            stem, _ = posixpath.splitext(path)
            keys = [stem]
            head, last = posixpath.split(stem)
            if last in ("__init__", "mod", "index") and head:
                keys.append(head)
            for key in keys:
                stems.setdefault(key, []).append(path)
                parts = key.split("/")
                for k in range(len(parts)):
                    stem_suffix.setdefault("/".join(parts[k:]), []).append(path)
            parts = path.split("/")
            for k in range(len(parts)):
                path_suffix.setdefault("/".join(parts[k:]), []).append(path)
            dparts = parts[:-1]
            for k in range(len(dparts)):
                dir_suffix.setdefault("/".join(dparts[k:]), []).append(path)
            if not dparts:
                dir_suffix.setdefault("", []).append(path)
        self._stems, self._stem_suffix = stems, stem_suffix
        self._path_suffix, self._dir_suffix = path_suffix, dir_suffix

    def _exact_stem(self, stem: str) -> list[str]:
        if self._stems is None:
            self._build_path_indexes()
        assert self._stems is not None
        return self._stems.get(stem, [])

    def _suffix(self, index_name: str, key: str) -> list[str]:
        if self._stems is None:
            self._build_path_indexes()
        index = getattr(self, index_name)
        return index.get(key.strip("/"), []) if key else []

    def module_files(self, path: str, lang: str, module: str) -> frozenset[str]:
        """Workspace files an import of ``module`` in ``path`` refers to (empty if external)."""
        if not module:
            return frozenset()
        here = posixpath.dirname(path)
        if lang == "python":
            if module.startswith("."):
                dots = len(module) - len(module.lstrip("."))
                parts = here.split("/") if here else []
                if dots - 1 > len(parts):
                    return frozenset()
                parts = parts[:len(parts) - (dots - 1)]
                rest = module[dots:]
                stem = "/".join(parts + (rest.split(".") if rest else []))
                return frozenset(self._exact_stem(stem))
            return frozenset(self._suffix("_stem_suffix", module.replace(".", "/")))
        if lang in ("javascript", "typescript", "tsx") or (lang == "ruby" and
                                                           module.startswith(".")):
            if not module.startswith("."):
                return frozenset()
            stem = normalize_join(here, module)
            found = self._exact_stem(stem)
            if not found:
                found = self._exact_stem(posixpath.splitext(stem)[0])
            return frozenset(found)
        if lang == "ruby":
            return frozenset(self._suffix("_stem_suffix", module))
        if lang == "go":
            parts = module.split("/")
            for k in range(len(parts)):
                found = self._suffix("_dir_suffix", "/".join(parts[k:]))
                found = [f for f in found if f.endswith(".go")]
                if found:
                    return frozenset(found)
            return frozenset()
        if lang == "rust":
            parts = [p for p in module.split("::") if p not in ("crate", "self", "super", "")]
            if not parts or parts[0] in ("std", "core", "alloc"):
                return frozenset()
            return frozenset(f for f in self._suffix("_stem_suffix", "/".join(parts))
                             if f.endswith(".rs"))
        if lang == "java":
            return frozenset(f for f in self._suffix("_stem_suffix", module.replace(".", "/"))
                             if f.endswith(".java"))
        if lang in ("c", "cpp"):
            headers = self._suffix("_path_suffix", module)
            with_sources = set(headers)
            for header in headers:  # util.h is implemented by util.c / util.cpp next to it
                with_sources.update(f for f in self._exact_stem(posixpath.splitext(header)[0])
                                    if f.endswith(_C_SOURCES))
            return frozenset(with_sources)
        return frozenset()

    def bindings(self, path: str) -> Bindings:
        cached = self._bindings.get(path)
        if cached is not None:
            return cached
        entry = self.files.get(path)
        b = Bindings()
        if entry is None:
            return b
        lang = entry.lang
        star: set[str] = set()
        for module, name, alias, _line in entry.imports:
            if lang == "python":
                if not name:
                    files = self.module_files(path, lang, module)
                    if alias:
                        b.modules[alias] = files
                    else:
                        b.modules[module] = files
                        head = module.split(".", 1)[0]
                        b.modules.setdefault(head, self.module_files(path, lang, head))
                elif name == "*":
                    star |= self.module_files(path, lang, module)
                else:
                    files = self.module_files(path, lang, module)
                    local = alias or name
                    b.names[local] = (files, name)
                    sep = "" if module.endswith(".") else "."
                    sub = self.module_files(path, lang, f"{module}{sep}{name}")
                    if sub:
                        b.modules[local] = sub
            elif lang in ("javascript", "typescript", "tsx"):
                files = self.module_files(path, lang, module)
                if name and name != "default":
                    b.names[alias or name] = (files, name)
                elif name == "default" and alias:
                    b.names[alias] = (files, alias)
                elif alias:
                    b.modules[alias] = files
            elif lang == "go":
                files = self.module_files(path, lang, module)
                local = alias or module.rsplit("/", 1)[-1]
                if local not in ("_", "."):
                    b.modules[local] = files
                elif local == ".":
                    star |= files
            elif lang == "rust":
                files = self.module_files(path, lang, module)
                local = alias or name
                if name == "*":
                    star |= files
                elif name:
                    b.names[local] = (files, name)
                    sub = self.module_files(path, lang, f"{module}::{name}")
                    if sub:
                        b.modules[local] = sub
                else:
                    b.modules[local or module.rsplit("::", 1)[-1]] = files
            elif lang == "java":
                if name == "*":
                    star |= frozenset(f for f in self._suffix("_dir_suffix",
                                                              module.replace(".", "/"))
                                      if f.endswith(".java"))
                else:
                    files = self.module_files(path, lang, f"{module}.{name}")
                    b.names[name] = (files, name)
                    b.modules[name] = files
            else:  # c, cpp, ruby: includes and requires make every name visible
                star |= self.module_files(path, lang, module)
        b.star = frozenset(star)
        self._bindings[path] = b
        return b

    # -- resolution ---------------------------------------------------------------------------

    def enclosing_class(self, sid: int) -> int:
        while sid >= 0:
            sym = self.symbols.get(sid)
            if sym is None:
                return -1
            if sym.kind in CLASS_KINDS:
                return sid
            sid = sym.parent
        return -1

    def resolve(self, ref: Reference) -> tuple[int, ...]:
        """Definitions a use may refer to; more than one means ambiguous, none means unknown."""
        key = id(ref)
        hit = self._resolved.get(key)
        if hit is None:
            hit = self._resolved[key] = self._resolve(ref)
        return hit

    def _resolve(self, ref: Reference) -> tuple[int, ...]:
        cands = self.by_name.get(ref.name)
        if not cands:
            return ()
        symbols = self.symbols
        files = self.files
        path = ref.path
        entry = files.get(path)
        lang = entry.lang if entry is not None else ""
        family = FAMILY.get(lang, lang)
        cands = self._family_candidates(ref.name, family)
        if not cands:
            return ()
        qual = ref.qual
        if qual:
            if qual in SELF_WORDS:
                cls = self.enclosing_class(entry.base + ref.src
                                           if entry is not None and ref.src >= 0 else -1)
                if cls >= 0:
                    members = [c for c in self.children.get(cls, ()) if symbols[c].name == ref.name]
                    if members:
                        return tuple(members)
                same = self._in_file(entry, ref.name) if entry is not None else []
                return tuple(same or cands)
            b = self.bindings(path)
            parts = qual.replace("::", ".").split(".")
            head = parts[0]
            module_files = b.modules.get(qual) or b.modules.get(head)
            if module_files:
                found = [c for c in cands if symbols[c].path in module_files]
                if found:
                    return tuple(found)
            owned = self._owned_by(ref.name, family, parts[-1])
            return owned or tuple(cands)
        no_methods = lang in NO_IMPLICIT_THIS
        same = self._in_file(entry, ref.name) if entry is not None else []
        if no_methods:
            same = [c for c in same if symbols[c].kind != "method"]
        if same:
            return tuple(same)
        if no_methods:
            cands = [c for c in cands if symbols[c].kind != "method"]
        if family == "c":  # a static function is invisible outside its file
            cands = [c for c in cands if not symbols[c].signature.startswith("static ")]
        if not cands:
            return ()
        b = self.bindings(path)
        bound = b.names.get(ref.name)
        if bound is not None:
            bound_files, remote = bound
            found = [c for c in self.by_name.get(remote, ()) if symbols[c].path in bound_files]
            if found:
                return tuple(found)
        if b.star:
            found = [c for c in cands if symbols[c].path in b.star]
            if found:
                return tuple(found)
        spec = LANGUAGES.get(lang)
        if spec is not None and spec.same_package_dirs:
            here = posixpath.dirname(path)
            found = [c for c in cands if posixpath.dirname(symbols[c].path) == here]
            if found:
                return tuple(found)
        return tuple(cands)

    def source_of(self, ref: Reference) -> int:
        """Id of the symbol a use sits in, or -1 at module level."""
        if ref.src < 0:
            return -1
        entry = self.files.get(ref.path)
        return entry.base + ref.src if entry is not None else -1

    def _in_file(self, entry: FileEntry, name: str) -> list[int]:
        return entry.local_names(self.symbols).get(name, [])

    def _family_candidates(self, name: str, family: str) -> list[int]:
        """Definitions of ``name`` in files of one language family (memoised per version)."""
        key = (name, family)
        hit = self._family_cache.get(key)
        if hit is None:
            symbols, files = self.symbols, self.files
            hit = [c for c in self.by_name.get(name, ())
                   if FAMILY.get(files[symbols[c].path].lang) == family]
            self._family_cache[key] = hit
        return hit

    def _owned_by(self, name: str, family: str, owner: str) -> tuple[int, ...]:
        """Definitions of ``name`` whose container (last qualname segment before it) is
        ``owner``: ``Point::new`` -> Point.new, ``Helper.help()`` -> Helper.help."""
        if self._by_owner is None:
            by_owner: dict[tuple[str, str], list[int]] = {}
            for sid, sym in self.symbols.items():
                key = _owner_key(sym)
                if key is not None:
                    by_owner.setdefault(key, []).append(sid)
            self._by_owner = by_owner
        symbols, files = self.symbols, self.files
        return tuple(c for c in self._by_owner.get((owner, name), ())
                     if FAMILY.get(files[symbols[c].path].lang) == family)

    def callees(self, sid: int) -> list[tuple[Reference, tuple[int, ...]]]:
        sym = self.symbols.get(sid)
        entry = self.files.get(sym.path) if sym is not None else None
        if sym is None or entry is None:
            return []
        return [(ref, self.resolve(ref)) for ref in entry.refs_by_src().get(sym.ord, ())]

    def callers(self, sid: int) -> list[tuple[Reference, int]]:
        """Uses that resolve to ``sid`` (the resolution count tells how sure it is)."""
        sym = self.symbols.get(sid)
        if sym is None:
            return []
        out = []
        for ref in self.refs_by_name.get(sym.name, ()):
            targets = self.resolve(ref)
            if sid in targets:
                out.append((ref, len(targets)))
        return out

    # -- lookup -------------------------------------------------------------------------------

    def _build_name_indexes(self) -> None:
        lower: dict[str, list[str]] = {}
        tokens: dict[str, set[str]] = {}
        for name in self.by_name:
            lower.setdefault(name.lower(), []).append(name)
            for tok in subwords(name):
                tokens.setdefault(tok, set()).add(name)
        self._name_lower = lower
        self._sorted_lower = sorted(lower)
        self._token_index = tokens

    def lookup(self, name: str) -> list[int]:
        """Exact definitions of ``name``, a qualified ``Class.method``, or a module-qualified
        ``pkg.mod.func`` / ``pkg.mod.Class.method``."""
        name = name.strip().replace("::", ".").replace("#", ".")
        found = list(self.by_qualname.get(name, ()))
        if not found:
            found = list(self.by_name.get(name, ()))
        if not found and "." in name:
            parts = name.split(".")
            for k in range(len(parts) - 1, 0, -1):
                module = "/".join(parts[:k])
                qualname = ".".join(parts[k:])
                found = [c for c in self.by_qualname.get(qualname, ())
                         if _module_of(self.symbols[c].path) == module
                         or _module_of(self.symbols[c].path).endswith("/" + module)]
                if found:
                    break
            if not found:
                found = [c for c in self.by_name.get(parts[-1], ())
                         if self.symbols[c].qualname.endswith("." + ".".join(parts[-2:]))]
        return sorted(found, key=lambda i: self.symbols[i].sort_key())

    def fuzzy_names(self, term: str, limit: int = 20) -> list[tuple[float, str]]:
        """Names close to ``term``, best first: exact, case-insensitive, prefix, sub-words,
        substring. Deterministic."""
        if self._name_lower is None:
            self._build_name_indexes()
        assert self._name_lower is not None and self._token_index is not None
        scores: dict[str, float] = {}

        def add(name: str, score: float) -> None:
            if score > scores.get(name, 0.0):
                scores[name] = score

        if term in self.by_name:
            add(term, 100.0)
        low = term.lower()
        for name in self._name_lower.get(low, ()):
            add(name, 90.0)
        if len(low) >= 3:
            i = bisect.bisect_left(self._sorted_lower, low)
            n = 0
            while i < len(self._sorted_lower) and self._sorted_lower[i].startswith(low) and n < 50:
                for name in self._name_lower[self._sorted_lower[i]]:
                    add(name, 70.0 - min(20.0, (len(name) - len(low)) / 2))
                i += 1
                n += 1
        words = subwords(term)
        if words:
            sets = [self._token_index.get(w, set()) for w in words]
            common = set.intersection(*sets) if all(sets) else set()
            for name in common:
                extra = len(subwords(name)) - len(words)
                add(name, 60.0 - min(15.0, extra * 3.0))
            if len(words) > 1 and len(scores) < limit:
                for w, s in zip(words, sets):
                    if len(w) < 3 or len(s) > 200:
                        continue
                    for name in s:
                        add(name, 30.0 * (1.0 / len(words)) + 5.0)
        if not scores and len(low) >= 4:
            for lname in self._sorted_lower:
                if low in lname:
                    for name in self._name_lower[lname]:
                        add(name, 40.0 - min(20.0, (len(name) - len(low)) / 2))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))
        return [(score, name) for name, score in ranked[:limit]]

    def names_ignoring_case(self, term: str) -> list[str]:
        if self._name_lower is None:
            self._build_name_indexes()
        assert self._name_lower is not None
        return list(self._name_lower.get(term.lower(), ()))

    def all_names(self) -> Iterable[str]:
        return self.by_name.keys()


def _owner_key(sym: Symbol) -> tuple[str, str] | None:
    q = sym.qualname
    cut = q.rfind(".")
    if cut <= 0:
        return None
    return q[q.rfind(".", 0, cut) + 1:cut], sym.name


def _module_of(path: str) -> str:
    """``pkg/mod.py`` -> ``pkg/mod``; ``pkg/__init__.py`` -> ``pkg``."""
    stem, _ = posixpath.splitext(path)
    head, last = posixpath.split(stem)
    return head if last in ("__init__", "index", "mod") and head else stem


def _remove(index: dict, key: object, value: object) -> None:
    lst = index.get(key)
    if lst is None:
        return
    try:
        lst.remove(value)
    except ValueError:
        return
    if not lst:
        del index[key]
