#!/usr/bin/env bash
# Set up .venv, then run every check CI runs: ruff, mypy --strict, and the whole test
# suite on SQLite and on PostgreSQL (127.0.0.1:5432, started here if it is installed
# but not running). Extra arguments go to pytest, e.g. `bash scripts/test.sh -k receipt`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Debian's Chromium for the console's browser tests (Playwright drives it; no browser
# download). Only when missing, and only as root or with sudo.
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else SUDO=none; fi
    if [ "$SUDO" != none ]; then
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    fi
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
.venv/bin/ruff check src tests benchmarks scripts
.venv/bin/ruff format --check src tests benchmarks scripts
.venv/bin/mypy src
.venv/bin/lint-imports  # the layers and "no SQL outside storage/" ([tool.importlinter] in pyproject.toml)
# Several pytest processes (pytest-xdist): most tests wait on node processes, TLS handshakes
# and PostgreSQL, not on the CPU. A file's tests stay together (its module fixtures, e.g. a
# pair of node processes, are made once). HOTLINE_TEST_WORKERS=0 runs in this process.
exec .venv/bin/python -m pytest -n "${HOTLINE_TEST_WORKERS:-4}" --dist loadfile --durations=25 "$@"
