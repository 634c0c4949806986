#!/usr/bin/env bash
# Refresh constraints.txt: the exact version of every package in the venv, hotline itself
# left out. Run it after changing dependencies in pyproject.toml and seeing the whole suite
# pass (`bash scripts/test.sh`), then commit constraints.txt: `scripts/setup.sh` installs
# with `-c constraints.txt`, so every checkout gets the versions the suite passed with.
#   bash scripts/lock.sh                    # freezes .venv
#   VENV=/path/to/venv bash scripts/lock.sh  # another venv
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
{
    echo "# The versions the suite passed with; refreshed by \`bash scripts/lock.sh\` (see CONTRIBUTING.md)."
    echo "# Installed by scripts/setup.sh as: pip install -c constraints.txt -e '.[dev]'"
    "$VENV/bin/python" -m pip freeze --disable-pip-version-check --exclude-editable --exclude hotline
} >constraints.txt.new
mv constraints.txt.new constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages"
