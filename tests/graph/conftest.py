"""A small multi-language project for the code-graph tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

SAMPLE: dict[str, str] = {
    ".gitignore": "build/\n",
    "pkg/__init__.py": "",
    "pkg/util.py": '''
        """Utilities."""


        def helper(x):
            """Double x."""
            return x * 2


        def unused():
            return 0
        ''',
    "pkg/models.py": '''
        from .util import helper


        class Model:
            """A model."""

            def __init__(self, value):
                self.value = value

            def compute(self):
                """Compute the value."""
                return helper(self.value) + self.offset()

            def offset(self):
                return 1
        ''',
    "app.py": '''
        from pkg.models import Model
        import pkg.util as u


        def main():
            m = Model(3)
            print(m.compute())
            return u.helper(1)


        def helper():
            """A different helper, local to app.py."""
            return 0
        ''',
    "web/format.ts": '''
        /** Format a url. */
        export function format(url: string): string { return url.trim(); }
        ''',
    "web/api.ts": '''
        import { format } from './format';

        export function handle(req: Request): string {
          return format(req.url);
        }
        ''',
    "srv/server.go": '''
        package server

        // Server serves requests.
        type Server struct{ port int }

        // Start starts the server.
        func (s *Server) Start() error {
        \treturn listen(s.port)
        }
        ''',
    "srv/net.go": '''
        package server

        func listen(port int) error { return nil }
        ''',
    "build/generated.py": "def ignored_by_gitignore():\n    pass\n",
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


@pytest.fixture()
def sample_repo(tmp_path: Path) -> Path:
    write_tree(tmp_path, SAMPLE)
    return tmp_path
