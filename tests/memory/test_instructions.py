"""Project instruction files for the stable prompt prefix."""

from __future__ import annotations

from smallcode.core.memory.instructions import estimate_tokens, load_instructions


def test_no_files_gives_empty_text(tmp_path):
    assert load_instructions(tmp_path) == ""


def test_files_are_read_in_order_with_headings(tmp_path):
    (tmp_path / "AGENTS.md").write_text("Use pytest.\n")
    (tmp_path / ".smallcode").mkdir()
    (tmp_path / ".smallcode" / "rules.md").write_text("No print statements.\r\n")
    (tmp_path / "CLAUDE.md").write_text("Prefer small functions.")
    assert load_instructions(tmp_path) == (
        "# Project instructions\n\n## AGENTS.md\nUse pytest.\n\n"
        "## CLAUDE.md\nPrefer small functions.\n\n## .smallcode/rules.md\nNo print statements.")


def test_a_duplicate_or_symlinked_file_is_included_once(tmp_path):
    (tmp_path / "AGENTS.md").write_text("Same rules.")
    (tmp_path / "CLAUDE.md").symlink_to(tmp_path / "AGENTS.md")
    assert load_instructions(tmp_path).count("Same rules.") == 1


def test_over_the_cap_each_file_gets_a_fair_share_and_a_note(tmp_path):
    long_lines = "\n".join(f"rule {i}: " + "word " * 10 for i in range(400))
    (tmp_path / "AGENTS.md").write_text(long_lines)
    (tmp_path / ".smallcode").mkdir()
    (tmp_path / ".smallcode" / "rules.md").write_text("Short rule kept whole.")
    text = load_instructions(tmp_path, cap_tokens=300)
    assert estimate_tokens(text) <= 300 + 10
    assert "Short rule kept whole." in text
    assert "rule 0:" in text and "rule 399:" not in text
    assert text.rstrip().endswith("Read the files for the rest.]")
    assert "[instructions truncated to fit 300 tokens: AGENTS.md (" in text
    # whole lines only
    body = text.split("## AGENTS.md\n", 1)[1].split("\n\n", 1)[0]
    assert all(line.startswith("rule ") and line.rstrip().endswith("word")
               for line in body.splitlines())


def test_output_is_stable_for_unchanged_files(tmp_path):
    (tmp_path / "AGENTS.md").write_text("x\n" * 5000)
    assert load_instructions(tmp_path, cap_tokens=100) == load_instructions(tmp_path, cap_tokens=100)
