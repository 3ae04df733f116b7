"""``scope_check``: which symbols, modules and files a piece of code (or a list of names) refers
to that do not exist in the project — hallucinated APIs caught before they are written.

Python code is parsed with :mod:`ast`; other languages by their import/require statements and
call sites. Names are checked against the code graph (``resolve_symbol_files``), builtins, the
code's own definitions and the filesystem. Standard-library and installed modules are
*external*, never missing; attributes of standard-library modules are checked by import
(``os.path.exists_file`` is reported), third-party modules are not imported.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

_BUILTIN_NAMES = frozenset(dir(builtins))
_BUILTIN_METHODS = frozenset(
    name for t in (str, bytes, list, dict, set, frozenset, tuple, int, float, complex, object,
                   bytearray, memoryview, type(None), type, BaseException)
    for name in dir(t))
_PATH_EXTENSIONS = ("py", "pyi", "js", "jsx", "mjs", "cjs", "ts", "tsx", "json", "yaml", "yml",
                    "toml", "md", "txt", "cfg", "ini", "csv", "html", "css", "sql", "sh", "go",
                    "rs", "java", "c", "h", "cpp", "hpp", "rb", "php", "lock", "env")
_PATH_LIKE = re.compile(r"^(?:\./)?[\w.-]+(?:/[\w.-]+)*\.(?:" + "|".join(_PATH_EXTENSIONS) + r")$")
_JS_IMPORT = re.compile(r"""(?:^|\s)(?:import\s+(?:[\w*{}\s,$]+\s+from\s+)?|export\s+[\w*{}\s,$]+"""
                        r"""\s+from\s+|require\s*\(\s*|import\s*\(\s*)["']([^"']+)["']""",
                        re.MULTILINE)
_JS_CALL = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*\(")
_JS_KEYWORDS = frozenset((  # JavaScript keywords, globals and test-runner functions
    "if", "for", "while", "switch", "catch", "function", "return", "typeof", "new", "await",
    "async", "yield", "super", "this", "import", "require", "export", "class", "constructor",
    "else", "do", "try", "finally", "throw", "delete", "void", "in", "of", "instanceof",
    "console", "JSON", "Math", "Object", "Array", "String", "Number", "Boolean", "Promise",
    "Date", "Error", "Map", "Set", "RegExp", "parseInt", "parseFloat", "setTimeout",
    "clearTimeout", "setInterval", "clearInterval", "fetch", "Symbol", "describe", "it", "test",
    "expect", "beforeEach", "afterEach", "beforeAll", "afterAll",
))
_JS_EXTENSIONS = ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", "/index.ts", "/index.js")


_LANGUAGE_ALIASES = {"js": "javascript", "jsx": "javascript", "ts": "typescript", "py": "python",
                     "golang": "go", "rs": "rust", "c++": "cpp", "rb": "ruby"}
_GLOBALS: dict[str, frozenset[str]] = {
    "javascript": _JS_KEYWORDS, "typescript": _JS_KEYWORDS, "tsx": _JS_KEYWORDS,
    "go": frozenset(("len", "cap", "make", "new", "append", "copy", "delete", "panic", "recover",
                     "print", "println", "close", "complex", "real", "imag", "min", "max",
                     "clear", "string", "int", "int64", "float64", "byte", "rune", "error")),
}
_TYPE_RECEIVERS = frozenset(("Vec", "String", "Box", "Option", "Result", "HashMap", "Rc", "Arc",
                             "Self", "self", "this", "super", "System", "Math", "Objects"))
_JS_METHODS = frozenset((
    "toUpperCase", "toLowerCase", "trim", "split", "join", "map", "filter", "reduce", "forEach",
    "find", "findIndex", "some", "every", "includes", "indexOf", "slice", "splice", "push", "pop",
    "shift", "unshift", "concat", "replace", "replaceAll", "startsWith", "endsWith", "then",
    "catch", "finally", "toString", "toFixed", "keys", "values", "entries", "has", "get", "set",
    "add", "delete", "sort", "reverse", "flat", "flatMap", "padStart", "padEnd", "match", "test",
    "json", "text", "log", "error", "warn", "assign", "freeze", "stringify", "parse", "length"))


def _local_names(code: str) -> set[str]:
    """Variables and parameters a snippet binds (the extractor reports definitions only)."""
    names = set(re.findall(r"(?:\b(?:const|let|var|val|auto|my)\s+|\b)([A-Za-z_$][\w$]*)\s*(?::=|=(?!=))",
                           code))
    for group in re.findall(r"(?:const|let|var)\s*[{\[]([^}\]]*)[}\]]", code):
        names.update(p.split(":")[-1].split("=")[0].strip(" .") for p in group.split(","))
    for params in re.findall(r"\(([^()]*)\)\s*(?:=>|\{|:|->)", code):  # parameter lists
        for p in params.split(","):
            # every word: `int n` (C, Java) and `n int` (Go) both bind n; erring towards bound
            names.update(re.findall(r"[A-Za-z_$][\w$]*", p.split("=")[0].split(":")[0]))
    return names


class SymbolResolver(Protocol):
    def resolve_symbol_files(self, name: str) -> list[str]: ...


class ScopeReport(BaseModel):
    """What does not exist. ``ok`` when nothing is missing (unverified methods do not count)."""

    ok: bool = True
    missing_symbols: list[str] = Field(default_factory=list,
                                       description="called or imported names defined nowhere")
    missing_modules: list[str] = Field(default_factory=list,
                                       description="imports that are neither project modules, "
                                                   "standard library, nor installed")
    missing_files: list[str] = Field(default_factory=list,
                                     description="referenced paths not in the workspace")
    unverified_methods: list[str] = Field(
        default_factory=list, description="methods called on values of unknown type that no "
                                          "project class or builtin type defines")
    external_modules: list[str] = Field(default_factory=list,
                                        description="standard-library and installed imports")
    checked: int = Field(default=0, description="names, modules and paths checked")
    parse_error: str = ""

    def finish(self) -> ScopeReport:
        for name in ("missing_symbols", "missing_modules", "missing_files", "unverified_methods",
                     "external_modules"):
            setattr(self, name, sorted(set(getattr(self, name))))
        self.ok = not (self.missing_symbols or self.missing_modules or self.missing_files)
        return self


@dataclass
class _PyScope:
    defined: set[str] = field(default_factory=set)
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> dotted module / object
    calls: list[tuple[str, int]] = field(default_factory=list)  # dotted call targets
    imports: list[tuple[str, int]] = field(default_factory=list)  # (module, level)
    from_names: list[tuple[str, int, str]] = field(default_factory=list)  # (module, level, name)
    strings: list[str] = field(default_factory=list)


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call | ast.Subscript | ast.Constant | ast.List | ast.Dict):
        parts.append("?")  # a method on a computed value: receiver unknown
        return ".".join(reversed(parts))
    return None


def _collect_python(tree: ast.AST) -> _PyScope:
    s = _PyScope()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            s.defined.add(node.name)
        elif isinstance(node, ast.arg):
            s.defined.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            s.defined.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            s.defined.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            s.defined.update(node.names)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            s.defined.add(node.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                s.imports.append((alias.name, 0))
                if alias.asname:
                    s.aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    s.aliases.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            s.imports.append((module, node.level))
            for alias in node.names:
                if alias.name == "*":
                    continue
                s.from_names.append((module, node.level, alias.name))
                target = f"{module}.{alias.name}" if module else alias.name
                s.aliases[alias.asname or alias.name] = "." * node.level + target
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name:
                s.calls.append((name, getattr(node, "lineno", 0)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            s.strings.append(node.value)
    return s


class ScopeChecker:
    """Checks code and names against one project (its graph and its files)."""

    def __init__(self, graph: SymbolResolver, root: str | Path):
        self.graph = graph
        self.root = Path(root).resolve()
        self._module_kind: dict[str, str] = {}

    # -- modules -------------------------------------------------------------------------------
    def _project_module_path(self, module: str) -> Path | None:
        rel = Path(*module.split("."))
        for base in (self.root, self.root / "src"):
            for candidate in (base / rel.with_suffix(".py"), base / rel / "__init__.py",
                              base / rel.with_suffix(".pyi")):
                if candidate.is_file():
                    return candidate
            if (base / rel).is_dir() and any((base / rel).glob("*.py")):
                return base / rel
        return None

    def module_kind(self, module: str) -> str:
        """``project`` | ``stdlib`` | ``installed`` | ``missing`` for a dotted module name."""
        if module in self._module_kind:
            return self._module_kind[module]
        top = module.split(".")[0]
        kind: str
        if self._project_module_path(top) is not None:
            kind = "project" if self._project_module_path(module) is not None else "missing"
        elif top in sys.stdlib_module_names or top in sys.builtin_module_names:
            kind = "stdlib"
            if "." in module:  # a stdlib submodule: importing the stdlib parent is harmless
                try:
                    kind = "stdlib" if importlib.util.find_spec(module) is not None else "missing"
                except (ImportError, ValueError):
                    kind = "missing"
        else:
            try:
                kind = "installed" if importlib.util.find_spec(top) is not None else "missing"
            except (ImportError, ValueError):
                kind = "missing"
        self._module_kind[module] = kind
        return kind

    def _defined_in(self, name: str, module: str) -> bool:
        """Whether ``module`` (a project module) defines or re-exports ``name``."""
        path = self._project_module_path(module)
        if path is None:
            return False
        if self._project_module_path(f"{module}.{name}") is not None:
            return True  # a submodule
        rel = path.relative_to(self.root).as_posix()
        files = self.graph.resolve_symbol_files(name)
        if rel in files or (path.is_dir() and any(f.startswith(rel + "/") for f in files)):
            return True
        source = path / "__init__.py" if path.is_dir() else path
        if source.is_file():  # re-exported through an import, or a module-level variable
            text = source.read_text(encoding="utf-8", errors="replace")
            return re.search(rf"(?m)(?:\bimport\b.*\b{re.escape(name)}\b|^{re.escape(name)}\s*[:=])",
                             text) is not None
        return False

    def _stdlib_has(self, dotted: str) -> bool | None:
        """Whether a stdlib ``module.attr.attr`` exists (None when it cannot be told)."""
        parts = dotted.split(".")
        for k in range(len(parts), 0, -1):
            try:
                obj: Any = importlib.import_module(".".join(parts[:k]))
            except ImportError:
                continue
            except Exception:  # noqa: BLE001 - a module that fails to import: cannot tell
                return None
            for attr in parts[k:]:
                if not hasattr(obj, attr):
                    return False
                obj = getattr(obj, attr)
            return True
        return None

    def _symbol_exists(self, name: str) -> bool:
        return bool(self.graph.resolve_symbol_files(name))

    # -- code ----------------------------------------------------------------------------------
    def check_code(self, code: str, language: str = "python", path: str = "") -> ScopeReport:
        """Check ``code`` (meant for the file ``path``, if given, for relative imports)."""
        lang = (language or "python").lower()
        if lang in ("python", "py"):
            return self._check_python(code, path)
        from smallcode.core.graph.languages import LANGUAGES

        lang = _LANGUAGE_ALIASES.get(lang, lang)
        if lang not in LANGUAGES:
            raise ValueError(f"scope_check reads {', '.join(sorted(LANGUAGES))}, not {language!r}")
        return self._check_tree_sitter(code, lang, path)

    def _check_python(self, code: str, path: str) -> ScopeReport:
        report = ScopeReport()
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            report.parse_error = f"line {exc.lineno}: {exc.msg}"
            return report.finish()
        s = _collect_python(tree)
        package = ".".join(Path(path).with_suffix("").parts[:-1]) if path else ""
        resolved: dict[str, str] = {}  # local alias -> absolute dotted target

        def absolute(module: str, level: int) -> str | None:
            if level == 0:
                return module
            if not path:
                return None  # a relative import without a file: cannot resolve
            parts = package.split(".") if package else []
            if level - 1 > len(parts):
                return None
            base = parts[: len(parts) - (level - 1)]
            return ".".join([*base, module] if module else base)

        for module, level in s.imports:
            target = absolute(module, level)
            if not target:
                continue
            report.checked += 1
            kind = self.module_kind(target)
            if kind in ("stdlib", "installed"):
                report.external_modules.append(target.split(".")[0])
            elif kind == "missing":
                report.missing_modules.append(target)
        for module, level, name in s.from_names:
            target = absolute(module, level)
            if not target:
                continue
            report.checked += 1
            kind = self.module_kind(target)
            if kind == "project" and not self._defined_in(name, target) or kind == "stdlib" and self._stdlib_has(f"{target}.{name}") is False:
                report.missing_symbols.append(f"{target}.{name}")
        for alias, target in s.aliases.items():
            level = len(target) - len(target.lstrip("."))
            absolute_target = absolute(target.lstrip("."), level) if level else target
            if absolute_target:
                resolved[alias] = absolute_target
        for call, line in s.calls:
            report.checked += 1
            self._check_call(call, line, s, resolved, report)
        self._check_paths(s.strings, report)
        return report.finish()

    def _check_call(self, call: str, line: int, s: _PyScope, resolved: dict[str, str],
                    report: ScopeReport) -> None:
        head, _, rest = call.partition(".")
        if head == "?":  # method on a computed value
            self._check_method(rest.split(".")[-1], report)
            return
        if head in resolved:  # an imported name: check it through its module
            target = resolved[head] + (f".{rest}" if rest else "")
            self._check_imported(target, report)
            return
        if head in s.defined:
            if rest:
                self._check_method(rest.split(".")[-1], report)
            return
        if head in _BUILTIN_NAMES:
            if rest:
                self._check_method(rest.split(".")[-1], report)
            return
        if self._symbol_exists(head if not rest else call) or self._symbol_exists(head):
            return
        report.missing_symbols.append(head if not rest else call)

    def _check_imported(self, target: str, report: ScopeReport) -> None:
        parts = target.split(".")
        top_kind = self.module_kind(parts[0])
        if top_kind == "stdlib":
            if len(parts) > 1 and self._stdlib_has(target) is False:
                report.missing_symbols.append(target)
            return
        if top_kind != "project":
            return  # installed modules are not imported; missing modules reported at import
        for k in range(len(parts), 0, -1):  # the longest prefix that is a module
            module = ".".join(parts[:k])
            kind = self.module_kind(module)
            if kind == "missing" and k > 1:
                continue
            attrs = parts[k:]
            if kind == "project":
                if attrs and not self._defined_in(attrs[0], module):
                    report.missing_symbols.append(".".join([module, attrs[0]]))
                elif len(attrs) > 1 and not self._symbol_exists(".".join(attrs)) \
                        and not self._symbol_exists(".".join([module, *attrs])):
                    self._check_method(attrs[-1], report, qualified=".".join(parts))
            return

    def _check_method(self, method: str, report: ScopeReport, qualified: str = "") -> None:
        if method in _BUILTIN_METHODS or self._symbol_exists(method):
            return
        report.unverified_methods.append(qualified or method)

    def _check_paths(self, strings: Iterable[str], report: ScopeReport) -> None:
        for text in strings:
            if len(text) > 200 or "://" in text or text.startswith("/") or "\n" in text:
                continue
            if not _PATH_LIKE.match(text):
                continue
            report.checked += 1
            rel = text.removeprefix("./")
            try:
                target = (self.root / rel).resolve()
            except OSError:
                continue
            if not target.is_relative_to(self.root) or not target.exists():
                report.missing_files.append(rel)

    def _import_kind(self, module: str, lang: str, base: Path) -> str:
        """``project`` | ``missing`` | ``external`` for an import in a non-Python language."""
        if lang in ("javascript", "typescript", "tsx") or module.startswith("."):
            if not module.startswith("."):
                return "external"  # a package: resolved by the package manager
            target = (base / module).resolve()
            found = any(Path(str(target) + ext).is_file() for ext in _JS_EXTENSIONS)
            return "project" if found else "missing"
        if lang == "go":
            gomod = self.root / "go.mod"
            if gomod.is_file():
                m = re.search(r"(?m)^module\s+(\S+)", gomod.read_text(errors="replace"))
                if m and (module == m.group(1) or module.startswith(m.group(1) + "/")):
                    rest = module[len(m.group(1)):].lstrip("/")
                    return "project" if (self.root / rest).is_dir() else "missing"
            return "external"
        if lang == "rust":
            return "project" if module.split("::")[0] in ("crate", "self", "super") \
                else "external"
        candidate = module.replace(".", "/") if lang == "java" else module
        for root in (base, self.root):
            for suffix in ("", ".java", ".rb", ".h"):
                if (root / (candidate + suffix)).exists():
                    return "project"
        return "external"

    def _check_tree_sitter(self, code: str, lang: str, path: str) -> ScopeReport:
        """Any language the graph parses: its tree-sitter extractor gives the snippet's
        definitions, calls (with receivers) and imports."""
        from smallcode.core.graph.extract import extract_bytes
        from smallcode.core.graph.languages import LANGUAGES

        report = ScopeReport()
        rel = path or f"snippet{LANGUAGES[lang].extensions[0]}"
        facts = extract_bytes(rel, lang, code.encode("utf-8"))
        if facts.status not in ("ok", "partial"):
            report.parse_error = facts.message
            return report.finish()
        if facts.status == "partial":
            report.parse_error = facts.message  # checked as far as it parses
        base = (self.root / path).parent if path else self.root
        defined = {sym[0] for sym in facts.symbols} | _local_names(code)
        imported: dict[str, tuple[str, str]] = {}  # local name -> (module, import kind)
        for module, name, alias, _line in facts.imports:
            report.checked += 1
            kind = self._import_kind(module, lang, base)
            local = alias or (name if name not in ("", "default", "*") else
                              re.split(r"[/:.]", module.rstrip("/"))[-1])
            imported[local] = (module, kind)
            if kind == "missing":
                report.missing_modules.append(module)
            elif kind == "external":
                report.external_modules.append(module)
            elif name and name not in ("default", "*") and not self._symbol_exists(name):
                report.missing_symbols.append(f"{module}.{name}" if lang != "rust"
                                              else f"{module}::{name}")
        known = _GLOBALS.get(lang, frozenset())
        strict = lang in _GLOBALS  # bare unknown calls are *missing* only where globals are known
        for _scope, name, receiver, kind, _line in facts.refs:
            if kind != "call":
                continue
            report.checked += 1
            if not receiver:
                if name in defined or name in imported or name in known or \
                        self._symbol_exists(name):
                    continue
                (report.missing_symbols if strict else report.unverified_methods).append(name)
                continue
            head = re.split(r"[.:]", receiver)[0]
            if head in imported:
                module, kind_of = imported[head]
                if kind_of == "project" and not self._symbol_exists(name):
                    report.missing_symbols.append(f"{head}.{name}")
                continue
            if head in known or head in _TYPE_RECEIVERS:
                continue
            if name not in _JS_METHODS:
                self._check_method(name, report)
        self._check_paths(re.findall(r"""["']([^"'\n]{1,200})["']""", code), report)
        return report.finish()

    # -- names ---------------------------------------------------------------------------------
    def check_names(self, names: Sequence[str]) -> ScopeReport:
        """Each entry a symbol (``parse_config``, ``Config.load``, ``pkg.mod.func``), a module, or a
        path (``src/app.py``)."""
        report = ScopeReport()
        for raw in names:
            name = raw.strip()
            if not name:
                continue
            report.checked += 1
            if "/" in name or _PATH_LIKE.match(name) and not self._symbol_exists(name):
                rel = name.removeprefix("./")
                if not (self.root / rel).resolve().is_relative_to(self.root) or \
                        not (self.root / rel).exists():
                    report.missing_files.append(rel)
                continue
            if self._symbol_exists(name) or name in _BUILTIN_NAMES:
                continue
            if "." in name:
                parts = name.split(".")
                kind = self.module_kind(name)
                if kind in ("stdlib", "installed"):
                    report.external_modules.append(parts[0])
                    continue
                if kind == "project":
                    continue
                top_kind = self.module_kind(parts[0])
                if top_kind in ("stdlib", "installed"):
                    report.external_modules.append(parts[0])
                    if top_kind == "stdlib" and self._stdlib_has(name) is False:
                        report.missing_symbols.append(name)
                    continue
                before = len(report.missing_symbols)
                self._check_imported(name, report)
                if len(report.missing_symbols) == before and top_kind == "project":
                    continue
                if len(report.missing_symbols) == before:
                    report.missing_symbols.append(name)
                continue
            kind = self.module_kind(name)
            if kind in ("stdlib", "installed"):
                report.external_modules.append(name)
            elif kind != "project":
                report.missing_symbols.append(name)
        return report.finish()
