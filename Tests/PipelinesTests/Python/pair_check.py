"""Checks an `astropile pair` output against astropy, and counts what MMU's algorithm loses.

usage: pair_check.py LEFT RIGHT OUTPUT RADIUS_ARCSEC MODE LEFT_PREFIX RIGHT_PREFIX
MODE: nearest | all. Prints "ok PAIRS MMU_LOST" or raises.
"""
import glob
import os
import sys

import astropy.units as u
import h5py
import numpy as np
import pyarrow.parquet as pq
from astropy.coordinates import SkyCoord, search_around_sky

left, right, out, radius, mode, lp, rp = sys.argv[1:8]
radius = float(radius) * u.arcsec


def load(root):
    cols = {}
    for path in sorted(glob.glob(os.path.join(root, "healpix=*", "*.hdf5"))):
        with h5py.File(path, "r") as f:
            for k in f.keys():
                cols.setdefault(k, []).append(f[k][()])
    return cols


L, R = load(left), load(right)
lid, rid = np.concatenate(L["object_id"]), np.concatenate(R["object_id"])
lc = SkyCoord(np.concatenate(L["ra"]) * u.deg, np.concatenate(L["dec"]) * u.deg)
rc = SkyCoord(np.concatenate(R["ra"]) * u.deg, np.concatenate(R["dec"]) * u.deg)
if mode == "all":
    i1, i2, sep, _ = search_around_sky(lc, rc, radius)
else:
    idx, sep_all, _ = lc.match_to_catalog_sky(rc)
    keep = sep_all <= radius
    i1, i2, sep = np.where(keep)[0], idx[keep], sep_all[keep]
want = {(int(lid[a]), int(rid[b])): float(s) for a, b, s in zip(i1, i2, sep.arcsec)}

O = load(out)
ol, orr = np.concatenate(O[lp + "object_id"]), np.concatenate(O[rp + "object_id"])
dist = np.concatenate(O["pair_dist_arcsec"])
got = {(int(a), int(b)): float(d) for a, b, d in zip(ol, orr, dist)}
assert len(got) == len(ol), "a pair is written twice"
missing, extra = set(want) - set(got), set(got) - set(want)
assert not missing and not extra, f"missing {sorted(missing)[:5]} extra {sorted(extra)[:5]}"
worst = max(abs(got[k] - want[k]) for k in want)
assert worst < 1e-6, f"separations differ from astropy by {worst} arcsec"

# Both sides' columns per pair, nothing overwritten: the clashing `mag` is kept twice.
lrow = {int(i): k for k, i in enumerate(lid)}
rrow = {int(i): k for k, i in enumerate(rid)}
lmag, rmag = np.concatenate(L["mag"]), np.concatenate(R["mag"])
img = np.concatenate(O["image_array"])
flux = np.concatenate(O["spectrum_flux"])
mask = np.concatenate(O["spectrum_mask"])
rflux = [f for part in R["spectrum_flux"] for f in part]
for k, (a, b) in enumerate(zip(ol, orr)):
    assert O[lp + "mag"] and np.concatenate(O[lp + "mag"])[k] == lmag[lrow[int(a)]]
    assert np.concatenate(O[rp + "mag"])[k] == rmag[rrow[int(b)]]
    assert np.all(img[k] == float(a))
    src = rflux[rrow[int(b)]]
    n = len(src)
    assert np.array_equal(flux[k][:n], src), (a, b)
    assert np.all(flux[k][n:] == src[-1]) and np.all(mask[k][n:]) and not np.any(mask[k][:n])

# Unpaired objects as reported.
un = pq.read_table(os.path.join(out, "unpaired_objects.parquet")).to_pydict()
paired_l = {a for a, _ in want}
paired_r = {b for _, b in want}
got_l = {int(i) for s, i in zip(un["side"], un["object_id"]) if s == "left"}
got_r = {int(i) for s, i in zip(un["side"], un["object_id"]) if s == "right"}
assert got_l == set(map(int, lid)) - paired_l, "left unpaired"
assert got_r == set(map(int, rid)) - paired_r, "right unpaired"

# MMU's cross_match_datasets: nearest match one way, then pairs whose two objects are in
# different HEALPix pixels are dropped.
idx, sep_all, _ = lc.match_to_catalog_sky(rc)
lh, rh = np.concatenate(L["healpix"]), np.concatenate(R["healpix"])
ok = (sep_all < radius) & (lh == rh[idx])
mmu = {(int(lid[a]), int(rid[idx[a]])) for a in np.where(ok)[0]}
lost = len(set(want) - mmu)

import datasets

parts = sorted(glob.glob(os.path.join(out, "healpix=*", "*.hdf5")))
ds = datasets.load_dataset("hdf5", data_files=parts, split="train")
assert len(ds) == len(got), (len(ds), len(got))
print("ok", len(got), lost)
