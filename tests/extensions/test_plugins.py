"""Plugins: folders and entry points, tools/commands/snippets/hooks, isolation, state."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from smallcode.core.extensions.plugins import (
    disabled_plugins,
    discover_plugins,
    load_plugins,
    set_plugin_enabled,
)
from smallcode.core.router import Router
from smallcode.core.tools import build_registry
from smallcode.core.tools.registry import ToolContext, ToolRegistry

GREETER = '''
NAME = "greeter"
VERSION = "1.2.0"
REQUIRES_SMALLCODE = ">=0.1"
DESCRIPTION = "Says hello"

from pydantic import BaseModel
from smallcode.core.extensions import hookimpl
from smallcode.core.tools.registry import ToolError

CALLS = []

class GreetArgs(BaseModel):
    who: str

def setup(api):
    @api.tool(name="greet", description="Greet someone by name.", args=GreetArgs,
              categories=["search", "read"])
    async def greet(args, ctx):
        if args.who == "nobody":
            raise ToolError("nobody to greet")
        if args.who == "crash":
            raise RuntimeError("greeter exploded")
        return f"hello {args.who}"

    api.command("hello", "say hello", lambda ctx, arg: f"hi {arg}")
    api.snippet("greeting-style", "Always greet politely.", triggers=["greet"])

@hookimpl
def smallcode_after_tool_call(name, result):
    CALLS.append(("after_tool_call", name, result))

@hookimpl
async def smallcode_before_model_request(tools):
    CALLS.append(("before_model_request", tuple(tools)))
    return "Remember the greeting style."

@hookimpl
def smallcode_session_start(context):
    CALLS.append(("session_start", context["workspace"]))
'''


def write_plugin(root: Path, folder: str, source: str, filename: str = "plugin.py") -> Path:
    path = root / ".smallcode" / "plugins" / folder / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    write_plugin(tmp_path, "greeter", GREETER)
    return tmp_path


def load(root: Path, user: Path | None = None):
    return load_plugins(root, None, user_dir=user or root / "no-user", entry_points=False)


async def test_folder_plugin_declares_tools_commands_snippets_hooks(project: Path) -> None:
    plugins = load(project)
    info = plugins.plugins["greeter"]
    assert (info.status, info.version, info.origin) == ("loaded", "1.2.0", "project")
    registry = ToolRegistry()
    assert plugins.register_tools(registry) == ["greet"]
    greet = registry.get("greet")
    assert greet.source == "plugin:greeter" and greet.categories == frozenset({"search", "read"})
    result = await registry.execute("greet", {"who": "ada"}, ToolContext(None))
    assert result.ok and result.output == "hello ada"
    assert await plugins.commands["hello"].handler(None, "there") == "hi there"
    assert [s.name for s in plugins.snippets] == ["greeting-style"]
    assert info.hooks == ["smallcode_after_tool_call", "smallcode_before_model_request",
                          "smallcode_session_start"]
    notes = await plugins.hooks.before_model_request([], ["greet"], {})
    assert notes == ["Remember the greeting style."]
    await plugins.hooks.after_tool_call("greet", {"who": "ada"}, result, {})
    module = info.module
    assert module.CALLS == [("before_model_request", ("greet",)), ("after_tool_call", "greet", result)]
    assert plugins.errors == []


async def test_plugin_tool_reaches_the_model_through_the_router(project: Path) -> None:
    registry = build_registry(None)
    load(project).register_tools(registry)
    decision = Router(registry).route("find all uses of load_config in the project")
    assert decision.category == "search"
    assert "greet" in decision.tool_names


async def test_a_tool_error_is_a_normal_failure_and_a_crash_disables_the_plugin(project: Path) -> None:
    plugins = load(project)
    registry = ToolRegistry()
    plugins.register_tools(registry)
    said_no = await registry.execute("greet", {"who": "nobody"}, ToolContext(None))
    assert not said_no.ok and said_no.output == "nobody to greet"
    assert plugins.plugins["greeter"].active
    crashed = await registry.execute("greet", {"who": "crash"}, ToolContext(None))
    assert not crashed.ok
    assert crashed.output == ("greet failed (RuntimeError: greeter exploded); plugin greeter was "
                              "disabled for this session")
    assert plugins.plugins["greeter"].status == "failed"
    assert "greet" not in registry  # its tools leave the registry
    assert plugins.commands == {} and plugins.snippets == []
    assert await plugins.hooks.before_model_request([], [], {}) == []  # hooks stop too
    assert plugins.errors[0].startswith("plugin greeter: tool greet raised RuntimeError: greeter exploded at plugin.py:")


async def test_a_raising_hook_disables_only_its_plugin(project: Path) -> None:
    write_plugin(project, "noisy", '''
        from smallcode.core.extensions import hookimpl
        @hookimpl
        def smallcode_before_model_request(messages):
            raise KeyError("no such key")
        ''')
    plugins = load(project)
    notes = await plugins.hooks.before_model_request([{"role": "user"}], ["x"], {})
    assert notes == ["Remember the greeting style."]  # greeter's hook still ran
    assert plugins.plugins["noisy"].status == "failed"
    assert plugins.plugins["greeter"].active
    assert plugins.errors == [("plugin noisy: hook smallcode_before_model_request raised KeyError: "
                              "'no such key' at plugin.py:5")]
    assert await plugins.hooks.before_model_request([], [], {}) == ["Remember the greeting style."]
    assert len(plugins.errors) == 1


async def test_a_raising_command_disables_its_plugin(project: Path) -> None:
    write_plugin(project, "cmdfail", '''
        def setup(api):
            def boom(ctx, arg):
                raise ValueError("bad " + arg)
            api.command("boom", "fails", boom)
        ''')
    plugins = load(project)
    out = await plugins.commands["boom"].handler(None, "x")
    assert out == "/boom failed: ValueError: bad x (plugin cmdfail disabled)"
    assert "boom" not in plugins.commands and "hello" in plugins.commands


def test_broken_plugins_are_reported_and_the_rest_load(project: Path) -> None:
    write_plugin(project, "syntax", "def broken(:\n")
    write_plugin(project, "exits", "import sys\nsys.exit(3)\n")
    write_plugin(project, "badsetup", "def setup(api):\n    raise RuntimeError('setup broke')\n")
    write_plugin(project, "future", 'REQUIRES_SMALLCODE = ">=99"\nraise SystemExit("never imported")\n')
    write_plugin(project, "badhook", '''
        from smallcode.core.extensions import hookimpl
        @hookimpl
        def smallcode_after_tool_call(name, not_an_argument):
            pass
        ''')
    write_plugin(project, "nocats", '''
        from pydantic import BaseModel
        def setup(api):
            api.add_tool(name="x", description="x", args=BaseModel, categories=[], handler=print)
        ''')
    plugins = load(project)
    status = {n: p.status for n, p in plugins.plugins.items()}
    assert status == {"badhook": "failed", "badsetup": "failed", "exits": "failed",
                      "future": "incompatible", "greeter": "loaded", "nocats": "failed", "syntax": "failed"}
    errors = {p.name: p.error for p in plugins.plugins.values()}
    assert errors["syntax"].startswith("import failed: SyntaxError")
    assert errors["exits"].startswith("import failed: SystemExit: 3")
    assert errors["badsetup"].startswith("setup failed: RuntimeError: setup broke")
    assert "not_an_argument" in errors["badhook"]
    assert "at least one router category" in errors["nocats"]
    assert len(plugins.errors) == 6
    assert plugins.register_tools(ToolRegistry()) == ["greet"]


def test_version_range_is_checked_before_any_plugin_code_runs(tmp_path: Path) -> None:
    write_plugin(tmp_path, "future", 'REQUIRES_SMALLCODE = ">=99"\nraise RuntimeError("imported")\n')
    write_plugin(tmp_path, "dynamic", 'REQUIRES_SMALLCODE = ">=" + "99"\n')  # only seen on import
    write_plugin(tmp_path, "badrange", 'REQUIRES_SMALLCODE = "at least 1"\n')
    plugins = load(tmp_path)
    assert plugins.plugins["future"].status == "incompatible"
    assert plugins.plugins["future"].error == "needs smallcode >=99, this is 0.1.0"
    assert plugins.plugins["dynamic"].status == "incompatible"
    assert plugins.plugins["badrange"].error == "REQUIRES_SMALLCODE 'at least 1' is not a valid version range"


def test_disabled_plugins_are_listed_but_never_imported_and_state_persists(project: Path) -> None:
    write_plugin(project, "tripwire", 'VERSION = "0.3"\nraise RuntimeError("imported!")\n')
    set_plugin_enabled(project, "tripwire", False)
    assert disabled_plugins(project) == {"tripwire"}
    assert '"disabled": [\n    "tripwire"\n  ]' in (project / ".smallcode" / "plugins.json").read_text()
    found = {p.name: p for p in discover_plugins(project)}
    assert found["tripwire"].status == "disabled" and found["tripwire"].version == "0.3"
    plugins = load(project)
    assert plugins.plugins["tripwire"].status == "disabled" and plugins.errors == []
    set_plugin_enabled(project, "tripwire", True)
    assert disabled_plugins(project) == set()
    assert load(project).plugins["tripwire"].status == "failed"


def test_package_folder_plugins_and_project_over_user(tmp_path: Path) -> None:
    user = tmp_path / "user"
    (user / "plugins" / "greeter").mkdir(parents=True)
    (user / "plugins" / "greeter" / "plugin.py").write_text('VERSION = "0.1"\n')
    write_plugin(tmp_path, "greeter", GREETER)
    write_plugin(tmp_path, "pkg", "from .helper import WORD\ndef setup(api):\n    api.snippet('w', WORD)\n",
                 filename="__init__.py")
    (tmp_path / ".smallcode" / "plugins" / "pkg" / "helper.py").write_text("WORD = 'from helper'\n")
    plugins = load(tmp_path, user)
    assert plugins.plugins["greeter"].version == "1.2.0" and plugins.plugins["greeter"].origin == "project"
    assert plugins.plugins["pkg"].status == "loaded"
    assert [s.body for s in plugins.snippets if s.name == "w"] == ["from helper"]


def test_entry_point_plugins_are_discovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "epgreeter").mkdir(parents=True)
    (site / "epgreeter" / "__init__.py").write_text(GREETER.replace('NAME = "greeter"', ""))
    dist = site / "epgreeter-2.0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: epgreeter\nVersion: 2.0.1\n")
    (dist / "entry_points.txt").write_text("[smallcode.plugins]\nepgreet = epgreeter\n")
    monkeypatch.syspath_prepend(str(site))
    plugins = load_plugins(tmp_path, None, user_dir=tmp_path / "u")
    info = plugins.plugins["epgreet"]
    assert (info.origin, info.status, info.version) == ("entry-point", "loaded", "1.2.0")
    assert plugins.register_tools(ToolRegistry()) == ["greet"]
    sys.modules.pop("epgreeter", None)
