"""Writes a catalog of positions inside the fixture field 2583-2-136 for the stamps tests.

usage: stamps_catalog.py FRAMES_DIR OUT.csv KIND
KIND: mixed  - stars found in the r frame, random positions, positions within 10 px of each edge
      stars  - bright isolated stars found in the r frame (for the alignment test)
"""
import sys, warnings
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

warnings.simplefilter("ignore", FITSFixedWarning)
frames, out, kind = sys.argv[1], sys.argv[2], sys.argv[3]
hdus = fits.open(f"{frames}/frame-r-002583-2-0136.fits.bz2")
img = hdus[0].data.astype(np.float64)
w = WCS(hdus[0].header)
h, wd = img.shape

def stars(threshold, isolation, border):
    """Local maxima above `threshold` nanomaggies, the brightest within `isolation` px, away from edges."""
    from numpy.lib.stride_tricks import sliding_window_view
    found = []
    ys, xs = np.nonzero(img > threshold)
    for y, x in zip(ys, xs):
        if x < border or y < border or x >= wd - border or y >= h - border:
            continue
        patch = img[y - isolation:y + isolation + 1, x - isolation:x + isolation + 1]
        if img[y, x] < patch.max():
            continue
        # isolated: nothing else above a tenth of the peak outside the core
        core = np.zeros_like(patch, dtype=bool)
        core[isolation - 4:isolation + 5, isolation - 4:isolation + 5] = True
        if (patch[~core] > 0.1 * img[y, x]).any():
            continue
        found.append((x, y))
    return found

rng = np.random.default_rng(20261201)
if kind == "stars":
    pts = stars(threshold=8.0, isolation=16, border=40)
    # the catalog position is the star's flux-weighted centroid in the r frame (radius 4 px,
    # background the median of an annulus), as the alignment check measures it in the stamps
    def centroid(x, y):
        yy, xx = np.mgrid[y - 15:y + 16, x - 15:x + 16]
        patch = img[y - 15:y + 16, x - 15:x + 16]
        r = np.hypot(xx - x, yy - y)
        bg = np.median(patch[r > 12])
        v = np.clip(np.where(r <= 4, patch - bg, 0), 0, None)
        return (v * xx).sum() / v.sum(), (v * yy).sum() / v.sum()
    pts = [centroid(x, y) for x, y in pts]
else:
    pts = stars(threshold=5.0, isolation=10, border=12)[:15]
    pts += [(rng.uniform(0, wd - 1), rng.uniform(0, h - 1)) for _ in range(15)]
    for d in (0.3, 3.7, 9.2):
        pts += [(d, rng.uniform(100, h - 100)), (wd - 1 - d, rng.uniform(100, h - 100)),
                (rng.uniform(100, wd - 100), d), (rng.uniform(100, wd - 100), h - 1 - d)]
x = np.array([p[0] for p in pts]); y = np.array([p[1] for p in pts])
ra, dec = w.all_pix2world(x, y, 0)
with open(out, "w") as f:
    f.write("objID,ra,dec,kind\n")
    for i, (a, d) in enumerate(zip(ra, dec)):
        f.write(f"{1237648720693755000 + i},{a:.12f},{d:.12f},{'edge' if i >= len(pts) - 12 and kind != 'stars' else 'inner'}\n")
print(len(pts))
