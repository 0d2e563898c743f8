"""Writes synthetic SDSS-like frames (all five bands of run 100, camcol 1, field 10) whose TAN
WCSs differ by known sub-pixel offsets and rotations, with round Gaussian sources at known sky
positions, plus a catalog of those positions.

usage: stamps_synthetic.py OUT_DIR CATALOG.csv [FIELDS [SPACING_DEG]]
FIELDS fields (default 1) are laid side by side along RA, SPACING_DEG apart (default 0.06: no
overlap; frames are 0.044 deg wide), as fields 10, 11, ...
"""
import sys
import numpy as np
from astropy.io import fits

out, catalog = sys.argv[1], sys.argv[2]
fields = int(sys.argv[3]) if len(sys.argv) > 3 else 1
spacing = float(sys.argv[4]) if len(sys.argv) > 4 else 0.06
W, H = 400, 300
ra0, dec0, scale = 150.0, 2.0, 0.396 / 3600
shifts = {"u": (3.37, -2.81), "g": (1.13, 0.49), "r": (0.0, 0.0), "i": (-2.62, 1.71), "z": (-5.29, 4.43)}
angles = {"u": 0.9, "g": -0.4, "r": 0.0, "i": 0.6, "z": -1.3}   # degrees
rng = np.random.default_rng(7)
# sources on a grid in r's pixel frame, away from the edges, with sub-pixel offsets
src = [(x + rng.uniform(0, 1), y + rng.uniform(0, 1)) for x in range(40, W - 40, 48) for y in range(40, H - 40, 48)]
from astropy.wcs import WCS

def header(band, field=0):
    dx, dy = shifts[band]
    t = np.radians(angles[band])
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CUNIT1"], h["CUNIT2"] = "deg", "deg"
    h["CRPIX1"], h["CRPIX2"] = W / 2 + 0.5 + dx, H / 2 + 0.5 + dy
    h["CRVAL1"], h["CRVAL2"] = ra0 + spacing * field, dec0
    h["CD1_1"], h["CD1_2"] = -scale * np.cos(t), scale * np.sin(t)
    h["CD2_1"], h["CD2_2"] = scale * np.sin(t), scale * np.cos(t)
    h["RADESYS"] = "ICRS"
    h["BUNIT"] = "nanomaggy"
    h["FILTER"] = band
    return h

sigma = 1.6
all_ra, all_dec = [], []
for field in range(fields):
  wr = WCS(header("r", field))
  ra, dec = wr.all_pix2world([s[0] for s in src], [s[1] for s in src], 0)
  all_ra += list(ra); all_dec += list(dec)
  for band in "ugriz":
    h = header(band, field)
    w = WCS(h)
    x, y = w.all_world2pix(ra, dec, 0)
    yy, xx = np.mgrid[0:H, 0:W]
    img = np.zeros((H, W))
    for sx, sy in zip(x, y):
        img += 50 * np.exp(-((xx - sx) ** 2 + (yy - sy) ** 2) / (2 * sigma ** 2))
    sky = np.zeros((1,), dtype=[("ALLSKY", ">f4", (H // 8, W // 8)), ("XINTERP", ">f4", (W,)), ("YINTERP", ">f4", (H,))])
    sky["ALLSKY"][0] = 100.0
    sky["XINTERP"][0] = (np.arange(W) + 0.5) / 8 - 0.5
    sky["YINTERP"][0] = (np.arange(H) + 0.5) / 8 - 0.5
    hdus = fits.HDUList([fits.PrimaryHDU(img.astype(np.float32), header=h),
                         fits.ImageHDU(np.full(W, 0.005, np.float32)),
                         fits.BinTableHDU(sky)])
    hdus.writeto(f"{out}/frame-{band}-000100-1-{10 + field:04d}.fits", overwrite=True)
with open(catalog, "w") as f:
    f.write("objID,ra,dec\n")
    for i, (a, d) in enumerate(zip(all_ra, all_dec)):
        f.write(f"{i + 1},{a:.12f},{d:.12f}\n")
print(len(all_ra))
