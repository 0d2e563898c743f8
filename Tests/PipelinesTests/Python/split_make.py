"""Writes a Multimodal Universe-layout data set of N objects for the split tests.

usage: split_make.py OUT N FIRST_ID [SEED]
Objects FIRST_ID ... FIRST_ID+N-1 at random positions, files healpix=N/001-of-001.hdf5 at order 1.
"""
import os
import sys

import h5py
import healpy as hp
import numpy as np

out, n, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else first)
ra, dec = rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
ids = np.arange(first, first + n, dtype=np.int64)
pix = hp.ang2pix(2, ra, dec, lonlat=True, nest=True)
for p in np.unique(pix):
    s = pix == p
    d = os.path.join(out, f"healpix={p}")
    os.makedirs(d, exist_ok=True)
    # A file name of its own per batch of ids, so a grown data set keeps the old files as they are.
    with h5py.File(os.path.join(d, f"{first:09d}.hdf5"), "w") as f:
        f["object_id"], f["ra"], f["dec"] = ids[s], ra[s], dec[s]
