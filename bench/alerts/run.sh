#!/usr/bin/env bash
# bench/alerts: AstroPile alerts ingest vs the Fink recipe and the gzip floor. Release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python bench/alerts/bench.py --astropile .build/release/astropile "$@"
