#!/usr/bin/env bash
# bench/spectra: AstroPile spectra and pair vs the Multimodal Universe recipes (astropy + h5py;
# cross_match_datasets' algorithm). Release build; prints spectra/s, time, peak memory, pairs lost, ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python bench/spectra/bench.py --astropile .build/release/astropile "$@"
