"""The one registry of tools: schemas for the prompt, argument validation, execution, categories.

Every tool (built-in, compound, graph, memory, plugin, MCP) is a :class:`Tool` registered here and
belongs to at least one router category. The router picks categories; the registry turns them into
the tool schemas that go into the prompt.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from pydantic import BaseModel, ValidationError

from .services import Services, TaskState

CATEGORIES: tuple[str, ...] = (
    "read", "write", "search", "run", "plan", "code_intel", "web", "respond",
)


class ToolError(Exception):
    """A tool could not do what was asked; the message goes back to the model as-is."""


class ToolArgsError(ToolError):
    """Arguments did not validate against the tool's schema."""

    def __init__(self, tool: str, errors: list[str]):
        self.tool = tool
        self.errors = errors
        super().__init__(f"invalid arguments for {tool}: " + "; ".join(errors))


@dataclass
class ToolResult:
    """What a tool returns: text for the model plus structured facts for events and guards."""

    ok: bool
    output: str
    changed_files: list[str] = field(default_factory=list)  # workspace-relative
    diff: str = ""  # unified diff of the change, when the tool edited files
    data: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Any, "ToolContext"], ToolResult | Awaitable[ToolResult]]


@dataclass
class Tool:
    name: str
    description: str
    args_model: type[BaseModel]
    handler: Handler
    categories: frozenset[str]
    mutates: bool = False  # writes files (needs permission, snapshots, validation)
    runs_commands: bool = False  # executes shell commands
    source: str = "builtin"  # builtin | plugin:<name> | mcp:<server>

    def __post_init__(self) -> None:
        unknown = set(self.categories) - set(CATEGORIES)
        if not self.categories or unknown:
            raise ValueError(f"tool {self.name}: categories must be a non-empty subset of "
                             f"{CATEGORIES}, got {sorted(self.categories)}")

    def schema(self) -> dict[str, Any]:
        """OpenAI function-tool schema, compact (no titles) to save prompt tokens."""
        params = _compact_schema(self.args_model.model_json_schema())
        return {"type": "function",
                "function": {"name": self.name, "description": self.description,
                             "parameters": params}}


def _compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "title"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    out = strip(schema)
    out.setdefault("properties", {})
    return out


class ToolContext:
    """What a tool may touch during one agent session.

    ``services`` (:class:`Services`) holds the session's collaborators (graph, memory, snapshots,
    shell, model...), None when absent; ``task_state`` (:class:`TaskState`) holds what belongs to
    the current task (the agent gives it a fresh one per task). ``ToolContext(ws, graph=g)`` is
    short for ``ToolContext(ws, Services(graph=g))``; a keyword that is not a field of
    :class:`Services` raises TypeError. A given ``services`` object is used as is, not copied
    (keywords given with it are set on it).
    """

    def __init__(self, workspace: Any, services: Services | None = None, **kwargs: Any):
        unknown = sorted(set(kwargs) - _SERVICE_FIELDS)
        if unknown:
            raise TypeError(f"ToolContext() got unknown service(s) {', '.join(map(repr, unknown))};"
                            f" Services has {', '.join(sorted(_SERVICE_FIELDS))}")
        self.workspace = workspace
        self.services: Services = services if services is not None else Services()
        for name, value in kwargs.items():
            setattr(self.services, name, value)
        self.task_state = TaskState()
        self.files_read: set[str] = set()  # workspace-relative paths read this session
        self.refused_writes: set[str] = set()  # read-before-write guard memory
        self.allowed_edit_paths: set[str] | None = None  # step workers: only declared files


_SERVICE_FIELDS = frozenset(f.name for f in fields(Services))


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, tool: Tool, *, replace: bool = False) -> Tool:
        if tool.name in self._tools and not replace:
            raise ValueError(f"tool {tool.name!r} is already registered")
        self._tools[tool.name] = tool
        return tool

    def unregister(self, name: str) -> None:
        self._tools.pop(name, None)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def names(self) -> list[str]:
        return list(self._tools)

    def tools(self) -> list[Tool]:
        return list(self._tools.values())

    def for_categories(self, categories: Iterable[str]) -> list[Tool]:
        cats = set(categories)
        return [t for t in self._tools.values() if t.categories & cats]

    def schemas(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        chosen = self._tools.values() if names is None else [self._tools[n] for n in names]
        return [t.schema() for t in chosen]

    def validate(self, name: str, arguments: dict[str, Any]) -> BaseModel:
        tool = self._tools.get(name)
        if tool is None:
            raise ToolError(f"unknown tool {name!r}")
        try:
            return tool.args_model.model_validate(arguments)
        except ValidationError as exc:
            errors = []
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
                errors.append(f"{loc}: {err['msg']}")
            raise ToolArgsError(name, errors) from None

    async def execute(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Validate and run a tool. Tool errors become a failed ToolResult, never an exception."""
        try:
            args = self.validate(name, arguments)
            tool = self._tools[name]
            result = tool.handler(args, ctx)
            if inspect.isawaitable(result):
                result = await result
            return result
        except ToolError as exc:
            return ToolResult(ok=False, output=str(exc))
        except Exception as exc:  # noqa: BLE001 - a broken tool must never break the loop
            return ToolResult(ok=False, output=f"{name} failed: {type(exc).__name__}: {exc}")


def tool(
    registry: ToolRegistry,
    *,
    name: str,
    description: str,
    args: type[BaseModel],
    categories: Iterable[str],
    mutates: bool = False,
    runs_commands: bool = False,
) -> Callable[[Handler], Handler]:
    """Decorator: register ``fn(args, ctx) -> ToolResult`` as a tool."""

    def wrap(fn: Handler) -> Handler:
        registry.register(Tool(name=name, description=description, args_model=args, handler=fn,
                               categories=frozenset(categories), mutates=mutates,
                               runs_commands=runs_commands))
        return fn

    return wrap
