"""Checks an `astropile spectra` data set against astropy's reading of the spec files.

usage: spectra_check.py DATASET SPEC_FILE...
Prints "ok N L" (spectra checked, padded length) or raises.
"""
import glob
import os
import sys

import h5py
import numpy as np
import pyarrow.parquet as pq
from astropy.io import fits

root, files = sys.argv[1], sys.argv[2:]
index = pq.read_table(os.path.join(root, "object_index.parquet")).to_pydict()
where = {int(i): (f, r) for i, f, r in zip(index["object_id"], index["file"], index["row"])}
lengths = set()
for path in files:
    with fits.open(path) as h:
        coadd, obj = h[1].data, h[2].data
        sid = obj["SPECOBJID"][0]
        sid = int(sid.strip()) if isinstance(sid, str) else int(sid)
        f, r = where[sid]
        with h5py.File(os.path.join(root, f), "r") as d:
            L = d["spectrum_flux"].shape[1]
            lengths.add(L)
            n = len(coadd)
            assert int(d["spectrum_true_length"][r]) == n, (path, d["spectrum_true_length"][r], n)
            flux, ivar = d["spectrum_flux"][r], d["spectrum_ivar"][r]
            lam, mask, lsf = d["spectrum_lambda"][r], d["spectrum_mask"][r], d["spectrum_lsf_sigma"][r]
            assert np.array_equal(flux[:n], coadd["flux"]), path
            assert np.array_equal(ivar[:n], coadd["ivar"]), path
            want_lam = 10.0 ** coadd["loglam"].astype(np.float64)
            assert np.allclose(lam[:n], want_lam, rtol=1e-6, atol=0), (path, np.max(np.abs(lam[:n] / want_lam - 1)))
            want_mask = (coadd["and_mask"] != 0) | (coadd["ivar"] <= 0)
            assert np.array_equal(mask[:n], want_mask), path
            step = (coadd["loglam"][-1] - coadd["loglam"][0]) / (n - 1)
            want_lsf = coadd["wdisp"] * np.log(10) * step * want_lam
            assert np.allclose(lsf[:n], want_lsf, rtol=1e-5), path
            # padding: flux and lsf repeat the last value, ivar 0, mask true, lambda NaN
            assert np.all(flux[n:] == coadd["flux"][-1]) and np.all(ivar[n:] == 0), path
            assert np.all(mask[n:]) and np.all(np.isnan(lam[n:])), path
            assert np.allclose(lsf[n:], want_lsf[-1], rtol=1e-5), path
            assert d["z"][r] == obj["Z"][0] and d["z_err"][r] == obj["Z_ERR"][0], path
            assert d["CLASS"][r].decode() == obj["CLASS"][0].strip(), path
            assert d["ra"][r] == obj["PLUG_RA"][0] and d["dec"][r] == obj["PLUG_DEC"][0], path
            assert d["spectrum_flux"].attrs["units"] == b"1e-17 erg/s/cm^2/Angstrom"
assert len(lengths) == 1, f"every file has one padded length, got {lengths}"

# Hugging Face datasets' HDF5 loader reads every file of the data set as one table.
import datasets

parts = sorted(glob.glob(os.path.join(root, "healpix=*", "*.hdf5")))
ds = datasets.load_dataset("hdf5", data_files=parts, split="train")
assert len(ds) == len(where), (len(ds), len(where))
row = ds[0]
assert len(row["spectrum_flux"]) == next(iter(lengths))
print("ok", len(files), next(iter(lengths)))

# lsdb opens the HATS variant (--format both): every spectrum, full length.
if os.path.exists(os.path.join(root, "hats.properties")):
    import lsdb

    cat = lsdb.open_catalog(root).compute()
    assert sorted(map(int, cat["object_id"])) == sorted(where), "HATS rows"
    assert all(len(v) == next(iter(lengths)) for v in cat["spectrum_flux"])
    print("hats", len(cat))
