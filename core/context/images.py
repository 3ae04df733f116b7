"""Image paths dropped into a message: attached as image content when the model can see.

A path ending in .png/.jpg/.jpeg/.gif/.webp that exists (relative to the workspace, absolute, or
``~``-relative — a dropped file often lives outside the project) is read, checked by its magic
bytes and attached as a data URL. Without vision the user is told the model cannot see it.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smallcode.core.tools.workspace import Workspace

MAX_IMAGE_BYTES = 5_000_000
MAX_IMAGES = 4

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_QUOTED_RE = re.compile(r"'([^'\n]{1,4096})'|\"([^\"\n]{1,4096})\"")
_TOKEN_SPLIT_RE = re.compile(r"(?<!\\)\s+")  # whitespace not escaped by a backslash
_TRIM = "`'\"()[]<>{},;!?"


def image_candidates(message: str) -> list[str]:
    """Image-looking paths in a message: quoted ones (may hold spaces), then bare tokens
    (``my\\ shot.png`` keeps its escaped space). Linear in the message length."""
    out: list[str] = []
    for m in _QUOTED_RE.finditer(message):
        raw = m.group(1) or m.group(2)
        if raw.lower().endswith(IMAGE_EXTENSIONS):
            out.append(raw)
    unquoted = _QUOTED_RE.sub(" ", message)
    for token in _TOKEN_SPLIT_RE.split(unquoted):
        token = token.strip(_TRIM).rstrip(".:")
        if token.lower().endswith(IMAGE_EXTENSIONS) and len(token) > 4:
            out.append(token)
    return out


_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass
class ImageDetection:
    """Images found in a message: content parts to attach, and notes for the user."""

    images: list[dict[str, Any]] = field(default_factory=list)  # OpenAI image_url parts
    paths: list[str] = field(default_factory=list)  # the files attached (as written)
    notes: list[str] = field(default_factory=list)  # for the user: unseen / refused images

    def content(self, text: str) -> str | list[dict[str, Any]]:
        """The user message content: plain text, or text plus image parts."""
        if not self.images:
            return text
        return [{"type": "text", "text": text}, *self.images]


def _mime(data: bytes) -> str | None:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _locate(raw: str, workspace: Workspace) -> Path | None:
    text = raw.replace("\\ ", " ")
    candidate = Path(os.path.expanduser(text))
    if not candidate.is_absolute():
        candidate = workspace.root / candidate
    try:
        candidate = candidate.resolve()
    except OSError:
        return None
    return candidate if candidate.is_file() else None


def detect_images(message: str, workspace: Workspace, vision: bool) -> ImageDetection:
    """Find image paths in ``message``; attach them when ``vision``, else explain why not."""
    found = ImageDetection()
    seen: set[Path] = set()
    for raw in image_candidates(message):
        path = _locate(raw, workspace)
        if path is None or path in seen:
            continue
        seen.add(path)
        if not vision:
            found.notes.append(f"{raw}: this model cannot see images; describe what it shows "
                               "if it matters")
            continue
        if len(found.images) >= MAX_IMAGES:
            found.notes.append(f"{raw}: not attached (at most {MAX_IMAGES} images per message)")
            continue
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            found.notes.append(f"{raw}: not attached ({size} bytes; limit {MAX_IMAGE_BYTES})")
            continue
        data = path.read_bytes()
        mime = _mime(data)
        if mime is None:
            found.notes.append(f"{raw}: not attached (not a PNG, JPEG, GIF or WebP image)")
            continue
        url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        found.images.append({"type": "image_url", "image_url": {"url": url}})
        found.paths.append(raw)
    return found


__all__ = ["IMAGE_EXTENSIONS", "ImageDetection", "detect_images", "image_candidates"]
