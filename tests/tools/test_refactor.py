"""rename_symbol: whole identifiers only, every source file, the same guards as patch, and the
router offers it only when the message talks about renaming."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.router import Router
from smallcode.core.tools import ToolContext, Workspace, build_registry
from smallcode.core.tools.refactor import files_using


@pytest.fixture()
def proj(tmp_path: Path):
    (tmp_path / "billing").mkdir()
    (tmp_path / "billing" / "totals.py").write_text(
        "def calc_total(items):\n    return sum(items)\n\n\ndef calc_totals(xs):\n"
        "    return [calc_total(x) for x in xs]\n")
    (tmp_path / "billing" / "invoice.py").write_text(
        "from billing.totals import calc_total\n\nrecalc_total = 3\n\n\ndef render(items):\n"
        "    return f\"total {calc_total(items)}\"\n")
    (tmp_path / "app.js").write_text("const calc_total = (a) => a;\nexport { calc_total };\n")
    (tmp_path / "NOTES.md").write_text("calc_total is the old name\n")
    (tmp_path / "other.py").write_text("print('nothing here')\n")
    return tmp_path, build_registry(), ToolContext(Workspace(tmp_path))


async def test_renames_whole_identifiers_in_every_source_file(proj) -> None:
    root, reg, ctx = proj
    r = await reg.execute("rename_symbol", {"old": "calc_total", "new": "compute_total"}, ctx)
    assert r.ok, r.output
    assert sorted(r.changed_files) == ["app.js", "billing/invoice.py", "billing/totals.py"]
    totals = (root / "billing" / "totals.py").read_text()
    assert "def compute_total(items)" in totals and "def calc_totals(xs)" in totals
    assert "[compute_total(x) for x in xs]" in totals
    invoice = (root / "billing" / "invoice.py").read_text()
    assert "import compute_total" in invoice and "recalc_total = 3" in invoice
    assert "{compute_total(items)}" in invoice
    assert "export { compute_total }" in (root / "app.js").read_text()
    assert (root / "NOTES.md").read_text() == "calc_total is the old name\n"  # prose untouched
    assert "billing/totals.py: 2 occurrences" in r.output
    assert "-def calc_total(items):" in r.diff and "+def compute_total(items):" in r.diff


async def test_a_path_is_ignored_because_a_rename_must_change_every_use(proj) -> None:
    _, reg, ctx = proj  # renaming only invoice.py would break its import of totals.py
    r = await reg.execute("rename_symbol", {"old": "calc_total", "new": "compute_total",
                                            "path": "billing/invoice.py"}, ctx)
    assert r.ok and sorted(r.changed_files) == ["app.js", "billing/invoice.py",
                                                "billing/totals.py"]


async def test_qualified_and_backticked_names_are_accepted(proj) -> None:
    _, reg, ctx = proj
    r = await reg.execute("rename_symbol", {"old": "`totals.calc_total()`",
                                            "new": "compute_total"}, ctx)
    assert r.ok and "renamed calc_total -> compute_total in 3 files" in r.output


@pytest.mark.parametrize("args, message", [
    ({"old": "nope_missing", "new": "x"}, "no whole-word occurrence of nope_missing"),
    ({"old": "calc_total", "new": "compute total"}, "is not an identifier"),
    ({"old": "calc_total", "new": "calc_total"}, "the same name"),
])
async def test_bad_input_is_a_clear_error_and_changes_nothing(proj, args, message) -> None:
    root, reg, ctx = proj
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    r = await reg.execute("rename_symbol", args, ctx)
    assert not r.ok and message in r.output
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


async def test_a_plan_step_renames_only_its_declared_files(proj) -> None:
    root, reg, ctx = proj
    ctx.allowed_edit_paths = {"billing/invoice.py"}
    r = await reg.execute("rename_symbol", {"old": "calc_total", "new": "compute_total"}, ctx)
    assert r.ok and r.changed_files == ["billing/invoice.py"]
    assert "not touched (other steps own them): app.js, billing/totals.py" in r.output
    assert "calc_total" in (root / "app.js").read_text()


async def test_a_rename_that_would_break_a_file_is_not_kept(proj) -> None:
    root, reg, ctx = proj
    before = (root / "billing" / "totals.py").read_bytes()
    r = await reg.execute("rename_symbol", {"old": "calc_total", "new": "class"}, ctx)
    assert not r.ok and "NOT RENAMED" in r.output and "billing/totals.py" in r.output
    assert (root / "billing" / "totals.py").read_bytes() == before


def test_files_using_counts_whole_words(proj) -> None:
    _, _, ctx = proj
    assert files_using(ctx.workspace, "calc_total") == [
        ("app.js", 2), ("billing/invoice.py", 2), ("billing/totals.py", 2)]


def test_router_offers_rename_only_when_asked() -> None:
    router = Router(build_registry(), two_stage="off")
    asked = router.route("Rename calc_total to compute_total everywhere")
    assert "rename_symbol" in asked.tool_names
    assert "rename_symbol" in router.widen(asked).tool_names
    plain = router.route("fix the bug in billing/totals.py so test_total passes")
    assert plain.category == "write" and "rename_symbol" not in plain.tool_names
    assert "rename_symbol" not in router.widen(plain).tool_names


@pytest.mark.parametrize("message, offered, category", [
    ("Rename the Cart class to ShoppingCart in the shop package", True, "write"),
    ("Rename every .txt file in notes/ to .md (keep their contents).", False, "run"),
    ("Rename app/helpers.py to app/text_tools.py and fix every import", False, "run"),
])
def test_rename_symbol_is_for_names_and_file_renames_go_to_the_shell(
        message: str, offered: bool, category: str) -> None:
    d = Router(build_registry(), two_stage="off").route(message)
    assert ("rename_symbol" in d.tool_names) is offered and d.category == category
