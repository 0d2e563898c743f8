"""Replicates the real SDSS spec files into N files with their own ids and positions.

usage: spectra_replicate.py FIXTURES_DIR OUT N [SEED]
File k is a copy of fixture k mod 4 (SDSS-I lite, full and BOSS alike) with SPECOBJID
10^17 + k (SDSS-I, a string) or 7·10^18 + k (BOSS, an integer), a random PLUG_RA/PLUG_DEC
uniform on the sphere, named OUT/PLATE/spec-PLATE-55555-FIBER.fits. Prints N.
"""
import glob
import os
import sys

import numpy as np
from astropy.io import fits

src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 3)
files = sorted(glob.glob(os.path.join(src, "spec-*.fits")))
ra = rng.uniform(0, 360, n)
dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
for k in range(n):
    # Opened afresh each time: astropy writes a changed scaled (uint64) column only once per HDUList.
    h = fits.open(files[k % len(files)])
    obj = h[2].data
    if obj.columns["SPECOBJID"].format.endswith("A"):
        obj["SPECOBJID"][0] = str(10**17 + k).rjust(22)
    else:
        obj.field("SPECOBJID")[0] = 7 * 10**18 + k
    obj["PLUG_RA"][0], obj["PLUG_DEC"][0] = ra[k], dec[k]
    plate, fiber = 9000 + k // 1000, k % 1000 + 1
    d = os.path.join(out, str(plate))
    os.makedirs(d, exist_ok=True)
    h.writeto(os.path.join(d, f"spec-{plate}-55555-{fiber:04d}.fits"), overwrite=True)
    h.close()
print(n)
