#!/usr/bin/env bash
# Import benchmark (see bench.py): make bench, or bench/import/run.sh --rows 2000000
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python bench/import/bench.py "$@"
