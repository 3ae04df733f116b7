"""The full-screen terminal UI (Textual): chat, tool cards, diffs, plan panel, status line.

It renders the agent's typed event stream (the same one `smallcode run` prints) and holds no
business logic: sessions come from :func:`smallcode.core.session.open_session`, commands call the
core stores. Plugins add slash commands with :func:`register_command`.
"""

from __future__ import annotations

from .commands import CommandContext, SlashCommand, register_command, registered_commands

__all__ = ["CommandContext", "SlashCommand", "register_command", "registered_commands"]
