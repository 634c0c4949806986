#!/usr/bin/env bash
# Set up .venv, then run the demo: two nodes (us, ru) on loopback, on SQLite, talking.
# `bash scripts/demo.sh --once` plays the scenario and exits (0 when all was delivered
# and acknowledged).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/hotline demo "$@"
