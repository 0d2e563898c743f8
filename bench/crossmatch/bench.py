#!/usr/bin/env python3
"""Cross-match benchmark: AstroPile vs LSDB (+ hats-import margin) vs astropy, on the same catalogs.

For each size N it generates two catalogs of N rows (id int64, ra/dec float64 degrees, 4 float32
magnitudes) as Parquet files:
  left   uniform on the sphere plus 5 dense spots (one at RA≈0, one next to the pole);
  right  half its rows offset from a random left row (random direction, distance uniform in
         [0, 1.5 × radius], so about a third of them fall outside the radius), the rest uniform.
Then, nearest neighbour within --radius (default 1″), inner join:
  AstroPile  astropile import (both catalogs; reported separately, not timed as cross-match), then
             timed: astropile margin W/ap_right --radius 1arcsec   (→ W/ap_right_margin_1arcsec)
                    astropile crossmatch W/ap_left W/ap_right --radius 1arcsec --output W/ap_xmatch
             time = margin + crossmatch, peak = max of the two.
  LSDB       on AstroPile's HATS catalogs (hats-import's import when AstroPile is missing), timed:
             hats-import margin cache (margin_threshold = radius, LocalCluster of --threads workers ×
             1 thread) then lsdb.open_catalog(left).crossmatch(open_catalog(right, margin_cache=…),
             radius_arcsec, n_neighbors=1).compute(); time = margin + crossmatch.
             LSDB times are measured inside the child process: Python imports and dask cluster
             start-up (workers import their modules first) are excluded, which favours LSDB; numba's
             JIT compilation of hats' pixel alignment (~10 s per process here) is included, and the
             crossmatch's planning/compute split is printed. Process wall times are in the JSON.
  astropy    pyarrow reads ra/dec (not timed), then timed: SkyCoord building + match_to_catalog_sky
             (filtered to ≤ radius), and separately SkyCoord + search_around_sky(seplimit=radius).
             Single-threaded.
Every tool runs in its own process; peak RSS is that of the whole process tree (psutil sampled every
0.2 s as bench/import does, and the kernel's maxrss of the child from wait4, whichever is larger).
The number of matched left rows of every tool is compared (and the matched (left id, right id)
pairs where the outputs carry ids); a disagreement is printed loudly and makes the exit status 1.

Usage: bench.py [--rows 1000000 | --sizes 1000000,10000000] [--work DIR] [--astropile PATH]
                [--skip-lsdb] [--skip-astropy] [--threads N] [--max-reference-rows 10000000]
                [--radius 1] [--files 8] [--threshold 1000000] [--highest-order 10] [--json FILE]
                [--lsdb-scheduler distributed|threads] [--lsdb-catalogs auto|astropile|hats-import] [--keep]
When the astropile binary or its margin/crossmatch subcommands are missing, it prints "AstroPile: not
available" and runs the references on catalogs made by hats-import (--lsdb-catalogs astropile: by
`astropile import`). Results: WORK/results.json (rewritten after every size); logs in WORK/n<rows>/.
"""
import argparse, glob, json, os, shutil, subprocess, sys, time
import numpy as np
import psutil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DID_NOT_FIT = 75  # exit status of a child that ran out of memory (MemoryError, killed dask worker)
MAGS = ("mag_g", "mag_r", "mag_i", "mag_z")


# --------------------------------------------------------------------------------------------
# Data

def _destination(ra, dec, pa, dist_deg):
    """The point at angular distance dist_deg and position angle pa (radians) from (ra, dec)."""
    ra1, dec1, d = np.radians(ra), np.radians(dec), np.radians(dist_deg)
    sin_dec2 = np.sin(dec1) * np.cos(d) + np.cos(dec1) * np.sin(d) * np.cos(pa)
    dec2 = np.arcsin(np.clip(sin_dec2, -1, 1))
    dra = np.arctan2(np.sin(pa) * np.sin(d) * np.cos(dec1), np.cos(d) - np.sin(dec1) * sin_dec2)
    return np.degrees(ra1 + dra) % 360.0, np.degrees(dec2)


def _uniform_sphere(rng, n):
    return rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def _write(t, folder, files):
    import pyarrow.parquet as pq
    os.makedirs(folder, exist_ok=True)
    n, per, paths = t.num_rows, -(-t.num_rows // files), []
    for i in range(files):
        p = os.path.join(folder, f"part_{i:03d}.parquet")
        pq.write_table(t.slice(i * per, per), p)
        paths.append(p)
    return paths


def generate(work, rows, files, radius_arcsec, seed=20251122):
    """Writes left/*.parquet and right/*.parquet under work; returns (left files, right files)."""
    import pyarrow as pa
    rng = np.random.default_rng(seed)
    # left: 90 % uniform, 10 % in 5 Gaussian spots (σ 0.2°): RA≈0 wrap, near the pole, ...
    spots = [(150.0, 2.0), (0.05, 20.0), (270.0, 66.5), (45.0, 89.6), (200.0, -45.0)]
    k = rows // 10 // len(spots)
    ra, dec = _uniform_sphere(rng, rows - k * len(spots))
    ras, decs = [ra], [dec]
    for (cra, cdec) in spots:
        r2, d2 = _destination(np.full(k, cra), np.full(k, cdec), rng.uniform(0, 2 * np.pi, k), rng.rayleigh(0.2, k))
        ras.append(r2); decs.append(d2)
    perm = rng.permutation(rows)
    lra, ldec = np.concatenate(ras)[perm], np.concatenate(decs)[perm]
    # right: half near a random left row (distance uniform in [0, 1.5 radius]), half uniform
    half = rows // 2
    src = rng.integers(0, rows, half)
    nra, ndec = _destination(lra[src], ldec[src], rng.uniform(0, 2 * np.pi, half),
                             rng.uniform(0, 1.5 * radius_arcsec, half) / 3600.0)
    ura, udec = _uniform_sphere(rng, rows - half)
    perm = rng.permutation(rows)
    rra, rdec = np.concatenate([nra, ura])[perm], np.concatenate([ndec, udec])[perm]
    del nra, ndec, ura, udec, src, ras, decs
    out = []
    for name, (r, d) in (("left", (lra, ldec)), ("right", (rra, rdec))):
        cols = {"id": np.arange(rows, dtype=np.int64), "ra": r, "dec": d}
        for m in MAGS:
            cols[m] = rng.normal(20, 2, rows).astype(np.float32)
        out.append(_write(pa.table(cols), os.path.join(work, name), files))
    return out


# --------------------------------------------------------------------------------------------
# Measuring

def measure(cmd, log, label=None):
    """Runs cmd (stdout+stderr to the file log); returns dict(wall s, peak RSS bytes of the process
    tree, rc). The tree is sampled every 0.2 s (sparse: the monitor must not compete for the cores);
    the command's own maxrss from GNU time covers peaks between samples of single-process tools."""
    # GNU time reports the command's own peak RSS. wait4's ru_maxrss cannot be used: Linux carries
    # the high-water mark across fork and exec, so every child would report at least this Python
    # process's RSS (which holds the generated catalogs).
    timing = log + ".maxrss"
    cmd = ["/usr/bin/time", "-f", "%M", "-o", timing] + list(cmd)
    t0 = time.time()
    with open(log, "wb") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
    proc = psutil.Process(p.pid)
    peak = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid != 0:
            break
        try:
            total = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(0.2)
    wall = time.time() - t0
    rc = os.waitstatus_to_exitcode(status)
    p.returncode = rc  # reaped by wait4 above
    try:
        peak = max(peak, int(open(timing).read().split()[-1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    if rc not in (0, DID_NOT_FIT):
        tail = open(log, errors="replace").read()[-3000:]
        print(f"--- {label or ' '.join(cmd)} exited {rc}; last lines of {log}:\n{tail}\n---", file=sys.stderr)
    return {"wall": wall, "peak": peak, "rc": rc, "log": log}


def run_child(script, cfg, work, name):
    """Runs a Python child script with cfg (JSON); merges the result JSON it writes into measure()'s."""
    cfg = dict(cfg, result=os.path.join(work, f"{name}.json"))
    if os.path.exists(cfg["result"]):
        os.remove(cfg["result"])
    m = measure([sys.executable, "-c", script, json.dumps(cfg)], os.path.join(work, f"{name}.log"), label=name)
    m["process_wall"] = m["wall"]
    try:
        m.update(json.load(open(cfg["result"])))
    except (OSError, ValueError):
        pass
    if m["rc"] in (DID_NOT_FIT, -9, 137) or m.get("did_not_fit"):  # -9 or 128+9 (through GNU time): the OOM killer
        m["status"] = "did not fit"
    elif m["rc"] != 0:
        m["status"] = f"failed (exit {m['rc']})"
    else:
        m["status"] = "ok"
        if "seconds" in m:
            m["wall"] = m["seconds"]  # the timed section measured inside the child
    return m


# Child scripts. Each gets one JSON argument (with "result": the path of its result JSON) and exits
# with DID_NOT_FIT when it runs out of memory.
CHILD_PRELUDE = r"""
import sys, json, time, os
cfg = json.loads(sys.argv[1])
def done(**kw):
    json.dump(kw, open(cfg["result"], "w"), default=lambda o: o.item() if hasattr(o, "item") else str(o))
def out_of_memory(e):
    return isinstance(e, MemoryError) or type(e).__name__ in ("KilledWorker", "MemoryError")
"""

HATS_IMPORT_SCRIPT = CHILD_PRELUDE + r"""
if __name__ == "__main__":
    from dask.distributed import Client, LocalCluster
    from hats_import.catalog.arguments import ImportArguments
    from hats_import.pipeline import pipeline_with_client
    with LocalCluster(n_workers=cfg["threads"], threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        args = ImportArguments(output_artifact_name=cfg["name"], input_file_list=cfg["files"], file_reader="parquet",
            ra_column="ra", dec_column="dec", output_path=cfg["output_path"], pixel_threshold=cfg["threshold"],
            highest_healpix_order=cfg["highest_order"], progress_bar=False, resume=False)
        pipeline_with_client(args, client)
        done(seconds=time.perf_counter() - t0)
"""

HATS_MARGIN_SCRIPT = CHILD_PRELUDE + r"""
if __name__ == "__main__":
    from dask.distributed import Client, LocalCluster
    from hats_import.margin_cache.margin_cache_arguments import MarginCacheArguments
    from hats_import.pipeline import pipeline_with_client
    with LocalCluster(n_workers=cfg["threads"], threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(lambda: __import__("hats_import.margin_cache.margin_cache_map_reduce") and None)  # warm workers
        try:
            t0 = time.perf_counter()
            args = MarginCacheArguments(input_catalog_path=cfg["catalog"], output_path=cfg["output_path"],
                output_artifact_name=cfg["name"], margin_threshold=cfg["radius"], progress_bar=False, resume=False)
            pipeline_with_client(args, client)
            done(seconds=time.perf_counter() - t0, margin_order=args.margin_order)
        except Exception as e:
            if not out_of_memory(e): raise
            done(error=repr(e), did_not_fit=True); sys.exit(75)
"""

LSDB_SCRIPT = CHILD_PRELUDE + r"""
if __name__ == "__main__":
    import numpy as np, lsdb
    cluster = client = None
    if cfg["scheduler"] == "distributed":
        from dask.distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=cfg["threads"], threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
        client.run(lambda: __import__("lsdb") and None)  # workers import lsdb before the clock starts
    else:
        import dask
        dask.config.set(scheduler="threads", num_workers=cfg["threads"])
    try:
        t0 = time.perf_counter()
        left = lsdb.open_catalog(cfg["left"])
        right = lsdb.open_catalog(cfg["right"], margin_cache=cfg["margin"])
        xm = left.crossmatch(right, radius_arcsec=cfg["radius"], n_neighbors=1, suffixes=("_left", "_right"),
                             suffix_method="all_columns", require_right_margin=True)
        t1 = time.perf_counter()
        res = xm.compute()
        seconds = time.perf_counter() - t0
        np.savez(cfg["ids"], left=res["id_left"].to_numpy(), right=res["id_right"].to_numpy())
        done(seconds=seconds, plan_seconds=t1 - t0, compute_seconds=seconds - (t1 - t0),
             pairs=len(res), partitions=left.npartitions, right_partitions=right.npartitions)
    except Exception as e:
        if not out_of_memory(e): raise
        done(error=repr(e), did_not_fit=True); sys.exit(75)
    finally:
        if client is not None: client.close(); cluster.close()
"""

ASTROPY_SCRIPT = CHILD_PRELUDE + r"""
if __name__ == "__main__":
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    import astropy.units as u
    from astropy.coordinates import SkyCoord, search_around_sky
    try:
        def load(files):
            t = pa.concat_tables([pq.read_table(f, columns=["id", "ra", "dec"]) for f in files])
            return t["id"].to_numpy(), t["ra"].to_numpy(), t["dec"].to_numpy()
        lid, lra, ldec = load(cfg["left"])
        rid, rra, rdec = load(cfg["right"])
        radius = cfg["radius"] * u.arcsec
        t0 = time.perf_counter()
        L = SkyCoord(ra=lra * u.deg, dec=ldec * u.deg)
        R = SkyCoord(ra=rra * u.deg, dec=rdec * u.deg)
        if cfg["mode"] == "nearest":
            idx, d2d, _ = L.match_to_catalog_sky(R)
            m = d2d <= radius
            seconds = time.perf_counter() - t0
            li, ri = lid[m], rid[idx[m]]
            extra = {}
        else:
            il, ir, d2d, _ = search_around_sky(L, R, radius)
            seconds = time.perf_counter() - t0
            # nearest right per left row, to compare with the nearest-neighbour tools (not timed)
            order = np.lexsort((d2d.to_value(u.arcsec), il))
            first = np.ones(len(order), bool); first[1:] = il[order][1:] != il[order][:-1]
            li, ri = lid[il[order][first]], rid[ir[order][first]]
            extra = {"all_pairs": int(len(il))}
        np.savez(cfg["ids"], left=li, right=ri)
        done(seconds=seconds, pairs=int(len(li)), **extra)
    except MemoryError as e:
        done(error=repr(e), did_not_fit=True); sys.exit(75)
"""


# --------------------------------------------------------------------------------------------
# AstroPile

def astropile_has(binary, sub):
    """True when the binary runs and knows the subcommand (no "Unexpected argument 'sub'")."""
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        return False
    try:
        p = subprocess.run([binary, sub], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return f"unexpected argument '{sub}'" not in (p.stdout + p.stderr).lower()


def count_rows_and_ids(catalog):
    """Rows of a HATS catalog's leaves; the (id_left, id_right) columns too when present."""
    import pyarrow.dataset as ds
    d = ds.dataset(os.path.join(catalog, "dataset"), format="parquet")  # skips _metadata, _common_metadata
    names = d.schema.names
    if "id_left" in names and "id_right" in names:
        t = d.to_table(columns=["id_left", "id_right"])
        return t.num_rows, (t["id_left"].to_numpy(), t["id_right"].to_numpy())
    return d.count_rows(), None


def rm(*paths):
    for p in paths:
        for q in glob.glob(p):
            shutil.rmtree(q, ignore_errors=True) if os.path.isdir(q) else os.remove(q)


# --------------------------------------------------------------------------------------------

def run_size(a, rows, ap_ok):
    radius = a.radius
    rtag = f"{radius:g}arcsec"
    W = os.path.join(a.work, f"n{rows}")
    rm(W); os.makedirs(W)
    res = {"rows": rows, "radius_arcsec": radius, "threads": a.threads, "tools": {}}
    T = res["tools"]
    print(f"\n=== {rows:,} rows per catalog, radius {radius:g}″, {a.threads} threads ===", flush=True)
    t0 = time.time()
    left_files, right_files = generate(W, rows, a.files, radius)
    print(f"generated {2 * a.files} Parquet files in {time.time() - t0:.1f} s", flush=True)
    os.sync(); time.sleep(2)  # the generated files' write-back must not land inside a timed run
    ids = {}

    # ---- HATS catalogs: AstroPile's import, or hats-import's when AstroPile is not available
    use_ap_import = a.lsdb_catalogs == "astropile" or (a.lsdb_catalogs == "auto" and ap_ok)
    big = rows > a.max_reference_rows
    need_catalogs = ap_ok or not (a.skip_lsdb or big)
    if need_catalogs and use_ap_import:
        left_cat, right_cat = os.path.join(W, "ap_left"), os.path.join(W, "ap_right")
        runs = []
        for files, out in ((left_files, left_cat), (right_files, right_cat)):
            rm(out, out + ".astropile-work")
            runs.append(measure([a.astropile, "import", "--input", ",".join(files), "--output", out,
                                 "--ra", "ra", "--dec", "dec", "--threshold", str(a.threshold),
                                 "--highest-order", str(a.highest_order), "--jobs", str(a.threads), "--quiet"],
                                os.path.join(W, f"ap_import_{os.path.basename(out)}.log")))
        T["astropile import"] = {"wall": sum(r["wall"] for r in runs), "peak": max(r["peak"] for r in runs),
                                 "status": "ok" if all(r["rc"] in (0, 3) for r in runs) else "failed"}
    elif need_catalogs:
        left_cat, right_cat = os.path.join(W, "hi_left"), os.path.join(W, "hi_right")
        runs = [run_child(HATS_IMPORT_SCRIPT, {"files": files, "output_path": W, "name": os.path.basename(out),
                                               "threads": a.threads, "threshold": a.threshold,
                                               "highest_order": a.highest_order}, W, f"hats_import_{os.path.basename(out)}")
                for files, out in ((left_files, left_cat), (right_files, right_cat))]
        T["hats-import import"] = {"wall": sum(r["wall"] for r in runs), "peak": max(r["peak"] for r in runs),
                                   "status": "ok" if all(r["status"] == "ok" for r in runs) else "failed"}
    imp = T.get("astropile import") or T.get("hats-import import")
    cats_ok = imp is not None and imp["status"] == "ok"
    if imp:
        print(f"import (setup, not part of the cross-match): {'astropile' if use_ap_import else 'hats-import'} "
              f"{imp['wall']:.1f} s, {imp['peak'] / 2**30:.2f} GiB, {imp['status']}", flush=True)
        if not cats_ok:
            print("!!! import failed: no HATS catalogs, AstroPile and LSDB cannot cross-match", flush=True)
    os.sync()

    # ---- AstroPile
    if ap_ok and not cats_ok:
        T["astropile"] = {"status": "import failed"}
    elif ap_ok:
        margin = f"{right_cat}_margin_{rtag}"
        xm = os.path.join(W, "ap_xmatch")
        rm(margin, margin + ".astropile-work", xm, xm + ".astropile-work")
        m = measure([a.astropile, "margin", right_cat, "--radius", rtag, "--jobs", str(a.threads)],
                    os.path.join(W, "ap_margin.log"))
        x = measure([a.astropile, "crossmatch", left_cat, right_cat, "--radius", rtag, "--output", xm,
                     "--jobs", str(a.threads)], os.path.join(W, "ap_crossmatch.log"))
        for r in (m, x):
            r["status"] = "ok" if r["rc"] == 0 else f"failed (exit {r['rc']})"
        T["astropile margin"], T["astropile crossmatch"] = m, x
        tot = {"wall": m["wall"] + x["wall"], "peak": max(m["peak"], x["peak"]),
               "status": "ok" if m["rc"] == 0 and x["rc"] == 0 else "failed"}
        if tot["status"] == "ok":
            try:
                tot["pairs"], pair_ids = count_rows_and_ids(xm)
                if pair_ids is not None:
                    ids["astropile"] = pair_ids
            except Exception as e:  # an unreadable output is a failure of the tool, not of the harness
                tot["status"] = f"output unreadable: {e}"
        T["astropile"] = tot
        print(f"AstroPile: {tot['wall']:.2f} s (margin {m['wall']:.2f} + crossmatch {x['wall']:.2f}), "
              f"{tot['peak'] / 2**30:.2f} GiB, {tot['status']}", flush=True)
    else:
        print("AstroPile: not available", flush=True)

    # ---- LSDB
    if a.skip_lsdb:
        pass
    elif big:
        T["lsdb"] = {"status": f"skipped (> --max-reference-rows {a.max_reference_rows:,})"}
    elif not cats_ok:
        T["lsdb"] = {"status": "import failed"}
    else:
        name = f"lsdb_right_margin_{rtag}"
        rm(os.path.join(W, name))
        m = run_child(HATS_MARGIN_SCRIPT, {"catalog": right_cat, "output_path": W, "name": name,
                                           "radius": radius, "threads": a.threads}, W, "lsdb_margin")
        T["lsdb margin"] = m
        tot = {"status": m["status"]}
        if m["status"] == "ok":
            x = run_child(LSDB_SCRIPT, {"left": left_cat, "right": right_cat, "margin": os.path.join(W, name),
                                        "radius": radius, "threads": a.threads, "scheduler": a.lsdb_scheduler,
                                        "ids": os.path.join(W, "ids_lsdb.npz")}, W, "lsdb_crossmatch")
            T["lsdb crossmatch"] = x
            tot = {"wall": m["wall"] + x["wall"], "peak": max(m["peak"], x["peak"]), "status": x["status"]}
            if x["status"] == "ok":
                tot["pairs"] = x["pairs"]
                z = np.load(os.path.join(W, "ids_lsdb.npz")); ids["lsdb"] = (z["left"], z["right"])
        T["lsdb"] = tot
        print(f"LSDB: " + (f"{tot['wall']:.2f} s (margin {m['wall']:.2f} + crossmatch {T['lsdb crossmatch']['wall']:.2f}), "
                           f"{tot['peak'] / 2**30:.2f} GiB" if tot["status"] == "ok" else tot["status"]), flush=True)

    # ---- astropy
    if a.skip_astropy:
        pass
    elif big:
        for k in ("astropy nearest", "astropy around"):
            T[k] = {"status": f"skipped (> --max-reference-rows {a.max_reference_rows:,})"}
    else:
        for mode, key in (("nearest", "astropy nearest"), ("around", "astropy around")):
            r = run_child(ASTROPY_SCRIPT, {"left": left_files, "right": right_files, "radius": radius, "mode": mode,
                                           "ids": os.path.join(W, f"ids_astropy_{mode}.npz")}, W, f"astropy_{mode}")
            T[key] = r
            if r["status"] == "ok":
                z = np.load(os.path.join(W, f"ids_astropy_{mode}.npz")); ids[key] = (z["left"], z["right"])
            print(f"{key}: " + (f"{r['wall']:.2f} s, {r['peak'] / 2**30:.2f} GiB" if r["status"] == "ok" else r["status"]),
                  flush=True)

    res["agreement"] = ag = compare(T, ids, rows)
    if len(ag["counts"]) > 1:
        ok = ag["counts_agree"] and ag["ids_agree"]
        print("matched left rows: " + ("agree" if ok else "!!! MISMATCH !!!") + " — "
              + ", ".join(f"{k} {v:,}" for k, v in ag["counts"].items()), flush=True)
    if not a.keep:
        rm(os.path.join(W, "left"), os.path.join(W, "right"))
    return res


def compare(T, ids, rows):
    """Compares the matched-left-row counts and, where known, the (left id, right id) pairs."""
    counts = {k: T[k]["pairs"] for k in ("astropile", "lsdb", "astropy nearest", "astropy around")
              if k in T and T[k].get("status") == "ok" and "pairs" in T[k]}
    agree = len(set(counts.values())) <= 1
    out = {"counts": counts, "counts_agree": agree, "pair_differences": {}}
    if len(ids) > 1:
        ref = next(iter(ids))
        code = lambda l, r: np.asarray(l, np.int64) * (rows + 1) + np.asarray(r, np.int64)
        rl, rp = ids[ref][0], code(*ids[ref])
        for k, (l, r) in ids.items():
            if k != ref:
                out["pair_differences"][f"{k} vs {ref}"] = {
                    "left_ids_not_shared": int(np.setxor1d(l, rl).size),
                    "pairs_not_shared": int(np.setxor1d(code(l, r), rp).size)}
    out["ids_agree"] = all(v["pairs_not_shared"] == 0 for v in out["pair_differences"].values())
    return out


def write_json(results, json_path):
    with open(json_path, "w") as f:
        json.dump(results, f, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))


def report(results):
    """Prints the table, ratios and agreement; returns True when some tools disagree."""
    def row(tool, n, r, pairs=""):
        st = r.get("status", "ok")
        if st == "ok":
            return f"{tool:34s} {n:>12,} {r['wall']:9.2f} {r['peak'] / 2**30:9.3f} {pairs:>12}"
        return f"{tool:34s} {n:>12,} {'—':>9} {'—':>9} {'':>12}  {st}"
    print(f"\n{'tool':34s} {'rows':>12} {'wall s':>9} {'peak GiB':>9} {'pairs':>12}")
    print("-" * 80)
    bad = False
    for res in results:
        n, T = res["rows"], res["tools"]
        fmt = lambda k: f"{T[k]['pairs']:,}" if "pairs" in T.get(k, {}) else ""
        for k, label in (("astropile import", "(setup) astropile import ×2"), ("hats-import import", "(setup) hats-import import ×2")):
            if k in T: print(row(label, n, T[k]))
        for k, label, p in (("astropile margin", "AstroPile margin", None), ("astropile crossmatch", "AstroPile crossmatch", None),
                            ("astropile", "AstroPile total", "astropile"),
                            ("lsdb margin", "LSDB margin (hats-import)", None), ("lsdb crossmatch", "LSDB crossmatch", None),
                            ("lsdb", "LSDB total", "lsdb"),
                            ("astropy nearest", "astropy match_to_catalog_sky", "astropy nearest"),
                            ("astropy around", "astropy search_around_sky", "astropy around")):
            if k in T:
                print(row(label, n, T[k], fmt(p) if p else ""))
        if "astropile" not in T:
            print(f"{'AstroPile':34s} {n:>12,}  not available")
        x = T.get("lsdb crossmatch", {})
        if x.get("status") == "ok" and "plan_seconds" in x:
            print(f"{'':34s} {'':>12}  (LSDB crossmatch: {x['plan_seconds']:.2f} s planning, incl. numba JIT of "
                  f"hats' pixel alignment, + {x['compute_seconds']:.2f} s compute)")
        if "all_pairs" in T.get("astropy around", {}):
            print(f"{'':34s} {'':>12}  (search_around_sky: {T['astropy around']['all_pairs']:,} pairs in all; "
                  f"'pairs' = matched left rows)")
        ap = T.get("astropile", {})
        if ap.get("status") == "ok":
            for k, label in (("lsdb", "LSDB/AstroPile"), ("astropy nearest", "astropy match_to_catalog_sky/AstroPile"),
                             ("astropy around", "astropy search_around_sky/AstroPile")):
                r = T.get(k, {})
                if r.get("status") == "ok":
                    print(f"  {label}: {r['wall'] / ap['wall']:.1f}× time, {r['peak'] / max(ap['peak'], 1):.1f}× memory")
        ag = res.get("agreement", {})
        c = ag.get("counts", {})
        if len(c) > 1 and ag["counts_agree"] and ag["ids_agree"]:
            print(f"  matched left rows agree: {next(iter(c.values())):,} ({', '.join(c)})"
                  + ("; same (left id, right id) pairs" if ag["pair_differences"] else ""))
        elif len(c) > 1:
            bad = True
            print("\n" + "!" * 80 + f"\n!!! PAIR MISMATCH at {n:,} rows: "
                  + ", ".join(f"{k} = {v:,}" for k, v in c.items()))
            for k, v in ag["pair_differences"].items():
                print(f"!!!   {k}: {v['left_ids_not_shared']:,} left ids and {v['pairs_not_shared']:,} pairs not shared")
            print("!" * 80 + "\n")
        elif len(c) == 1:
            print(f"  matched left rows: {next(iter(c.values())):,} (only {next(iter(c))} to compare)")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows per catalog (default 1,000,000)")
    ap.add_argument("--sizes", help="comma-separated row counts, e.g. 1000000,10000000 (overrides --rows)")
    ap.add_argument("--files", type=int, default=8, help="Parquet files per catalog (default 8)")
    ap.add_argument("--radius", type=float, default=1.0, help="match radius and margin, arcsec (default 1)")
    ap.add_argument("--work", default=os.path.join(ROOT, ".build", "bench-crossmatch"))
    ap.add_argument("--json", help="results file (default WORK/results.json)")
    ap.add_argument("--astropile", default=os.path.join(ROOT, ".build", "release", "astropile"))
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="AstroPile --jobs and dask workers (1 thread each) (default: all cores)")
    ap.add_argument("--threshold", type=int, default=1_000_000, help="import: rows per partition (default 1,000,000)")
    ap.add_argument("--highest-order", type=int, default=10, help="import: deepest partition order (default 10)")
    ap.add_argument("--max-reference-rows", type=int, default=10_000_000,
                    help="skip LSDB and astropy above this many rows per catalog (default 10,000,000)")
    ap.add_argument("--skip-lsdb", action="store_true")
    ap.add_argument("--skip-astropy", action="store_true")
    ap.add_argument("--lsdb-scheduler", choices=("distributed", "threads"), default="distributed",
                    help="LSDB compute on a dask LocalCluster (default) or dask's threaded scheduler")
    ap.add_argument("--lsdb-catalogs", choices=("auto", "astropile", "hats-import"), default="auto",
                    help="who imports the HATS catalogs LSDB reads (auto: AstroPile when its margin and "
                         "crossmatch exist, else hats-import)")
    ap.add_argument("--keep", action="store_true", help="keep the generated Parquet inputs")
    a = ap.parse_args()
    a.work = os.path.abspath(a.work)
    a.astropile = os.path.abspath(a.astropile)
    sizes = [int(s) for s in a.sizes.split(",")] if a.sizes else [a.rows]
    os.makedirs(a.work, exist_ok=True)
    ap_ok = all(astropile_has(a.astropile, s) for s in ("import", "margin", "crossmatch"))
    if not ap_ok:
        have = [s for s in ("import", "margin", "crossmatch") if astropile_has(a.astropile, s)]
        print(f"AstroPile: not available ({a.astropile}: "
              + (f"has {', '.join(have)} only" if have else "missing") + ") — running the references only")
        if a.lsdb_catalogs == "astropile" and "import" not in have:
            sys.exit("--lsdb-catalogs astropile needs `astropile import`")
    results = []
    json_path = a.json or os.path.join(a.work, "results.json")
    for n in sizes:
        results.append(run_size(a, n, ap_ok))
        write_json(results, json_path)  # after every size, so a long run leaves partial results
    bad = report(results)
    print(f"\nresults: {json_path}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
