"""Checks `astropile project` light curves from an alert lake against pyarrow/pandas on the lake.

usage:
  project_alerts.py sources LAKE OUT_CSV
      one source per objectId of the lake at the mean position of its alerts (candidate ra/dec),
      plus a source "empty" where there is no object; prints the number of sources.
  project_alerts.py check LAKE PRODUCTS
      the detections of each object (candidates plus prv_candidates with magpsf, one per (jd, fid)),
      cut as the reduction does (fid 1/2/3, magpsf not above diffmaglim), against the points of the
      source's light-curve product (read through the registry): the same count per filter, the
      same mjd = jd - 2400000.5, flux negative exactly where isdiffpos is f or 0; prints
      "OK <sources> sources <points> points".
"""
import glob, math, os, sqlite3, sys
import pyarrow.dataset as ds
import pyarrow.parquet as pq

FILTERS = {1: "zg", 2: "zr", 3: "zi"}


def detections(lake):
    t = ds.dataset(lake, format="parquet", partitioning="hive").to_table(columns=["objectId", "candidate", "prv_candidates"])
    per = {}
    for oid, cand, prv in zip(t["objectId"].to_pylist(), t["candidate"].to_pylist(), t["prv_candidates"].to_pylist()):
        pts = per.setdefault(oid, {"pos": [], "points": {}})
        pts["pos"].append((cand["ra"], cand["dec"]))
        for p in [cand] + (prv or []):
            if p.get("magpsf") is None or p.get("jd") is None or p.get("fid") is None:
                continue
            pts["points"].setdefault((p["jd"], p["fid"]), p)
    return per


def main():
    mode = sys.argv[1]
    per = detections(sys.argv[2])
    if mode == "sources":
        rows = []
        for oid, v in sorted(per.items()):
            x = sum(math.cos(math.radians(r)) for r, _ in v["pos"])
            y = sum(math.sin(math.radians(r)) for r, _ in v["pos"])
            ra = math.degrees(math.atan2(y, x)) % 360
            dec = sum(d for _, d in v["pos"]) / len(v["pos"])
            rows.append(f"{oid},{ra:.9f},{dec:.9f}")
        rows.append("empty,123.0,-45.0")
        with open(sys.argv[3], "w") as f:
            f.write("name,ra,dec\n" + "\n".join(rows) + "\n")
        print(len(rows))
        return
    products = sys.argv[3]
    db = sqlite3.connect(os.path.join(products, "registry.sqlite"))
    paths = dict(db.execute("SELECT s.name, p.path FROM products p JOIN sources s ON s.id = p.source_id WHERE p.kind = 'lightcurves'"))
    total = 0
    for name in list(per) + ["empty"]:
        t = pq.read_table(os.path.join(products, paths[name]))
        got = {}
        for f, mjd, flux in zip(t["filter"].to_pylist(), t["mjd"].to_pylist(), t["flux_ujy"].to_pylist()):
            for m, x in zip(mjd, flux):
                got.setdefault(f, []).append((round(m, 7), x < 0))
        want = {}
        for (jd, fid), p in (per[name]["points"].items() if name in per else []):
            if fid not in FILTERS or p.get("diffmaglim") is None or not p["magpsf"] <= p["diffmaglim"]:
                continue
            want.setdefault(FILTERS[fid], []).append((round(jd - 2400000.5, 7), p.get("isdiffpos") in ("f", "0")))
        for k in set(got) | set(want):
            a, b = sorted(got.get(k, [])), sorted(want.get(k, []))
            assert a == b, f"{name} {k}: astropile {a} pandas {b}"
            total += len(a)
    print(f"OK {len(per) + 1} sources {total} points")


main()
