"""open_extensions: plugins + MCP + skills in one session, as the agent sees them; and the CLI."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from smallcode.cli.main import build_parser
from smallcode.core.config import Settings
from smallcode.core.extensions import open_extensions
from smallcode.core.router import Router
from smallcode.core.tools import build_registry
from smallcode.core.tools.registry import ToolContext

SERVER = str(Path(__file__).with_name("mcp_test_server.py"))

PLUGIN = '''
VERSION = "0.2"
from pydantic import BaseModel
from smallcode.core.extensions import hookimpl

EVENTS = []

class Args(BaseModel):
    path: str

def setup(api):
    @api.tool(name="lint_file", description="Lint one file.", args=Args, categories=["write", "run"])
    def lint_file(args, ctx):
        return f"{args.path}: clean (level {api.config.get('level', 'default')})"
    api.snippet("lint-policy", "Lint every file you touch.", triggers=["lint"])
    api.command("lintall", "lint the project", lambda ctx, arg: "linted")

@hookimpl
def smallcode_session_start(context):
    EVENTS.append("start")

@hookimpl
def smallcode_session_end(context):
    EVENTS.append("end")
'''


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    plugin = tmp_path / ".smallcode" / "plugins" / "linter" / "plugin.py"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(textwrap.dedent(PLUGIN))
    (tmp_path / ".smallcode" / "mcp.json").write_text(json.dumps({"servers": {
        "calc": {"command": sys.executable, "args": [SERVER], "category": "search"},
        "ghost": {"command": sys.executable, "args": ["-c", "raise SystemExit(2)"], "startup_timeout": 10},
    }}))
    skill = tmp_path / ".smallcode" / "skills" / "tests.md"
    skill.parent.mkdir(parents=True)
    skill.write_text("---\ntriggers: [pytest]\ncategories: [run]\n---\nRun pytest -q -x.\n")
    return tmp_path


async def test_a_session_gets_plugin_and_mcp_tools_hooks_skills_and_commands(project: Path) -> None:
    settings = Settings(extra={"plugins": {"linter": {"level": "strict"}}})
    registry = build_registry(settings)
    ext = await open_extensions(project, settings, registry, user_dir=project / "user")
    try:
        module = ext.plugins.plugins["linter"].module
        assert module.EVENTS == ["start"]
        assert "lint_file" in ext.tool_names and "add" in ext.tool_names
        assert registry.get("lint_file").source == "plugin:linter"
        assert registry.get("add").source == "mcp:calc"
        result = await registry.execute("lint_file", {"path": "a.py"}, ToolContext(None))
        assert result.output == "a.py: clean (level strict)"
        assert (await registry.execute("add", {"a": 1, "b": 2}, ToolContext(None))).output == "3"
        router = Router(registry)
        assert "lint_file" in router.route("fix the failing test in app.py").tool_names
        assert "add" in router.route("find all uses of parse_args across files").tool_names
        errors = ext.all_errors()
        assert len(errors) == 1 and errors[0].startswith("mcp ghost: ")
        # skills: trigger words, plugin snippets, category, /skill
        assert ext.skills_for("lint and run pytest", None) == (
            "## Skill: lint-policy\nLint every file you touch.\n\n## Skill: tests\nRun pytest -q -x.")
        assert ext.skills_for("hello", "run") == "## Skill: tests\nRun pytest -q -x."
        assert ext.skills_for("hello", "read") == ""
        skill = ext.commands["skill"].handler
        assert skill(None, "") == "  lint-policy\n  tests"
        assert skill(None, "nope") == "no skill named nope; skills: lint-policy, tests"
        assert skill(None, "lint-policy") == "skill on for the following messages: lint-policy"
        assert ext.skills_for("hello", "read") == "## Skill: lint-policy\nLint every file you touch."
        assert skill(None, "off") == "manual skills off"
        assert await ext.commands["lintall"].handler(None, "") == "linted"
    finally:
        await ext.aclose()
    assert module.EVENTS == ["start", "end"]
    assert not ext.mcp.connections["calc"].alive


async def test_bad_mcp_json_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / ".smallcode").mkdir()
    (tmp_path / ".smallcode" / "mcp.json").write_text('{"servers": {"x": {}}}')
    ext = await open_extensions(tmp_path, Settings(), build_registry(None), user_dir=tmp_path / "u",
                                entry_points=False)
    try:
        assert ext.all_errors() == [(f"{tmp_path / '.smallcode' / 'mcp.json'}: server 'x': needs exactly "
                                    "one of \"command\" (stdio) or \"url\" (HTTP)")]
        assert ext.mcp is None
    finally:
        await ext.aclose()


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = build_parser().parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr().out


def test_cli_plugins_list_enable_disable(project: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(project / "xdg"))
    code, out = run_cli(["plugins", "list", "-C", str(project)], capsys)
    assert "[untrusted]" in out.splitlines()[0]  # a fresh user config trusts no project
    assert run_cli(["plugins", "trust", "-C", str(project)], capsys)[0] == 0
    code, out = run_cli(["plugins", "list", "-C", str(project)], capsys)
    assert code == 0
    assert out.splitlines()[0] == f"linter 0.2  [enabled]  (project: {project}/.smallcode/plugins/linter/plugin.py)"
    code, out = run_cli(["plugins", "list", "--check", "-C", str(project)], capsys)
    assert "    tools: lint_file" in out and "    commands: /lintall" in out
    assert "    hooks: smallcode_session_end, smallcode_session_start" in out
    assert run_cli(["plugins", "disable", "linter", "-C", str(project)], capsys) == (0, "plugin linter disabled\n")
    code, out = run_cli(["plugins", "list", "-C", str(project)], capsys)
    assert "[disabled]" in out.splitlines()[0]
    assert run_cli(["plugins", "enable", "linter", "-C", str(project)], capsys) == (0, "plugin linter enabled\n")
    assert run_cli(["plugins", "enable", "nope", "-C", str(project)], capsys)[0] == 1


def test_cli_mcp_test_and_list(project: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(project / "xdg"))
    code, out = run_cli(["mcp", "list", "-C", str(project)], capsys)
    assert code == 0
    assert "    tools: not listed yet (run `smallcode mcp test`)" in out
    code, out = run_cli(["mcp", "test", "calc", "-C", str(project)], capsys)
    assert code == 0
    assert out.startswith("ok    calc (stdio) ") and out.rstrip().endswith(
        "7 tools: add, shout, server_pid, nap, die, refuse, whereami")
    code, out = run_cli(["mcp", "list", "-C", str(project)], capsys)
    assert "    - add [search]: Add two integers." in out
    code, out = run_cli(["mcp", "test", "ghost", "-C", str(project)], capsys)
    assert code == 1 and out.startswith("FAIL  ghost (stdio)") and "failed to start" in out
    assert run_cli(["mcp", "test", "nosuch", "-C", str(project)], capsys)[0] == 1
