"""Skills: the four layouts, front matter, manual / trigger / category selection, the budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.extensions.skills import (
    SkillBook,
    SkillError,
    estimate_tokens,
    parse_skill,
    select_skills,
)

PYTEST_SKILL = """---
name: pytest-style
description: How tests are written here
triggers: [pytest, "unit test"]
categories: [run]
---
Use plain pytest functions and the tmp_path fixture.
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    write(tmp_path / ".smallcode" / "skills" / "pytest.md", PYTEST_SKILL)
    write(tmp_path / ".claude" / "skills" / "commits" / "SKILL.md",
          "---\nname: commit-messages\ndescription: Commit message format\ntriggers: commit, changelog\n---\n"
          "Write imperative subject lines under 60 characters.\n")
    write(tmp_path / ".agents" / "skills" / "style" / "SKILL.md",
          "---\ncategories: [write]\n---\nKeep functions short; type every signature.\n")
    write(tmp_path / ".smallcode" / "skills" / "plain.md", "No front matter: only by name.\n")
    return tmp_path


def test_all_layouts_load_with_names_from_front_matter_or_path(project: Path) -> None:
    book = SkillBook.load(project, project / "nouser")
    assert book.names() == ["commit-messages", "plain", "pytest-style", "style"]
    skill = book.get("pytest-style")
    assert skill.triggers == ("pytest", "unit test")
    assert skill.categories == frozenset({"run"})
    assert skill.body == "Use plain pytest functions and the tmp_path fixture."
    assert book.get("commit-messages").triggers == ("commit", "changelog")
    assert book.errors == []


def test_trigger_words_match_whole_words_case_insensitively(project: Path) -> None:
    book = SkillBook.load(project)
    text = book.select("Add a Unit   Test for the parser", None, 1000)
    assert text == ("## Skill: pytest-style — How tests are written here\n"
                    "Use plain pytest functions and the tmp_path fixture.")
    assert book.select("recommit the pytesting changes", None, 1000) == ""


def test_category_manual_and_priority_order(project: Path) -> None:
    book = SkillBook.load(project)
    assert [s.name for s in book.applicable("rename foo", "write")] == ["style"]
    chosen = book.applicable("write a commit message", "run", manual=["plain"])
    assert [s.name for s in chosen] == ["plain", "commit-messages", "pytest-style"]


def test_budget_keeps_whole_skills_in_priority_order(project: Path) -> None:
    book = SkillBook.load(project)
    plain = book.get("plain")
    budget = plain.tokens + 1
    text = book.select("commit it", "run", budget, manual=["plain"])
    assert text == plain.render()  # the others did not fit and were not cut
    assert book.select("commit it", "run", 0, manual=["plain"]) == ""
    full = book.select("commit it", "run", 10_000, manual=["plain"])
    assert full.count("## Skill:") == 3
    assert estimate_tokens(full) <= 10_000


def test_project_skill_overrides_user_skill(project: Path, tmp_path: Path) -> None:
    user = tmp_path / "userconf"
    write(user / "skills" / "pytest.md", "---\nname: pytest-style\n---\nUser version.\n")
    write(user / "skills" / "mine.md", "---\nalways: true\n---\nI like tabs.\n")
    book = SkillBook.load(project, user)
    assert book.get("pytest-style").body.startswith("Use plain pytest")
    assert "I like tabs." in select_skills("hello", "respond", 500, book=book)


def test_bad_skill_files_are_reported_and_skipped(tmp_path: Path) -> None:
    write(tmp_path / ".smallcode" / "skills" / "bad.md", "---\nname: [unclosed\n---\ntext\n")
    write(tmp_path / ".smallcode" / "skills" / "cat.md", "---\ncategories: [teleport]\n---\ntext\n")
    write(tmp_path / ".smallcode" / "skills" / "empty.md", "---\nname: e\n---\n\n")
    write(tmp_path / ".smallcode" / "skills" / "ok.md", "fine\n")
    book = SkillBook.load(tmp_path)
    assert book.names() == ["ok"]
    assert len(book.errors) == 3
    assert any("front matter is not valid YAML" in e for e in book.errors)
    assert any("unknown categories ['teleport']" in e for e in book.errors)
    assert any("the skill has no text" in e for e in book.errors)
    with pytest.raises(SkillError, match="triggers must be a list of strings"):
        parse_skill("---\ntriggers: {a: 1}\n---\nx", "x")
