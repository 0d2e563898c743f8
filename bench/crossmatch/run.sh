#!/usr/bin/env bash
# Cross-match benchmark (see bench.py): make bench-crossmatch, or bench/crossmatch/run.sh --sizes 1000000,10000000
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python bench/crossmatch/bench.py "$@"
