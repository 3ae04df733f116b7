"""Tool families. Each family module exposes ``register(registry, settings)``."""

from __future__ import annotations

import importlib
from typing import Any

from .registry import (
    CATEGORIES,
    Tool,
    ToolArgsError,
    ToolContext,
    ToolError,
    ToolRegistry,
    ToolResult,
)
from .services import Services, TaskState
from .workspace import Workspace, WorkspaceError

# Order matters only for display. Add a family by adding its module here.
FAMILIES: tuple[str, ...] = (
    "smallcode.core.tools.files",
    "smallcode.core.tools.shell",
    "smallcode.core.tools.compound",
    "smallcode.core.tools.refactor",
    "smallcode.core.tools.module_move",
    "smallcode.core.tools.file_suffix",
    "smallcode.core.tools.graph_tools",
    "smallcode.core.tools.memory_tools",
    "smallcode.core.tools.web_tools",
)


def build_registry(settings: Any = None, families: tuple[str, ...] = FAMILIES) -> ToolRegistry:
    registry = ToolRegistry()
    for name in families:
        importlib.import_module(name).register(registry, settings)
    return registry


__all__ = ["CATEGORIES", "FAMILIES", "Services", "TaskState", "Tool", "ToolArgsError",
           "ToolContext", "ToolError", "ToolRegistry", "ToolResult", "Workspace", "WorkspaceError",
           "build_registry"]
