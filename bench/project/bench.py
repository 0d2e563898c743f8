"""bench/project: N synthetic sources (~500-epoch light curves served from 127.0.0.1): fetch +
reduce + analyse + 10 injections each, AstroPile vs a numpy/pandas implementation of the same steps
(urllib, pandas.read_csv, the same cuts, seasons, median/MAD finder and injections), run on a subset
of the sources in one process. Prints sources/s, per core, and peak memory."""
import argparse, os, random, subprocess, sys, tempfile, time, urllib.request
import numpy as np, pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchlib import timed

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))


def reference(base, positions, per_source=10, amps=(1, 3, 5, 10, 30), durs=(1, 3, 10, 30), thr=5.0, min_epochs=2, gap=60.0, seed=1):
    """The project's steps per source in numpy/pandas (what an astronomer writes today)."""
    rng = np.random.default_rng(seed)
    detections = injected = recovered = 0

    def find(t, f, med, sig):
        above = (f - med) / sig >= thr
        ev, n = [], 0
        for i, a in enumerate(above):
            if a:
                n += 1
            else:
                if n >= min_epochs: ev.append((i - n, i - 1))
                n = 0
        if n >= min_epochs: ev.append((len(above) - n, len(above) - 1))
        return ev

    for ra, dec in positions:
        url = f"{base}?POS=CIRCLE%20{ra:.7f}%20{dec:+.7f}%20{2/3600:.8f}&FORMAT=CSV".replace("+", "%2B")
        with urllib.request.urlopen(url) as r:
            d = pd.read_csv(r)
        d = d[(d.catflags & 65535) == 0]
        d = d[d.mag.notna() & (d.mag <= d.limitmag)]
        curves = []
        for f, x in d.groupby("filtercode"):
            x = x.sort_values("mjd")
            season = np.concatenate([[0], np.cumsum(np.diff(x.mjd.values) > gap)])
            for s in np.unique(season):
                q = x[season == s]
                if len(q) >= min_epochs: curves.append((q.mjd.values, 10 ** (-0.4 * (q.mag.values - 23.9))))
        for k, (t, flux) in enumerate(curves):
                # per_source injections per source, spread over its light curves (as AstroPile does)
                n = per_source // len(curves) + (1 if k < per_source % len(curves) else 0)
                med = np.median(flux); sig = 1.4826 * np.median(np.abs(flux - med))
                if not sig > 0: continue
                real = find(t, flux, med, sig)
                detections += len(real)
                for _ in range(n):
                    t0 = t[rng.integers(len(t))]; dd = durs[rng.integers(len(durs))]
                    dt = t - t0
                    prof = np.where(dt < 0, 0, np.exp(-np.clip(dt, 0, None) / dd))
                    for a in amps:
                        ev = find(t, flux + a * sig * prof, med, sig)
                        injected += 1
                        if any(t[e[0]] <= t0 + 3 * dd and t[e[1]] >= t0 for e in ev): recovered += 1
    return detections, injected, recovered


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--astropile", required=True)
    p.add_argument("--sources", type=int, default=10000)
    p.add_argument("--reference-sources", type=int, default=300)
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--jobs", type=int, default=os.cpu_count())
    p.add_argument("--fixture", action="store_true",
                   help="serve the shared ZTF fixture light curve (1852 epochs, 10 curves) for every source instead of synthetic ones")
    p.add_argument("--astroretriever", metavar="DIR",
                   help="AstroRetriever's checkout and venv (bench/project/astroretriever-setup.sh): its Project.run() is timed too, on the fixture")
    p.add_argument("--astroretriever-sources", type=int, default=20)
    a = p.parse_args()
    fixture = os.path.join(ROOT, "fixtures", "ztf-lightcurves", "ZTF_lightcurve.csv")
    work = tempfile.mkdtemp(prefix="bench-project-", dir=os.path.join(ROOT, ".bench-project") if os.path.isdir(os.path.join(ROOT, ".bench-project")) else None)
    rng = random.Random(7)
    positions = [(rng.uniform(0, 360), rng.uniform(-30, 80)) for _ in range(a.sources)]
    with open(f"{work}/sources.csv", "w") as f:
        f.write("name,ra,dec\n")
        for i, (ra, dec) in enumerate(positions): f.write(f"s{i},{ra:.7f},{dec:.7f}\n")
    served = ["--fixture", fixture] if a.fixture else ["--synthetic", str(a.epochs)]
    server = subprocess.Popen([sys.executable, f"{ROOT}/Tests/PipelinesTests/Python/irsa_server.py"] + served,
                              stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    base = f"http://127.0.0.1:{port}/cgi-bin/ZTF/nph_light_curves"
    try:
        subprocess.run([a.astropile, "project", "init", "bench", "--catalog", "sources.csv", "--base", base,
                        "--output", f"{work}/bench.yaml"], check=True, capture_output=True)
        y = open(f"{work}/bench.yaml").read().replace('  # name: "NAME"', '  name: "name"')
        open(f"{work}/bench.yaml", "w").write(y)
        wall, rss, _ = timed([a.astropile, "project", "run", f"{work}/bench.yaml", "--quiet", "--jobs", str(a.jobs)])
        st = subprocess.run([a.astropile, "project", "status", f"{work}/bench.yaml"], capture_output=True, text=True).stdout
        # The same steps with every raw file already on disk (another project on the same root
        # adopts them): the per-source work without HTTP, as AstroRetriever's figure is.
        subprocess.run([a.astropile, "project", "init", "local", "--catalog", "sources.csv", "--base", base,
                        "--output", f"{work}/local.yaml"], check=True, capture_output=True)
        y = open(f"{work}/local.yaml").read().replace('  # name: "NAME"', '  name: "name"')
        open(f"{work}/local.yaml", "w").write(y)
        local_wall, local_rss, _ = timed([a.astropile, "project", "run", f"{work}/local.yaml", "--quiet", "--jobs", str(a.jobs)])
        t = time.time()
        det, inj, rec = reference(base, positions[: a.reference_sources])
        ref = time.time() - t
        import resource
        ref_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        server.terminate()
    ap_rate = a.sources / wall
    ref_rate = a.reference_sources / ref
    print(st)
    print(f"{'':34} {'sources':>8} {'wall s':>8} {'sources/s':>10} {'s/source':>9} {'per core/s':>10} {'peak MiB':>9}")
    print(f"{'astropile project run':34} {a.sources:8d} {wall:8.1f} {ap_rate:10.1f} {1/ap_rate:9.4f} {ap_rate/a.jobs:10.1f} {rss:9.0f}")
    local_rate = a.sources / local_wall
    print(f"{'  the same, raw files on disk':34} {a.sources:8d} {local_wall:8.1f} {local_rate:10.1f} {1/local_rate:9.4f} {local_rate/a.jobs:10.1f} {local_rss:9.0f}")
    print(f"{'numpy/pandas (same steps, 1 core)':34} {a.reference_sources:8d} {ref:8.1f} {ref_rate:10.1f} {1/ref_rate:9.4f} {ref_rate:10.1f} {ref_rt(ref_rss):>9}")
    print(f"per source: astropile {ap_rate/ref_rate:.1f}x the numpy/pandas recipe ({(ap_rate/a.jobs)/ref_rate:.1f}x per core); "
          f"reference: {det} detections, {inj} injections, {rec} recovered")
    if a.astroretriever:
        import json
        out = {}
        for hist in ("off", "on"):
            n = a.astroretriever_sources if hist == "off" else max(2, a.astroretriever_sources // 5)
            r = subprocess.run([f"{a.astroretriever}/venv/bin/python", f"{ROOT}/bench/project/astroretriever.py",
                                "--src", f"{a.astroretriever}/src-checkout", "--lightcurve", fixture,
                                "--sources", str(n), "--histograms", hist], capture_output=True, text=True, check=True)
            out[hist] = json.loads(r.stdout.strip().splitlines()[-1])
        for hist, r in out.items():
            print(f"{'AstroRetriever Project.run(), hist ' + hist:34} {r['sources']:8d} {r['seconds']:8.1f} {1/r['s_per_source']:10.2f} "
                  f"{r['s_per_source']:9.4f} {1/r['s_per_source']:10.2f}")
        print(f"per source, raw files on disk (as AstroRetriever ran): astropile {out['off']['s_per_source'] * local_rate:.0f}x "
              f"AstroRetriever with its histograms off, {out['on']['s_per_source'] * local_rate:.0f}x with them on "
              f"({out['off']['s_per_source'] * local_rate / a.jobs:.0f}x / {out['on']['s_per_source'] * local_rate / a.jobs:.0f}x per core)")
        print(f"per source, with the downloads: astropile {out['off']['s_per_source'] * ap_rate:.0f}x AstroRetriever with its histograms off, "
              f"{out['on']['s_per_source'] * ap_rate:.0f}x with them on ({(out['off']['s_per_source'] * ap_rate / a.jobs):.0f}x / "
              f"{(out['on']['s_per_source'] * ap_rate / a.jobs):.0f}x per core)"
              + ("" if a.fixture else "; note: AstroRetriever ran on the fixture light curve, AstroPile on synthetic ones (use --fixture)"))


def ref_rt(x):
    return f"{x:.0f}"


if __name__ == "__main__":
    main()
