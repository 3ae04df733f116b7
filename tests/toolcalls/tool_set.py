"""The tool set the tool-call tests resolve against: the lead's core tool names and arguments."""

from __future__ import annotations

from pydantic import BaseModel, Field
from smallcode.core.tools.registry import Tool, ToolContext, ToolRegistry, ToolResult


class ReadFileArgs(BaseModel):
    path: str = Field(description="file path relative to the project root")
    start_line: int | None = Field(None, ge=1, description="first line to show (1-based)")
    end_line: int | None = Field(None, ge=1, description="last line to show")


class WriteFileArgs(BaseModel):
    path: str = Field(description="file path relative to the project root")
    content: str = Field(description="the complete new file content")


class PatchArgs(BaseModel):
    path: str = Field(description="file to edit, relative to the project root")
    old_str: str = Field(description="exact existing text to replace")
    new_str: str = Field(description="replacement text")


class BashArgs(BaseModel):
    command: str = Field(description="shell command to run in the project")


class FindFilesArgs(BaseModel):
    pattern: str = Field(description="glob like '**/*.py', or part of a file name")


class SearchArgs(BaseModel):
    query: str = Field(description="text or regular expression to search for")
    path: str | None = Field(None, description="limit to this folder or file")


class FinishArgs(BaseModel):
    summary: str = Field("", description="what you did, in one or two sentences")


def _echo(args: BaseModel, ctx: ToolContext) -> ToolResult:
    return ToolResult(ok=True, output=args.model_dump_json())


TOOL_SPECS: tuple[tuple[str, str, type[BaseModel], str], ...] = (
    ("read_file", "Read a file with line numbers.", ReadFileArgs, "read"),
    ("write_file", "Create or overwrite a file.", WriteFileArgs, "write"),
    ("patch", "Replace one unique occurrence of old_str with new_str in a file.", PatchArgs,
     "write"),
    ("bash", "Run a shell command.", BashArgs, "run"),
    ("find_files", "Find files by glob or name.", FindFilesArgs, "search"),
    ("search", "Search file contents.", SearchArgs, "search"),
    ("finish", "Finish the task with a short summary.", FinishArgs, "respond"),
)
MUTATING = {"write_file", "patch"}
RUNS_COMMANDS = {"bash"}


def build_test_registry() -> ToolRegistry:
    registry = ToolRegistry()
    for name, description, model, category in TOOL_SPECS:
        registry.register(Tool(name=name, description=description, args_model=model,
                               handler=_echo, categories=frozenset({category}),
                               mutates=name in MUTATING, runs_commands=name in RUNS_COMMANDS))
    return registry
