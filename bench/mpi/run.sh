#!/usr/bin/env bash
# MPI scaling benchmark (see bench.py): make bench-mpi, or bench/mpi/run.sh --rows 2000000 --tiny 20000
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python bench/mpi/bench.py "$@"
