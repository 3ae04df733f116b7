"""The core file tools and the persistent shell: confinement, guards, caps, persistence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from smallcode.core.tools import Services, TaskState, ToolContext, Workspace, build_registry
from smallcode.core.tools.shell import refusal


@pytest.fixture()
def env(tmp_path: Path):
    (tmp_path / "a.py").write_text("x = 1\ny = 2\n")
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "gen.py").write_text("x = 3\n")
    reg = build_registry()
    ctx = ToolContext(Workspace(tmp_path))
    return reg, ctx, tmp_path


async def test_read_numbers_lines_and_ranges(env) -> None:
    reg, ctx, root = env
    (root / "big.py").write_text("".join(f"v{i} = {i}\n" for i in range(1, 301)))
    r = await reg.execute("read_file", {"path": "big.py", "start_line": 200, "end_line": 201}, ctx)
    assert r.ok and r.output == "big.py lines 200-201 of 300\n200| v200 = 200\n201| v201 = 201"


async def test_a_short_file_is_read_whole_whatever_range_was_asked(env) -> None:
    reg, ctx, _ = env  # the 1.5B asks for lines 1-1 of an 11-line file, five times over
    r = await reg.execute("read_file", {"path": "a.py", "start_line": 1, "end_line": 1}, ctx)
    assert r.ok and r.output == "a.py (2 lines)\n1| x = 1\n2| y = 2"


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a\x00b", "sub/../../x"])
async def test_paths_outside_workspace_are_refused(env, path: str) -> None:
    reg, ctx, root = env
    r = await reg.execute("write_file", {"path": path, "content": "no"}, ctx)
    assert not r.ok and ("outside the workspace" in r.output or "NUL" in r.output)
    assert not (root.parent / "x").exists()


async def test_symlink_pointing_out_is_refused(env, tmp_path_factory) -> None:
    reg, ctx, root = env
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("s")
    os.symlink(outside, root / "link")
    r = await reg.execute("read_file", {"path": "link/secret.txt"}, ctx)
    assert not r.ok and "outside the workspace" in r.output
    w = await reg.execute("write_file", {"path": "link/new.txt", "content": "x"}, ctx)
    assert not w.ok and not (outside / "new.txt").exists()


async def test_read_before_write_guard_refuses_once(env) -> None:
    reg, ctx, root = env
    first = await reg.execute("write_file", {"path": "a.py", "content": "z = 0\n"}, ctx)
    assert not first.ok and "have not read it" in first.output
    assert (root / "a.py").read_text() == "x = 1\ny = 2\n"
    second = await reg.execute("write_file", {"path": "a.py", "content": "z = 0\n"}, ctx)
    assert second.ok and (root / "a.py").read_text() == "z = 0\n"


async def test_new_file_write_validates_python_at_once(env) -> None:
    reg, ctx, root = env
    r = await reg.execute("write_file", {"path": "b.py", "content": "def f(:\n"}, ctx)
    assert not r.ok and "VALIDATION FAILED" in r.output and "b.py:1" in r.output
    assert (root / "b.py").exists()


async def test_patch_reports_closest_region_on_miss(env) -> None:
    reg, ctx, _root = env
    r = await reg.execute("patch", {"path": "a.py", "old_str": "y = 3", "new_str": "y = 4"}, ctx)
    assert not r.ok and "patch failed on a.py" in r.output and "2" in r.output
    ok = await reg.execute("patch", {"path": "a.py", "old_str": "y = 2", "new_str": "y = 4"}, ctx)
    assert ok.ok and ok.changed_files == ["a.py"] and "+y = 4" in ok.diff


async def test_find_and_search_respect_gitignore(env) -> None:
    reg, ctx, _ = env
    f = await reg.execute("find_files", {"pattern": "*.py"}, ctx)
    assert f.output.splitlines() == ["a.py"]
    s = await reg.execute("search", {"query": "x ="}, ctx)
    assert s.output == "a.py:1: x = 1"


async def test_step_worker_may_edit_only_declared_files(env) -> None:
    reg, ctx, root = env
    ctx.allowed_edit_paths = {"b.py"}
    r = await reg.execute("write_file", {"path": "c.py", "content": "x=1\n"}, ctx)
    assert not r.ok and "may only edit b.py" in r.output and not (root / "c.py").exists()


async def test_shell_persists_cwd_and_env_and_reports_exit_codes(env) -> None:
    reg, ctx, root = env
    await reg.execute("bash", {"command": "mkdir -p d && cd d && export K=v"}, ctx)
    r = await reg.execute("bash", {"command": "pwd; echo $K; false"}, ctx)
    assert r.output.splitlines()[:2] == [str(root / "d"), "v"]
    assert not r.ok and r.data["exit_code"] == 1
    t = await reg.execute("bash", {"command": "sleep 3", "timeout": 0.5}, ctx)
    assert not t.ok and "timed out" in t.output
    after = await reg.execute("bash", {"command": "pwd"}, ctx)
    assert after.output.startswith(str(root))
    big = await reg.execute("bash", {"command": "seq 1 100000"}, ctx)
    assert "lines cut" in big.output and big.output.rstrip().endswith("[exit code 0]")
    await ctx.services.shell.close()


@pytest.mark.parametrize("cmd", ["vim a.py", "python", "npm start", "python -m http.server",
                                 "git commit", "sleep 100 &", "less log.txt"])
def test_interactive_and_server_commands_are_refused(cmd: str) -> None:
    assert refusal(cmd) is not None


@pytest.mark.parametrize("cmd", ["python -m pytest -q", "git commit -m 'x'", "npm test",
                                 "node --test", "ls -la && cat a.py"])
def test_ordinary_commands_are_allowed(cmd: str) -> None:
    assert refusal(cmd) is None


async def test_git_push_and_remote_changes_are_refused_unless_asked(env) -> None:
    reg, ctx, _ = env
    ctx.task_state.task = "rename calc_total everywhere"
    r = await reg.execute("bash", {"command": "git push origin master"}, ctx)
    assert not r.ok and "pushing or changing git remotes" in r.output
    r = await reg.execute("bash", {"command": "git remote add origin https://x/y.git"}, ctx)
    assert not r.ok
    ctx.task_state.task = "commit and push my changes"
    r = await reg.execute("bash", {"command": "git remote add origin /nonexistent/x.git"}, ctx)
    assert "pushing or changing" not in r.output
    await ctx.services.shell.close()


async def test_control_characters_from_json_escapes_are_written_as_escape_text(env) -> None:
    reg, ctx, root = env
    await reg.execute("read_file", {"path": "a.py"}, ctx)
    r = await reg.execute("patch", {"path": "a.py", "old_str": "y = 2",
                                    "new_str": "y = r'[^\x00-\x7f]'"}, ctx)
    assert r.ok, r.output
    assert (root / "a.py").read_text() == "x = 1\ny = r'[^\\x00-\\x7f]'\n"


async def test_a_glob_as_read_path_lists_and_shows_the_matching_files(env) -> None:
    reg, ctx, root = env  # the 1.5B asks read_file for "src/**/*.py"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "one.py").write_text("a = 1\n")
    (root / "src" / "pkg" / "two.py").write_text("b = 2\n")
    r = await reg.execute("read_file", {"path": "src/**/*.py"}, ctx)
    assert r.ok and r.output.startswith("2 files match 'src/**/*.py': src/one.py, src/pkg/two.py")
    assert "1| a = 1" in r.output and "1| b = 2" in r.output
    missing = await reg.execute("read_file", {"path": "lib/*.rs"}, ctx)
    assert not missing.ok and "no files match 'lib/*.rs'" in missing.output


async def test_patching_a_missing_header_with_its_body_appends_it(env) -> None:
    reg, ctx, root = env  # the 1.5B adds a Makefile target by "patching" `clean:` into itself
    (root / "Makefile").write_text("test:\n\tpytest -q\n")
    r = await reg.execute("patch", {"path": "Makefile", "old_str": "clean:",
                                    "new_str": "clean:\n\trm -rf build/"}, ctx)
    assert r.ok, r.output
    assert (root / "Makefile").read_text() == "test:\n\tpytest -q\n\nclean:\n\trm -rf build/\n"
    assert r.output.startswith("added to the end of Makefile (lines 4-5)")
    other = await reg.execute("patch", {"path": "Makefile", "old_str": "lint:",
                                        "new_str": "format:\n\tblack ."}, ctx)
    assert not other.ok and "old_str not found" in other.output  # not an addition: refused


async def test_a_path_with_a_stray_or_missing_folder_finds_the_one_file_it_means(env) -> None:
    reg, ctx, root = env
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("python: ['3.11']\n")
    r = await reg.execute("patch", {"path": "tests/.github/workflows/ci.yml",
                                    "old_str": "'3.11'", "new_str": "'3.11', '3.12'"}, ctx)
    assert r.ok and r.output.startswith("patched .github/workflows/ci.yml")
    r = await reg.execute("read_file", {"path": "ci.yml"}, ctx)
    assert r.ok and r.output.startswith(".github/workflows/ci.yml (1 lines)")
    (root / "sub").mkdir()
    (root / "sub" / "a.py").write_text("z = 0\n")  # two a.py files: no guessing
    r = await reg.execute("read_file", {"path": "lib/a.py"}, ctx)
    assert not r.ok and "lib/a.py does not exist" in r.output


async def test_a_new_method_patched_onto_its_own_header_lands_in_the_class(env) -> None:
    reg, ctx, root = env  # seen: old_str "def peek(self):" (absent), new_str = the method
    (root / "stack.py").write_text(
        "class Stack:\n    def __init__(self):\n        self._items = []\n\n"
        "    def pop(self):\n        return self._items.pop()\n\n\nS = Stack()\n")
    r = await reg.execute("patch", {"path": "stack.py", "old_str": "def peek(self):",
                                    "new_str": "def peek(self):\n    return self._items[-1]"}, ctx)
    assert r.ok, r.output
    assert (root / "stack.py").read_text() == (
        "class Stack:\n    def __init__(self):\n        self._items = []\n\n"
        "    def pop(self):\n        return self._items.pop()\n\n"
        "    def peek(self):\n        return self._items[-1]\n\n\nS = Stack()\n")
    assert r.output.startswith("added to the end of the class in stack.py (lines 8-9)")
    again = await reg.execute("patch", {"path": "stack.py", "old_str": "def pop(self) -> int:",
                                        "new_str": "def pop(self) -> int:\n    return 1"}, ctx)
    assert not again.ok  # pop exists: a botched edit of it, not an addition


async def test_protected_tests_cannot_be_edited_but_new_tests_can_be_added(env) -> None:
    reg, ctx, root = env  # seen: "titleCase(...) throws, fix it" -> the 1.5B edits the test
    (root / "test_a.py").write_text("def test_x():\n    assert 1 == 2\n")
    ctx.task_state.protect_tests = True
    r = await reg.execute("patch", {"path": "test_a.py", "old_str": "1 == 2",
                                    "new_str": "1 == 1"}, ctx)
    assert not r.ok and "test_a.py is a test file and the task does not ask" in r.output
    assert (root / "test_a.py").read_text() == "def test_x():\n    assert 1 == 2\n"
    new = await reg.execute("write_file", {"path": "test_b.py", "content": "X = 1\n"}, ctx)
    assert new.ok
    ctx.task_state.protect_tests = False
    r = await reg.execute("patch", {"path": "test_a.py", "old_str": "1 == 2",
                                    "new_str": "1 == 1"}, ctx)
    assert r.ok


def test_which_tasks_leave_the_tests_alone() -> None:
    from smallcode.core.edit.literals import tests_protected

    assert tests_protected("titleCase('hello  world') throws TypeError. Fix it.")
    assert tests_protected("test_add fails, fix it")
    assert not tests_protected("Add a test for peek() in tests/test_stack.py")
    assert not tests_protected("Rename calc_total to compute_total everywhere")
    assert not tests_protected("the test is wrong: it expects 3")


def test_tool_context_keywords_are_services_fields_and_unknown_ones_are_refused(
        tmp_path: Path) -> None:
    ctx = ToolContext(Workspace(tmp_path), patch_ladder=False, test_timeout=5.0)
    assert ctx.services == Services(patch_ladder=False, test_timeout=5.0)
    assert ctx.task_state == TaskState()
    given = Services(instructions="be brief")
    ctx = ToolContext(Workspace(tmp_path), given, validate_edits=False)
    assert ctx.services is given and given.validate_edits is False
    with pytest.raises(TypeError, match="'grpah'"):
        ToolContext(Workspace(tmp_path), grpah=object())
    with pytest.raises(TypeError, match="'task'"):  # per-task state is not a service
        ToolContext(Workspace(tmp_path), task="fix it")
    with pytest.raises(AttributeError):  # a misspelt field fails instead of reading a default
        ctx.services.patch_ladr = False  # type: ignore[attr-defined]


def test_a_makefile_written_with_space_indented_recipes_gets_tabs(tmp_path):
    from smallcode.core.tools.files import write_checked

    ctx = ToolContext(Workspace(tmp_path))
    result = write_checked(ctx, "Makefile", tmp_path / "Makefile",
                           "build:\n    mkdir -p build\n\nclean:\n    rm -rf build\n")
    assert result.ok, result.output
    assert (tmp_path / "Makefile").read_text() == "build:\n\tmkdir -p build\n\nclean:\n\trm -rf build\n"
