"""Checks an `--align none` stamps data set against astropy.wcs and the SDSS frame data model.

usage: stamps_check_none.py DATASET CATALOG.csv FRAMES_DIR SIZE
Every stamp pixel must equal the frame pixel astropy.wcs puts there (x0 = floor(x - (N-1)/2 + 0.5)),
ivar the data model's formula (computed here with numpy), and pixels outside the frame NaN / 0 / masked.
"""
import sys, glob, warnings
import numpy as np, h5py
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

warnings.simplefilter("ignore", FITSFixedWarning)
root, catalog, frames, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cat = {}
for line in open(catalog).read().splitlines()[1:]:
    p = line.split(",")
    cat[int(p[0])] = (float(p[1]), float(p[2]))

pf = fits.open(f"{frames}/photoField-002583-2.fits")[1].data
row = list(pf["FIELD"]).index(136)
bands = "ugriz"
models = {}
for b, band in enumerate(bands):
    h = fits.open(f"{frames}/frame-{band}-002583-2-0136.fits.bz2")
    img = h[0].data
    calib = h[1].data
    sky = h[2].data
    allsky = sky["ALLSKY"][0].astype(np.float64)       # (ny, nx)
    ny, nx = allsky.shape
    def split(v, m):
        v = np.clip(v.astype(np.float64), 0, m - 1)
        i = np.minimum(np.floor(v).astype(int), m - 2)
        return i, v - i
    ix, tx = split(sky["XINTERP"][0], nx)
    iy, ty = split(sky["YINTERP"][0], ny)
    a = allsky[np.ix_(iy, ix)]; bb = allsky[np.ix_(iy, ix + 1)]
    c = allsky[np.ix_(iy + 1, ix)]; d = allsky[np.ix_(iy + 1, ix + 1)]
    simg = (a * (1 - tx) + bb * tx) * (1 - ty)[:, None] + (c * (1 - tx) + d * tx) * ty[:, None]
    cimg = np.broadcast_to(calib.astype(np.float64), img.shape)
    gain, dark = float(pf["GAIN"][row][b]), float(pf["DARK_VARIANCE"][row][b])
    dn = img / cimg + simg
    var = (dn / gain + dark) * cimg ** 2
    ivar = np.where(var > 0, 1 / np.where(var > 0, var, 1), 0)
    models[band] = (img, ivar, WCS(h[0].header))

checked = edge_pixels = 0
for path in sorted(glob.glob(root + "/healpix=*/*.hdf5")):
    f = h5py.File(path, "r")
    ids = f["object_id"][:]
    assert list(f["image_band"][0]) == [b.encode() for b in bands], f["image_band"][0]
    for k, oid in enumerate(ids):
        ra, dec = cat[int(oid)]
        arr, iv, mk, off = f["image_array"][k], f["image_ivar"][k], f["image_mask"][k], f["image_offset"][k]
        for b, band in enumerate(bands):
            img, ivar, w = models[band]
            x, y = w.all_world2pix(ra, dec, 0)
            x0 = int(np.floor(x - (n - 1) / 2 + 0.5)); y0 = int(np.floor(y - (n - 1) / 2 + 0.5))
            exp = np.full((n, n), np.nan, np.float32); exp_iv = np.zeros((n, n), np.float64)
            inside = np.zeros((n, n), bool)
            ys, xs = np.arange(y0, y0 + n), np.arange(x0, x0 + n)
            oky, okx = (ys >= 0) & (ys < img.shape[0]), (xs >= 0) & (xs < img.shape[1])
            sub = np.ix_(np.nonzero(oky)[0], np.nonzero(okx)[0])
            src = np.ix_(ys[oky], xs[okx])
            exp[sub] = img[src]; exp_iv[sub] = ivar[src]; inside[sub] = True
            assert np.array_equal(arr[b], exp, equal_nan=True), (int(oid), band, "flux differs", x0, y0)
            assert np.allclose(iv[b], exp_iv, rtol=2e-5, atol=0), (int(oid), band, "ivar differs", np.nanmax(np.abs(iv[b] - exp_iv) / np.maximum(exp_iv, 1e-30)))
            assert np.array_equal(mk[b], inside & (exp_iv > 0)), (int(oid), band, "mask differs")
            assert np.all(np.isnan(arr[b][~inside])) and np.all(iv[b][~inside] == 0) and not mk[b][~inside].any()
            assert abs(off[b][0] - (x - x0 - (n - 1) / 2)) < 1e-4 and abs(off[b][1] - (y - y0 - (n - 1) / 2)) < 1e-4, (off[b], x, y)
            edge_pixels += int((~inside).sum())
        checked += 1
print(checked, edge_pixels)
