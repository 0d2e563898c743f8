#!/usr/bin/env python3
"""Import benchmark: AstroPile vs hats-import vs the floor, on the same generated files.

Generates N rows in F files (id int64, ra/dec float64, 10 float32 magnitudes, 2 float64 columns)
as Parquet, CSV and FITS, then for each format runs
  - astropile import (release build),
  - hats-import (dask LocalCluster, 2 workers, pixel_threshold 1,000,000),
  - the floor: pyarrow reading the inputs and writing the same rows as zstd Parquet,
and prints wall time, peak RSS of the whole process tree (sampled), and the ratios.

Usage: bench.py [--rows 10000000] [--files 50] [--formats parquet,csv,fits] [--work DIR] [--skip-hats]
"""
import argparse, os, shutil, subprocess, sys, time, json
import numpy as np
import psutil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ASTROPILE = os.path.join(ROOT, ".build", "release", "astropile")


def generate(work, rows, files, formats):
    import pyarrow as pa, pyarrow.parquet as pq, pyarrow.csv as pacsv
    rng = np.random.default_rng(7)
    per = rows // files
    out = {f: [] for f in formats}
    for i in range(files):
        n = per if i < files - 1 else rows - per * (files - 1)
        # clustered sky: 60% uniform, 40% in a few dense spots
        k = int(n * 0.4)
        ra = np.concatenate([rng.uniform(0, 360, n - k), rng.normal(150, 0.5, k) % 360])
        dec = np.concatenate([np.degrees(np.arcsin(rng.uniform(-1, 1, n - k))), np.clip(rng.normal(2, 0.5, k), -90, 90)])
        cols = {"id": np.arange(i * per, i * per + n, dtype=np.int64), "ra": ra, "dec": dec}
        for b in range(10):
            cols[f"mag_{b}"] = rng.normal(20, 2, n).astype(np.float32)
        cols["x1"] = rng.normal(0, 1, n)
        cols["x2"] = rng.normal(0, 1, n)
        t = pa.table(cols)
        if "parquet" in formats:
            p = os.path.join(work, "parquet", f"part_{i:03d}.parquet"); os.makedirs(os.path.dirname(p), exist_ok=True)
            pq.write_table(t, p); out["parquet"].append(p)
        if "csv" in formats:
            p = os.path.join(work, "csv", f"part_{i:03d}.csv"); os.makedirs(os.path.dirname(p), exist_ok=True)
            pacsv.write_csv(t, p); out["csv"].append(p)
        if "fits" in formats:
            from astropy.table import Table
            p = os.path.join(work, "fits", f"part_{i:03d}.fits"); os.makedirs(os.path.dirname(p), exist_ok=True)
            Table({k: np.asarray(v) for k, v in cols.items()}).write(p, overwrite=True); out["fits"].append(p)
    return out


def measure(cmd, env=None):
    """Runs cmd; returns (seconds, peak RSS bytes of the process tree, returncode)."""
    t0 = time.time()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc = psutil.Process(p.pid)
    peak = 0
    while p.poll() is None:
        try:
            total = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(0.2)  # sparse sampling: the monitor must not compete for the 2 cores
    err = p.stderr.read().decode(errors="replace")
    if p.returncode != 0:
        print(err[-3000:], file=sys.stderr)
    return time.time() - t0, peak, p.returncode


HATS_SCRIPT = r"""
import sys, json
from dask.distributed import Client, LocalCluster
from hats_import.catalog.arguments import ImportArguments
from hats_import.pipeline import pipeline_with_client
files, reader, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
if __name__ == "__main__":
    args = ImportArguments(output_artifact_name="cat", input_file_list=files, file_reader=reader,
        ra_column="ra", dec_column="dec", output_path=out, pixel_threshold=1_000_000,
        highest_healpix_order=int(sys.argv[4]), progress_bar=False, resume=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        pipeline_with_client(args, client)
"""

FLOOR_SCRIPT = r"""
import sys, json, pyarrow as pa, pyarrow.parquet as pq, pyarrow.csv as pacsv
files, fmt, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
w = None
for f in files:
    if fmt == "parquet": t = pq.read_table(f)
    elif fmt == "csv": t = pacsv.read_csv(f)
    else:
        from astropy.table import Table
        t = Table.read(f).to_pandas(); t = pa.Table.from_pandas(t, preserve_index=False)
    if w is None: w = pq.ParquetWriter(out, t.schema, compression="zstd")
    w.write_table(t)
w.close()
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--formats", default="parquet,csv,fits")
    ap.add_argument("--highest-order", type=int, default=7)
    ap.add_argument("--work", default=os.path.join(ROOT, ".build", "bench-import"))
    ap.add_argument("--skip-hats", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="AstroPile runs per format (median reported)")
    a = ap.parse_args()
    formats = a.formats.split(",")
    shutil.rmtree(a.work, ignore_errors=True); os.makedirs(a.work)
    print(f"generating {a.rows:,} rows in {a.files} files as {', '.join(formats)} ...", flush=True)
    inputs = generate(a.work, a.rows, a.files, formats)
    os.sync()  # the generated files' write-back must not land inside a timed run
    time.sleep(5)
    py = sys.executable
    results = {}
    for fmt in formats:
        files = inputs[fmt]
        mb = sum(os.path.getsize(f) for f in files) / 1e6
        out = os.path.join(a.work, f"out_{fmt}")
        shutil.rmtree(out, ignore_errors=True)
        runs = []
        for _ in range(a.repeat):  # AstroPile is fast: take the median of a few runs
            shutil.rmtree(out + "/astropile", ignore_errors=True)
            runs.append(measure([ASTROPILE, "import", "--input", ",".join(files), "--output", out + "/astropile",
                                 "--highest-order", str(a.highest_order), "--threshold", "1000000", "--quiet"]))
        ours = sorted(runs)[len(runs) // 2]
        floor = measure([py, "-c", FLOOR_SCRIPT, json.dumps(files), fmt, out + "_floor.parquet"])
        hats = None
        if not a.skip_hats:
            reader = {"parquet": "parquet", "csv": "csv", "fits": "fits"}[fmt]
            hats = measure([py, "-c", HATS_SCRIPT, json.dumps(files), reader, out + "/hats", str(a.highest_order)])
        results[fmt] = (mb, ours, hats, floor)
        def fmtm(m): return f"{m[0]:7.1f} s {m[1] / 2**30:5.2f} GiB" + ("" if m[2] == 0 else f" (exit {m[2]})")
        print(f"\n{fmt}: {a.rows:,} rows, {len(files)} files, {mb:.0f} MB")
        print(f"  astropile   {fmtm(ours)}   (median of {a.repeat}: " + ", ".join(f"{r[0]:.1f}" for r in runs) + " s)")
        print(f"  floor       {fmtm(floor)}   astropile/floor = {ours[0] / floor[0]:.2f}x time")
        if hats:
            print(f"  hats-import {fmtm(hats)}   speed-up {hats[0] / ours[0]:.1f}x, memory {hats[1] / max(ours[1], 1):.1f}x less")
        if hats and hats[2] == 0 and ours[2] == 0:
            a_info = open(out + "/astropile/partition_info.csv").read().split()
            h_info = open(out + "/hats/cat/partition_info.csv").read().split()
            print(f"  same partition_info.csv: {sorted(a_info) == sorted(h_info)}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
