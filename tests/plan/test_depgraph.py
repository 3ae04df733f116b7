"""The plan's dependency graph: file mentions, symbols, "after step N", batches, cycles."""

from __future__ import annotations

from pathlib import Path

from smallcode.core.graph.codegraph import CodeGraph
from smallcode.core.plan.depgraph import DependencyGraph, created_paths, mentioned_paths


def test_paths_are_found_in_backticks_quotes_and_bare_with_known_extensions() -> None:
    text = ("Update `src/auth.py`, then tests/test_auth.py and \"config.yaml\"; "
            "also ./web/app.ts and 'Makefile', not e.g. or version 1.2")
    assert mentioned_paths(text) == ["src/auth.py", "tests/test_auth.py", "config.yaml",
                                     "web/app.ts", "Makefile"]


def test_steps_on_different_files_form_one_batch_and_a_shared_file_orders_them() -> None:
    g = DependencyGraph(["Edit `a.py`", "Edit `b.py`", "Fix the import in a.py",
                         "Edit `c.py`"])
    assert g.batches() == [[1, 2, 4], [3]]
    assert g.deps[3] == {1}
    assert g.independent_steps() == 3


def test_after_step_n_adds_an_edge() -> None:
    g = DependencyGraph(["Create `models.py`", "Create `views.py`",
                         "After step 2, create `urls.py`"])
    assert g.batches() == [[1, 2], [3]]
    assert g.dependents(2) == {3}


def test_a_step_without_files_is_a_barrier() -> None:
    g = DependencyGraph(["Edit `a.py`", "Edit `b.py`", "Run the tests", "Edit `c.py`"])
    assert g.batches() == [[1, 2], [3], [4]]


def test_a_cycle_falls_back_to_sequential_order() -> None:
    g = DependencyGraph(["Edit `a.py` after step 2", "Edit `a.py`"])
    assert g.cyclic
    assert g.batches() == [[1], [2]]
    assert "cycle" in g.describe()


def test_symbols_are_resolved_to_files_through_the_code_graph(tmp_path: Path) -> None:
    (tmp_path / "auth.py").write_text("def validate_token(t):\n    return bool(t)\n")
    (tmp_path / "routes.py").write_text("def login():\n    return 1\n")
    graph = CodeGraph(tmp_path)
    graph.index()
    try:
        steps = ["Make `validate_token` reject empty strings", "Edit `routes.py`",
                 "Add logging to auth.py"]
        g = DependencyGraph(steps, graph=graph)
    finally:
        if hasattr(graph, "close"):
            graph.close()
    assert g.node(1).files == ["auth.py"]
    assert g.node(1).symbols == {"validate_token": ["auth.py"]}
    assert g.batches() == [[1, 2], [3]]


def test_a_graph_that_fails_is_ignored() -> None:
    class Broken:
        def resolve_symbol_files(self, name: str) -> list[str]:
            raise RuntimeError("index gone")

    g = DependencyGraph(["Fix `parse`", "Edit `b.py`"], graph=Broken())
    assert g.node(1).files == [] and g.batches() == [[1], [2]]


def test_missing_paths_are_flagged_but_files_a_step_creates_are_not(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("")
    steps = ["Create `utils/io.py` with a read helper", "Use it in `app.py` and `utils/io.py`",
             "Update `lib/typo.py`"]
    assert created_paths(steps[0]) == ["utils/io.py"]
    g = DependencyGraph(steps)
    assert g.missing_paths(tmp_path) == [(3, "lib/typo.py")]
