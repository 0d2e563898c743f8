"""Measures band registration of a stamps data set: flux-weighted centroids of each band around
the stamp centre, relative to the reference band's, median over objects.

usage: stamps_check_aligned.py DATASET BANDS... ; prints JSON {band: median |offset| from r, "r_center": ...}
"""
import sys, glob, json
import numpy as np, h5py

root, bands = sys.argv[1], sys.argv[2:]
def centroid(a, radius=4.0):
    n = a.shape[0]
    c = (n - 1) / 2
    yy, xx = np.mgrid[0:n, 0:n]
    bg = np.nanmedian(a[(np.hypot(xx - c, yy - c) > n / 2 - 3)])
    sel = np.hypot(xx - c, yy - c) <= radius
    v = np.where(sel, np.nan_to_num(a - bg), 0)
    v = np.clip(v, 0, None)
    s = v.sum()
    return (float((v * xx).sum() / s), float((v * yy).sum() / s)) if s > 0 else (np.nan, np.nan)

dist = {b: [] for b in bands}
center = []
for path in sorted(glob.glob(root + "/healpix=*/*.hdf5")):
    f = h5py.File(path, "r")
    names = [x.decode() for x in f["image_band"][0]]
    arr = f["image_array"][:]
    off = f["image_offset"][:]
    for k in range(arr.shape[0]):
        r = names.index("r")
        cr = centroid(arr[k, r])
        # with --align none, the object sits at centre + offset in each band: compare positions
        # of the star relative to where the catalog position falls.
        crx, cry = cr[0] - off[k, r, 0], cr[1] - off[k, r, 1]
        n = arr.shape[-1]
        center.append(np.hypot(cr[0] - (n - 1) / 2, cr[1] - (n - 1) / 2))
        for b in bands:
            cb = centroid(arr[k, names.index(b)])
            dist[b].append(float(np.hypot(cb[0] - cr[0], cb[1] - cr[1])))
out = {b: float(np.nanmedian(v)) for b, v in dist.items()}
out["r_center"] = float(np.nanmedian(center))
out["objects"] = len(center)
print(json.dumps(out))
