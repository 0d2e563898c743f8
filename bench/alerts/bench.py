"""bench/alerts: AstroPile `alerts ingest` vs the Fink recipe (tarfile + fastavro + pyarrow zstd
Parquet, one process per core) on the same nightly tarballs, in one run; plus the floor, gzip
decompression alone (gzip -dc, one process per core). Release build.

usage: bench.py --astropile PATH [--alerts N] [--nights K] [--work DIR]
"""
import argparse, glob, os, shutil, subprocess, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchlib import timed

ap = argparse.ArgumentParser()
ap.add_argument("--astropile", required=True)
ap.add_argument("--alerts", type=int, default=100_000)
ap.add_argument("--nights", type=int, default=20)
ap.add_argument("--work", default=".bench-alerts")
args = ap.parse_args()
here = os.path.dirname(os.path.abspath(__file__))
python = sys.executable
cores = os.cpu_count() or 1
inputs = os.path.join(args.work, f"in-{args.alerts}-{args.nights}-random-cutouts")
t = time.time()
subprocess.run([python, os.path.join(here, "make_alerts.py"), os.path.join(here, "../../fixtures/ztf-alerts"),
                inputs, str(args.alerts), str(args.nights), "12"], check=True, capture_output=True)
tarballs = sorted(glob.glob(os.path.join(inputs, "ztf_public_*.tar.gz")))
size = sum(os.path.getsize(p) for p in tarballs) / 1e6
alerts = args.alerts // args.nights * args.nights
print(f"inputs: {alerts} alerts in {len(tarballs)} nightly tar.gz, {size:.0f} MB (made or found in {time.time() - t:.0f} s); {cores} cores")

floor, floor_rss, _ = timed(["bash", "-c", f"printf '%s\\0' {' '.join(tarballs)} | xargs -0 -n 1 -P {cores} sh -c 'gzip -dc \"$0\" > /dev/null'"])

lake = os.path.join(args.work, "lake")
shutil.rmtree(lake, ignore_errors=True)
ours, ours_rss, _ = timed([args.astropile, "alerts", "ingest", inputs, "--output", lake, "--jobs", str(cores), "--quiet"])

fink_out = os.path.join(args.work, "fink")
shutil.rmtree(fink_out, ignore_errors=True)
fink, fink_rss, out = timed([python, os.path.join(here, "fink_recipe.py"), fink_out, str(cores)] + tarballs)
assert int(out.split()[-1]) == alerts, out

def du(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs) / 1e6

print(f"{'':28}{'wall s':>9}{'alerts/s/core':>15}{'MB/s/core':>11}{'peak MiB':>10}")
for name, s, rss in (("gzip -dc (floor)", floor, floor_rss), ("astropile alerts ingest", ours, ours_rss),
                     ("Fink recipe (fastavro+pyarrow)", fink, fink_rss)):
    print(f"{name:28}{s:9.1f}{alerts / s / cores:15.0f}{size / s / cores:11.1f}{rss:10.0f}")
print(f"AstroPile vs the Fink recipe: {fink / ours:.1f}x faster per core; vs the gzip floor: {ours / floor:.2f}x its time")
print(f"lake {du(lake):.0f} MB (AstroPile), {du(fink_out):.0f} MB (Fink recipe); peak MiB: the largest single process")
