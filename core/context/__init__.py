"""What goes into the prompt: layout for a warm prompt cache, the token budget, and pre-work
(vagueness, ``@file`` expansion, images, git context) done before any token is spent."""

from __future__ import annotations

from .atfile import AtFileAttachment, AtFileExpansion, expand_at_files
from .budget import FitResult, TokenCounter, cut_output, fit, prompt_budget
from .gitcontext import git_context, wants_git_context
from .images import ImageDetection, detect_images
from .layout import PromptLayout, render_chatml, shared_prefix_chars
from .prework import PreparedMessage, prepare_message
from .vagueness import VAGUE_NOTE, is_vague

__all__ = [
    "VAGUE_NOTE", "AtFileAttachment", "AtFileExpansion", "FitResult", "ImageDetection",
    "PreparedMessage", "PromptLayout", "TokenCounter", "cut_output", "detect_images", "expand_at_files", "fit",
    "git_context", "is_vague", "prepare_message", "prompt_budget", "render_chatml", "shared_prefix_chars",
    "wants_git_context",
]
