#!/usr/bin/env bash
# Everything `make test` does: system packages, venv, PostgreSQL, lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

need=()
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The failover test starts the local topology (scripts/cluster.sh): nginx, pgbouncer, Redis.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null 2>&1 || need+=(pgbouncer)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# channelattribution (the reference for the Markov attribution tests) ships as source only.
command -v g++ >/dev/null 2>&1 || need+=(g++)
"$PY" -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || need+=(python3-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing system packages: ${need[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
UV_VERSION=$(sed -n 's/^UV_VERSION := //p' Makefile)
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
if [ ! -f .venv/.installed-test ] || [ pyproject.toml -nt .venv/.installed-test ] || [ uv.lock -nt .venv/.installed-test ]; then
  echo "==> installing the project with test extras from uv.lock"
  .venv/bin/uv sync --locked --inexact --quiet --extra test
  touch .venv/.installed-test
fi

pgdir=$(mktemp -d /tmp/crosspromo-pg-XXXXXX)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'scripts/test-postgres.sh stop "$pgdir"' EXIT
echo "==> starting a throwaway PostgreSQL on port $port"
CROSSPROMO_TEST_PG_URL=$(scripts/test-postgres.sh start "$pgdir" "$port")
export CROSSPROMO_TEST_PG_URL

echo "==> ruff"
.venv/bin/ruff check src tests bench scripts
.venv/bin/ruff format --check src tests bench scripts
echo "==> mypy"
.venv/bin/mypy src
echo "==> import contracts"
.venv/bin/lint-imports
echo "==> pytest (SQLite and PostgreSQL, browser tests on Debian's Chromium)"
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" --dist loadfile "$@"
