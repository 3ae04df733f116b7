"""Plugins: tools, slash commands, prompt snippets and hooks from Python code.

A plugin is either an installed package exposing an entry point in the group
``smallcode.plugins`` (the entry point names the module or object), or a folder
``.smallcode/plugins/<name>/`` (project) or ``<user config>/plugins/<name>/`` (user) holding a
``plugin.py`` or an ``__init__.py``. The module declares::

    NAME = "greeter"                  # default: the folder / entry point name
    VERSION = "1.0.0"                 # default: the distribution's version, else "0"
    REQUIRES_SMALLCODE = ">=0.1,<2"   # a PEP 440 range checked against smallcode's version
    DESCRIPTION = "..."

    def setup(api: PluginAPI) -> None:          # optional
        @api.tool(name="greet", description="...", args=GreetArgs, categories=["read"])
        def greet(args, ctx): return f"hello {args.who}"
        api.command("hello", "say hello", lambda ctx, arg: "hi")
        api.snippet("tone", "Answer briefly.", triggers=["brief"])

    @hookimpl                                    # from smallcode.core.extensions import hookimpl
    def smallcode_after_tool_call(name, result): ...

Isolation: a plugin that raises while loading, in a tool, in a command or in a hook is recorded in
:attr:`PluginSet.errors` and disabled for the session (its tools leave the registry, its hooks and
commands stop); the agent loop never sees the exception. ``.smallcode/plugins.json`` keeps which
plugins the user disabled (``smallcode plugins disable NAME``); disabled plugins are listed but
never imported. Listing folder plugins reads NAME/VERSION statically (``ast``), without running
their code.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.metadata
import importlib.util
import inspect
import json
import os
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel
from smallcode.core.tools.registry import Tool, ToolContext, ToolError, ToolRegistry, ToolResult

from .hookspecs import HOOK_NAMES, PROJECT, SmallcodeHooks
from .skills import Skill, parse_skill

ENTRY_POINT_GROUP = "smallcode.plugins"
STATE_FILE = "plugins.json"

CommandHandler = Callable[[Any, str], Any]


def smallcode_version() -> str:
    from smallcode.core import __version__

    return __version__


# --- state --------------------------------------------------------------------------------------


def state_path(workspace_root: str | os.PathLike[str]) -> Path:
    return Path(workspace_root) / ".smallcode" / STATE_FILE


def disabled_plugins(workspace_root: str | os.PathLike[str]) -> set[str]:
    path = state_path(workspace_root)
    if not path.is_file():
        return set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    names = data.get("disabled", []) if isinstance(data, dict) else []
    return {n for n in names if isinstance(n, str)}


def _trust_file() -> Path:
    from smallcode.core.config import user_config_dir

    return user_config_dir() / "trusted-projects.json"


def project_trusted(workspace_root: str | os.PathLike[str]) -> bool:
    """Project plugins run code from the repository, so they load only in projects the user has
    trusted (`smallcode plugins trust`). Trust lives in the user's config directory: a cloned
    repository cannot grant it to itself."""
    path = _trust_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    roots = data.get("projects", []) if isinstance(data, dict) else []
    return str(Path(workspace_root).resolve()) in roots


def set_project_trusted(workspace_root: str | os.PathLike[str], trusted: bool) -> None:
    path = _trust_file()
    data: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            data = loaded
    roots = {r for r in data.get("projects", []) if isinstance(r, str)}
    root = str(Path(workspace_root).resolve())
    (roots.add if trusted else roots.discard)(root)
    data["projects"] = sorted(roots)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def set_plugin_enabled(workspace_root: str | os.PathLike[str], name: str, enabled: bool) -> None:
    """Persist a plugin's enabled state in ``.smallcode/plugins.json`` (atomic write)."""
    path = state_path(workspace_root)
    data: dict[str, Any] = {}
    if path.is_file():
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                data = loaded
    disabled = {n for n in data.get("disabled", []) if isinstance(n, str)}
    if enabled:
        disabled.discard(name)
    else:
        disabled.add(name)
    data["disabled"] = sorted(disabled)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


# --- discovery ----------------------------------------------------------------------------------


@dataclass
class PluginInfo:
    """One discovered plugin and what became of it."""

    name: str
    origin: str  # entry-point | project | user
    location: str  # module path or folder
    version: str = "0"
    description: str = ""
    requires: str = ""
    status: str = "found"  # found | loaded | disabled | failed | incompatible
    error: str = ""
    tools: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
    entry_point: Any = None
    module: ModuleType | None = None

    @property
    def active(self) -> bool:
        return self.status == "loaded"


def _static_metadata(source: Path) -> dict[str, str]:
    """NAME, VERSION, REQUIRES_SMALLCODE, DESCRIPTION assigned as literals in a module."""
    out: dict[str, str] = {}
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return out
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            key = node.targets[0].id
            if key in ("NAME", "VERSION", "REQUIRES_SMALLCODE", "DESCRIPTION") and \
                    isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                out[key] = node.value.value
    return out


def _plugin_source(folder: Path) -> Path | None:
    for candidate in ("plugin.py", "__init__.py"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def plugin_folders(workspace_root: str | os.PathLike[str],
                   user_dir: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    out = []
    if user_dir is not None:
        out.append(("user", Path(user_dir) / "plugins"))
    out.append(("project", Path(workspace_root) / ".smallcode" / "plugins"))
    return out


def discover_plugins(workspace_root: str | os.PathLike[str],
                     user_dir: str | os.PathLike[str] | None = None,
                     *, entry_points: bool = True) -> list[PluginInfo]:
    """Every plugin that could load, without running plugin code. Project folders override user
    folders, which override installed packages, on a name clash."""
    found: dict[str, PluginInfo] = {}
    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(ep, "dist", None)
            found[ep.name] = PluginInfo(name=ep.name, origin="entry-point", location=ep.value,
                                        version=getattr(dist, "version", None) or "0", entry_point=ep)
    for origin, folder in plugin_folders(workspace_root, user_dir):
        if not folder.is_dir():
            continue
        for sub in sorted(folder.iterdir()):
            source = _plugin_source(sub) if sub.is_dir() else None
            if source is None:
                continue
            meta = _static_metadata(source)
            name = meta.get("NAME") or sub.name
            found[name] = PluginInfo(name=name, origin=origin, location=str(source),
                                     version=meta.get("VERSION", "0"),
                                     description=meta.get("DESCRIPTION", ""),
                                     requires=meta.get("REQUIRES_SMALLCODE", ""))
    disabled = disabled_plugins(workspace_root)
    trusted = project_trusted(workspace_root)
    for info in found.values():
        if info.name in disabled:
            info.status = "disabled"
        elif info.origin == "project" and not trusted:
            info.status = "untrusted"
    return sorted(found.values(), key=lambda p: p.name)


# --- the API a plugin's setup() receives --------------------------------------------------------


@dataclass
class PluginCommand:
    name: str
    help: str
    handler: CommandHandler
    plugin: str


class PluginAPI:
    """What ``setup(api)`` may declare. Everything is collected and applied by :class:`PluginSet`."""

    def __init__(self, plugin: str, settings: Any = None):
        self.plugin = plugin
        self.settings = settings
        self.tools: list[Tool] = []
        self.commands: list[PluginCommand] = []
        self.snippets: list[Skill] = []

    @property
    def config(self) -> dict[str, Any]:
        """The plugin's own section: ``[extra.plugins.<name>]`` in smallcode.toml."""
        extra = getattr(self.settings, "extra", None) or {}
        section = (extra.get("plugins") or {}).get(self.plugin) if isinstance(extra, dict) else None
        return dict(section) if isinstance(section, dict) else {}

    def tool(self, *, name: str, description: str, args: type[BaseModel],
             categories: Iterable[str], mutates: bool = False,
             runs_commands: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator for ``fn(args, ctx)`` returning a ToolResult or a string (async allowed)."""

        def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.add_tool(name=name, description=description, args=args, categories=categories,
                          handler=fn, mutates=mutates, runs_commands=runs_commands)
            return fn

        return wrap

    def add_tool(self, *, name: str, description: str, args: type[BaseModel],
                 categories: Iterable[str], handler: Callable[..., Any], mutates: bool = False,
                 runs_commands: bool = False) -> None:
        cats = frozenset(categories)
        if not cats:
            raise ValueError(f"tool {name!r} must declare at least one router category")
        self.tools.append(Tool(name=name, description=description, args_model=args, handler=handler,
                               categories=cats, mutates=mutates, runs_commands=runs_commands,
                               source=f"plugin:{self.plugin}"))

    def command(self, name: str, help: str, handler: CommandHandler) -> None:
        """A slash command ``/name``: ``handler(ctx, argument) -> str | None`` (async allowed)."""
        self.commands.append(PluginCommand(name, help, handler, self.plugin))

    def snippet(self, name: str, text: str, *, description: str = "", triggers: Iterable[str] = (),
                categories: Iterable[str] = (), always: bool = False) -> None:
        """A prompt snippet, applied like a skill (by trigger words, category, or always)."""
        skill = parse_skill(text, name, f"plugin:{self.plugin}")
        self.snippets.append(Skill(name=name, body=skill.body, description=description,
                                   triggers=tuple(triggers), categories=frozenset(categories),
                                   always=always, source=f"plugin:{self.plugin}"))


# --- hooks ----------------------------------------------------------------------------------------


class HookRelay:
    """Calls the plugins' hook implementations one by one, isolating each: an implementation that
    raises is reported and its plugin disabled; the others still run."""

    def __init__(self, pm: pluggy.PluginManager, on_failure: Callable[[str, str], None]):
        self._pm = pm
        self._on_failure = on_failure

    def implementations(self, hook: str) -> list[Any]:
        caller = getattr(self._pm.hook, hook, None)
        return list(caller.get_hookimpls()) if caller is not None else []

    async def acall(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call ``smallcode_<hook>`` (or the full name); returns the non-None results."""
        name = hook if hook.startswith("smallcode_") else f"smallcode_{hook}"
        if name not in HOOK_NAMES:
            raise ValueError(f"unknown hook {hook!r}; hooks: {', '.join(HOOK_NAMES)}")
        results = []
        for impl in self.implementations(name):
            try:
                value = impl.function(**{a: kwargs.get(a) for a in impl.argnames})
                if inspect.isawaitable(value):
                    value = await value
            except Exception as exc:  # noqa: BLE001 - isolation is the point
                self._on_failure(impl.plugin_name, f"hook {name} raised {_brief(exc)}")
                continue
            if value is not None:
                results.append(value)
        return results

    async def session_start(self, context: dict[str, Any]) -> None:
        await self.acall("session_start", context=context)

    async def session_end(self, context: dict[str, Any]) -> None:
        await self.acall("session_end", context=context)

    async def before_model_request(self, messages: list[dict[str, Any]], tools: list[str],
                                   context: dict[str, Any]) -> list[str]:
        """Extra system notes the plugins ask to add to this request."""
        out = await self.acall("before_model_request", messages=messages, tools=tools, context=context)
        return [v for v in out if isinstance(v, str) and v.strip()]

    async def after_model_request(self, response: Any, context: dict[str, Any]) -> None:
        await self.acall("after_model_request", response=response, context=context)

    async def after_tool_call(self, name: str, arguments: dict[str, Any], result: Any,
                              context: dict[str, Any]) -> None:
        await self.acall("after_tool_call", name=name, arguments=arguments, result=result,
                         context=context)

    async def on_error(self, error: BaseException, context: dict[str, Any]) -> None:
        await self.acall("on_error", error=error, context=context)


def _brief(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


# --- loading ------------------------------------------------------------------------------------


class PluginSet:
    """The loaded plugins of one session."""

    def __init__(self, plugins: list[PluginInfo], settings: Any = None):
        self.plugins = {p.name: p for p in plugins}
        self.settings = settings
        self.errors: list[str] = []
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(SmallcodeHooks)
        self.hooks = HookRelay(self.pm, self.disable)
        self._apis: dict[str, PluginAPI] = {}
        self._registries: list[ToolRegistry] = []

    # state -------------------------------------------------------------------------------------

    def disable(self, name: str, reason: str) -> None:
        """Report a failure and switch the plugin off for this session."""
        self.errors.append(f"plugin {name}: {reason}")
        info = self.plugins.get(name)
        if info is None or info.status == "failed":
            return
        info.status, info.error = "failed", reason
        with contextlib.suppress(Exception):
            if self.pm.has_plugin(name):
                self.pm.unregister(name=name)
        for registry in self._registries:
            for tool_name in info.tools:
                existing = registry.get(tool_name)
                if existing is not None and existing.source == f"plugin:{name}":
                    registry.unregister(tool_name)

    def active(self) -> list[PluginInfo]:
        return [p for p in self.plugins.values() if p.active]

    # loading -----------------------------------------------------------------------------------

    def _import(self, info: PluginInfo) -> Any:
        if info.entry_point is not None:
            return info.entry_point.load()
        source = Path(info.location)
        module_name = f"smallcode_plugin_{info.origin}_{info.name}".replace("-", "_")
        if source.name == "__init__.py":
            spec = importlib.util.spec_from_file_location(
                module_name, source, submodule_search_locations=[str(source.parent)])
        else:
            spec = importlib.util.spec_from_file_location(module_name, source)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {source}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        return module

    def _check_version(self, info: PluginInfo, obj: Any = None) -> str | None:
        if obj is not None:
            info.version = str(getattr(obj, "VERSION", None) or info.version)
            info.description = str(getattr(obj, "DESCRIPTION", None) or info.description)
            info.requires = str(getattr(obj, "REQUIRES_SMALLCODE", None) or info.requires or "")
        if not info.requires:
            return None
        try:
            spec = SpecifierSet(info.requires)
        except InvalidSpecifier:
            return f"REQUIRES_SMALLCODE {info.requires!r} is not a valid version range"
        try:
            ok = spec.contains(Version(smallcode_version()), prereleases=True)
        except InvalidVersion:
            return None
        return None if ok else f"needs smallcode {info.requires}, this is {smallcode_version()}"

    def load_one(self, info: PluginInfo) -> None:
        if info.status in ("disabled", "untrusted"):
            return
        problem = self._check_version(info)  # the statically read range: no code runs
        if problem:
            info.status, info.error = "incompatible", problem
            self.errors.append(f"plugin {info.name}: {problem}")
            return
        try:
            obj = self._import(info)
        except BaseException as exc:  # noqa: BLE001 - includes SystemExit from a bad plugin
            info.status, info.error = "failed", f"import failed: {_brief(exc)}"
            self.errors.append(f"plugin {info.name}: {info.error}")
            return
        declared = getattr(obj, "NAME", None)
        if isinstance(declared, str) and declared and declared != info.name and info.entry_point is None:
            info.name = declared
        problem = self._check_version(info, obj)
        if problem:
            info.status, info.error = "incompatible", problem
            self.errors.append(f"plugin {info.name}: {problem}")
            return
        api = PluginAPI(info.name, self.settings)
        try:
            setup = getattr(obj, "setup", None)
            if callable(setup):
                setup(api)
            self.pm.register(obj, name=info.name)
        except BaseException as exc:  # noqa: BLE001
            with contextlib.suppress(Exception):
                if self.pm.has_plugin(info.name):
                    self.pm.unregister(name=info.name)
            info.status, info.error = "failed", f"setup failed: {_brief(exc)}"
            self.errors.append(f"plugin {info.name}: {info.error}")
            return
        info.module = obj if isinstance(obj, ModuleType) else None
        info.status = "loaded"
        info.commands = [c.name for c in api.commands]
        info.hooks = sorted({impl.function.__name__ for name in HOOK_NAMES
                             for impl in self.hooks.implementations(name)
                             if impl.plugin_name == info.name})
        self._apis[info.name] = api

    # what the session uses -------------------------------------------------------------------------

    def register_tools(self, registry: ToolRegistry) -> list[str]:
        """Register the active plugins' tools (wrapped for isolation). Returns their names."""
        self._registries.append(registry)
        names = []
        for name, api in self._apis.items():
            info = self.plugins[name]
            if not info.active:
                continue
            for declared in api.tools:
                if declared.name in registry:
                    self.errors.append(f"plugin {name}: tool {declared.name!r} clashes with a "
                                       "registered tool; skipped")
                    continue
                wrapped = Tool(name=declared.name, description=declared.description,
                               args_model=declared.args_model,
                               handler=self._isolated_tool(name, declared),
                               categories=declared.categories, mutates=declared.mutates,
                               runs_commands=declared.runs_commands, source=declared.source)
                registry.register(wrapped)
                info.tools.append(declared.name)
                names.append(declared.name)
        return names

    def _isolated_tool(self, plugin: str, declared: Tool) -> Callable[[Any, ToolContext], Awaitable[ToolResult]]:
        async def run_plugin_tool(args: Any, ctx: ToolContext) -> ToolResult:
            try:
                value = declared.handler(args, ctx)
                if inspect.isawaitable(value):
                    value = await value
            except ToolError:
                raise  # a tool saying "no" is normal, not a broken plugin
            except Exception as exc:  # noqa: BLE001
                self.disable(plugin, f"tool {declared.name} raised {_brief(exc)}")
                return ToolResult(ok=False, output=f"{declared.name} failed ({type(exc).__name__}: "
                                  f"{exc}); plugin {plugin} was disabled for this session")
            if isinstance(value, ToolResult):
                return value
            if value is None:
                return ToolResult(ok=True, output="")
            return ToolResult(ok=True, output=value if isinstance(value, str) else json.dumps(value, default=str))

        return run_plugin_tool

    @property
    def commands(self) -> dict[str, PluginCommand]:
        """Slash commands of the active plugins, each handler isolated like the tools."""
        out = {}
        for name, api in self._apis.items():
            if not self.plugins[name].active:
                continue
            for cmd in api.commands:
                out[cmd.name] = PluginCommand(cmd.name, cmd.help, self._isolated_command(cmd), name)
        return out

    def _isolated_command(self, cmd: PluginCommand) -> CommandHandler:
        async def run_plugin_command(ctx: Any, argument: str) -> Any:
            if not self.plugins[cmd.plugin].active:
                return f"/{cmd.name}: plugin {cmd.plugin} is disabled"
            try:
                value = cmd.handler(ctx, argument)
                if inspect.isawaitable(value):
                    value = await value
                return value
            except Exception as exc:  # noqa: BLE001
                self.disable(cmd.plugin, f"command /{cmd.name} raised {_brief(exc)}")
                return f"/{cmd.name} failed: {type(exc).__name__}: {exc} (plugin {cmd.plugin} disabled)"

        return run_plugin_command

    @property
    def snippets(self) -> list[Skill]:
        return [s for n, api in self._apis.items() if self.plugins[n].active for s in api.snippets]


def load_plugins(workspace_root: str | os.PathLike[str], settings: Any = None, *,
                 user_dir: str | os.PathLike[str] | None = None,
                 entry_points: bool = True) -> PluginSet:
    """Discover and load every enabled plugin. Never raises because of a plugin."""
    plugins = PluginSet(discover_plugins(workspace_root, user_dir, entry_points=entry_points), settings)
    for info in list(plugins.plugins.values()):
        plugins.load_one(info)
    plugins.plugins = {p.name: p for p in plugins.plugins.values()}
    return plugins
