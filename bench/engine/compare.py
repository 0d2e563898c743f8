#!/usr/bin/env python3
"""Two AstroPile builds on the same inputs: are their outputs byte-identical, and is one slower?

Used when the run skeleton under the pipelines changes (the run-engine issue): the inputs of
bench/import (N rows in F files as Parquet, CSV and FITS) and of bench/crossmatch (two catalogs
of R rows) are generated once, then each binary runs `import`, and `margin` + `crossmatch`,
alternately (A B A B …, so drift of the machine hits both), and the script prints the median wall
time of each, their ratio, and whether every leaf, partition_info.csv and `_metadata` are equal
byte for byte.

Usage: compare.py --before BIN --after BIN [--rows 10000000] [--files 50] [--formats parquet,csv,fits]
                  [--xmatch-rows 1000000,10000000] [--repeat 3] [--work DIR]
"""
import argparse, filecmp, os, shutil, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
import importlib.util  # noqa: E402


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


import_bench = _load("import_bench", os.path.join(ROOT, "bench", "import", "bench.py"))       # generate()
xmatch_bench = _load("xmatch_bench", os.path.join(ROOT, "bench", "crossmatch", "bench.py"))   # generate()


def timed(cmd):
    """Runs cmd; returns (wall seconds, peak RSS bytes from GNU time)."""
    t0 = time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.time() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    peak_kib = int(p.stderr.strip().split("\n")[-1])
    return wall, peak_kib * 1024


def tree_files(root):
    out = []
    for d, _, names in os.walk(os.path.join(root, "dataset")):
        for n in names:
            out.append(os.path.relpath(os.path.join(d, n), root))
    out.append("partition_info.csv")
    return sorted(out)


def identical(a, b):
    fa, fb = tree_files(a), tree_files(b)
    if fa != fb:
        return False, f"different files: {sorted(set(fa) ^ set(fb))[:5]}"
    for f in fa:
        if not filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False):
            return False, f"{f} differs"
    return True, f"{len(fa)} files equal"


def rm(*paths):
    for p in paths:
        for q in (p, p + ".astropile-work"):
            if os.path.isdir(q):
                shutil.rmtree(q)


def alternate(label, binaries, make_cmd, outputs, repeat):
    """Runs each binary `repeat` times, alternating; returns {name: [(wall, peak)]}."""
    runs = {name: [] for name in binaries}
    for _ in range(repeat):
        for name, binary in binaries.items():
            for out in outputs(name):
                rm(out)
            total_wall, peak = 0.0, 0
            for cmd in make_cmd(binary, name):
                w, m = timed(cmd)
                total_wall += w
                peak = max(peak, m)
            runs[name].append((total_wall, peak))
    return runs


def report(label, runs, same):
    b = statistics.median(w for w, _ in runs["before"])
    a = statistics.median(w for w, _ in runs["after"])
    bm = max(m for _, m in runs["before"]) / 2**30
    am = max(m for _, m in runs["after"]) / 2**30
    print(f"{label:34s} before {b:7.2f} s {bm:5.2f} GiB   after {a:7.2f} s {am:5.2f} GiB   after/before {a / b:5.3f}   "
          f"runs before {', '.join(f'{w:.2f}' for w, _ in runs['before'])} / after {', '.join(f'{w:.2f}' for w, _ in runs['after'])}   "
          f"identical: {same}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--formats", default="parquet,csv,fits")
    ap.add_argument("--xmatch-rows", default="1000000,10000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(ROOT, ".build", "bench-engine"))
    a = ap.parse_args()
    binaries = {"before": os.path.abspath(a.before), "after": os.path.abspath(a.after)}
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    formats = [f for f in a.formats.split(",") if f]
    if formats and a.rows > 0:
        print(f"generating {a.rows:,} rows in {a.files} files as {', '.join(formats)} ...", flush=True)
        inputs = import_bench.generate(os.path.join(a.work, "import"), a.rows, a.files, formats)
        os.sync(); time.sleep(3)
        for fmt in formats:
            out = lambda name: [os.path.join(a.work, f"import_{fmt}_{name}")]
            cmd = lambda binary, name: [[binary, "import", "--input", ",".join(inputs[fmt]), "--output", out(name)[0],
                                         "--highest-order", "7", "--threshold", "1000000", "--quiet"]]
            runs = alternate(fmt, binaries, cmd, out, a.repeat)
            same = identical(out("before")[0], out("after")[0])
            report(f"import {fmt} ({a.rows:,} rows)", runs, same)
    for rows in [int(s) for s in a.xmatch_rows.split(",") if s]:
        w = os.path.join(a.work, f"xmatch_{rows}")
        print(f"generating two catalogs of {rows:,} rows ...", flush=True)
        left, right = xmatch_bench.generate(w, rows, 8, 1.0)
        cats = {}
        for side, files in (("left", left), ("right", right)):
            cats[side] = os.path.join(w, side + "_cat")
            timed([binaries["after"], "import", "--input", ",".join(files), "--output", cats[side], "--threshold", "1000000",
                   "--highest-order", "10", "--quiet"])
        os.sync(); time.sleep(3)

        def outs(name):
            return [os.path.join(w, f"margin_{name}"), os.path.join(w, f"xmatch_{name}")]

        def cmds(binary, name):
            m, x = outs(name)
            return [[binary, "margin", cats["right"], "--radius", "1arcsec", "--output", m, "--quiet"],
                    [binary, "crossmatch", cats["left"], cats["right"], "--radius", "1arcsec", "--margin", m, "--output", x,
                     "--quiet"]]
        runs = alternate("xmatch", binaries, cmds, outs, a.repeat)
        same_m = identical(outs("before")[0], outs("after")[0])
        same_x = identical(outs("before")[1], outs("after")[1])
        report(f"margin + crossmatch ({rows:,} rows)", runs, f"margin {same_m}, crossmatch {same_x}")


if __name__ == "__main__":
    main()
