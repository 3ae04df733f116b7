"""The languages the code graph understands: file extensions, grammars and tree-sitter queries.

Grammars come from the per-language wheels (``tree-sitter-python`` ...), which ship compiled
grammars, so nothing is downloaded at run time. Each query uses one capture convention:

- ``@def.<kind>`` on a definition node, with ``@name`` on its name and optionally ``@owner`` on the
  type a method belongs to when the method is not nested inside it (Go receivers, Rust ``impl``,
  C++ ``Foo::bar``);
- ``@call`` on the called name, with ``@qual`` on the receiver/qualifier when there is one;
- ``@ref`` on any other use of a name (types, base classes, decorators, ``new X``);
- ``@import`` on an import statement (decoded per language by :mod:`.extract`).

Within one query the earlier pattern wins when two patterns capture the same definition node.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from tree_sitter import Language, Parser, Query


@dataclass(frozen=True)
class LanguageSpec:
    name: str
    extensions: tuple[str, ...]
    module: str  # the grammar wheel's module
    entry: str  # the function in it that returns the grammar pointer
    query: str
    comment_types: frozenset[str]
    same_package_dirs: bool = False  # unqualified names resolve across files of one directory


_PY = r"""
(class_definition name: (identifier) @name) @def.class
(function_definition name: (identifier) @name) @def.function
(module (expression_statement (assignment left: (identifier) @name) @def.variable))
(call function: (identifier) @call)
(call function: (attribute object: (_) @qual attribute: (identifier) @call))
(class_definition superclasses: (argument_list (identifier) @ref))
(class_definition superclasses: (argument_list (attribute attribute: (identifier) @ref)))
(decorator (identifier) @ref)
(decorator (attribute attribute: (identifier) @ref))
(type (identifier) @ref)
(import_statement) @import
(import_from_statement) @import
"""

_JS_COMMON = r"""
(method_definition name: (property_identifier) @name) @def.method
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(program (lexical_declaration (variable_declarator name: (identifier) @name
   value: [(arrow_function) (function_expression)]) @def.function))
(program (export_statement declaration: (lexical_declaration (variable_declarator
   name: (identifier) @name value: [(arrow_function) (function_expression)]) @def.function)))
(program (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable))
(program (variable_declaration (variable_declarator name: (identifier) @name) @def.variable))
(program (export_statement declaration: (lexical_declaration (variable_declarator
   name: (identifier) @name) @def.variable)))
(call_expression function: (identifier) @call)
(call_expression function: (member_expression object: (_) @qual
   property: (property_identifier) @call))
(new_expression constructor: (identifier) @ref)
(new_expression constructor: (member_expression property: (property_identifier) @ref))
(import_statement) @import
(program (lexical_declaration (variable_declarator value: (call_expression
   function: (identifier) @_req (#eq? @_req "require")))) @import)
"""

_JS = _JS_COMMON + r"""
(class_declaration name: (identifier) @name) @def.class
(class_heritage (identifier) @ref)
"""

_TS = _JS_COMMON + r"""
(class_declaration name: (type_identifier) @name) @def.class
(abstract_class_declaration name: (type_identifier) @name) @def.class
(interface_declaration name: (type_identifier) @name) @def.interface
(type_alias_declaration name: (type_identifier) @name) @def.type
(enum_declaration name: (identifier) @name) @def.enum
(internal_module name: (identifier) @name) @def.module
(method_signature name: (property_identifier) @name) @def.method
(abstract_method_signature name: (property_identifier) @name) @def.method
(function_signature name: (identifier) @name) @def.function
(extends_clause value: (identifier) @ref)
(type_identifier) @ref
"""

_GO = r"""
(method_declaration receiver: (parameter_list (parameter_declaration type: [
   (type_identifier) @owner (pointer_type (type_identifier) @owner)
   (generic_type type: (type_identifier) @owner)
   (pointer_type (generic_type type: (type_identifier) @owner))]))
   name: (field_identifier) @name) @def.method
(method_declaration name: (field_identifier) @name) @def.method
(function_declaration name: (identifier) @name) @def.function
(type_declaration (type_spec name: (type_identifier) @name type: (struct_type)) @def.struct)
(type_declaration (type_spec name: (type_identifier) @name type: (interface_type)) @def.interface)
(type_declaration (type_spec name: (type_identifier) @name) @def.type)
(source_file (var_declaration (var_spec name: (identifier) @name) @def.variable))
(source_file (const_declaration (const_spec name: (identifier) @name) @def.constant))
(call_expression function: (identifier) @call)
(call_expression function: (selector_expression operand: (_) @qual
   field: (field_identifier) @call))
(composite_literal type: (qualified_type package: (package_identifier) @qual
   name: (type_identifier) @ref))
(type_identifier) @ref
(import_spec) @import
"""

_RUST = r"""
(impl_item type: (_) @owner body: (declaration_list
   (function_item name: (identifier) @name) @def.method))
(trait_item name: (type_identifier) @owner body: (declaration_list
   (function_signature_item name: (identifier) @name) @def.method))
(trait_item name: (type_identifier) @owner body: (declaration_list
   (function_item name: (identifier) @name) @def.method))
(function_item name: (identifier) @name) @def.function
(trait_item name: (type_identifier) @name) @def.trait
(struct_item name: (type_identifier) @name) @def.struct
(enum_item name: (type_identifier) @name) @def.enum
(union_item name: (type_identifier) @name) @def.struct
(type_item name: (type_identifier) @name) @def.type
(mod_item name: (identifier) @name) @def.module
(macro_definition name: (identifier) @name) @def.macro
(const_item name: (identifier) @name) @def.constant
(static_item name: (identifier) @name) @def.variable
(call_expression function: (identifier) @call)
(call_expression function: (field_expression value: (_) @qual field: (field_identifier) @call))
(call_expression function: (scoped_identifier path: (_) @qual name: (identifier) @call))
(call_expression function: (generic_function function: (identifier) @call))
(macro_invocation macro: (identifier) @call)
(type_identifier) @ref
(use_declaration) @import
"""

_JAVA = r"""
(class_declaration name: (identifier) @name) @def.class
(record_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.enum
(annotation_type_declaration name: (identifier) @name) @def.interface
(method_declaration name: (identifier) @name) @def.method
(constructor_declaration name: (identifier) @name) @def.method
(method_invocation object: (_) @qual name: (identifier) @call)
(method_invocation name: (identifier) @call)
(object_creation_expression type: (type_identifier) @ref)
(type_identifier) @ref
(import_declaration) @import
"""

_C_COMMON = r"""
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @def.function
(function_definition declarator: (pointer_declarator declarator:
   (function_declarator declarator: (identifier) @name))) @def.function
(struct_specifier name: (type_identifier) @name body: (_)) @def.struct
(union_specifier name: (type_identifier) @name body: (_)) @def.struct
(enum_specifier name: (type_identifier) @name body: (_)) @def.enum
(type_definition declarator: (type_identifier) @name) @def.type
(preproc_function_def name: (identifier) @name) @def.macro
(preproc_def name: (identifier) @name) @def.constant
(call_expression function: (identifier) @call)
(call_expression function: (field_expression argument: (_) @qual field: (field_identifier) @call))
(type_identifier) @ref
(preproc_include) @import
"""

_C = _C_COMMON

_CPP = r"""
(function_definition declarator: (function_declarator declarator:
   (qualified_identifier scope: (_) @owner name: (identifier) @name))) @def.method
(function_definition declarator: (function_declarator
   declarator: (field_identifier) @name)) @def.method
(class_specifier name: (type_identifier) @name body: (_)) @def.class
(namespace_definition name: (namespace_identifier) @name) @def.module
(call_expression function: (qualified_identifier scope: (_) @qual name: (identifier) @call))
(call_expression function: (template_function name: (identifier) @call))
""" + _C_COMMON

_RUBY = r"""
(class name: [(constant) @name (scope_resolution name: (_) @name)]) @def.class
(module name: [(constant) @name (scope_resolution name: (_) @name)]) @def.module
(method name: (_) @name) @def.method
(singleton_method name: (_) @name) @def.method
(program (assignment left: (constant) @name) @def.constant)
(call method: (identifier) @_m arguments: (argument_list (string))
   (#match? @_m "^(require|require_relative)$")) @import
(call receiver: (_) @qual method: (identifier) @call)
(call method: (identifier) @call)
(superclass (constant) @ref)
(superclass (scope_resolution name: (constant) @ref))
(constant) @ref
"""

_HASH = frozenset({"comment"})
_SLASH = frozenset({"comment", "line_comment", "block_comment"})

LANGUAGES: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec("python", (".py", ".pyi"), "tree_sitter_python", "language", _PY, _HASH),
        LanguageSpec("javascript", (".js", ".jsx", ".mjs", ".cjs"), "tree_sitter_javascript",
                     "language", _JS, _SLASH),
        LanguageSpec("typescript", (".ts", ".mts", ".cts"), "tree_sitter_typescript",
                     "language_typescript", _TS, _SLASH),
        LanguageSpec("tsx", (".tsx",), "tree_sitter_typescript", "language_tsx", _TS, _SLASH),
        LanguageSpec("go", (".go",), "tree_sitter_go", "language", _GO, _SLASH,
                     same_package_dirs=True),
        LanguageSpec("rust", (".rs",), "tree_sitter_rust", "language", _RUST, _SLASH),
        LanguageSpec("java", (".java",), "tree_sitter_java", "language", _JAVA, _SLASH,
                     same_package_dirs=True),
        LanguageSpec("c", (".c",), "tree_sitter_c", "language", _C, _SLASH),
        LanguageSpec("cpp", (".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h"),
                     "tree_sitter_cpp", "language", _CPP, _SLASH),
        LanguageSpec("ruby", (".rb",), "tree_sitter_ruby", "language", _RUBY, _HASH),
    )
}

_BY_EXTENSION: dict[str, str] = {
    ext: spec.name for spec in LANGUAGES.values() for ext in spec.extensions
}

# Kinds that own methods; a function nested directly in one of these is a method.
CLASS_KINDS = frozenset({"class", "struct", "interface", "trait", "enum"})


def language_for_path(path: str) -> str | None:
    """The language name for a file path, by extension, or None if the graph does not parse it."""
    return _BY_EXTENSION.get(PurePosixPath(path).suffix.lower())


class GrammarError(RuntimeError):
    """A grammar wheel is missing or does not load."""


_lock = threading.Lock()
_loaded: dict[str, tuple[Language, Query]] = {}


def grammar(lang: str) -> tuple[Language, Query]:
    """The tree-sitter Language and compiled query for ``lang``, loaded once per process."""
    cached = _loaded.get(lang)
    if cached is not None:
        return cached
    with _lock:
        cached = _loaded.get(lang)
        if cached is not None:
            return cached
        spec = LANGUAGES[lang]
        try:
            module: Any = importlib.import_module(spec.module)
            language = Language(getattr(module, spec.entry)())
        except Exception as exc:  # ImportError, AttributeError, ABI mismatch
            raise GrammarError(f"grammar for {lang} ({spec.module}) does not load: {exc}") from exc
        query = Query(language, spec.query)
        _loaded[lang] = (language, query)
        return language, query


def new_parser(lang: str) -> Parser:
    return Parser(grammar(lang)[0])
