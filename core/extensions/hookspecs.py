"""The hooks a plugin may implement (pluggy specifications).

A plugin module marks its implementations with :data:`hookimpl`::

    from smallcode.core.extensions import hookimpl

    @hookimpl
    def smallcode_after_tool_call(name, arguments, result, context):
        ...

Every hook is an observer: it may be a plain or an ``async`` function, its return value is
collected (``before_model_request`` may return extra system text to add to that request), and an
implementation that raises is reported and its plugin disabled — the loop goes on.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "smallcode"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class SmallcodeHooks:
    @hookspec
    def smallcode_session_start(self, context: dict[str, Any]) -> Any:
        """A session opened. ``context``: workspace (path), settings, session_id."""

    @hookspec
    def smallcode_session_end(self, context: dict[str, Any]) -> Any:
        """A session is closing."""

    @hookspec
    def smallcode_before_model_request(self, messages: list[dict[str, Any]], tools: list[str],
                                       context: dict[str, Any]) -> Any:
        """A model request is about to go out. Return a string to add it as a system note for
        this request (the agent decides where it goes); anything else is ignored."""

    @hookspec
    def smallcode_after_model_request(self, response: Any, context: dict[str, Any]) -> Any:
        """The model answered (``response`` is the ChatResponse)."""

    @hookspec
    def smallcode_after_tool_call(self, name: str, arguments: dict[str, Any], result: Any,
                                  context: dict[str, Any]) -> Any:
        """A tool ran (``result`` is the ToolResult)."""

    @hookspec
    def smallcode_on_error(self, error: BaseException, context: dict[str, Any]) -> Any:
        """Something failed in the agent loop (model error, hard failure)."""


HOOK_NAMES: tuple[str, ...] = tuple(n for n in vars(SmallcodeHooks) if n.startswith("smallcode_"))
