"""Moving a Python module: every import form follows it, recognised whatever the phrasing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from smallcode.core.solve import find_module_move
from smallcode.core.tools.module_move import import_names, rewrite_imports
from smallcode.core.tools.workspace import Workspace

from tests.agent.test_run_scripted import events
from tests.solve.test_solve_path import run_cli
from tests.support.scripted_server import ScriptedServer

OLD, NEW = "app.helpers", "app.text_tools"


def test_every_import_form_follows_the_module():
    src = ("import os\nimport app.helpers\nimport app.helpers as h\n"
           "from app.helpers import slug\nfrom app import helpers, other\n"
           "from unittest import mock\n\n\n"
           "def f(obj):\n    obj.helpers = 1\n    g(helpers=2)\n"
           "    mock.patch('app.helpers.slug')\n    mock.patch('app.helpers_x')\n"
           "    return app.helpers.slug(os.sep), h.slug(''), helpers.slug(''), "
           "f'{helpers.slug(obj)} {{helpers}}'\n")
    assert rewrite_imports("app/main.py", src, OLD, NEW) == (
        "import os\nimport app.text_tools\nimport app.text_tools as h\n"
        "from app.text_tools import slug\nfrom app import text_tools, other\n"
        "from unittest import mock\n\n\n"
        "def f(obj):\n    obj.helpers = 1\n    g(helpers=2)\n"
        "    mock.patch('app.text_tools.slug')\n    mock.patch('app.helpers_x')\n"
        "    return app.text_tools.slug(os.sep), h.slug(''), text_tools.slug(''), "
        "f'{text_tools.slug(obj)} {{helpers}}'\n")


def test_relative_imports_stay_relative_and_a_move_to_another_package_is_absolute():
    src = "from .helpers import slug as s\nfrom . import helpers\nx = helpers.slug('a')\n"
    assert rewrite_imports("app/rel.py", src, OLD, NEW) == (
        "from .text_tools import slug as s\nfrom . import text_tools\nx = text_tools.slug('a')\n")
    assert rewrite_imports("app/rel.py", src, OLD, "lib.text") == (
        "from lib.text import slug as s\nfrom lib import text\nx = text.slug('a')\n")
    # another module of the same last name is not this one
    other = "from lib import helpers\nhelpers.go()\n"
    assert rewrite_imports("app/x.py", other, OLD, NEW) == other


def test_import_names_cover_a_src_layout(tmp_path: Path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    assert import_names(tmp_path, "src/pkg/util.py") == ["src.pkg.util", "pkg.util"]
    assert import_names(tmp_path, "tools.py") == ["tools"]


def _project(root: Path) -> Path:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "helpers.py").write_text(
        "import re\n\n\ndef slug(text):\n    return re.sub(r'[^a-z0-9]+', '-', text.lower())"
        ".strip('-')\n")
    (root / "app" / "main.py").write_text(
        "from app.helpers import slug\n\n\ndef page_url(title):\n"
        "    return '/pages/' + slug(title)\n")
    (root / "app" / "report.py").write_text(
        "from app import helpers\n\n\ndef report_name(title, year):\n"
        "    return f'{helpers.slug(title)}-{year}.txt'\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_app.py").write_text(
        "from app.helpers import slug\nfrom app.main import page_url\n\n\n"
        "def test_slug():\n    assert slug('Hello World!') == 'hello-world'\n"
        "    assert page_url('My Page') == '/pages/my-page'\n")
    return root


@pytest.mark.parametrize("task", [
    ("Rename app/helpers.py to app/text_tools.py and fix every import that used the old module "
    "name."),
    "Move app/helpers.py to app/text_tools.py; update the imports.",
    "app/helpers.py should be called text_tools.py",
    "rename the helpers module to text_tools",
    "mv app/helpers.py app/text_tools.py and fix imports",
    "helpers.py -> text_tools.py please",
])
def test_a_module_move_is_recognised_whatever_the_phrasing(tmp_path: Path, task: str):
    move = find_module_move(task, Workspace(_project(tmp_path)))
    assert move is not None and (move.old, move.new) == ("app/helpers.py", "app/text_tools.py")


@pytest.mark.parametrize("task", [
    "Move the slug function from app/helpers.py to app/text_tools.py",  # a function moves
    "Fix the bug in app/helpers.py",
    "Create app/text_tools.py with a slugify helper based on app/helpers.py",
    "rename slug to make_slug",
    "Rename app/helpers.py to app/main.py",  # the new name exists already
])
def test_other_requests_are_no_module_move(tmp_path: Path, task: str):
    assert find_module_move(task, Workspace(_project(tmp_path))) is None


@pytest.mark.parametrize("task", [
    "Rename app/helpers.py to app/text_tools.py and fix every import.",
    "rename the helpers module to text_tools",
    "please move helpers.py -> text_tools.py",
])
def test_smallcode_run_moves_the_module_without_the_model_and_undo_restores_it(
        tmp_path: Path, task: str):
    repo = _project(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    with ScriptedServer([]) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, task)
        assert not [r for r in srv.requests if "messages" in r]  # no model call
    assert proc.returncode == 0, proc.stdout + proc.stderr
    done = next(e for e in events(proc.stdout) if e["type"] == "done")
    assert done["verified"] == "structural", done["reason"]
    assert not (repo / "app" / "helpers.py").exists()
    assert (repo / "app" / "main.py").read_text().startswith("from app.text_tools import slug")
    assert "{text_tools.slug(title)}" in (repo / "app" / "report.py").read_text()
    # the test that imports the module follows it (its meaning does not change)
    assert (repo / "tests" / "test_app.py").read_text().startswith(
        "from app.text_tools import slug")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                         cwd=repo, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout
    undo = subprocess.run([sys.executable, "-m", "smallcode.cli.main", "undo"], cwd=repo,
                          capture_output=True, text=True, check=False)
    assert undo.returncode == 0, undo.stderr
    assert (repo / "app" / "helpers.py").exists() and not (repo / "app" / "text_tools.py").exists()
    assert (repo / "app" / "main.py").read_text().startswith("from app.helpers import slug")
