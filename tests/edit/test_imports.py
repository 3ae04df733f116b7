"""Missing standard-library imports are added, and nothing else is touched."""

from __future__ import annotations

import pytest
from smallcode.core.edit.imports import add_missing_imports, fix_names, missing_imports


@pytest.mark.parametrize("source, wanted", [
    # a module used by attribute
    ("def slug(t):\n    return re.sub(r'\\W+', '-', t)\n", ["import re"]),
    # an annotation that needs typing (a NameError when the module loads)
    ("def f(xs: List[int]) -> Optional[int]:\n    return max(xs) if xs else None\n",
     ["from typing import List", "from typing import Optional"]),
    # a well-known name, and a module, in one function
    ("def top(words):\n    c = Counter(words)\n    return math.floor(len(c) / 2)\n",
     ["from collections import Counter", "import math"]),
])
def test_a_name_used_but_never_imported_gets_its_import(source, wanted):
    assert missing_imports(source) == wanted
    new, added = add_missing_imports(source)
    assert added == wanted and new.startswith("\n".join(wanted) + "\n\n")
    compile(new, "m.py", "exec")


@pytest.mark.parametrize("source", [
    # imported already, under another name too
    "import re as regex\nimport re\n\ndef f(t):\n    return re.sub('a', 'b', t)\n",
    # a parameter that shadows a module's name
    "def f(string):\n    return string.upper()\n",
    # an unknown name is a bug to show, not an import to guess
    "def f(xs):\n    return product(xs) + count(xs)\n",
    # does not parse: left to the checks
    "def f(:\n    return re.sub('a', 'b', t)\n",
])
def test_nothing_is_added_when_nothing_is_missing_or_known(source):
    assert add_missing_imports(source) == (source, [])


def test_imports_go_after_the_docstring_and_future_imports():
    source = ('"""Slugs."""\nfrom __future__ import annotations\n\n\n'
              "def slug(t):\n    return re.sub(r'\\W+', '-', t)\n")
    new, added = add_missing_imports(source)
    assert added == ["import re"]
    assert new.startswith('"""Slugs."""\nfrom __future__ import annotations\n\nimport re\n')
    compile(new, "m.py", "exec")


@pytest.mark.parametrize("source, wanted, done", [
    ("def f(s):\n    return ''.join(unichr(ord(c)) for c in s)\n",
     "def f(s):\n    return ''.join(chr(ord(c)) for c in s)\n", ["unichr -> chr"]),
    ("def f(d):\n    return [k for k, v in d.iteritems() if v]  # iteritems\n",
     "def f(d):\n    return [k for k, v in d.items() if v]  # iteritems\n", ["iteritems -> items"]),
    ("def f(n):\n    s = 'xrange é'\n    return [i for i in xrange(n)], s\n",
     "def f(n):\n    s = 'xrange é'\n    return [i for i in range(n)], s\n", ["xrange -> range"]),
])
def test_python_2_names_become_python_3_names_outside_strings(source, wanted, done):
    assert fix_names(source) == (wanted, done)


def test_a_python_2_name_the_module_defines_is_its_own():
    source = "def unichr(n):\n    return str(n)\n\n\ndef f():\n    return unichr(3)\n"
    assert fix_names(source) == (source, [])


def test_a_name_one_other_module_defines_is_imported_from_it():
    from smallcode.core.edit.imports import fix_names, project_names

    modules = {
        "transport": "DEFAULT_TIMEOUT = 10\n\n\ndef make_request(url, timeout=DEFAULT_TIMEOUT):\n"
                     "    return url\n",
        "api": "from transport import make_request\n\n\ndef get(url, timeout=DEFAULT_TIMEOUT):\n"
               "    return make_request(url, timeout)\n",
        "client": "from api import get\n\nLIMIT = 3\n",
        "other": "LIMIT = 4\n",
    }
    project = project_names(modules, "api")
    assert project["DEFAULT_TIMEOUT"] == "transport"
    assert "LIMIT" not in project  # defined in two modules: which one is meant is a guess
    assert "get" not in project  # api's own name
    # client imports api: importing client's names into api would be circular
    assert "LIMIT" not in project_names({"client": modules["client"], "api": modules["api"]},
                                        "api")
    fixed, done = fix_names(modules["api"], project)
    assert done == ["from transport import DEFAULT_TIMEOUT"]
    assert fixed.startswith("from transport import DEFAULT_TIMEOUT\n")
    # without the project's names nothing is guessed
    assert fix_names(modules["api"]) == (modules["api"], [])
