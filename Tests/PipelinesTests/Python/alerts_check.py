"""Checks an AstroPile alert lake against fastavro's decoding of the same Avro files.

usage: alerts_check.py [--fits-cutouts] [--separate-cutouts] LAKE EXPECTED_ALERTS SOURCE...

SOURCE: .avro files or nightly tar(.gz) archives of them. Opens LAKE with pyarrow.dataset (hive
partitioning), checks it holds EXPECTED_ALERTS rows, that every alert of every SOURCE is in it
(by candid) with every field equal to fastavro's value (fields the writer schema lacks must be
null), floats stored as float32, cutouts byte-identical (with --fits-cutouts: gzip FITS that
astropy opens as 63x63 images), each file's rows sorted by (objectId, candidate.jd), and every
alert in the partition of its night (the archive's name, else the UTC date of jd + 4 h).
With --separate-cutouts the alert files must have no cutout columns and each part file a
_cutouts/ twin with the same candids and objectIds in the same order, whose cutouts are checked.
Prints OK or raises.
"""
import datetime, gzip, io, math, os, re, sys, tarfile
import fastavro
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from astropy.io import fits

args = sys.argv[1:]
fits_cutouts = "--fits-cutouts" in args
separate = "--separate-cutouts" in args
args = [a for a in args if a not in ("--fits-cutouts", "--separate-cutouts")]
CUTOUTS = ("cutoutScience", "cutoutTemplate", "cutoutDifference")
lake, expected, files = args[0], int(args[1]), args[2:]
dataset = ds.dataset(lake, format="parquet", partitioning="hive")
table = dataset.to_table()
assert table.num_rows == expected, f"{table.num_rows} rows, expected {expected}"
for name in ("year", "month", "day"):
    assert name in table.column_names, f"no hive partition column {name}"
cand = table.schema.field("candidate").type
assert pa.types.is_struct(cand)
assert cand.field("magpsf").type == pa.float32(), cand.field("magpsf").type
assert cand.field("jd").type == pa.float64()
assert pa.types.is_list(table.schema.field("prv_candidates").type)
assert pa.types.is_list(table.schema.field("fp_hists").type)
cutouts = {}
if separate:
    for c in CUTOUTS:
        assert c not in table.column_names, f"{c} in the alert files of a lake with separate cutouts"
    for frag in dataset.get_fragments():
        folder, name = os.path.split(frag.path)
        twin = pq.read_table(os.path.join(folder, "_cutouts", name))
        assert twin.column_names == ["candid", "objectId", *CUTOUTS], twin.column_names
        keys = frag.to_table(columns=["candid", "objectId"])
        for k in ("candid", "objectId"):
            assert twin.column(k).to_pylist() == keys.column(k).to_pylist(), f"{frag.path}: _cutouts/{name} {k} not row for row"
        for r in twin.to_pylist():
            cutouts[r["candid"]] = r
    assert len(cutouts) == expected, f"{len(cutouts)} rows in the cutout tables, expected {expected}"
    cut = twin.schema.field("cutoutScience").type
else:
    cut = table.schema.field("cutoutScience").type
assert cut.field("stampData").type == pa.binary() and cut.field("fileName").type == pa.string(), cut

rows = {}
for r in table.to_pylist():
    assert r["candid"] not in rows, f"candid {r['candid']} twice"
    if separate:
        r.update({c: cutouts[r["candid"]][c] for c in CUTOUTS})
    rows[r["candid"]] = r

def night_of(jd):
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(days=jd - 2440587.5 + 4 / 24)
    return t.year, t.month, t.day

def alerts_of(path):
    m = re.search(r"ztf_public_(\d{4})(\d{2})(\d{2})", path)
    if ".tar" in path:
        with tarfile.open(path) as t:
            for member in t:
                if member.isfile() and member.name.endswith(".avro"):
                    for a in fastavro.reader(io.BytesIO(t.extractfile(member).read())):
                        yield a, (tuple(int(x) for x in m.groups()) if m else night_of(a["candidate"]["jd"]))
    else:
        with open(path, "rb") as h:
            for a in fastavro.reader(h):
                yield a, night_of(a["candidate"]["jd"])

def same(a, b, path):
    if isinstance(b, dict):
        assert isinstance(a, dict), f"{path}: {a!r} is not a record"
        for k in a:
            if k not in b:
                assert a[k] is None, f"{path}.{k}: {a[k]!r} but the writer schema has no such field"
        for k, v in b.items():
            assert k in a, f"{path}.{k} missing from the lake"
            same(a[k], v, f"{path}.{k}")
    elif isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), f"{path}: lengths {None if a is None else len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(b, float):
        assert isinstance(a, float) and (a == b or (math.isnan(a) and math.isnan(b))), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"

checked = 0
for f in files:
    for alert, night in alerts_of(f):
        r = rows.get(alert["candid"])
        assert r is not None, f"{f}: candid {alert['candid']} not in the lake"
        assert (r["year"], r["month"], r["day"]) == night, f"{f}: candid {alert['candid']} in {r['year']}-{r['month']}-{r['day']}, expected {night}"
        same({k: v for k, v in r.items() if k not in ("year", "month", "day")}, alert, f"{f}:{alert['candid']}")
        for c in ("cutoutScience", "cutoutTemplate", "cutoutDifference"):
            if alert.get(c) is not None:
                data = r[c]["stampData"]
                assert data == alert[c]["stampData"]
                if fits_cutouts:
                    with fits.open(io.BytesIO(gzip.decompress(data))) as hdul:
                        assert hdul[0].data.shape == (63, 63), hdul[0].data.shape
        checked += 1
assert checked == expected, f"{checked} alerts in the sources, {expected} expected"

# Sorted by (objectId, jd) inside each file (the files of a night are consecutive ranges).
for frag in dataset.get_fragments():
    t = frag.to_table()
    ids = t.column("objectId").to_pylist()
    jds = t.column("candidate").combine_chunks().field("jd").to_pylist()
    keys = list(zip(ids, jds))
    assert keys == sorted(keys), f"{frag.path} is not sorted by (objectId, jd)"
print(f"OK {checked} alerts equal to fastavro, {table.num_rows} rows")
