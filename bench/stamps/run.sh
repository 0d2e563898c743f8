#!/usr/bin/env bash
# bench/stamps: AstroPile stamps vs the MMU recipe (astropy Cutout2D + h5py) and astropy+reproject,
# and the bzip2 decompression floor. Release build; prints objects/s, peak memory and ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python bench/stamps/bench.py --astropile .build/release/astropile "$@"
