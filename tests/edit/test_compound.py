"""Compound tools through the real registry: same guards as the plain tools, one result per call."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.tools import ToolContext, ToolRegistry, Workspace, compound, files, shell

from tests.support.scripted_server import Reply, ScriptedServer

CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST_CALC = (
    "from calc import add, mul\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n"
)


@pytest.fixture()
def registry() -> ToolRegistry:
    reg = ToolRegistry()
    files.register(reg)
    shell.register(reg)
    compound.register(reg)
    return reg


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(TEST_CALC)
    (tmp_path / "notes.md").write_text("calc adds numbers\n")
    return tmp_path


@pytest.fixture()
async def ctx(project: Path):
    c = ToolContext(Workspace(project))
    yield c
    sh = c.services.shell
    if sh is not None:
        await sh.close()


def test_compound_tools_register_with_sensible_categories(registry):
    # kept narrow so each route offers few tools (router benchmark: schema tokens per call)
    assert registry.get("find_and_read").categories == {"read"}
    assert registry.get("read_and_patch").categories == {"plan"}
    assert registry.get("create_and_run").categories == {"run"}
    verify = registry.get("edit_and_verify")
    assert verify.categories == {"write", "run"} and verify.mutates and verify.runs_commands


async def test_find_and_read_by_query_reads_the_best_file_and_marks_it_read(registry, ctx):
    res = await registry.execute("find_and_read", {"query": "def add"}, ctx)
    assert res.ok
    assert res.output.startswith("matches: calc.py (1)")
    assert "calc.py (6 lines)\n1| def add(a, b):\n2|     return a - b" in res.output
    assert res.data["files"] == ["calc.py"]
    assert "calc.py" in ctx.files_read


async def test_find_and_read_by_pattern(registry, ctx):
    res = await registry.execute("find_and_read", {"pattern": "tests/*.py"}, ctx)
    assert res.ok and res.data["files"] == ["tests/test_calc.py"]
    assert "def test_mul():" in res.output
    none = await registry.execute("find_and_read", {"pattern": "*.rs"}, ctx)
    assert none.ok and none.output == "no files match '*.rs'"


async def test_find_and_read_needs_a_pattern_or_query(registry, ctx):
    res = await registry.execute("find_and_read", {}, ctx)
    assert not res.ok
    assert "give a pattern (file names) or a query (file contents)" in res.output


async def test_read_and_patch_returns_the_patched_region(registry, ctx, project):
    res = await registry.execute("read_and_patch", {
        "path": "calc.py", "old_str": "def add(a, b):\n  return a - b",
        "new_str": "def add(a, b):\n  return a + b"}, ctx)
    assert res.ok, res.output
    assert res.output.startswith("patched calc.py lines 1-2 (matched by indent)")
    assert "calc.py now reads:\n1| def add(a, b):\n2|     return a + b\n3| " in res.output
    assert (project / "calc.py").read_text() == CALC.replace("a - b", "a + b")
    assert res.changed_files == ["calc.py"]


async def test_read_and_patch_cannot_escape_the_workspace(registry, ctx, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "x.py"
    outside.write_text("a = 1\n")
    res = await registry.execute("read_and_patch", {
        "path": str(outside), "old_str": "a = 1", "new_str": "a = 2"}, ctx)
    assert not res.ok and "outside the workspace" in res.output
    assert outside.read_text() == "a = 1\n"


async def test_compound_edits_respect_a_step_workers_allowed_paths(registry, ctx, project):
    ctx.allowed_edit_paths = {"notes.md"}
    for name in ("read_and_patch", "edit_and_verify"):
        res = await registry.execute(name, {
            "path": "calc.py", "old_str": "a - b", "new_str": "a + b"}, ctx)
        assert not res.ok and "this step may only edit notes.md" in res.output
    res = await registry.execute("create_and_run", {
        "path": "calc.py", "content": "x = 1\n", "command": "true"}, ctx)
    assert not res.ok and "this step may only edit notes.md" in res.output
    assert (project / "calc.py").read_text() == CALC


async def test_create_and_run_honours_read_before_write(registry, ctx, project):
    args = {"path": "calc.py", "content": "print('replaced')\n", "command": "python calc.py"}
    refused = await registry.execute("create_and_run", args, ctx)
    assert not refused.ok and "you have not read it" in refused.output
    assert (project / "calc.py").read_text() == CALC
    again = await registry.execute("create_and_run", args, ctx)
    assert again.ok, again.output
    assert "$ python calc.py\nreplaced\n[exit code 0]" in again.output


async def test_create_and_run_new_script(registry, ctx, project):
    res = await registry.execute("create_and_run", {
        "path": "scripts/hello.py", "content": "import sys\nprint('hi', len(sys.argv))\n",
        "command": "python scripts/hello.py a b"}, ctx)
    assert res.ok
    assert res.output.startswith("wrote scripts/hello.py (3 lines)")
    assert "hi 3\n[exit code 0]" in res.output
    assert res.changed_files == ["scripts/hello.py"]


async def test_create_and_run_does_not_run_a_broken_file(registry, ctx, project):
    res = await registry.execute("create_and_run", {
        "path": "bad.py", "content": "def f(:\n", "command": "python bad.py"}, ctx)
    assert not res.ok
    assert "VALIDATION FAILED" in res.output
    assert "The command was not run because the file has errors." in res.output
    assert "$ python bad.py" not in res.output


async def test_edit_and_verify_runs_covering_tests_and_reports_pass(registry, ctx, project):
    res = await registry.execute("edit_and_verify", {
        "path": "calc.py", "old_str": "return a - b", "new_str": "return a + b"}, ctx)
    assert res.ok, res.output
    assert "Tests: 2 passed in" in res.output
    assert res.data["stage"] == "ok"
    assert res.data["tests"]["ok"] is True


async def test_edit_and_verify_failing_tests_feed_the_improvement_loop(registry, ctx, project):
    args = {"path": "calc.py", "old_str": "return a * b", "new_str": "return a ** b"}
    res = await registry.execute("edit_and_verify", args, ctx)
    assert not res.ok
    assert "tests/test_calc.py::test_mul - assert 8 == 6" in res.output
    assert "tests/test_calc.py::test_add - assert -1 == 5" in res.output
    assert res.data["stage"] == "retry"
    assert "Fix the first error with one small patch" in res.output


async def test_edit_and_verify_stops_at_a_validation_error(registry, ctx, project):
    res = await registry.execute("edit_and_verify", {
        "path": "calc.py", "old_str": "return a - b", "new_str": "return (a + b"}, ctx)
    assert not res.ok
    assert "calc.py:2: SyntaxError: '(' was never closed" in res.output
    assert "Tests:" not in res.output
    assert res.data["stage"] == "retry"


async def test_edit_and_verify_without_tests_says_so(registry, ctx, project):
    res = await registry.execute("edit_and_verify", {
        "path": "notes.md", "old_str": "adds", "new_str": "adds and multiplies"}, ctx)
    assert res.ok
    assert "No tests cover this file; nothing else was run." in res.output


async def test_patch_that_does_not_match_falls_back_to_semantic_merge(registry, ctx, project):
    # the model remembers add() with other names; the merge micro-task adapts the change
    merged = CALC.replace("return a - b", "return a + b")
    with ScriptedServer([Reply(content=f"```python\n{merged}```")]) as srv:
        model = OpenAIChatClient(srv.base_url, model="m", max_retries=0, read_timeout=10)
        ctx.services.model = model
        res = await registry.execute("read_and_patch", {
            "path": "calc.py", "old_str": "def add(x, y):\n    return x - y",
            "new_str": "def add(x, y):\n    return x + y"}, ctx)
        await model.aclose()
    assert res.ok, res.output
    assert res.output.startswith("patched calc.py by semantic merge")
    assert res.data["strategy"] == "merge"
    assert (project / "calc.py").read_text() == merged


async def test_without_a_model_a_failed_patch_is_the_ladders_error(registry, ctx, project):
    res = await registry.execute("read_and_patch", {
        "path": "calc.py", "old_str": "def add(x, y):\n    return x - y",
        "new_str": "def add(x, y):\n    return x + y"}, ctx)
    assert not res.ok
    assert res.output.startswith("patch failed on calc.py: old_str not found. Closest region")
    assert (project / "calc.py").read_text() == CALC


async def test_edit_and_verify_with_validation_switched_off_is_a_plain_patch(registry, ctx, project):
    ctx.services.validate_edits = False
    res = await registry.execute("edit_and_verify", {
        "path": "calc.py", "old_str": "return a * b", "new_str": "return a ** b"}, ctx)
    assert res.ok
    assert "Tests:" not in res.output and "stage" not in res.data
    assert "return a ** b" in (project / "calc.py").read_text()


async def test_find_and_read_shows_a_window_around_the_hit_in_a_large_file(registry, ctx, project):
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(200))  # 600 lines
    (project / "big.py").write_text(body + "def needle():\n    return 'found'\n")
    res = await registry.execute("find_and_read", {"query": "def needle"}, ctx)
    assert res.ok
    assert "big.py lines 571-602 of 602" in res.output
    assert "601| def needle():" in res.output
    assert "def f0(x)" not in res.output
