"""bench/stamps: 64x64x5 stamps for many objects over many fields, AstroPile against the
Multimodal Universe recipe (astropy Cutout2D + h5py, one process) and, for aligned stamps,
against astropy + reproject; plus the floor, bzip2 decompression of the same frames alone.

usage: python bench/stamps/bench.py --astropile .build/release/astropile [--objects 10000] [--fields 20]
       [--jobs 2] [--reproject-fields 2] [--work DIR]
Every command runs under /usr/bin/time -v (wall time and peak RSS).
"""
import argparse, glob, json, os, shutil, subprocess, sys, time, warnings
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import timed  # noqa: E402
FIXTURE = os.path.join(ROOT, "fixtures", "sdss-2583")


def make_inputs(work, fields, objects):
    """The fixture field under `fields` run numbers (hard links), with photoFields, and a catalog."""
    from astropy.io import fits
    from astropy.wcs import WCS, FITSFixedWarning
    warnings.simplefilter("ignore", FITSFixedWarning)
    frames = os.path.join(work, "frames")
    if os.path.isdir(frames) and len(glob.glob(frames + "/frame-*")) == 5 * fields:
        pass
    else:
        shutil.rmtree(frames, ignore_errors=True)
        os.makedirs(frames)
        for k in range(fields):
            run = 9001 + k
            for b in "ugriz":
                src = f"{FIXTURE}/frame-{b}-002583-2-0136.fits.bz2"
                dst = f"{frames}/frame-{b}-{run:06d}-2-0136.fits.bz2"
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy(src, dst)
            shutil.copy(f"{FIXTURE}/photoField-002583-2.fits", f"{frames}/photoField-{run:06d}-2.fits")
    w = WCS(fits.open(f"{FIXTURE}/frame-r-002583-2-0136.fits.bz2")[0].header)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(40, 2008, objects), rng.uniform(40, 1449, objects)
    ra, dec = w.all_pix2world(x, y, 0)
    catalog = os.path.join(work, "catalog.csv")
    with open(catalog, "w") as f:
        f.write("objID,ra,dec,run,rerun,camcol,field\n")
        for i in range(objects):
            f.write(f"{i + 1},{ra[i]:.10f},{dec[i]:.10f},{9001 + i % fields},301,2,136\n")
    return frames, catalog


def mmu_recipe(catalog, frames, out, limit=None, aligned=False):
    """The Multimodal Universe recipe, one process: per field, astropy opens the five frames, the
    data model's ivar is computed with numpy, and each object is cut with Cutout2D (or, aligned,
    resampled with reproject onto a TAN grid centred on it); h5py writes gzip+shuffle chunks."""
    import h5py
    from astropy.io import fits
    from astropy.wcs import WCS, FITSFixedWarning
    from astropy.nddata import Cutout2D
    warnings.simplefilter("ignore", FITSFixedWarning)
    rows = [l.split(",") for l in open(catalog).read().splitlines()[1:]]
    by_field = {}
    for r in rows:
        by_field.setdefault(int(r[3]), []).append(r)
    if limit:   # whole fields: the first `limit` of them
        by_field = dict(sorted(by_field.items())[:limit])
    n, size = 0, 64
    flux_all, ivar_all, ids = [], [], []
    for run, objs in sorted(by_field.items()):
        pf = fits.open(f"{frames}/photoField-{run:06d}-2.fits")[1].data
        row = list(pf["FIELD"]).index(136)
        planes = []
        for b, band in enumerate("ugriz"):
            h = fits.open(f"{frames}/frame-{band}-{run:06d}-2-0136.fits.bz2")
            img = h[0].data
            sky = h[2].data
            allsky = sky["ALLSKY"][0]
            ny, nx = allsky.shape
            xi = np.clip(sky["XINTERP"][0], 0, nx - 1); yi = np.clip(sky["YINTERP"][0], 0, ny - 1)
            i0 = np.minimum(xi.astype(int), nx - 2); j0 = np.minimum(yi.astype(int), ny - 2)
            tx, ty = xi - i0, yi - j0
            simg = ((allsky[np.ix_(j0, i0)] * (1 - tx) + allsky[np.ix_(j0, i0 + 1)] * tx) * (1 - ty)[:, None]
                    + (allsky[np.ix_(j0 + 1, i0)] * (1 - tx) + allsky[np.ix_(j0 + 1, i0 + 1)] * tx) * ty[:, None])
            cimg = h[1].data[None, :]
            dn = img / cimg + simg
            ivar = 1.0 / ((dn / pf["GAIN"][row][b] + pf["DARK_VARIANCE"][row][b]) * cimg ** 2)
            planes.append((img, ivar.astype(np.float32), WCS(h[0].header)))
        for r in objs:
            ra, dec = float(r[1]), float(r[2])
            f = np.empty((5, size, size), np.float32); v = np.empty((5, size, size), np.float32)
            if aligned:
                from reproject import reproject_interp
                ref = planes[2][2]
                out_wcs = WCS(naxis=2)
                out_wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
                out_wcs.wcs.crval = [ra, dec]
                out_wcs.wcs.crpix = [(size + 1) / 2, (size + 1) / 2]
                out_wcs.wcs.cd = ref.pixel_scale_matrix
            for b, (img, ivar, w) in enumerate(planes):
                if aligned:
                    f[b] = reproject_interp((img, w), out_wcs, shape_out=(size, size), order="bicubic", return_footprint=False)
                    v[b] = reproject_interp((ivar, w), out_wcs, shape_out=(size, size), order="bicubic", return_footprint=False)
                else:
                    x, y = w.all_world2pix(ra, dec, 0)
                    f[b] = Cutout2D(img, (x, y), size, mode="partial", fill_value=np.nan).data
                    v[b] = Cutout2D(ivar, (x, y), size, mode="partial", fill_value=0).data
            flux_all.append(f); ivar_all.append(v); ids.append(int(r[0]))
            n += 1
    with h5py.File(out, "w") as h:
        h.create_dataset("object_id", data=np.array(ids))
        for name, a in (("image_array", flux_all), ("image_ivar", ivar_all)):
            h.create_dataset(name, data=np.stack(a), chunks=(1, 5, size, size), compression="gzip", shuffle=True)
    print(n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--astropile", required=False)
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--fields", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--reproject-fields", type=int, default=2, help="fields (all their objects) for the slow reproject recipe")
    ap.add_argument("--work", default=os.path.join(ROOT, ".bench-stamps"))
    ap.add_argument("--astropile-only", action="store_true", help="skip the (slow) Python recipes")
    ap.add_argument("--recipe", help=argparse.SUPPRESS)
    ap.add_argument("--catalog", help=argparse.SUPPRESS)
    ap.add_argument("--frames", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.recipe:
        mmu_recipe(a.catalog, a.frames, a.out, a.limit, aligned=a.recipe == "reproject")
        return
    os.makedirs(a.work, exist_ok=True)
    frames, catalog = make_inputs(a.work, a.fields, a.objects)
    results = {}
    # floor: bzip2 decompression of the same frames alone, as parallel as AstroPile
    files = sorted(glob.glob(frames + "/frame-*.fits.bz2"))
    t = time.time()
    subprocess.run(f"printf '%s\\n' {' '.join(files)} | xargs -P {a.jobs} -n 1 sh -c 'bzip2 -dc \"$0\" > /dev/null'", shell=True, check=True)
    results["floor: bzip2 -dc of the frames"] = (time.time() - t, 0, a.objects)
    for align in ("none", "lanczos3"):
        out = os.path.join(a.work, f"astropile-{align}")
        shutil.rmtree(out, ignore_errors=True); shutil.rmtree(out + ".astropile-work", ignore_errors=True)
        wall, rss, _ = timed([a.astropile, "stamps", "--catalog", catalog, "--frames", frames, "--output", out, "--size", "64",
                              "--align", align, "--jobs", str(a.jobs), "--quiet"])
        results[f"astropile stamps --align {align} (--jobs {a.jobs})"] = (wall, rss, a.objects)
    if a.astropile_only:
        for k, (wall, rss, count) in results.items():
            print(f"{k:70s} {wall:9.2f} {count / wall:10.1f} {rss:8.0f} MiB")
        return
    py = sys.executable
    wall, rss, _ = timed([py, __file__, "--recipe", "cutout", "--catalog", catalog, "--frames", frames, "--out", os.path.join(a.work, "mmu.h5")])
    results["MMU recipe: astropy Cutout2D + h5py (1 process)"] = (wall, rss, a.objects)
    wall, rss, printed = timed([py, __file__, "--recipe", "reproject", "--catalog", catalog, "--frames", frames,
                                "--out", os.path.join(a.work, "reproject.h5"), "--limit", str(a.reproject_fields)])
    n = int(printed.split()[-1])
    results[f"astropy + reproject_interp bicubic (1 process, {n} objects)"] = (wall, rss, n)
    print(f"\n{a.objects} objects of 64x64x5 over {a.fields} fields ({len(files)} frames), {a.jobs} jobs for AstroPile\n")
    print(f"{'':70s} {'seconds':>9s} {'objects/s':>10s} {'peak RSS':>10s}")
    rate = {}
    for k, (wall, rss, count) in results.items():
        rate[k] = count / wall
        print(f"{k:70s} {wall:9.2f} {count / wall:10.1f} {rss:8.0f} MiB")
    none = rate[f"astropile stamps --align none (--jobs {a.jobs})"]
    lz = rate[f"astropile stamps --align lanczos3 (--jobs {a.jobs})"]
    mmu = rate["MMU recipe: astropy Cutout2D + h5py (1 process)"]
    rep = rate[f"astropy + reproject_interp bicubic (1 process, {n} objects)"]
    floor = rate["floor: bzip2 -dc of the frames"]
    print(f"\nastropile none vs MMU recipe:           {none / mmu:6.1f}x")
    print(f"astropile lanczos3 vs astropy+reproject: {lz / rep:6.1f}x")
    print(f"astropile none vs the decompression floor: {floor / none:5.2f}x the floor's time")
    print(f"astropile lanczos3 vs the floor:           {floor / lz:5.2f}x the floor's time")


if __name__ == "__main__":
    main()
