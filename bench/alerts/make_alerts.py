"""Writes the alert-lake benchmark inputs: the fixture alerts replicated with varied ids,
positions, jd and cutout bytes (every cutout new random bytes of the fixture's length: real
cutouts are all different, already-compressed gzip FITS, so neither the tarball's gzip nor the
lake's zstd can shrink them), each alert its own Avro file with its writer's own schema (as ZTF
ships them), packed into nightly ztf_public_YYYYMMDD.tar.gz files (gzip level 6).

usage: make_alerts.py FIXTURE_DIR OUT ALERTS NIGHTS SEED
"""
import datetime, glob, io, os, random, subprocess, sys, tarfile
import fastavro
import numpy as np

fixture, out, total, nights, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)
templates = []
for path in sorted(glob.glob(os.path.join(fixture, "*.avro"))):
    with open(path, "rb") as h:
        r = fastavro.reader(h)
        templates.append((r.writer_schema, next(iter(r))))
os.makedirs(out, exist_ok=True)
per_night = total // nights
candid = 2_000_000_000_000_000_000
letters = "abcdefghijklmnopqrstuvwxyz"
objects = [f"ZTF21{''.join(rng.choice(letters) for _ in range(7))}" for _ in range(max(1, total // 5))]
where = {o: (rng.uniform(0, 360), rng.uniform(-30, 85)) for o in objects}

noise = np.random.default_rng(seed)

def vary(data):
    """A cutout of the same length, fresh random bytes after the gzip header (not a valid gzip any
    more: the benchmark never opens them)."""
    return data[:10] + noise.integers(0, 256, size=max(0, len(data) - 10), dtype=np.uint8).tobytes()

for n in range(nights):
    day = datetime.date(2021, 5, 1) + datetime.timedelta(days=n)
    jd0 = (datetime.datetime(day.year, day.month, day.day) - datetime.datetime(1970, 1, 1)).days + 2440587.5
    path = os.path.join(out, f"ztf_public_{day:%Y%m%d}.tar.gz")
    if os.path.exists(path):
        continue
    with subprocess.Popen(["gzip", "-6"], stdin=subprocess.PIPE, stdout=open(path + ".tmp", "wb")) as gz:
        with tarfile.open(fileobj=gz.stdin, mode="w|") as t:
            for i in range(per_night):
                schema, a = templates[rng.randrange(len(templates))]
                a = dict(a)
                candid += rng.randint(1, 10_000)
                o = rng.choice(objects)
                c = dict(a["candidate"])
                c["jd"] = jd0 + rng.uniform(3 / 24, 13 / 24)
                c["ra"], c["dec"] = where[o][0] + rng.gauss(0, 1e-5), where[o][1] + rng.gauss(0, 1e-5)
                c["candid"] = candid
                a.update(candid=candid, objectId=o, candidate=c)
                for cut in ("cutoutScience", "cutoutTemplate", "cutoutDifference"):
                    if a.get(cut):
                        a[cut] = dict(a[cut], stampData=vary(a[cut]["stampData"]))
                buf = io.BytesIO()
                fastavro.writer(buf, schema, [a])
                info = tarfile.TarInfo(f"{candid}.avro")
                info.size = buf.tell()
                info.mtime = 1_620_000_000
                buf.seek(0)
                t.addfile(info, buf)
    os.replace(path + ".tmp", path)
print(per_night * nights)
