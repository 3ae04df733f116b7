"""Extensions of one session: plugins, MCP servers as tool sources, and skills.

The session calls :func:`open_extensions` once, after building the tool registry; the agent then
calls the hooks on :attr:`Extensions.hooks` and asks :meth:`Extensions.skills_for` for the prompt
snippets of each user message. :meth:`Extensions.aclose` stops MCP servers and runs the plugins'
session-end hooks.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smallcode.core.tools.registry import ToolRegistry

from .hookspecs import hookimpl
from .mcp_client import McpConfigError, McpHub, load_mcp_config
from .plugins import HookRelay, PluginAPI, PluginCommand, PluginSet, load_plugins
from .skills import Skill, SkillBook, select_skills

DEFAULT_SKILL_BUDGET = 600  # tokens of skills per request, unless settings.extra["skills"] says


def _user_dir() -> Path:
    from smallcode.core.config import user_config_dir

    return user_config_dir()


def _section(settings: Any, name: str) -> dict[str, Any]:
    extra = getattr(settings, "extra", None)
    value = extra.get(name) if isinstance(extra, dict) else None
    return value if isinstance(value, dict) else {}


@dataclass
class Extensions:
    """Plugins, MCP servers and skills, opened for one session."""

    plugins: PluginSet
    mcp: McpHub | None
    skills: SkillBook
    skill_budget: int = DEFAULT_SKILL_BUDGET
    errors: list[str] = field(default_factory=list)  # what failed while opening (reported, not raised)
    tool_names: list[str] = field(default_factory=list)  # plugin + MCP tools registered
    context: dict[str, Any] = field(default_factory=dict)  # passed to every hook
    manual_skills: list[str] = field(default_factory=list)  # applied with /skill NAME
    _closed: bool = False

    @property
    def hooks(self) -> HookRelay:
        return self.plugins.hooks

    @property
    def commands(self) -> dict[str, PluginCommand]:
        """Slash commands to register in the UI: ``/skill`` plus the plugins' commands, as
        name -> PluginCommand(name, help, handler(ctx, argument) -> str | None | awaitable)."""
        out = {"skill": PluginCommand("skill", "list skills; /skill NAME applies one to the "
                                      "following messages; /skill off [NAME] stops",
                                      lambda ctx, argument: self.skill_command(argument), "")}
        for name, cmd in self.plugins.commands.items():
            out.setdefault(name, cmd)
        return out

    def skill_command(self, argument: str) -> str:
        """``/skill`` (list), ``/skill NAME`` (apply from now on), ``/skill off [NAME]``."""
        words = argument.split()
        names = self.skill_names()
        if not words:
            if not names:
                return ("no skills found (.smallcode/skills/*.md, .agents/skills/<name>/SKILL.md, "
                        ".claude/skills/<name>/SKILL.md)")
            book = self._book()
            lines = []
            for n in names:
                mark = "*" if n in self.manual_skills else " "
                desc = book.skills[n].description
                lines.append(f"{mark} {n}" + (f" — {desc}" if desc else ""))
            return "\n".join(lines)
        if words[0] == "off":
            if len(words) == 1:
                self.manual_skills.clear()
                return "manual skills off"
            for n in words[1:]:
                if n in self.manual_skills:
                    self.manual_skills.remove(n)
            return f"skill off: {' '.join(words[1:])}"
        unknown = [n for n in words if n not in names]
        if unknown:
            return f"no skill named {', '.join(unknown)}; skills: {', '.join(names) or 'none'}"
        for n in words:
            if n not in self.manual_skills:
                self.manual_skills.append(n)
        return f"skill on for the following messages: {', '.join(self.manual_skills)}"

    def skills_for(self, message: str, category: str | None, *, manual: Iterable[str] = (),
                   budget_tokens: int | None = None) -> str:
        """Prompt text of the skills that apply to this message: the ones applied with
        ``/skill`` and ``manual`` first, then trigger words, ``always``, and the category."""
        budget = self.skill_budget if budget_tokens is None else budget_tokens
        return self._book().select(message, category, budget, [*self.manual_skills, *manual])

    def _book(self) -> SkillBook:
        """File skills plus the active plugins' snippets (a file skill wins a name clash)."""
        book = SkillBook(dict(self.skills.skills))
        for snippet in self.plugins.snippets:
            book.skills.setdefault(snippet.name, snippet)
        return book

    def skill_names(self) -> list[str]:
        """Names for ``/skill NAME`` (and its completion)."""
        return self._book().names()

    def all_errors(self) -> list[str]:
        out = list(self.errors) + list(self.plugins.errors) + list(self.skills.errors)
        if self.mcp is not None:
            out += [f"mcp {k}: {v}" for k, v in self.mcp.errors.items()]
        return out

    async def aclose(self) -> None:
        """Run the session-end hooks, then stop the MCP servers. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            await self.hooks.session_end(self.context)
        if self.mcp is not None:
            await self.mcp.aclose()

    def close(self) -> None:
        """Synchronous cleanup for code without a loop: stops the MCP servers (the session-end
        hooks only run through :meth:`aclose`). Must not be called from the hub's own thread."""
        self._closed = True
        if self.mcp is not None:
            self.mcp.close()


async def open_extensions(ws: Any, settings: Any, registry: ToolRegistry, *,
                          user_dir: str | os.PathLike[str] | None = None,
                          entry_points: bool = True) -> Extensions:
    """Load plugins, register plugin and MCP tools into ``registry``, load skills, and run the
    session-start hooks. Nothing here raises because of a broken extension: failures are in
    :meth:`Extensions.all_errors`. ``ws`` is a Workspace (or a path)."""
    root = Path(ws) if isinstance(ws, (str, os.PathLike)) else Path(ws.root)
    user = Path(user_dir) if user_dir is not None else _user_dir()
    errors: list[str] = []
    plugins = load_plugins(root, settings, user_dir=user, entry_points=entry_points)
    names = plugins.register_tools(registry)
    hub: McpHub | None = None
    mcp_section = _section(settings, "mcp")
    if mcp_section.get("enabled", True) is not False:
        try:
            configs = load_mcp_config(root, user)
        except McpConfigError as exc:
            errors.append(str(exc))
            configs = []
        if configs:
            hub = McpHub(configs, cache_path=root / ".smallcode" / "cache" / "mcp-tools.json",
                         log_dir=root / ".smallcode" / "logs", base_dir=root)
            names += await hub.aregister_tools(registry)
    skills_section = _section(settings, "skills")
    budget = skills_section.get("budget_tokens", DEFAULT_SKILL_BUDGET)
    if not isinstance(budget, int) or budget < 0:
        errors.append(f"extra.skills.budget_tokens must be a non-negative integer, got {budget!r}")
        budget = DEFAULT_SKILL_BUDGET
    skills = SkillBook.load(root, user)
    ext = Extensions(plugins, hub, skills, budget, errors, names,
                     {"workspace": str(root), "settings": settings})
    await ext.hooks.session_start(ext.context)
    return ext


__all__ = ["Extensions", "HookRelay", "McpHub", "PluginAPI", "PluginSet", "Skill", "SkillBook",
           "hookimpl", "load_plugins", "open_extensions", "select_skills"]
