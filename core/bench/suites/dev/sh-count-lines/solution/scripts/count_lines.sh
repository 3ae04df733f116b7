#!/usr/bin/env bash
# Total number of lines in all .py files under src/.
set -euo pipefail
cd "$(dirname "$0")/.."
find src -name '*.py' -type f -print0 | xargs -0 cat | wc -l | tr -d ' '
