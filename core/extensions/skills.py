"""Skills: markdown prompt snippets added to the system prompt when they apply.

Where they come from (a later source wins on a name clash):

- user level: ``<user config>/skills/*.md`` and ``<user config>/skills/<name>/SKILL.md``
- project: ``.agents/skills/<name>/SKILL.md``, ``.claude/skills/<name>/SKILL.md``,
  ``.smallcode/skills/*.md`` and ``.smallcode/skills/<name>/SKILL.md``
- plugins (``api.snippet(...)``; a file skill of the same name wins)

A file may start with YAML front matter::

    ---
    name: pytest-style
    description: How tests are written here
    triggers: [pytest, "unit test", fixture]
    categories: [write, run]
    always: false
    ---
    Use plain pytest functions, ...

A skill applies when it is named manually (``/skill name``), when one of its trigger words or
phrases occurs in the user message (whole words, case-insensitive), when the router's category is
one of its categories, or when it says ``always: true``. :func:`select_skills` fits the applicable
skills into a token budget: manual first, then trigger matches, then always, then category
matches; a skill that does not fit whole is left out (never cut mid-text).
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from smallcode.core.tools.registry import CATEGORIES

CHARS_PER_TOKEN = 3.5
MAX_SKILL_BYTES = 64_000
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


@dataclass(frozen=True)
class Skill:
    name: str
    body: str
    description: str = ""
    triggers: tuple[str, ...] = ()
    categories: frozenset[str] = frozenset()
    always: bool = False
    source: str = ""  # file path, or plugin:<name>

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.render())

    def render(self) -> str:
        head = f"## Skill: {self.name}"
        if self.description:
            head += f" — {self.description}"
        return f"{head}\n{self.body.strip()}"

    def triggered_by(self, message: str) -> bool:
        return any(_phrase_re(t).search(message) for t in self.triggers)


@functools.lru_cache(maxsize=4096)
def _phrase_re(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"(?<![\w-])" + r"\s+".join(words) + r"(?![\w-])", re.IGNORECASE)


class SkillError(ValueError):
    """A skill file is malformed; the message names the file."""


def _string_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise SkillError(f"{where}: {key} must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def parse_skill(text: str, default_name: str, source: str = "") -> Skill:
    """A :class:`Skill` from markdown with optional YAML front matter."""
    meta: dict[str, Any] = {}
    body = text
    m = _FRONT_MATTER.match(text)
    if m:
        try:
            loaded = yaml.safe_load(m.group(1))
        except yaml.YAMLError as exc:
            raise SkillError(f"{source or default_name}: front matter is not valid YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise SkillError(f"{source or default_name}: front matter must be a mapping")
        meta = loaded or {}
        body = text[m.end():]
    where = source or default_name
    categories = frozenset(_string_list(meta.get("categories", meta.get("category")), "categories", where))
    unknown = sorted(categories - set(CATEGORIES))
    if unknown:
        raise SkillError(f"{where}: unknown categories {unknown}; choose from {list(CATEGORIES)}")
    if not body.strip():
        raise SkillError(f"{where}: the skill has no text")
    return Skill(name=str(meta.get("name") or default_name).strip(), body=body.strip(),
                 description=str(meta.get("description") or "").strip(),
                 triggers=_string_list(meta.get("triggers"), "triggers", where),
                 categories=categories, always=bool(meta.get("always", False)), source=source)


def _skill_files(folder: Path) -> Iterable[tuple[Path, str]]:
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and entry.suffix.lower() == ".md":
            yield entry, entry.stem
        elif entry.is_dir() and (entry / "SKILL.md").is_file():
            yield entry / "SKILL.md", entry.name


def skill_folders(workspace_root: str | os.PathLike[str],
                  user_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Folders searched for skills, lowest precedence first."""
    root = Path(workspace_root)
    folders = [Path(user_dir) / "skills"] if user_dir is not None else []
    folders += [root / ".agents" / "skills", root / ".claude" / "skills", root / ".smallcode" / "skills"]
    return folders


@dataclass
class SkillBook:
    """All known skills, and the rules that pick some of them for one message."""

    skills: dict[str, Skill] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, workspace_root: str | os.PathLike[str],
             user_dir: str | os.PathLike[str] | None = None,
             extra: Iterable[Skill] = ()) -> SkillBook:
        book = cls()
        for folder in skill_folders(workspace_root, user_dir):
            for path, default_name in _skill_files(folder):
                try:
                    if path.stat().st_size > MAX_SKILL_BYTES:
                        raise SkillError(f"{path}: larger than {MAX_SKILL_BYTES} bytes")
                    skill = parse_skill(path.read_text(encoding="utf-8"), default_name, str(path))
                except (OSError, UnicodeDecodeError, SkillError) as exc:
                    book.errors.append(str(exc))
                    continue
                book.skills[skill.name] = skill
        for skill in extra:
            book.skills[skill.name] = skill
        return book

    def names(self) -> list[str]:
        return sorted(self.skills)

    def get(self, name: str) -> Skill | None:
        return self.skills.get(name)

    def applicable(self, message: str, category: str | None,
                   manual: Iterable[str] = ()) -> list[Skill]:
        """Skills that apply, in priority order (manual, trigger, always, category)."""
        chosen: list[Skill] = []
        seen: set[str] = set()

        def take(skill: Skill | None) -> None:
            if skill is not None and skill.name not in seen:
                seen.add(skill.name)
                chosen.append(skill)

        for name in manual:
            take(self.skills.get(name))
        ordered = [self.skills[n] for n in sorted(self.skills)]
        for skill in ordered:
            if skill.triggers and skill.triggered_by(message):
                take(skill)
        for skill in ordered:
            if skill.always:
                take(skill)
        if category:
            for skill in ordered:
                if category in skill.categories:
                    take(skill)
        return chosen

    def select(self, message: str, category: str | None, budget_tokens: int,
               manual: Iterable[str] = ()) -> str:
        """The text of the applicable skills that fit ``budget_tokens`` ('' when none)."""
        parts: list[str] = []
        used = 0
        for skill in self.applicable(message, category, manual):
            cost = skill.tokens + 1
            if used + cost > budget_tokens:
                continue
            parts.append(skill.render())
            used += cost
        return "\n\n".join(parts)


def select_skills(message: str, category: str | None, budget_tokens: int, *,
                  book: SkillBook | None = None, workspace_root: str | os.PathLike[str] = ".",
                  user_dir: str | os.PathLike[str] | None = None,
                  manual: Iterable[str] = ()) -> str:
    """Skills for one message as prompt text within ``budget_tokens``. Loads the project's skills
    when no ``book`` is given."""
    book = book or SkillBook.load(workspace_root, user_dir)
    return book.select(message, category, budget_tokens, manual)
