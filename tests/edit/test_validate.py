"""Validators per language: real files in tmp_path, real toolchains where installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from smallcode.core.edit.validate import (
    Diagnostic,
    format_diagnostics,
    parse_cargo_short,
    parse_go_output,
    parse_tsc,
    ruff_configured,
    validate_file,
)


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_clean_python_file_has_no_diagnostics(tmp_path):
    p = write(tmp_path, "pkg/ok.py", "def f(x):\n    return x + 1\n")
    assert validate_file(p, tmp_path) == []


def test_python_syntax_error_reports_file_line_and_source(tmp_path):
    p = write(tmp_path, "pkg/bad.py", "def f(x):\n    return (x + 1\n\ny = 2\n")
    diags = validate_file(p, tmp_path)
    assert len(diags) == 1
    d = diags[0]
    assert (d.file, d.line, d.tool) == ("pkg/bad.py", 2, "python")
    assert d.message.startswith("SyntaxError: '(' was never closed")


def test_python_compile_time_error_beyond_the_parser(tmp_path):
    p = write(tmp_path, "m.py", "def f():\n    pass\nreturn 3\n")
    diags = validate_file(p, tmp_path)
    assert [(d.line, d.message.split(":")[0]) for d in diags] == [(3, "SyntaxError")]
    assert "'return' outside function" in diags[0].message


def test_undefined_name_is_reported_only_when_the_project_configures_ruff(tmp_path):
    if shutil.which("ruff") is None:
        pytest.skip("ruff not installed")
    p = write(tmp_path, "m.py", "def f():\n    return undefined_thing + 1\n")
    assert not ruff_configured(p, tmp_path)
    assert validate_file(p, tmp_path) == []
    write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n\n[tool.ruff]\nline-length = 100\n")
    assert ruff_configured(p, tmp_path)
    diags = validate_file(p, tmp_path)
    assert [(d.file, d.line, d.tool) for d in diags] == [("m.py", 2, "ruff")]
    assert diags[0].message == "F821 Undefined name `undefined_thing`"


def test_javascript_syntax_error_from_node_check(tmp_path):
    if shutil.which("node") is None:
        pytest.skip("node not installed")
    ok = write(tmp_path, "src/ok.js", "function f(a) { return a + 1; }\nmodule.exports = f;\n")
    assert validate_file(ok, tmp_path) == []
    bad = write(tmp_path, "src/bad.js", "function f(a) {\n  return a +;\n}\n")
    diags = validate_file(bad, tmp_path)
    assert len(diags) == 1
    assert (diags[0].file, diags[0].line, diags[0].tool) == ("src/bad.js", 2, "node")
    assert diags[0].message == "SyntaxError: Unexpected token ';'"


def test_typescript_is_skipped_without_tsconfig(tmp_path):
    p = write(tmp_path, "a.ts", "let x: number = 'not even checked';\n")
    assert validate_file(p, tmp_path) == []


def test_json_toml_yaml_parse_errors_have_line_numbers(tmp_path):
    j = write(tmp_path, "c.json", '{\n  "a": 1,\n  "b": \n}\n')
    t = write(tmp_path, "c.toml", "[tool]\nname = \"x\"\nbroken = \n")
    y = write(tmp_path, "c.yaml", "a: 1\nb: [1, 2\nc: 3\n")
    dj, dt, dy = validate_file(j, tmp_path), validate_file(t, tmp_path), validate_file(y, tmp_path)
    assert [(d.line, d.tool) for d in dj] == [(4, "json")]
    assert dj[0].message == "invalid JSON: Expecting value"
    assert [(d.line, d.tool) for d in dt] == [(3, "toml")]
    assert dt[0].message.startswith("invalid TOML: Invalid value")
    assert [d.tool for d in dy] == ["yaml"] and dy[0].line == 3
    assert dy[0].message.startswith("invalid YAML: while parsing a flow sequence")


def test_tsconfig_with_comments_is_not_flagged_as_bad_json(tmp_path):
    p = write(tmp_path, "tsconfig.json", '{\n  // strict mode\n  "compilerOptions": {}\n}\n')
    assert validate_file(p, tmp_path) == []


def test_unknown_language_and_missing_file(tmp_path):
    p = write(tmp_path, "notes.txt", "anything (((\n")
    assert validate_file(p, tmp_path) == []
    missing = validate_file(tmp_path / "gone.py", tmp_path)
    assert [(d.file, d.message) for d in missing] == [("gone.py", "file does not exist")]


def test_go_is_skipped_without_a_toolchain_or_module(tmp_path):
    p = write(tmp_path, "main.go", "package main\nfunc main() { x := }\n")
    if shutil.which("go") is None:
        assert validate_file(p, tmp_path) == []
    write(tmp_path, "go.mod", "module example.com/x\n\ngo 1.21\n")
    if shutil.which("go") is None:
        assert validate_file(p, tmp_path) == []


def test_recorded_toolchain_outputs_parse_to_diagnostics(tmp_path):
    go_out = "# example.com/x\n./main.go:2:22: syntax error: unexpected }\n"
    assert parse_go_output(go_out, tmp_path, tmp_path, "go build") == [
        Diagnostic("main.go", 2, 22, "syntax error: unexpected }", "go build")]
    cargo_out = ("src/main.rs:2:5: error[E0425]: cannot find value `x` in this scope\n"
                 "src/main.rs:1:1: warning: unused import\n"
                 "error: could not compile `demo` (bin \"demo\") due to 1 previous error\n")
    assert parse_cargo_short(cargo_out, tmp_path, tmp_path) == [
        Diagnostic("src/main.rs", 2, 5, "error[E0425]: cannot find value `x` in this scope",
                   "cargo")]
    tsc_out = "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n"
    assert parse_tsc(tsc_out, tmp_path, tmp_path) == [
        Diagnostic("src/a.ts", 3, 7,
                   "TS2322: Type 'string' is not assignable to type 'number'.", "tsc")]


def test_format_diagnostics_is_compact_and_limited():
    diags = [Diagnostic("a.py", n, 0, f"problem {n}", "python") for n in range(1, 8)]
    assert format_diagnostics(diags, limit=2) == "a.py:1: problem 1\na.py:2: problem 2\n... and 5 more"
    assert format_diagnostics([Diagnostic("x.json", 0, 0, "bad", "json")]) == "x.json: bad"


def test_rust_error_from_cargo_check(tmp_path):
    if shutil.which("cargo") is None:
        pytest.skip("cargo not installed")
    write(tmp_path, "Cargo.toml", '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n')
    p = write(tmp_path, "src/main.rs", "fn main() {\n    let y = x + 1;\n}\n")
    diags = validate_file(p, tmp_path)
    assert [(d.file, d.line, d.col, d.tool) for d in diags] == [("src/main.rs", 2, 13, "cargo")]
    assert diags[0].message.startswith("error[E0425]: cannot find value `x` in this scope")
    p.write_text("fn main() {\n    let _y = 1;\n}\n")
    assert validate_file(p, tmp_path) == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_a_shell_script_must_parse_and_none_of_it_runs(tmp_path):
    ok = write(tmp_path, "scripts/ok.sh", "#!/bin/bash\ntouch ran.txt\nfor f in *; do echo $f; done\n")
    assert validate_file(ok, tmp_path) == []
    assert not (tmp_path / "scripts" / "ran.txt").exists()
    bad = write(tmp_path, "scripts/bad.sh", "if [ -d build ]; then\n  rm -rf build\n")
    [diag] = validate_file(bad, tmp_path)
    assert diag.file == "scripts/bad.sh" and diag.line == 3 and diag.tool == "bash"
    assert "syntax error" in diag.message


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
@pytest.mark.parametrize("name", ["Makefile", "GNUmakefile", "build/rules.mk"])
def test_a_makefile_must_parse_and_no_recipe_runs(tmp_path, name):
    good = write(tmp_path, name, "all: build\n\nbuild:\n\ttouch built.txt\n")
    assert validate_file(good, tmp_path) == []
    assert not (good.parent / "built.txt").exists()
    # the 1.5B's recipe indented with spaces
    bad = write(tmp_path, name, "build:\n\ttouch built.txt\n\nclean:\n    rm -rf build\n")
    [diag] = validate_file(bad, tmp_path)
    assert (diag.file, diag.line, diag.tool) == (name, 5, "make")
    assert "missing separator" in diag.message and "tab" in diag.message
    # one that runs commands while it is read is not read here
    risky = write(tmp_path, name, "V := $(shell touch read.txt)\nclean:\n    rm -rf build\n")
    assert validate_file(risky, tmp_path) == []
    assert not (risky.parent / "read.txt").exists()


def test_a_function_given_a_second_parameter_and_passed_to_map_gets_the_index():
    from smallcode.core.edit.validate import js_index_traps

    src = ("function formatCell(value, sep = ',') {\n  return String(value);\n}\n"
           "const formatRow = (row, sep) => row.map(formatCell).join(sep);\n"
           "function toCsv(rows, sep) {\n  return rows.map(formatRow).join('\\n');\n}\n"
           "function one(x) { return x; }\nconst ok = [1].map(one).filter(Boolean);\n"
           "function pick({ a, b }) { return a; }\nconst picked = [{}].map(pick);\n"
           "const fine = [1].map((x, i) => formatCell(x, ';'));\n")
    assert js_index_traps({"csv.js": src}) == {("formatCell", "map", "sep"),
                                               ("formatRow", "map", "sep")}
    # defined in one file, passed in another
    assert js_index_traps({"a.js": "function add(a, b) { return a + b; }\n",
                           "b.js": "[1, 2].forEach(add);\n"}) == {("add", "forEach", "b")}
