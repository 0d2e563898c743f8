"""Writes bad spec files beside copies of good ones.

usage: spectra_bad.py OUTDIR GOOD_SPEC_FILE
Makes spec-9000-50000-0001.fits (truncated), spec-9000-50000-0002.fits (no object table HDU),
spec-9000-50000-0003.fits (coadd without ivar), spec-9000-50000-0004.fits (not FITS).
"""
import os
import sys

from astropy.io import fits

out, good = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
data = open(good, "rb").read()
open(os.path.join(out, "spec-9000-50000-0001.fits"), "wb").write(data[: len(data) // 3])
with fits.open(good) as h:
    fits.HDUList([h[0].copy(), h[1].copy()]).writeto(os.path.join(out, "spec-9000-50000-0002.fits"), overwrite=True)
    cols = [c for c in h[1].columns if c.name != "ivar"]
    coadd = fits.BinTableHDU.from_columns(fits.ColDefs(cols), name="COADD")
    fits.HDUList([h[0].copy(), coadd, h[2].copy()]).writeto(os.path.join(out, "spec-9000-50000-0003.fits"), overwrite=True)
open(os.path.join(out, "spec-9000-50000-0004.fits"), "w").write("this is not a FITS file\n" * 100)
