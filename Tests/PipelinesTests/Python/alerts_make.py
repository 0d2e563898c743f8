"""Writes test inputs for `astropile alerts ingest`.

usage:
  alerts_make.py synthetic OUT SCHEMA_DIR NIGHTS ALERTS_PER_NIGHT SEED
      random alerts under the 4.02 schema (SCHEMA_DIR/*.avsc) written with fastavro, one Avro file
      per alert, packed into OUT/ztf_public_YYYYMMDD.tar.gz (one per night, from 2020-03-01 on);
      objectIds drawn from a pool so objects have several alerts; prints the total.
  alerts_make.py fixtures OUT AVRO...
      the fixture alerts packed into nightly OUT/ztf_public_YYYYMMDD.tar.gz by the night of
      candidate.jd (UTC date of jd + 4 h).
  alerts_make.py bad OUT GOOD_AVRO...
      three bad archives: ztf_public_20200101.tar.gz truncated mid-stream, ztf_public_20200102.tar.gz
      with one good member and one whose sync marker is damaged, ztf_public_20200103.tar.gz with a
      good member, a '../escape.avro' member, an absolute '/tmp/abs.avro' member and a symlink.
"""
import datetime, io, os, random, sys, tarfile
import fastavro
from fastavro.schema import parse_schema
import json

def night_of(jd):
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(days=jd - 2440587.5 + 4 / 24)
    return f"{t.year:04d}{t.month:02d}{t.day:02d}"

def pack(path, members):
    """members: list of (name, bytes)."""
    tmp = path + ".tmp"
    with tarfile.open(tmp, "w:gz") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_600_000_000
            t.addfile(info, io.BytesIO(data))
    os.replace(tmp, path)

def load_402(schema_dir):
    """The 4.02 alert schema with its named types defined inline (first use), as ZTF's own files carry it."""
    defs = {f"ztf.alert.{n}": json.load(open(os.path.join(schema_dir, n + ".avsc"))) for n in ("cutout", "candidate", "prv_candidate", "fp_hist")}
    seen = set()
    def inline(x):
        if isinstance(x, dict):
            return {k: inline(v) for k, v in x.items()}
        if isinstance(x, list):
            return [inline(v) for v in x]
        if isinstance(x, str) and x in defs and x not in seen:
            seen.add(x)
            return inline(defs[x])
        return x
    full = inline(json.load(open(os.path.join(schema_dir, "alert.avsc"))))
    named = {}
    return parse_schema(full, named_schemas=named), named

def value(rng, t, named, name=""):
    if isinstance(t, str) and t in named:
        t = named[t]
    if isinstance(t, list):
        if "null" in t and rng.random() < 0.2:
            return None
        return value(rng, rng.choice([b for b in t if b != "null"]), named, name)
    if isinstance(t, dict):
        kind = t["type"]
        if kind == "record":
            return {f["name"]: value(rng, f["type"], named, f["name"]) for f in t["fields"]}
        if kind == "array":
            return [value(rng, t["items"], named, name) for _ in range(rng.randint(0, 4))]
        return value(rng, kind, named, name)
    if t == "double":
        return rng.uniform(-1e6, 1e6)
    if t == "float":
        return rng.uniform(-1e3, 1e3)
    if t == "int":
        return rng.randint(-2**31, 2**31 - 1)
    if t == "long":
        return rng.randint(-2**63, 2**63 - 1)
    if t == "boolean":
        return rng.random() < 0.5
    if t == "string":
        return "".join(rng.choice("abcdefXYZ019_é") for _ in range(rng.randint(0, 12)))
    if t == "bytes":
        return rng.randbytes(rng.randint(0, 200))
    if t == "null":
        return None
    raise ValueError(f"no generator for {t}")

def synthetic(out, schema_dir, nights, per_night, seed):
    rng = random.Random(seed)
    schema, named = load_402(schema_dir)
    pool = [f"ZTF20{''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(7))}" for _ in range(max(3, per_night // 3))]
    # Each object sits at one place; its alerts repeat its earlier detections in prv_candidates
    # (as ZTF's do), plus an upper limit now and then.
    where = {o: (rng.uniform(0, 360), rng.uniform(-30, 80)) for o in pool}
    history = {o: [] for o in pool}
    prv_fields = [f["name"] for f in named["ztf.alert.prv_candidate"]["fields"]]
    total, candid = 0, 1_000_000_000_000_000_000
    os.makedirs(out, exist_ok=True)
    for k in range(nights):
        day = datetime.date(2020, 3, 1) + datetime.timedelta(days=k)
        base_jd = (datetime.datetime(day.year, day.month, day.day) - datetime.datetime(1970, 1, 1)).days + 2440587.5
        members = []
        for i in range(per_night):
            a = value(rng, schema, named)
            candid += rng.randint(1, 1000)
            a["candid"] = candid
            o = rng.choice(pool)
            a["objectId"] = o
            a["schemavsn"] = "4.02"
            c = a["candidate"]
            # Observations between 03:00 and 13:00 UTC of the night's date.
            c["jd"] = base_jd + rng.uniform(3 / 24, 13 / 24)
            c["ra"], c["dec"] = where[o][0] + rng.gauss(0, 1e-5), where[o][1] + rng.gauss(0, 1e-5)
            c["fid"] = rng.choice([1, 2, 3])
            c["magpsf"] = rng.uniform(15, 21)
            c["candid"] = a["candid"]
            prv = [dict(h) for h in history[o][-4:]]
            if rng.random() < 0.3:
                limit = value(rng, named["ztf.alert.prv_candidate"], named)
                limit.update(jd=c["jd"] - rng.uniform(0.5, 3), fid=1, magpsf=None, candid=None, ra=None, dec=None)
                prv.append(limit)
            a["prv_candidates"] = prv if prv or rng.random() < 0.5 else None
            history[o].append({f: c[f] for f in prv_fields})
            buf = io.BytesIO()
            fastavro.writer(buf, schema, [a])
            members.append((f"{a['candid']}.avro", buf.getvalue()))
            total += 1
        pack(os.path.join(out, f"ztf_public_{day:%Y%m%d}.tar.gz"), members)
    print(total)

def fixtures(out, files):
    by_night = {}
    for f in files:
        data = open(f, "rb").read()
        for a in fastavro.reader(io.BytesIO(data)):
            by_night.setdefault(night_of(a["candidate"]["jd"]), []).append((os.path.basename(f), data))
            break
    os.makedirs(out, exist_ok=True)
    for night, members in by_night.items():
        pack(os.path.join(out, f"ztf_public_{night}.tar.gz"), members)
    print(sum(len(m) for m in by_night.values()))

def bad(out, files):
    os.makedirs(out, exist_ok=True)
    good = [open(f, "rb").read() for f in files]
    # 1. truncated gzip stream
    pack(os.path.join(out, "full.tar.gz"), [("a.avro", good[0]), ("b.avro", good[1])])
    data = open(os.path.join(out, "full.tar.gz"), "rb").read()
    open(os.path.join(out, "ztf_public_20200101.tar.gz"), "wb").write(data[: len(data) * 2 // 3])
    os.remove(os.path.join(out, "full.tar.gz"))
    # 2. a corrupt Avro member: the sync marker after its block damaged
    broken = bytearray(good[1])
    broken[-3] ^= 0xFF
    pack(os.path.join(out, "ztf_public_20200102.tar.gz"), [("good.avro", good[0]), ("broken.avro", bytes(broken))])
    # 3. unsafe members
    path = os.path.join(out, "ztf_public_20200103.tar.gz")
    with tarfile.open(path, "w:gz") as t:
        for name, data in (("good.avro", good[2]), ("../escape.avro", good[0]), ("/tmp/abs.avro", good[1])):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link.avro")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        t.addfile(link)

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "synthetic":
        synthetic(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    elif mode == "fixtures":
        fixtures(sys.argv[2], sys.argv[3:])
    elif mode == "bad":
        bad(sys.argv[2], sys.argv[3:])
    else:
        raise SystemExit(__doc__)
