"""scope_check catches hallucinated names, imports and files; every graph answer fits its budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.graph.codegraph import CodeGraph
from smallcode.core.graph.render import estimate_tokens
from smallcode.core.mcp_server import GraphToolService, ScopeChecker, fit_to_budget

HALLUCINATED = '''
import os
import json
import requests_nonexistent_xyz
from app.config import load_config, save_config
from app.missing import thing
from app import config
import pytest

def main(arg):
    cfg = load_config("settings.ini")
    save_config(cfg)
    os.path.exists_file("x")
    json.loads("{}")
    helper_that_does_not_exist(1)
    s = config.Settings({})
    s.reload()
    s.reload_everything()
    config.parse_all()
    open("data/missing.csv")
    print(len([1]), arg.strip())
    return main(arg)
'''


def test_scope_check_reports_what_python_code_invents(graph, project: Path) -> None:
    report = ScopeChecker(graph, project).check_code(HALLUCINATED)
    assert report.ok is False
    assert report.missing_symbols == ["app.config.parse_all", "app.config.save_config",
                                      "helper_that_does_not_exist", "os.path.exists_file"]
    assert report.missing_modules == ["app.missing", "requests_nonexistent_xyz"]
    assert report.missing_files == ["data/missing.csv"]
    assert report.unverified_methods == ["reload_everything"]
    assert report.external_modules == ["json", "os", "pytest"]  # stdlib/installed: not missing


def test_scope_check_passes_code_that_only_uses_what_exists(graph, project: Path) -> None:
    code = ("from app.config import load_config, Settings\nimport os.path\n\n"
            "def again():\n    s = load_config(os.path.join('.', 'settings.ini'))\n"
            "    return Settings(s.values).reload()\n")
    report = ScopeChecker(graph, project).check_code(code, path="app/extra.py")
    assert report.ok, report
    assert report.missing_symbols == report.missing_modules == report.missing_files == []
    relative = ScopeChecker(graph, project).check_code(
        "from .config import parse_pairs, parse_everything\n", path="app/extra.py")
    assert relative.missing_symbols == ["app.config.parse_everything"]


def test_scope_check_of_names_paths_and_javascript(graph, project: Path) -> None:
    checker = ScopeChecker(graph, project)
    report = checker.check_names(["load_config", "Settings.reload", "app.config.load_config",
                                  "app.config.nope", "os.path.join", "os.path.joinx",
                                  "app/service.py", "app/nothere.py", "fetchUser",
                                  "totally_made_up", "json", "app.service"])
    assert report.missing_symbols == ["app.config.nope", "os.path.joinx", "totally_made_up"]
    assert report.missing_files == ["app/nothere.py"]
    assert report.external_modules == ["json", "os"]
    js = ('import { fetchUser } from "./api";\nimport { missingThing } from "./nothere";\n'
          'import React from "react";\n'
          "function show(id) { const u = fetchUser(id); return renderUser(u) + formatName(u); }\n")
    report = checker.check_code(js, "javascript", "web/page.js")
    assert report.missing_symbols == ["formatName"]
    assert report.missing_modules == ["./nothere"]
    assert report.external_modules == ["react"]


def test_scope_check_reads_other_languages_through_the_graphs_tree_sitter_extractor(
        graph, project: Path) -> None:
    go = ('package main\n\nimport (\n\t"fmt"\n\t"example.com/app/store"\n'
          '\t"example.com/app/nothere"\n)\n\nfunc main() {\n\ts := store.Open()\n'
          '\tfmt.Println(len(s.Items))\n\ts.Close()\n\tstore.Destroy()\n\tdoThing(s)\n'
          '\ts.Frobnicate()\n}\n')
    report = ScopeChecker(graph, project).check_code(go, "go", "cmd/main.go")
    assert report.missing_modules == ["example.com/app/nothere"]
    assert report.missing_symbols == ["doThing", "store.Destroy"]
    assert report.external_modules == ["fmt"]
    assert report.unverified_methods == ["Frobnicate"]
    ts = ('import { fetchUser, fetchTeam } from "../web/api";\n'
          "export function show(id: number): string {\n  const u = fetchUser(id);\n"
          "  return renderUser(u) + u.name.toUpperCase();\n}\n")
    report = ScopeChecker(graph, project).check_code(ts, "ts", "src/show.ts")
    assert report.missing_symbols == ["../web/api.fetchTeam"]
    assert report.missing_modules == [] and report.ok is False


def test_scope_check_rejects_bad_input_clearly(graph, project: Path) -> None:
    checker = ScopeChecker(graph, project)
    broken = checker.check_code("def f(:\n  pass\n")
    assert broken.parse_error.startswith("line 1:") and broken.checked == 0
    with pytest.raises(ValueError, match="not 'cobol'"):
        checker.check_code("MOVE A TO B.", "cobol")
    with pytest.raises(ValueError, match="give `code`"):
        GraphToolService(graph, project).scope_check()


@pytest.mark.parametrize("budget", [1, 8, 20, 40, 60, 120, 400, 3000])
def test_every_graph_answer_fits_its_token_budget(graph, project: Path, budget: int) -> None:
    service = GraphToolService(graph, project)
    answers = [service.graph_search("load_config", budget),
               service.explain_symbol("Settings", budget),
               service.find_references("load_config", budget),
               service.repo_map(budget)]
    for text in answers:
        assert estimate_tokens(text) <= budget, (budget, text)
    assert service.usage()["clients"][0]["calls"] == 4


def test_answers_are_deterministic_across_services_and_fresh_graphs(graph, project: Path,
                                                                    tmp_path: Path) -> None:
    first = GraphToolService(graph, project)
    fresh_graph = CodeGraph(project, db_path=tmp_path / "other.duckdb")
    fresh_graph.index()
    try:
        second = GraphToolService(fresh_graph, project)
        for svc_call in ("graph_search", "find_references"):
            a = getattr(first, svc_call)("load_config", 300)
            b = getattr(second, svc_call)("load_config", 300)
            assert a == b and a == getattr(first, svc_call)("load_config", 300)
        assert first.repo_map(200) == second.repo_map(200)
        assert first.explain_symbol("Settings", 200) == second.explain_symbol("Settings", 200)
    finally:
        fresh_graph.close()


def test_fit_to_budget_cuts_at_a_line_and_marks_it() -> None:
    text = "\n".join(f"line {i:03d} " + "x" * 30 for i in range(100))
    cut = fit_to_budget(text, 50)
    assert estimate_tokens(cut) <= 50
    assert cut.endswith("\n… (cut at the token budget)")
    assert cut.splitlines()[-2].startswith("line ") and len(cut.splitlines()[-2]) == 39
    assert fit_to_budget("short", 50) == "short"
    with pytest.raises(ValueError):
        fit_to_budget("x", 0)


def test_accounting_is_per_client(graph, project: Path) -> None:
    service = GraphToolService(graph, project)
    a = service.graph_search("load_config", 200, client="alice")
    service.explain_symbol("Settings", 200, client="alice")
    b = service.repo_map(100, client="bob")
    alice = service.usage("alice")
    assert alice["calls"] == 2 and [c["client"] for c in alice["clients"]] == ["alice"]
    assert alice["clients"][0]["by_tool"]["graph_search"] == \
        {"calls": 1, "answer_tokens": estimate_tokens(a)}
    assert service.usage("bob")["answer_tokens"] == estimate_tokens(b)
    assert service.usage()["calls"] == 3
