"""Writes two Multimodal Universe-layout data sets for the pairing tests.

usage: pair_synthetic.py LEFT RIGHT [SEED] [EDGE_PIXELS]
LEFT is image-like (image_array (n,1,4,4)), RIGHT spectrum-like (spectrum_flux (n,L) with L
differing between files, as MMU pads per file). Pairs straddle order-4 HEALPix edges and
RA 0/360; some left objects have two right objects within 1 arcsec; some objects have none.
Both sides have a `mag` column (a name clash). Files: healpix=N/001-of-001.hdf5 (order 4, nested).
"""
import os
import sys

import h5py
import healpy as hp
import numpy as np

left_dir, right_dir = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
edge_pixels = int(sys.argv[4]) if len(sys.argv) > 4 else 60
nside = 16
arcsec = np.pi / 180 / 3600


def offset(ra, dec, r_arcsec):
    """A point r_arcsec from (ra, dec) in a random direction (degrees)."""
    theta = rng.uniform(0, 2 * np.pi, size=np.shape(ra))
    d = r_arcsec / 3600
    dec2 = dec + d * np.sin(theta)
    ra2 = ra + d * np.cos(theta) / np.cos(np.radians(dec))
    return np.mod(ra2, 360), np.clip(dec2, -90, 90)


lra, ldec, rra, rdec = [], [], [], []
# Points on the edges of EDGE_PIXELS order-4 pixels, each with a partner within 0.8 arcsec.
for pix in rng.choice(12 * nside * nside, edge_pixels, replace=False):
    v = hp.boundaries(nside, int(pix), step=4, nest=True)
    ra, dec = hp.vec2ang(v.T, lonlat=True)
    ra, dec = offset(ra, dec, rng.uniform(0, 0.4, size=ra.shape))
    pra, pdec = offset(ra, dec, rng.uniform(0.05, 0.8, size=ra.shape))
    lra += list(ra); ldec += list(dec); rra += list(pra); rdec += list(pdec)
# Across RA 0/360.
for k in range(max(4, edge_pixels * 2 // 3)):
    dec = rng.uniform(-60, 60)
    lra.append(360 - rng.uniform(0, 0.3) / 3600); ldec.append(dec)
    rra.append(rng.uniform(0, 0.3) / 3600); rdec.append(dec + rng.uniform(-0.3, 0.3) / 3600)
# Left objects with two right objects within 1 arcsec.
for k in range(max(3, edge_pixels // 2)):
    ra, dec = rng.uniform(0, 360), rng.uniform(-80, 80)
    lra.append(ra); ldec.append(dec)
    for r in (0.3, 0.7):
        a, b = offset(np.array([ra]), np.array([dec]), r)
        rra.append(float(a[0])); rdec.append(float(b[0]))
# Unpaired objects on both sides.
for k in range(max(5, edge_pixels * 5 // 6)):
    lra.append(rng.uniform(0, 360)); ldec.append(rng.uniform(-85, 85))
    rra.append(rng.uniform(0, 360)); rdec.append(rng.uniform(-85, 85))

lra, ldec, rra, rdec = map(np.array, (lra, ldec, rra, rdec))
lid = np.arange(1, len(lra) + 1, dtype=np.int64)
rid = np.arange(1_000_001, 1_000_001 + len(rra), dtype=np.int64)


def write(root, ra, dec, ids, kind):
    hpx = hp.ang2pix(nside, ra, dec, lonlat=True, nest=True)
    for p in np.unique(hpx):
        sel = np.where(hpx == p)[0]
        n = len(sel)
        d = os.path.join(root, f"healpix={p}")
        os.makedirs(d, exist_ok=True)
        with h5py.File(os.path.join(d, "001-of-001.hdf5"), "w") as f:
            f["object_id"] = ids[sel]
            f["ra"] = ra[sel]
            f["dec"] = dec[sel]
            f["healpix"] = np.full(n, p, dtype=np.int64)
            f["mag"] = (ids[sel] % 1000).astype(np.float32) / 10
            if kind == "image":
                f["image_array"] = np.stack([np.full((1, 4, 4), i, dtype=np.float32) for i in ids[sel]])
                f["image_band"] = np.array([[b"r"]] * n)
            else:
                L = 50 + int(p) % 7
                flux = np.stack([np.arange(L, dtype=np.float32) + i for i in ids[sel]]) if n else np.zeros((0, L), np.float32)
                f["spectrum_flux"] = flux
                f["spectrum_ivar"] = np.ones((n, L), dtype=np.float32)
                f["spectrum_lambda"] = np.tile(np.linspace(4000, 9000, L, dtype=np.float32), (n, 1))
                f["spectrum_mask"] = np.zeros((n, L), dtype=bool)


write(left_dir, lra, ldec, lid, "image")
write(right_dir, rra, rdec, rid, "spectrum")
print(len(lra), len(rra))
