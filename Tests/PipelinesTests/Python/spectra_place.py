"""Copies real SDSS spec files with their fibre positions moved onto catalog objects.

usage: spectra_place.py CATALOG_CSV OUTDIR SPEC_FILE...
Spec file k gets PLUG_RA/PLUG_DEC 0.3 arcsec from catalog row 7k (columns objID, ra, dec) and is
written under OUTDIR/PLATE/ (as `astropile fetch sdss-spectra` lays files out). Prints one
"OBJID SPECOBJID" line per file.
"""
import csv
import os
import sys

import numpy as np
from astropy.io import fits

catalog, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = list(csv.DictReader(open(catalog)))
for k, path in enumerate(files):
    row = rows[(7 * k) % len(rows)]
    ra, dec = float(row["ra"]), float(row["dec"])
    with fits.open(path) as h:
        obj = h[2].data
        obj["PLUG_RA"][0] = ra + 0.3 / 3600 / np.cos(np.radians(dec))
        obj["PLUG_DEC"][0] = dec
        sid = obj["SPECOBJID"][0]
        sid = int(sid.strip()) if isinstance(sid, str) else int(sid)
        plate = os.path.basename(path).split("-")[1]
        os.makedirs(os.path.join(out, plate), exist_ok=True)
        h.writeto(os.path.join(out, plate, os.path.basename(path)), overwrite=True)
    print(row["objID"], sid)
