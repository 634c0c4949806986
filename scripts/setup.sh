#!/usr/bin/env bash
# Create .venv beside the project and install hotline with its development tools, at the
# versions in constraints.txt (the ones the suite passed with; `bash scripts/lock.sh`
# refreshes them). Idempotent: a second run only refreshes what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# The operator console's front-end packages (pinned, served by the node; see vendor.sh).
bash scripts/vendor.sh
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
