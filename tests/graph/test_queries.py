"""Name resolution and the budgeted, deterministic query renderings."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.graph import CodeGraph, estimate_tokens

from .conftest import write_tree


@pytest.fixture()
def graph(sample_repo: Path) -> CodeGraph:
    g = CodeGraph(sample_repo, workers=0)
    g.index()
    return g


def test_explain_shows_definition_signature_doc_callers_and_callees(graph: CodeGraph):
    assert graph.explain("Model.compute").splitlines() == [
        "method Model.compute — pkg/models.py:10-12",
        "  signature: def compute(self)",
        "  doc: Compute the value.",
        "  in: class Model (pkg/models.py:4)",
        "  callers (1): main (app.py:7)",
        "  calls/uses (2): helper (pkg/util.py:4); Model.offset (pkg/models.py:14)",
    ]


def test_imported_name_resolves_to_the_imported_module_not_a_namesake(graph: CodeGraph):
    # models.py imports helper from .util; app.py defines another helper: no ambiguity.
    text = graph.explain("pkg.util.helper")
    assert "callers (2): main (app.py:8); Model.compute (pkg/models.py:12)" in text
    local = graph.explain("app.helper")
    assert "callers: none found" in local


def test_ambiguous_member_call_keeps_all_candidates(tmp_path: Path):
    write_tree(tmp_path, {
        "a.py": "class A:\n    def save(self):\n        pass\n",
        "b.py": "class B:\n    def save(self):\n        pass\n",
        "c.py": "def persist(obj):\n    obj.save()\n",
    })
    g = CodeGraph(tmp_path, workers=0)
    g.index()
    assert "calls/uses (1): save (2 candidates: a.py:2, b.py:2)" in g.explain("persist")
    assert "callers (1): persist (c.py:2) [1 of 2]" in g.explain("A.save")


def test_names_do_not_resolve_across_languages(tmp_path: Path):
    write_tree(tmp_path, {"a.py": "def run():\n    pass\n",
                          "b.js": "function go() { run(); }\n"})
    g = CodeGraph(tmp_path, workers=0)
    g.index()
    assert "run (not in workspace)" in g.explain("go")


def test_go_same_package_and_ts_relative_imports_resolve(graph: CodeGraph):
    assert "listen (srv/net.go:3)" in graph.explain("Server.Start")
    assert "format (web/format.ts:2)" in graph.explain("handle")
    assert graph.explain("format").splitlines()[2] == "  doc: Format a url."


def test_unknown_symbol_gets_close_suggestions(graph: CodeGraph):
    text = graph.explain("comput")
    assert text.startswith("No symbol named 'comput'. Closest: Model.compute (pkg/models.py:10)")


def test_references_list_exact_lines_with_their_code(graph: CodeGraph):
    assert graph.references("Model").splitlines() == [
        ("2 reference(s) to Model in 1 file(s) — defined at pkg/models.py:4. "
         "Tags: call, ref, import; call?N = one of N candidates."),
        "app.py:",
        "  1 [import] in <module>: from pkg.models import Model",
        "  6 [call] in main: m = Model(3)",
    ]


def test_search_returns_the_match_then_connected_code(graph: CodeGraph):
    text = graph.search("compute", max_tokens=2000)
    lines = text.splitlines()
    assert lines[1] == "### pkg/models.py:10-12 method Model.compute (match)"
    headers = [line for line in lines if line.startswith("### ")]
    assert headers[1:] == [
        "### pkg/models.py:14-15 method Model.offset (called by Model.compute)",
        "### pkg/util.py:4-6 function helper (called by Model.compute)",
        "### app.py:5-8 function main (calls Model.compute)",
        "### pkg/models.py:4-15 class Model (called by main)",
    ]
    assert "        return helper(self.value) + self.offset()" in lines


@pytest.mark.parametrize("budget", [40, 60, 100, 150, 300, 700, 2000])
def test_search_never_exceeds_its_token_budget(graph: CodeGraph, budget: int):
    for query in ("compute", "helper", "Server", "format url", "nothing_like_this"):
        text = graph.search(query, max_tokens=budget)
        assert estimate_tokens(text) <= budget, (query, budget, text)
        assert text


def test_other_renderings_respect_budgets(graph: CodeGraph):
    for budget in (10, 30, 80, 400):
        assert estimate_tokens(graph.explain("Model", budget)) <= budget
        assert estimate_tokens(graph.references("helper", budget)) <= budget
        assert estimate_tokens(graph.repo_map(budget)) <= budget


def test_search_is_deterministic_across_instances(sample_repo: Path, graph: CodeGraph):
    other = CodeGraph(sample_repo, workers=0)
    for query in ("compute", "helper", "Server start", "format"):
        assert graph.search(query, 500) == other.search(query, 500)
    assert graph.repo_map(300) == other.repo_map(300)


def test_small_budget_search_stops_with_a_note(graph: CodeGraph):
    text = graph.search("compute", max_tokens=70)
    assert text.splitlines()[-1].endswith("more connected symbol(s) left out: budget]")


def test_repo_map_is_personalised_by_focus(graph: CodeGraph):
    plain = graph.repo_map(60)
    focused = graph.repo_map(60, focus_files=["srv/server.go"])
    assert focused.splitlines()[0] == "srv/server.go:"
    assert plain != focused
    by_name = graph.repo_map(60, focus_names=["format"])
    assert by_name.splitlines()[0] == "web/format.ts:"


def test_relevant_files_ranks_mentioned_paths_and_names(graph: CodeGraph):
    assert graph.relevant_files("the compute method of Model is wrong") == ["pkg/models.py"]
    assert graph.relevant_files("look at srv/net.go and handle()", limit=5) == [
        "srv/net.go", "web/api.ts"]
    assert graph.relevant_files("hello there") == []


def test_resolve_symbol_files_accepts_qualified_names(graph: CodeGraph):
    assert graph.resolve_symbol_files("helper") == ["app.py", "pkg/util.py"]
    assert graph.resolve_symbol_files("Model.offset") == ["pkg/models.py"]
    assert graph.resolve_symbol_files("Server.Start") == ["srv/server.go"]


def test_incremental_updates_answer_exactly_like_a_fresh_load(graph: CodeGraph,
                                                               sample_repo: Path):
    names = ["helper", "Model.compute", "main", "Model", "listen", "format", "offset"]
    for name in names:  # warm every memo so stale entries would show
        graph.explain(name)
        graph.references(name)
    graph.repo_map(200)
    models = sample_repo / "pkg" / "models.py"
    models.write_text(models.read_text() + "\n\ndef helper(x):\n    return x\n")
    (sample_repo / "srv" / "net.go").write_text("package server\n\nfunc other() {}\n")
    (sample_repo / "pkg" / "extra.py").write_text("from .models import Model\n\n"
                                                  "def listen():\n    return Model(1).offset()\n")
    graph.update_files(["pkg/models.py", "srv/net.go", "pkg/extra.py"])
    # models.py now defines its own helper: compute's call resolves there, not to util.
    assert "helper (pkg/models.py:18)" in graph.explain("Model.compute")
    fresh = CodeGraph(sample_repo, workers=0)
    for name in names:
        assert graph.explain(name) == fresh.explain(name), name
        assert graph.references(name) == fresh.references(name), name
        assert graph.search(name, 400) == fresh.search(name, 400), name
    assert graph.repo_map(200) == fresh.repo_map(200)


def test_includes_requires_and_imports_resolve_in_c_ruby_java_rust(tmp_path: Path):
    write_tree(tmp_path, {
        "c/util.h": "int helper(int x);\n",
        "c/util.c": '#include "util.h"\nint helper(int x) { return x; }\n',
        "c/other.c": "static int helper(int x) { return 0; }\n",
        "c/main.c": '#include "util.h"\nint main(void) { return helper(1); }\n',
        "rb/lib/greeter.rb": "class Greeter\n  def self.greet; end\nend\n",
        "rb/app.rb": "require_relative 'lib/greeter'\ndef run\n  Greeter.greet\nend\n",
        "java/com/ex/util/Helper.java":
            "package com.ex.util;\npublic class Helper { public static int help() { return 1; } }\n",
        "java/com/ex/App.java": "package com.ex;\nimport com.ex.util.Helper;\n"
                                "public class App { int go() { return Helper.help(); } }\n",
        "rs/src/util.rs": "pub fn helper() -> i32 { 1 }\n",
        "rs/src/other.rs": "pub fn helper() -> i32 { 2 }\n",
        "rs/src/main.rs": "use crate::util::helper;\nfn main() { helper(); }\n",
    })
    g = CodeGraph(tmp_path, workers=0)
    g.index()
    assert "calls/uses (1): helper (c/util.c:2)" in g.explain("c.main.main")
    assert "Greeter.greet (rb/lib/greeter.rb:2)" in g.explain("run")
    assert "Helper.help (java/com/ex/util/Helper.java:2)" in g.explain("App.go")
    assert "helper (rs/src/util.rs:1)" in g.explain("rs.src.main.main")
