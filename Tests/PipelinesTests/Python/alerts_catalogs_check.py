"""Checks the catalogs `astropile alerts catalog` and `alerts lightcurves` made, with lsdb.

usage: alerts_catalogs_check.py ALERT_CATALOG LIGHTCURVE_CATALOG SOURCE...

SOURCE: .avro files or tar(.gz) archives of them (the lake's inputs). The alert catalog must hold
every alert once (by candid) with candidate a struct, prv_candidates nested and the cutouts'
bytes equal to fastavro's; the light-curve catalog one row per objectId whose nested `lc` (as
lsdb/nested-pandas load it) equals the detections computed here from fastavro: every alert's
candidate plus its prv_candidates with magpsf not null, de-duplicated by (jd, fid), sorted by jd.
Prints OK or raises.
"""
import io, math, sys, tarfile
import fastavro, lsdb

alert_cat, lc_cat, sources = sys.argv[1], sys.argv[2], sys.argv[3:]

def alerts():
    for path in sources:
        if ".tar" in path:
            with tarfile.open(path) as t:
                for m in t:
                    if m.isfile() and m.name.endswith(".avro"):
                        yield from fastavro.reader(io.BytesIO(t.extractfile(m).read()))
        else:
            with open(path, "rb") as h:
                yield from fastavro.reader(h)

truth = list(alerts())
cat = lsdb.open_catalog(alert_cat)
assert cat.hc_structure.catalog_info.ra_column == "ra"
df = cat.compute()
assert len(df) == len(truth), f"{len(df)} alerts in the catalog, {len(truth)} in the sources"
assert sorted(df["candid"]) == sorted(a["candid"] for a in truth)
by_candid = {a["candid"]: a for a in truth}
for _, row in df.iterrows():
    a = by_candid[row["candid"]]
    assert math.isclose(row["ra"], a["candidate"]["ra"]) and math.isclose(row["dec"], a["candidate"]["dec"])
    if "cutoutScience" in df.columns and a["cutoutScience"] is not None:
        assert row["cutoutScience"]["stampData"] == a["cutoutScience"]["stampData"]
    prv = a["prv_candidates"] or []
    got = row["prv_candidates"]
    n = 0 if got is None else len(got)
    assert n == len(prv), f"candid {a['candid']}: {n} prv_candidates, expected {len(prv)}"

objects = {}
for a in truth:
    points = [a["candidate"]] + [p for p in (a["prv_candidates"] or []) if p["magpsf"] is not None]
    objects.setdefault(a["objectId"], []).extend(points)
lc = lsdb.open_catalog(lc_cat).compute()
assert len(lc) == len(objects), f"{len(lc)} objects, expected {len(objects)}"
repeats = 0
for _, row in lc.iterrows():
    pts = sorted(objects[row["objectId"]], key=lambda p: (p["jd"], p["fid"]))
    seen, expected = set(), []
    for p in pts:
        if (p["jd"], p["fid"]) not in seen:
            seen.add((p["jd"], p["fid"]))
            expected.append(p)
    repeats += len(pts) - len(expected)
    curve = row["lc"]
    assert list(curve["jd"]) == [p["jd"] for p in expected], row["objectId"]
    assert list(curve["fid"]) == [p["fid"] for p in expected], row["objectId"]
    assert [float(m) for m in curve["magpsf"]] == [p["magpsf"] for p in expected], row["objectId"]
    assert row["nobs"] == len(expected) and row["jd_first"] == expected[0]["jd"] and row["jd_last"] == expected[-1]["jd"]
    assert math.isclose(row["dec"], sum(p["dec"] for p in expected) / len(expected), abs_tol=1e-9)
print(f"OK {len(df)} alerts, {len(lc)} objects, {repeats} repeated epochs dropped")
