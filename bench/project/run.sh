#!/usr/bin/env bash
# bench/project: astropile project run vs the same steps in numpy/pandas, on synthetic light curves
# served by a local stand-in for IRSA's light-curve service. Release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python bench/project/bench.py --astropile .build/release/astropile "$@"
