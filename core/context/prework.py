"""Pre-work for one user message, in the specified order, before any token is spent:
vagueness check, ``@file`` expansion, image detection, git context.

Routing, memory and plan detection (§1.5) follow in the agent loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smallcode.core.tools.workspace import Workspace

from .atfile import AtFileAttachment, expand_at_files
from .gitcontext import git_context
from .images import ImageDetection, detect_images
from .vagueness import VAGUE_NOTE, is_vague


@dataclass
class PreparedMessage:
    """A user message after pre-work."""

    text: str  # the message with @file mentions expanded
    vague: bool = False
    model_notes: list[str] = field(default_factory=list)  # for the prompt: vague note, git diff
    user_notices: list[str] = field(default_factory=list)  # for the user: refusals, unseen images
    attachments: list[AtFileAttachment] = field(default_factory=list)
    images: ImageDetection = field(default_factory=ImageDetection)
    git: str | None = None

    def user_content(self, *, with_notes: bool = True) -> str | list[dict[str, Any]]:
        """The content of the user message to store in history: the expanded text, the notes the
        model needs (task-stable, so they may live in history), and image parts when attached."""
        text = self.text
        if with_notes and self.model_notes:
            text += "\n\n" + "\n\n".join(self.model_notes)
        return self.images.content(text)


def prepare_message(message: str, workspace: Workspace, *, vision: bool = False,
                    has_context: bool = False, assistant_asked: bool = False,
                    git: bool = True) -> PreparedMessage:
    """Run the four pre-work steps. Deterministic, no model call; never raises for bad input
    (refusals become ``user_notices``)."""
    vague = is_vague(message, has_context, assistant_asked=assistant_asked)
    expanded = expand_at_files(message, workspace)
    prepared = PreparedMessage(text=expanded.text, vague=vague,
                               attachments=expanded.attachments)
    if vague:
        prepared.model_notes.append(VAGUE_NOTE)
    for att in expanded.attachments:
        if att.refused:
            prepared.user_notices.append(f"{att.mention}: {att.refused}")
    prepared.images = detect_images(message, workspace, vision)
    prepared.user_notices.extend(prepared.images.notes)
    if git:
        try:
            prepared.git = git_context(message, workspace.root)
        except OSError:
            prepared.git = None
        if prepared.git:
            prepared.model_notes.append(prepared.git)
    return prepared


__all__ = ["PreparedMessage", "prepare_message"]
