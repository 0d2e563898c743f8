"""The largest distance, over objects and bands, of a source's flux-weighted centroid from the
stamp's geometric centre ((N-1)/2), for aligned stamps of synthetic noiseless sources.

usage: stamps_check_centered.py DATASET ; prints JSON {band: max distance px}
"""
import sys, glob, json
import numpy as np, h5py

worst = {}
for path in sorted(glob.glob(sys.argv[1] + "/healpix=*/*.hdf5")):
    f = h5py.File(path, "r")
    names = [x.decode() for x in f["image_band"][0]]
    arr = f["image_array"][:]
    n = arr.shape[-1]
    c = (n - 1) / 2
    yy, xx = np.mgrid[0:n, 0:n]
    sel = np.hypot(xx - c, yy - c) <= 6
    for k in range(arr.shape[0]):
        for b, name in enumerate(names):
            v = np.where(sel, np.nan_to_num(arr[k, b]), 0)
            d = float(np.hypot((v * xx).sum() / v.sum() - c, (v * yy).sum() / v.sum() - c))
            worst[name] = max(worst.get(name, 0), d)
print(json.dumps(worst))
