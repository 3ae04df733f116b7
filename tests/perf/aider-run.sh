#!/usr/bin/env bash
# Run Aider (whole edit format) on the files of the current folder, as /work/shared/docs/peers.md says.
# usage: aider-run.sh BASE_URL INSTRUCTION FILE...
#   BASE_URL     OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1
#   INSTRUCTION  the task, one argument
#   FILE...      the files handed to Aider (as /add would), relative to the current folder
# AIDER_MODEL overrides the model name (default openai/local-model).
# Used by smallcode bench:
#   smallcode bench --suite dev --label aider --base-url http://127.0.0.1:8080/v1 \
#     --agent-command "$PWD/tests/perf/aider-run.sh {base_url} {instruction} {files}"
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 BASE_URL INSTRUCTION FILE..." >&2
  exit 2
fi
base_url=$1
instruction=$2
shift 2

VENV=${AIDER_VENV:-$HOME/aider-venv}
AHOME=${AIDER_HOME:-$HOME/aider-home}
cache=$AHOME/.aider/caches/model_prices_and_context_window.json
# Offline: Aider downloads litellm's price map unless this file is younger than 24 h.
if [ ! -s "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  backup=$(ls "$VENV"/lib/python3*/site-packages/litellm/model_prices_and_context_window_backup.json | head -1)
  cp "$backup" "$cache"
fi
touch "$cache"

HOME=$AHOME AIDER_ANALYTICS=false AIDER_CHECK_UPDATE=false \
LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False HF_HUB_OFFLINE=1 TERM=dumb \
exec "$VENV/bin/aider" --model "${AIDER_MODEL:-openai/local-model}" --openai-api-base "$base_url" \
  --openai-api-key x --edit-format whole --yes-always --no-auto-commits --no-dirty-commits \
  --no-show-model-warnings --no-check-update --no-analytics --no-show-release-notes \
  --no-gitignore --no-pretty --no-fancy-input --message "$instruction" "$@" < /dev/null
