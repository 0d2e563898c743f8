#!/usr/bin/env python3
"""MPI scaling benchmark: the same import on 1, 2 and 3 MPI ranks (mpirun --oversubscribe on this
machine), beside the plain single process, on
  - the import benchmark's data: N rows in F Parquet files (bench/import's generator),
  - many tiny Parquet files (T files of R rows) and the same rows in 10 files,
checking every output's leaves are byte-identical to the single process's, and printing wall time,
peak RSS of the process tree, rows/s per rank, and the speed-up over one rank.

and, with --planning N, the planning of N tiny Parquet files (10 rows each, folders of 1,000)
on 2 ranks: seconds per stage (list, scan, plan, map, …) and the peak RSS of each rank.

Usage: bench.py [--rows 10000000] [--files 50] [--tiny 100000] [--tiny-rows 10] [--ranks 1,2,3]
                [--planning 500000] [--only-planning]
"""
import argparse, glob, hashlib, json, os, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench", "import"))
from bench import generate, measure  # noqa: E402  (the import benchmark's generator and sampler)

ASTROPILE = os.path.join(ROOT, ".build", "release", "astropile")
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def leaves(root):
    out = {}
    for p in glob.glob(os.path.join(root, "dataset", "**", "*.parquet"), recursive=True):
        out[os.path.relpath(p, root)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


def tiny_files(work, files, rows):
    """files Parquet files of rows rows (folders of 1,000) and the same rows, in order, in 10 files."""
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    rng = np.random.default_rng(3)
    n = files * rows
    t = pa.table({"id": np.arange(n, dtype=np.int64), "ra": rng.uniform(0, 360, n),
                  "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, n))), "mag": rng.normal(20, 2, n).astype(np.float32)})
    for f in range(files):
        d = os.path.join(work, "tiny", f"{f // 1000:04d}")
        if f % 1000 == 0:
            os.makedirs(d, exist_ok=True)
        pq.write_table(t.slice(f * rows, rows), os.path.join(d, f"t_{f:07d}.parquet"))
    os.makedirs(os.path.join(work, "ten"), exist_ok=True)
    per = n // 10
    for f in range(10):
        pq.write_table(t.slice(f * per, per), os.path.join(work, "ten", f"b_{f:02d}.parquet"))
    return n


def run_case(name, inputs, rows, args, ranks, work):
    print(f"\n{name}: {rows:,} rows", flush=True)
    results = []
    base = os.path.join(work, "out_" + name.split()[0])
    single_out = base + "/single"
    shutil.rmtree(base, ignore_errors=True)
    t = measure([ASTROPILE, "import", "--input", inputs, "--output", single_out, "--quiet"] + args)
    print(f"  single process, --jobs 2      {t[0]:7.1f} s  {t[1] / 2**20:6.0f} MiB  {rows / t[0] / 1e6:6.2f} M rows/s", flush=True)
    reference = leaves(single_out)
    stages = json.load(open(single_out + "/astropile_report.json"))["stageSeconds"]
    print("    stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])))
    one_rank = None
    for n in ranks:
        out = base + f"/ranks{n}"
        t = measure(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", str(n), ASTROPILE, "import",
                     "--input", inputs, "--output", out, "--quiet", "--jobs", "1"] + args, env=MPI_ENV)
        same = leaves(out) == reference
        one_rank = one_rank or t[0]
        print(f"  mpirun -n {n}, --jobs 1 a rank  {t[0]:7.1f} s  {t[1] / 2**20:6.0f} MiB  {rows / t[0] / 1e6:6.2f} M rows/s"
              f"  {rows / t[0] / n / 1e6:5.2f} M rows/s a rank  speed-up {one_rank / t[0]:4.2f}x  identical: {same}", flush=True)
        results.append((n, t[0], same))
    return results


def planning_case(work, files):
    """N tiny Parquet files imported on 2 ranks: stage seconds and each rank's peak RSS."""
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    root = os.path.join(work, f"planning{files}")
    if not os.path.isdir(root):
        print(f"generating {files:,} Parquet files of 10 rows ...", flush=True)
        rng = np.random.default_rng(5)
        n = files * 10
        t = pa.table({"id": np.arange(n, dtype=np.int64), "ra": rng.uniform(0, 360, n),
                      "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, n))), "mag": rng.normal(20, 2, n).astype(np.float32)})
        for f in range(files):
            d = os.path.join(root, f"{f // 1000:04d}")
            if f % 1000 == 0:
                os.makedirs(d, exist_ok=True)
            pq.write_table(t.slice(f * 10, 10), os.path.join(d, f"t_{f:07d}.parquet"))
        os.sync(); time.sleep(5)
    out = os.path.join(work, f"out_planning{files}")
    shutil.rmtree(out, ignore_errors=True); shutil.rmtree(out + ".astropile-work", ignore_errors=True)
    t0 = time.time()
    p = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "2", "/usr/bin/time", "-f", "PEAK %M",
                        ASTROPILE, "import", "--input", os.path.join(root, "**", "*.parquet"), "--output", out, "--quiet",
                        "--jobs", "1", "--highest-order", "7", "--threshold", "1000000"],
                       env=MPI_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.time() - t0
    if p.returncode != 0:
        print(p.stderr[-3000:], file=sys.stderr)
        return
    peaks = [int(l.split()[1]) // 1024 for l in p.stderr.splitlines() if l.startswith("PEAK ")]
    stages = json.load(open(out + "/astropile_report.json"))["stageSeconds"]
    order = ["list", "scan", "plan", "map", "bin", "reduce", "finish"]
    print(f"\n{files:,} tiny Parquet files on 2 ranks (--jobs 1): {seconds:.1f} s; "
          + ", ".join(f"{k} {stages.get(k, 0):.1f} s" for k in order)
          + f"; peak RSS per rank: {', '.join(f'{m} MiB' for m in peaks)}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--tiny", type=int, default=100_000)
    ap.add_argument("--tiny-rows", type=int, default=10)
    ap.add_argument("--ranks", default="1,2,3")
    ap.add_argument("--work", default=os.path.join(ROOT, ".bench-mpi"))
    ap.add_argument("--planning", type=int, default=0, help="also import this many tiny files on 2 ranks (e.g. 500000)")
    ap.add_argument("--only-planning", action="store_true", help="only the --planning case")
    a = ap.parse_args()
    ranks = [int(r) for r in a.ranks.split(",")]
    if a.only_planning:
        os.makedirs(a.work, exist_ok=True)
        planning_case(a.work, a.planning or 500_000)
        return
    shutil.rmtree(a.work, ignore_errors=True); os.makedirs(a.work)
    print(f"generating {a.rows:,} rows in {a.files} Parquet files ...", flush=True)
    files = generate(a.work, a.rows, a.files, ["parquet"])["parquet"]
    print(f"generating {a.tiny:,} Parquet files of {a.tiny_rows} rows and the same rows in 10 files ...", flush=True)
    tiny_rows = tiny_files(a.work, a.tiny, a.tiny_rows)
    os.sync(); time.sleep(5)
    args = ["--highest-order", "7", "--threshold", "1000000"]
    run_case("import benchmark", ",".join(files), a.rows, args, ranks, a.work)
    run_case("ten files", os.path.join(a.work, "ten", "*.parquet"), tiny_rows, args, ranks, a.work)
    run_case(f"tiny files ({a.tiny:,})", os.path.join(a.work, "tiny", "**", "*.parquet"), tiny_rows, args, ranks, a.work)
    if a.planning:
        planning_case(a.work, a.planning)


if __name__ == "__main__":
    main()
