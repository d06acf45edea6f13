#!/usr/bin/env bash
# Every benchmark in bench/, one after another; each prints its own ratio table.
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in bench/*.py; do
  echo "==> $bench"
  .venv/bin/python "$bench" "$@"
done
