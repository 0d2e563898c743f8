"""bench/spectra: AstroPile spectra and pair against the Multimodal Universe recipes.

1. spectra: N spec files (the four real fixtures replicated with their own SPECOBJIDs and
   positions, byte-patched copies) converted to an MMU HDF5 data set by `astropile spectra`
   and by the MMU recipe (astropy fits.open + numpy + h5py, per-file padding, a Pool of
   --jobs processes as MMU's build script uses).
2. pair: two synthetic MMU-layout data sets of --pair-objects objects each (left 8x8 images,
   right 64-pixel spectra, 70% of left objects with a right object within 0.8 arcsec, files
   by order-4 HEALPix) paired by `astropile pair` and by MMU's cross_match_datasets algorithm
   (match_to_catalog_sky, pairs in different HEALPix pixels dropped, files found by
   'healpix=N' substring), once with the joined examples written with h5py (a lower bound) and
   once to the end as the function goes (examples one object at a time into
   datasets.Dataset.from_generator). Pairs lost are counted against
   astropy's match_to_catalog_sky within the radius.

usage: python bench/spectra/bench.py --astropile .build/release/astropile [--spectra 10000]
       [--pair-objects 1000000] [--jobs 2] [--work DIR] [--skip-spectra] [--skip-pair]
Every command runs under /usr/bin/time -v (wall time and peak RSS).
"""
import argparse, glob, os, shutil, subprocess, sys, time
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import timed  # noqa: E402
FIXTURE = os.path.join(ROOT, "fixtures", "sdss-spectra")


def make_spectra(work, n):
    """n byte-patched copies of the fixtures: SPECOBJID, PLUG_RA, PLUG_DEC rewritten in place."""
    from astropy.io import fits
    out = os.path.join(work, "spec")
    stamp = os.path.join(work, "spec.done")
    if os.path.exists(stamp) and open(stamp).read() == f"plates {n}":
        return out
    shutil.rmtree(out, ignore_errors=True)
    sources = []
    for path in sorted(glob.glob(FIXTURE + "/spec-*.fits")):
        with fits.open(path) as h:
            hdu = h[2]
            start = hdu.fileinfo()["datLoc"]
            dt = hdu.data.dtype
            cols = {c.name: c for c in hdu.columns}
            info = {k: (start + dt.fields[k][1], cols[k].format) for k in ("SPECOBJID", "PLUG_RA", "PLUG_DEC")}
            bzero = cols["SPECOBJID"].bzero or 0
        sources.append((bytearray(open(path, "rb").read()), info, bzero))
    # Positions as SDSS plates lay them out: 1,000 fibres within 1.49 deg of each plate centre.
    rng = np.random.default_rng(5)
    plates = (n + 999) // 1000
    cra, cdec = rng.uniform(0, 360, plates), np.degrees(np.arcsin(rng.uniform(-0.9, 0.9, plates)))
    r, t = 1.49 * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0, 2 * np.pi, n)
    plate_of = np.arange(n) // 1000
    dec = np.clip(cdec[plate_of] + r * np.sin(t), -90, 90)
    ra = np.mod(cra[plate_of] + r * np.cos(t) / np.cos(np.radians(dec)), 360)
    for k in range(n):
        data, info, bzero = sources[k % len(sources)]
        b = bytearray(data)
        o, fmt = info["SPECOBJID"]
        if fmt.endswith("A"):
            width = int(fmt[:-1])
            b[o:o + width] = str(10**17 + k).rjust(width).encode()
        else:
            raw = (7 * 10**18 + k) - int(bzero)
            b[o:o + 8] = int(raw).to_bytes(8, "big", signed=True)
        b[info["PLUG_RA"][0]:info["PLUG_RA"][0] + 8] = np.array(ra[k], ">f8").tobytes()
        b[info["PLUG_DEC"][0]:info["PLUG_DEC"][0] + 8] = np.array(dec[k], ">f8").tobytes()
        plate, fiber = 9000 + k // 1000, k % 1000 + 1
        d = os.path.join(out, str(plate))
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, f"spec-{plate}-55555-{fiber:04d}.fits"), "wb").write(b)
    open(stamp, "w").write(f"plates {n}")
    return out


def make_pairs(work, n):
    """Two MMU-layout data sets of n objects each (order-4 files)."""
    import h5py, healpy as hp
    left, right = os.path.join(work, "left"), os.path.join(work, "right")
    stamp = os.path.join(work, "pairs.done")
    if os.path.exists(stamp) and open(stamp).read() == str(n):
        return left, right
    for d in (left, right):
        shutil.rmtree(d, ignore_errors=True)
    rng = np.random.default_rng(9)
    lra, ldec = rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    paired = rng.uniform(size=n) < 0.7
    r = rng.uniform(0, 0.8, n) / 3600
    t = rng.uniform(0, 2 * np.pi, n)
    rra = np.where(paired, np.mod(lra + r * np.cos(t) / np.cos(np.radians(ldec)), 360), rng.uniform(0, 360, n))
    rdec = np.where(paired, np.clip(ldec + r * np.sin(t), -90, 90), np.degrees(np.arcsin(rng.uniform(-1, 1, n))))
    for root, ra, dec, first, kind in ((left, lra, ldec, 1, "image"), (right, rra, rdec, 10**8, "spectrum")):
        ids = np.arange(first, first + n, dtype=np.int64)
        pix = hp.ang2pix(16, ra, dec, lonlat=True, nest=True)
        order = np.argsort(pix, kind="stable")
        bounds = np.searchsorted(pix[order], np.arange(12 * 256 + 1))
        for p in range(12 * 256):
            sel = order[bounds[p]:bounds[p + 1]]
            if len(sel) == 0:
                continue
            d = os.path.join(root, f"healpix={p}")
            os.makedirs(d, exist_ok=True)
            with h5py.File(os.path.join(d, "001-of-001.hdf5"), "w") as f:
                f["object_id"], f["ra"], f["dec"] = ids[sel], ra[sel], dec[sel]
                f["healpix"] = np.full(len(sel), p, dtype=np.int64)
                if kind == "image":
                    f["image_array"] = np.repeat(ids[sel].astype(np.float32)[:, None, None, None], 64, axis=3).reshape(-1, 1, 8, 8)
                else:
                    f["spectrum_flux"] = np.repeat(ids[sel].astype(np.float32)[:, None], 64, axis=1)
    open(stamp, "w").write(str(n))
    return left, right


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--astropile", required=True)
    ap.add_argument("--spectra", type=int, default=10000)
    ap.add_argument("--pair-objects", type=int, default=1000000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", default=os.path.join(ROOT, ".bench-spectra"))
    ap.add_argument("--skip-spectra", action="store_true")
    ap.add_argument("--skip-pair", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    py = os.path.join(ROOT, ".venv", "bin", "python")
    recipe = os.path.join(HERE, "mmu_recipes.py")
    if not a.skip_spectra:
        files = make_spectra(a.work, a.spectra)
        for d in ("ap_spectra", "mmu_spectra"):
            shutil.rmtree(os.path.join(a.work, d), ignore_errors=True)
            shutil.rmtree(os.path.join(a.work, d + ".astropile-work"), ignore_errors=True)
        subprocess.run(["sh", "-c", f"cat {files}/*/*.fits > /dev/null"])  # same page cache for both
        t1, m1, _ = timed([a.astropile, "spectra", "--files", files, "--output", os.path.join(a.work, "ap_spectra"),
                           "--jobs", str(a.jobs), "--quiet"])
        t2, m2, _ = timed([py, recipe, "spectra", files, os.path.join(a.work, "mmu_spectra"), str(a.jobs)])
        print(f"spectra, {a.spectra} files, {a.jobs} jobs:")
        print(f"  astropile spectra  {t1:8.1f} s  {a.spectra / t1:8.0f} spectra/s  {m1:7.0f} MiB")
        print(f"  MMU recipe         {t2:8.1f} s  {a.spectra / t2:8.0f} spectra/s  {m2:7.0f} MiB (parent process)")
        print(f"  ratio              {t2 / t1:8.1f}x")
    if not a.skip_pair:
        left, right = make_pairs(a.work, a.pair_objects)
        for d in ("ap_pairs", "mmu_pairs"):
            shutil.rmtree(os.path.join(a.work, d), ignore_errors=True)
            shutil.rmtree(os.path.join(a.work, d + ".astropile-work"), ignore_errors=True)
        t1, m1, _ = timed([a.astropile, "pair", left, right, "--radius", "1arcsec", "--output", os.path.join(a.work, "ap_pairs"),
                           "--jobs", str(a.jobs), "--quiet"])
        t2, m2, out = timed([py, recipe, "pair", left, right, os.path.join(a.work, "mmu_pairs")])
        truth, mmu = (int(x) for x in out.split()[-2:])
        shutil.rmtree(os.path.join(a.work, "mmu_hf_cache"), ignore_errors=True)
        t3, m3, out3 = timed([py, recipe, "pair-datasets", left, right, os.path.join(a.work, "mmu_hf_cache")])
        _, mmu3 = (int(x) for x in out3.split()[-2:])
        import json
        report = json.load(open(os.path.join(a.work, "ap_pairs", "astropile_report.json")))
        ours = report["details"]["pairs"]
        print(f"pair, {a.pair_objects} x {a.pair_objects} objects, 1 arcsec, nearest:")
        print(f"  astropile pair     {t1:8.1f} s  {m1:7.0f} MiB  {ours} pairs, {truth - ours} lost")
        print(f"  MMU algorithm, h5py output           {t2:8.1f} s  {m2:7.0f} MiB  {mmu} pairs, {truth - mmu} lost of astropy's {truth}")
        print(f"  MMU cross_match_datasets (datasets)  {t3:8.1f} s  {m3:7.0f} MiB  {mmu3} pairs, {truth - mmu3} lost")
        print(f"  ratio              {t2 / t1:8.1f}x (h5py output), {t3 / t1:.1f}x (as cross_match_datasets)")


if __name__ == "__main__":
    main()
