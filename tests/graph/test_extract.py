"""Extraction of symbols, containment, references and imports, per language."""

from __future__ import annotations

import textwrap

import pytest
from smallcode.core.graph.extract import extract_bytes
from smallcode.core.graph.languages import LANGUAGES, grammar, language_for_path


def facts(path: str, source: str):
    lang = language_for_path(path)
    assert lang is not None
    return extract_bytes(path, lang, textwrap.dedent(source).lstrip("\n").encode())


def table(f):
    """{qualname: (kind, parent qualname or '', start, end)}"""
    out = {}
    for name, qualname, kind, parent, start, end, _sig, _doc in f.symbols:
        out[qualname] = (kind, f.symbols[parent][1] if parent >= 0 else "", start, end)
    return out


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_grammar_loads_offline(lang):
    _language, query = grammar(lang)
    assert query.pattern_count > 0


def test_python_symbols_containment_signature_docstring():
    f = facts("m.py", '''
        LIMIT = 3

        class Shape(Base):
            """A shape."""

            def area(self, scale: float = 1.0) -> float:
                """Area of it."""
                def inner():
                    return 2
                return inner() * scale
        ''')
    assert f.status == "ok"
    assert table(f) == {
        "LIMIT": ("variable", "", 1, 1),
        "Shape": ("class", "", 3, 10),
        "Shape.area": ("method", "Shape", 6, 10),
        "Shape.area.inner": ("function", "Shape.area", 8, 9),
    }
    by_q = {s[1]: s for s in f.symbols}
    assert by_q["Shape.area"][6] == "def area(self, scale: float = 1.0) -> float"
    assert by_q["Shape.area"][7] == "Area of it."
    assert by_q["Shape"][6] == "class Shape(Base)"
    assert by_q["Shape"][7] == "A shape."


def test_python_references_are_attributed_to_the_innermost_symbol():
    f = facts("m.py", '''
        import os.path as osp
        from .b import helper, Thing as T

        class Foo(Base):
            def run(self):
                helper(1)
                self.step()
                osp.join("a")
        ''')
    names = [s[1] for s in f.symbols]
    refs = {(names[src] if src >= 0 else "", name, qual, kind, line)
            for src, name, qual, kind, line in f.refs}
    assert refs == {
        ("Foo", "Base", "", "ref", 4),
        ("Foo.run", "helper", "", "call", 6),
        ("Foo.run", "step", "self", "call", 7),
        ("Foo.run", "join", "osp", "call", 8),
    }
    assert f.imports == [("os.path", "", "osp", 1), (".b", "helper", "", 2),
                         (".b", "Thing", "T", 2)]


def test_typescript_classes_interfaces_and_imports():
    f = facts("a.ts", '''
        import { helper, Other as O } from './b';
        /** Adds numbers. */
        export function add(a: number, b: number): number { return helper(a) + b; }
        interface Shape { area(): number; }
        class Square implements Shape {
          area(): number { return 1; }
        }
        ''')
    t = table(f)
    assert t["add"] == ("function", "", 3, 3)
    assert t["Shape"][0] == "interface"
    assert t["Square.area"] == ("method", "Square", 6, 6)
    assert {s[1]: s[7] for s in f.symbols}["add"] == "Adds numbers."
    assert f.imports == [("./b", "helper", "", 1), ("./b", "Other", "O", 1)]


def test_tsx_and_javascript_parse():
    tsx = facts("c.tsx", "export function App() { return <div>{render()}</div>; }\n")
    assert table(tsx) == {"App": ("function", "", 1, 1)}
    assert ("render" in {r[1] for r in tsx.refs})
    js = facts("c.js", "const fs = require('fs');\nclass A extends B { go() { run(); } }\n")
    assert table(js)["A.go"] == ("method", "A", 2, 2)
    assert js.imports == [("fs", "", "fs", 1)]


def test_go_methods_belong_to_their_receiver_type():
    f = facts("s.go", '''
        package s

        import u "example.com/m/util"

        // Server serves.
        type Server struct { port int }

        // Start starts.
        func (s *Server) Start() error { return u.Listen(s.port) }
        ''')
    t = table(f)
    assert t["Server"] == ("struct", "", 6, 6)
    assert t["Server.Start"] == ("method", "Server", 9, 9)
    docs = {s[1]: s[7] for s in f.symbols}
    assert docs == {"Server": "Server serves.", "Server.Start": "Start starts."}
    assert ("Listen", "u", "call") in {(r[1], r[2], r[3]) for r in f.refs}
    assert f.imports == [("example.com/m/util", "", "u", 3)]


def test_rust_impl_methods_traits_and_use_trees():
    f = facts("p.rs", '''
        use std::collections::{HashMap, HashSet as Set};
        /// A point.
        #[derive(Debug)]
        pub struct Point { x: i32 }
        impl Point {
            pub fn new(x: i32) -> Self { Point { x } }
        }
        trait Shape { fn area(&self) -> f64; }
        ''')
    t = table(f)
    assert t["Point"] == ("struct", "", 4, 4)
    assert t["Point.new"] == ("method", "Point", 6, 6)
    assert t["Shape.area"] == ("method", "Shape", 8, 8)
    assert {s[1]: s[7] for s in f.symbols}["Point"] == "A point."
    assert f.imports == [("std::collections", "HashMap", "", 1),
                         ("std::collections", "HashSet", "Set", 1)]


def test_java_c_cpp_ruby_definitions():
    java = facts("A.java", '''
        import com.ex.util.Helper;
        /** A class. */
        public class A {
            /** Runs. */
            public int run() { return Helper.help(); }
        }
        ''')
    assert table(java) == {"A": ("class", "", 3, 6), "A.run": ("method", "A", 5, 5)}
    assert {s[1]: s[7] for s in java.symbols} == {"A": "A class.", "A.run": "Runs."}
    assert java.imports == [("com.ex.util", "Helper", "", 1)]

    c = facts("a.c", '#include "util.h"\n/* Adds. */\nstatic int add(int a) { return helper(a); }\n')
    assert table(c) == {"add": ("function", "", 3, 3)}
    assert {s[1]: s[6] for s in c.symbols}["add"] == "static int add(int a)"
    assert c.imports == [("util.h", "", "", 1)]

    cpp = facts("a.cpp", "namespace geo { class Shape { double area() { return 0; } }; }\n"
                         "double Circle::area() { return compute(); }\n")
    t = table(cpp)
    assert t["geo.Shape.area"][:2] == ("method", "geo.Shape")
    assert t["Circle.area"] == ("method", "", 2, 2)

    rb = facts("g.rb", '''
        require_relative 'lib/util'
        # A greeter.
        class Greeter < Base
          def greet(name)
            format_name(name)
          end
        end
        ''')
    assert table(rb) == {"Greeter": ("class", "", 3, 7), "Greeter.greet": ("method", "Greeter", 4, 6)}
    assert rb.imports == [("./lib/util", "", "", 1)]


def test_syntax_error_keeps_what_parses_and_reports_the_line():
    f = facts("bad.py", '''
        def good():
            return 1

        def broken(:
            pass
        ''')
    assert f.status == "partial"
    assert f.message == "syntax error at line 4" or f.message.endswith("at line 4")
    assert "good" in table(f)


@pytest.mark.parametrize(("path", "data", "reason"), [
    ("blob.py", b"x = 1\x00\x01\x02", "binary"),
    ("big.py", b"x = 1\n" * 20, "too large (120 bytes > 100)"),
    ("api_pb2.py", b"x = 1\n", "generated (file name)"),
    ("gen.go", b"// Code generated by x. DO NOT EDIT.\npackage x\n", "generated (header marker)"),
])
def test_binary_huge_and_generated_files_are_skipped(path, data, reason):
    f = extract_bytes(path, language_for_path(path) or "", data, max_bytes=100)
    assert f.status == "skipped"
    assert f.message.startswith(reason)
    assert f.symbols == [] and f.refs == []
