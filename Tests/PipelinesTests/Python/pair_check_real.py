"""Checks stamps × spectra pairs on the real frames against the two data sets.

usage: pair_check_real.py STAMPS SPECTRA PAIRED MAPPING_FILE [--no-lsdb]
MAPPING_FILE holds "OBJID SPECOBJID" lines. Every mapped pair is in PAIRED with the stamp of
OBJID and the spectrum of SPECOBJID, both read from their own data sets; lsdb opens the HATS
variant. Prints "ok N".
"""
import glob
import os
import sys

import h5py
import numpy as np
import pyarrow.parquet as pq

stamps, spectra, paired, mapping = sys.argv[1:5]
want = {int(a): int(b) for a, b in (line.split() for line in open(mapping) if line.strip())}


def row(root, oid):
    idx = pq.read_table(os.path.join(root, "object_index.parquet")).to_pydict()
    k = idx["object_id"].index(oid)
    return h5py.File(os.path.join(root, idx["file"][k]), "r"), idx["row"][k]


got = {}
for path in sorted(glob.glob(os.path.join(paired, "healpix=*", "*.hdf5"))):
    with h5py.File(path, "r") as f:
        for k in range(len(f["object_id"])):
            a, b = int(f["image_object_id"][k]), int(f["spectrum_object_id"][k])
            got[a] = b
            s, r = row(stamps, a)
            assert np.array_equal(f["image_array"][k], s["image_array"][r], equal_nan=True), a
            assert np.array_equal(f["image_band"][k], s["image_band"][r]), a
            t, q = row(spectra, b)
            assert np.array_equal(f["spectrum_flux"][k], t["spectrum_flux"][q]), b
            assert np.array_equal(f["spectrum_mask"][k], t["spectrum_mask"][q]), b
            assert f["z"][k] == t["z"][q], b
            assert 0.25 < f["pair_dist_arcsec"][k] < 0.35, f["pair_dist_arcsec"][k]
            assert f["object_id"][k] == a and f["ra"][k] == s["ra"][r]
assert got == want, (got, want)

if "--no-lsdb" not in sys.argv:
    import lsdb

    cat = lsdb.open_catalog(paired).compute()
    assert sorted(cat["image_object_id"]) == sorted(want), cat["image_object_id"]
print("ok", len(got))
