"""Maps the repository's top-level folders onto the `smallcode` namespace.

`core/`, `gateway/`, `actors/` and `cli/` install as `smallcode.core`, `smallcode.gateway`,
`smallcode.actors` and `smallcode.cli`; no bare `core` or `cli` package ever reaches site-packages.
"""

from setuptools import find_packages, setup

TOP = ("core", "gateway", "actors", "cli")
EXCLUDE = ["*.suites", "*.suites.*", "*.tests", "*.tests.*"]

packages: list[str] = []
package_dir: dict[str, str] = {}
for top in TOP:
    packages.append(f"smallcode.{top}")
    package_dir[f"smallcode.{top}"] = top
    for sub in find_packages(top, exclude=EXCLUDE):
        packages.append(f"smallcode.{top}.{sub}")

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={"smallcode.core": ["bench/suites/**/*", "bench/suites/**/.*",
                                      # glob's ** skips dot-folders (a task's .github/)
                                      "bench/suites/**/.*/**/*", "bench/suites/**/.*/**/.*",
                                      "prompts/*.md"]},
    include_package_data=True,
)
