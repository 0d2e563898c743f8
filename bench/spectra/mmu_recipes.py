"""The Multimodal Universe recipes the spectra benchmark compares with (reimplemented here).

usage: mmu_recipes.py spectra FILES_DIR OUT JOBS
       mmu_recipes.py pair LEFT RIGHT OUT     (prints "TRUTH MMU": astropy's pairs, MMU's pairs)
       mmu_recipes.py pair-datasets LEFT RIGHT CACHE_DIR   (the same, output as cross_match_datasets makes it)

spectra: MMU's SDSS build script converts spPlate files; this applies the same steps to spec
files — astropy fits.open, flux/ivar/and_mask/wdisp from the coadd, loglam to lambda, the mask
and_mask | ivar <= 1e-6, one HDF5 file per HEALPix pixel (order 4) written with h5py, spectra
padded per file as MMU pads them — in a Pool of JOBS processes.
pair: MMU's cross_match_datasets — both catalogs read with h5py, match_to_catalog_sky, pairs
farther than the radius and pairs in different HEALPix pixels dropped, each pixel's files found
by a 'healpix=N' substring, the matched rows' columns merged (right overwriting left on a name
clash, as example_left.update(example_right) does) and written with h5py.
pair-datasets: the same algorithm to the end MMU's function goes: each pixel's examples
generated one object at a time from the two files (as the MMU builders' _generate_examples
yield them) and turned into a Hugging Face dataset with Dataset.from_generator in CACHE_DIR.
"""
import glob, os, sys
from multiprocessing import Pool

import h5py
import numpy as np


def read_spec(path):
    from astropy.io import fits
    with fits.open(path) as h:
        c, o = h[1].data, h[2].data
        sid = o["SPECOBJID"][0]
        sid = int(sid.strip()) if isinstance(sid, str) else int(sid)
        lam = (10 ** c["loglam"]).astype(np.float32)
        return dict(object_id=sid, ra=float(o["PLUG_RA"][0]), dec=float(o["PLUG_DEC"][0]), z=float(o["Z"][0]),
                    spectrum_flux=np.asarray(c["flux"], np.float32), spectrum_ivar=np.asarray(c["ivar"], np.float32),
                    spectrum_lambda=lam, spectrum_mask=(c["and_mask"] != 0) | (c["ivar"] <= 1e-6),
                    spectrum_lsf_sigma=np.asarray(c["wdisp"], np.float32))


def write_pixel(args):
    import healpy  # noqa: F401  (as the MMU script imports it per process)
    out, pix, rows = args
    L = max(len(r["spectrum_flux"]) for r in rows)
    def pad(k, mode, value=0):
        return np.stack([np.pad(r[k], (0, L - len(r[k])), mode=mode, **({} if mode == "edge" else {"constant_values": value}))
                         for r in rows])
    d = os.path.join(out, f"healpix={pix}")
    os.makedirs(d, exist_ok=True)
    with h5py.File(os.path.join(d, "001-of-001.hdf5"), "w") as f:
        for k in ("object_id", "ra", "dec", "z"):
            f[k] = np.array([r[k] for r in rows])
        f["healpix"] = np.full(len(rows), pix)
        f["spectrum_flux"] = pad("spectrum_flux", "edge")
        f["spectrum_ivar"] = pad("spectrum_ivar", "constant")
        f["spectrum_lambda"] = pad("spectrum_lambda", "constant", -1)
        f["spectrum_lsf_sigma"] = pad("spectrum_lsf_sigma", "edge")
        f["spectrum_mask"] = pad("spectrum_mask", "constant", True)
    return len(rows)


def spectra(files, out, jobs):
    import healpy as hp
    paths = sorted(glob.glob(os.path.join(files, "*", "spec-*.fits")))
    with Pool(jobs) as pool:
        rows = pool.map(read_spec, paths, chunksize=64)
        pix = hp.ang2pix(16, [r["ra"] for r in rows], [r["dec"] for r in rows], lonlat=True, nest=True)
        groups = {}
        for r, p in zip(rows, pix):
            groups.setdefault(int(p), []).append(r)
        n = sum(pool.map(write_pixel, [(out, p, g) for p, g in sorted(groups.items())]))
    assert n == len(paths)


def catalog(root):
    parts = {k: [] for k in ("object_id", "ra", "dec", "healpix")}
    files = sorted(glob.glob(os.path.join(root, "healpix=*", "*.hdf5")))
    for path in files:
        with h5py.File(path, "r") as f:
            for k in parts:
                parts[k].append(f[k][()])
    return {k: np.concatenate(v) for k, v in parts.items()}, files


def pair(left, right, out):
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    L, lfiles = catalog(left)
    R, rfiles = catalog(right)
    idx, sep, _ = SkyCoord(L["ra"], L["dec"], unit="deg").match_to_catalog_sky(SkyCoord(R["ra"], R["dec"], unit="deg"))
    keep = sep < 1 * u.arcsec
    truth = int(keep.sum())
    same = keep & (L["healpix"] == R["healpix"][idx])
    li, ri = np.where(same)[0], idx[same]
    hp = L["healpix"][li]
    written = 0
    for p in np.unique(hp):
        sel = hp == p
        lf = lfiles[[i for i in range(len(lfiles)) if f"healpix={p}" in lfiles[i]][0]]
        rf = rfiles[[i for i in range(len(rfiles)) if f"healpix={p}" in rfiles[i]][0]]
        with h5py.File(lf, "r") as a, h5py.File(rf, "r") as b:
            lpos = {int(v): k for k, v in enumerate(a["object_id"][()])}
            rpos = {int(v): k for k, v in enumerate(b["object_id"][()])}
            lrows = [lpos[int(v)] for v in L["object_id"][li[sel]]]
            rrows = [rpos[int(v)] for v in R["object_id"][ri[sel]]]
            example = {k: a[k][()][lrows] for k in a.keys()}
            example.update({k: b[k][()][rrows] for k in b.keys()})
            d = os.path.join(out, f"healpix={p}")
            os.makedirs(d, exist_ok=True)
            with h5py.File(os.path.join(d, "001-of-001.hdf5"), "w") as f:
                for k, v in example.items():
                    f[k] = v
            written += len(lrows)
    print(truth, written)


def match(left, right):
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    L, lfiles = catalog(left)
    R, rfiles = catalog(right)
    idx, sep, _ = SkyCoord(L["ra"], L["dec"], unit="deg").match_to_catalog_sky(SkyCoord(R["ra"], R["dec"], unit="deg"))
    keep = sep < 1 * u.arcsec
    same = keep & (L["healpix"] == R["healpix"][idx])
    return L, R, lfiles, rfiles, int(keep.sum()), np.where(same)[0], idx[same]


def pair_datasets(left, right, cache):
    from datasets import Dataset
    L, R, lfiles, rfiles, truth, li, ri = match(left, right)
    hp = L["healpix"][li]
    groups = [(int(p), L["object_id"][li[hp == p]], R["object_id"][ri[hp == p]]) for p in np.unique(hp)]

    def examples(path, ids):
        # One object at a time, as MMU's builders yield them.
        with h5py.File(path, "r") as f:
            pos = {int(v): k for k, v in enumerate(f["object_id"][()])}
            keys = list(f.keys())
            for i in ids:
                k = pos[int(i)]
                yield str(i), {key: f[key][k] for key in keys}

    def generate(groups):
        for p, lids, rids in groups:
            lf = lfiles[[i for i in range(len(lfiles)) if f"healpix={p}" in lfiles[i]][0]]
            rf = rfiles[[i for i in range(len(rfiles)) if f"healpix={p}" in rfiles[i]][0]]
            for (a, ex), (b, ey) in zip(examples(lf, lids), examples(rf, rids)):
                ex.update(ey)
                yield ex

    ds = Dataset.from_generator(generate, gen_kwargs={"groups": groups}, cache_dir=cache)
    print(truth, len(ds))


if __name__ == "__main__":
    if sys.argv[1] == "spectra":
        spectra(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "pair-datasets":
        pair_datasets(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        pair(sys.argv[2], sys.argv[3], sys.argv[4])
