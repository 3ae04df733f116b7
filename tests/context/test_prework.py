"""Pre-work before any token is spent: vagueness, @file expansion, images, git context."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest
from smallcode.core.context.atfile import expand_at_files
from smallcode.core.context.gitcontext import git_context, wants_git_context
from smallcode.core.context.images import detect_images
from smallcode.core.context.vagueness import is_vague

# --- vagueness -------------------------------------------------------------------------------


@pytest.mark.parametrize("message", ["fix it", "make it better", "do that", "Fix it please!",
                                     "can you improve this", "clean it up", "it's broken",
                                     "it doesn't work", "help", "make it work again",
                                     "just fix the bug", "refactor"])
def test_vague_messages_without_context_are_flagged(message):
    assert is_vague(message, has_context=False) is True


@pytest.mark.parametrize("message", ["fix it", "make it better", "do that"])
def test_vague_words_with_context_are_not_flagged(message):
    assert is_vague(message, has_context=True) is False
    assert is_vague(message, has_context=False, assistant_asked=True) is False


@pytest.mark.parametrize("message", [
    "yes", "ok", "go ahead", "option 2", "the first one", "2",  # affirmations and picks
    "src/app.py", "fix calc.py", "fix it in utils/strings.py",  # paths
    "fix parse_args", "make UserService faster", "fix load()",  # symbols
    "fix the KeyError", "fix line 42", "fix 'the total is wrong'",  # errors, lines, quotes
    "run the tests", "what is a closure?", "thanks",  # clear enough
    "add a --verbose flag to the command line interface and document it",
])
def test_specific_messages_affirmations_and_paths_are_never_flagged(message):
    assert is_vague(message, has_context=False) is False


# --- @file -----------------------------------------------------------------------------------


def test_at_file_is_replaced_and_its_numbered_content_appended(workspace):
    (workspace.root / "src").mkdir()
    (workspace.root / "src" / "app.py").write_text("import os\n\ndef main():\n    return 1\n")
    text, atts = expand_at_files("look at @src/app.py, it breaks", workspace)
    assert text.startswith("look at src/app.py, it breaks\n\n")
    assert "File src/app.py (4 lines):\n```\n1| import os\n2| \n3| def main():\n4|     return 1\n```" in text
    assert len(atts) == 1 and atts[0].included and (atts[0].start, atts[0].end) == (1, 4)


def test_at_file_with_a_line_range(workspace):
    (workspace.root / "big.py").write_text("".join(f"x{i} = {i}\n" for i in range(1, 101)))
    text, atts = expand_at_files("explain @big.py:10-12", workspace)
    assert "File big.py (lines 10-12 of 100):" in text
    assert "10| x10 = 10\n11| x11 = 11\n12| x12 = 12\n```" in text
    assert "x13" not in text
    assert text.startswith("explain big.py:10-12\n")
    assert (atts[0].start, atts[0].end, atts[0].total_lines) == (10, 12, 100)


def test_at_file_is_capped_per_file_with_a_pointer_to_the_rest(workspace):
    (workspace.root / "long.txt").write_text("".join(f"line number {i}\n" for i in range(5000)))
    text, atts = expand_at_files("@long.txt", workspace, max_file_chars=2000)
    assert atts[0].truncated is True
    assert len(text) < 2300
    assert f"read_file long.txt from line {atts[0].end + 1}" in text


def test_at_files_are_capped_per_message(workspace):
    for name in ("a.txt", "b.txt", "c.txt"):
        (workspace.root / name).write_text("z" * 50 + "\n" * 1 + ("w" * 60 + "\n") * 100)
    text, atts = expand_at_files("@a.txt @b.txt @c.txt", workspace, max_file_chars=10_000,
                                 max_message_chars=9000)
    included = [a for a in atts if a.included]
    refused = [a for a in atts if not a.included]
    assert len(included) == 2 and refused and refused[0].refused == "message cap reached"
    assert len(text) < 9500


def test_at_path_outside_the_workspace_is_refused_with_a_note(workspace, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.txt"
    outside.write_text("password=hunter2")
    text, atts = expand_at_files(f"read @{outside} and @../../etc/passwd", workspace)
    assert "hunter2" not in text and "root:" not in text
    assert len(atts) == 2 and all(not a.included for a in atts)
    assert "outside the workspace" in atts[0].refused
    assert "refused" in text


def test_decorators_and_emails_are_left_alone(workspace):
    message = "what does @property do? mail bob@example.com"
    text, atts = expand_at_files(message, workspace)
    assert text == message and atts == []


def test_missing_file_mention_is_reported(workspace):
    text, atts = expand_at_files("open @nope/missing.py", workspace)
    assert atts[0].refused == "not found"
    assert "no such file" in text


def test_at_folder_lists_its_files_and_binary_files_are_not_inlined(workspace):
    (workspace.root / "pkg").mkdir()
    (workspace.root / "pkg" / "a.py").write_text("a = 1\n")
    (workspace.root / "pkg" / "blob.bin").write_bytes(b"\x00\x01\x02")
    text, atts = expand_at_files("@pkg and @pkg/blob.bin", workspace)
    assert "Folder pkg/ (2 files):\npkg/a.py\npkg/blob.bin" in text
    assert atts[1].refused == "binary file"


# --- images ------------------------------------------------------------------------------------

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")


def test_image_is_attached_as_a_data_url_when_the_model_has_vision(workspace):
    (workspace.root / "shot.png").write_bytes(PNG)
    found = detect_images("what is wrong in shot.png?", workspace, vision=True)
    assert found.paths == ["shot.png"] and found.notes == []
    url = found.images[0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == PNG
    content = found.content("what is wrong?")
    assert content[0] == {"type": "text", "text": "what is wrong?"} and content[1] == found.images[0]


def test_image_without_vision_tells_the_user(workspace, tmp_path_factory):
    dropped = tmp_path_factory.mktemp("downloads") / "screen shot.png"
    dropped.write_bytes(PNG)
    found = detect_images(f"see '{dropped}'", workspace, vision=False)
    assert found.images == []
    assert len(found.notes) == 1 and "cannot see images" in found.notes[0]
    assert found.content("x") == "x"


def test_a_fake_image_is_not_attached(workspace):
    (workspace.root / "fake.jpg").write_text("not an image")
    found = detect_images("look at fake.jpg", workspace, vision=True)
    assert found.images == [] and "not a PNG" in found.notes[0]


def test_text_without_image_paths_finds_nothing(workspace):
    found = detect_images("rename image_png_loader in loader.py", workspace, vision=True)
    assert found.images == [] and found.notes == []


# --- git ---------------------------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@e", "HOME": str(root), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("message,kind", [
    ("what did I just change?", "worktree"), ("review the diff", "worktree"),
    ("summarize my changes", "worktree"), ("explain the last commit", "commit"),
    ("fix calc.py", None), ("change the port", None),
])
def test_git_phrases(message, kind):
    assert wants_git_context(message) == kind


@needs_git
def test_git_context_injects_stat_and_diff_of_uncommitted_changes(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "add calc")
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "new.txt").write_text("hi")
    out = git_context("what did I just change?", tmp_path)
    assert out is not None
    assert out.startswith("Git: uncommitted changes")
    assert "Untracked files: new.txt" in out
    assert "calc.py | 2 +-" in out
    assert "-    return a + b\n+    return a - b" in out


@needs_git
def test_git_context_for_the_last_commit_and_caps(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "big.txt").write_text("".join(f"row {i}\n" for i in range(3000)))
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "add big file")
    out = git_context("explain the last commit", tmp_path, max_diff_chars=1500)
    assert out is not None and out.startswith("Git: the last commit")
    assert "add big file" in out and "big.txt | 3000 +" in out
    assert "characters" in out and len(out) < 2200


@needs_git
def test_git_context_is_none_outside_a_repo_or_without_the_phrase(tmp_path):
    assert git_context("review the diff", tmp_path) is None
    _git(tmp_path, "init", "-q")
    assert git_context("fix calc.py", tmp_path) is None
    assert git_context("review my changes", tmp_path) == (
        "Git: uncommitted changes (working tree against HEAD): none — the working tree is clean.")


def test_an_escaped_space_in_a_dropped_path_is_understood(workspace):
    (workspace.root / "my shot.png").write_bytes(PNG)
    found = detect_images("what is in my\\ shot.png?", workspace, vision=True)
    assert found.paths == ["my\\ shot.png"] and len(found.images) == 1


@pytest.mark.parametrize("text", ["a" * 50_000, "a." * 25_000, "@" * 50_000, "a/" * 25_000,
                                  "a_" * 25_000, "`a " * 15_000])
def test_pre_work_stays_fast_on_huge_pathological_messages(workspace, text):
    import time

    started = time.perf_counter()
    is_vague(text, has_context=False)
    expand_at_files(text, workspace)
    detect_images(text, workspace, vision=True)
    wants_git_context(text)
    assert time.perf_counter() - started < 1.0


# --- all four steps together -------------------------------------------------------------------


@needs_git
def test_prepare_message_runs_every_step_in_order(tmp_path):
    from smallcode.core.context.prework import prepare_message
    from smallcode.core.tools.workspace import Workspace

    _git(tmp_path, "init", "-q")
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "calc")
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "shot.png").write_bytes(PNG)
    ws = Workspace(tmp_path)
    prepared = prepare_message("review my changes in @calc.py and @missing.py, see shot.png", ws,
                               vision=False)
    assert prepared.vague is False
    assert "File calc.py (2 lines):" in prepared.text
    assert prepared.user_notices[0] == "@missing.py: not found"
    assert "cannot see images" in prepared.user_notices[1]
    assert prepared.git is not None and "+    return a + b" in prepared.git
    content = prepared.user_content()
    assert isinstance(content, str) and content.endswith(prepared.git)


def test_prepare_message_flags_vague_requests_and_attaches_images(workspace):
    from smallcode.core.context.prework import prepare_message
    from smallcode.core.context.vagueness import VAGUE_NOTE

    vague = prepare_message("fix it", workspace)
    assert vague.vague and vague.model_notes == [VAGUE_NOTE]
    assert vague.user_content() == "fix it\n\n" + VAGUE_NOTE
    (workspace.root / "ui.png").write_bytes(PNG)
    seen = prepare_message("why is ui.png blank", workspace, vision=True, git=False)
    content = seen.user_content()
    assert isinstance(content, list) and content[1]["type"] == "image_url"
