"""Memory tools: memory_remember, memory_search, memory_list, memory_forget.

They use the project memory from ``ctx.services.memory`` (a :class:`MemoryProtocol`: the
in-process store or the memory actor's client). Without one, they say memory is not available.
Categories match the router's table: remembering and forgetting are part of changing things
(write), search is search, listing is reading.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel, Field
from smallcode.core.memory.store import MEMORY_TYPES, MemoryEntry, MemoryStoreError

from .registry import Tool, ToolContext, ToolError, ToolRegistry, ToolResult


class RememberArgs(BaseModel):
    content: str = Field(description="the fact to keep, one or two sentences")
    type: str = Field("context", description="decision | workflow | gotcha | convention | context")
    title: str = Field("", description="short title (optional)")
    tags: list[str] = Field(default_factory=list, description="a few keywords (optional)")


class SearchMemoryArgs(BaseModel):
    query: str = Field(description="keywords to look for")
    limit: int = Field(5, ge=1, le=20)


class ListMemoryArgs(BaseModel):
    type: str | None = Field(None, description="only this type (optional)")
    limit: int = Field(20, ge=1, le=50)


class ForgetArgs(BaseModel):
    id: int = Field(description="the entry's id (from memory_search or memory_list)")


async def _call(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _memory(ctx: ToolContext) -> Any:
    memory = ctx.services.memory
    if memory is None:
        raise ToolError("project memory is not available in this session")
    return memory


def _lines(entries: list[MemoryEntry]) -> str:
    return "\n".join(e.render() for e in entries)


async def memory_remember(args: RememberArgs, ctx: ToolContext) -> ToolResult:
    memory = _memory(ctx)
    type_ = args.type.strip().lower()
    if type_ not in MEMORY_TYPES:
        raise ToolError(f"type must be one of {', '.join(MEMORY_TYPES)}; got {args.type!r}")
    try:
        entry_id, created = await _call(memory.remember(type_, args.title, args.content,
                                                        tuple(args.tags), source="agent"))
    except MemoryStoreError as exc:
        raise ToolError(str(exc)) from None
    if created:
        return ToolResult(True, f"remembered as {type_} #{entry_id}",
                          data={"id": entry_id, "created": True})
    return ToolResult(True, f"already remembered as #{entry_id} (same content); nothing added",
                      data={"id": entry_id, "created": False})


async def memory_search(args: SearchMemoryArgs, ctx: ToolContext) -> ToolResult:
    hits = await _call(_memory(ctx).search(args.query, limit=args.limit))
    if not hits:
        return ToolResult(True, f"no memory entries match {args.query!r}", data={"ids": []})
    return ToolResult(True, _lines(hits), data={"ids": [h.id for h in hits]})


async def memory_list(args: ListMemoryArgs, ctx: ToolContext) -> ToolResult:
    if args.type is not None and args.type not in MEMORY_TYPES:
        raise ToolError(f"type must be one of {', '.join(MEMORY_TYPES)}; got {args.type!r}")
    entries = await _call(_memory(ctx).list(type=args.type, limit=args.limit))
    if not entries:
        what = f"{args.type} entries" if args.type else "entries"
        return ToolResult(True, f"project memory has no {what}", data={"ids": []})
    return ToolResult(True, _lines(entries), data={"ids": [e.id for e in entries]})


async def memory_forget(args: ForgetArgs, ctx: ToolContext) -> ToolResult:
    removed = await _call(_memory(ctx).forget(args.id))
    if not removed:
        raise ToolError(f"no memory entry #{args.id}; use memory_search or memory_list for ids")
    return ToolResult(True, f"forgot memory entry #{args.id}", data={"id": args.id})


def register(registry: ToolRegistry, settings: Any = None) -> None:
    registry.register(Tool(
        "memory_remember",
        "Save a lasting project fact (decision, workflow, gotcha, convention, context) for "
        "future sessions.", RememberArgs, memory_remember, frozenset({"write"})))
    registry.register(Tool(
        "memory_search", "Search saved project memory by keywords.", SearchMemoryArgs,
        memory_search, frozenset({"search"})))
    registry.register(Tool(
        "memory_list", "List saved project memory entries, newest first.", ListMemoryArgs,
        memory_list, frozenset({"read"})))
    registry.register(Tool(
        "memory_forget", "Delete a saved project memory entry by id.", ForgetArgs, memory_forget,
        frozenset({"write"})))


__all__ = ["memory_forget", "memory_list", "memory_remember", "memory_search", "register"]
