#!/usr/bin/env bash
# Refresh constraints.txt: the newest versions pyproject.toml admits, resolved in a fresh
# throwaway venv (so nothing installed by hand in .venv slips in), hotline itself left out.
# Then install them (`bash scripts/setup.sh`), see the whole suite pass
# (`bash scripts/test.sh`) and commit constraints.txt: `scripts/setup.sh` installs with
# `-c constraints.txt`, so every checkout gets the versions the suite passed with.
#   bash scripts/lock.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
{
    echo "# The versions the suite passed with; refreshed by \`bash scripts/lock.sh\` (see CONTRIBUTING.md)."
    echo "# Installed by scripts/setup.sh as: pip install -c constraints.txt -e '.[dev]'"
    "$work/venv/bin/python" -m pip freeze --disable-pip-version-check --exclude-editable --exclude hotline
} >constraints.txt.new
mv constraints.txt.new constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages"
