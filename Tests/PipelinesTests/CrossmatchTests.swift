import Foundation
import Formats
import Pipelines
import Sky
import Testing
import TestSupport

@testable import AstroPileCLI

/// Cross-matches of the shared fixture compared with astropy, pair for pair.
@Suite("Cross-match against astropy", .serialized)
struct CrossmatchTests {
    /// Compares a cross-match output with astropy on the original inputs; prints a JSON verdict.
    static let compare = #"""
import sys, json, numpy as np, pyarrow.parquet as pq, pyarrow.dataset as ds
import astropy.units as u
from astropy.coordinates import SkyCoord, search_around_sky
lf, rf, outdir, mode, radius, how = sys.argv[1:7]
radius = float(radius) * u.arcsec
L = pq.read_table(lf); R = pq.read_table(rf)
lc = SkyCoord(L["ra"].to_numpy() * u.deg, L["dec"].to_numpy() * u.deg)
rc = SkyCoord(R["ra"].to_numpy() * u.deg, R["dec"].to_numpy() * u.deg)
lid = L["id"].to_numpy(); rid = R["id"].to_numpy()
if mode == "all":
    i1, i2, sep, _ = search_around_sky(lc, rc, radius)
else:
    idx, sep, _ = lc.match_to_catalog_sky(rc)
    keep = sep <= radius
    i1 = np.nonzero(keep)[0]; i2 = idx[keep]; sep = sep[keep]
K = np.int64(10_000_000)
ek = lid[i1].astype(np.int64) * K + rid[i2].astype(np.int64); es = sep.to_value(u.arcsec)
T = ds.dataset(outdir + "/dataset", format="parquet", exclude_invalid_files=True).to_table(columns=["id_left", "id_right", "_dist_arcsec"])
a = T["id_left"].to_numpy(zero_copy_only=False)
b = T["id_right"].to_numpy(zero_copy_only=False)
d = T["_dist_arcsec"].to_numpy(zero_copy_only=False)
nulls = T["id_right"].is_null().to_numpy(zero_copy_only=False)
unmatched = int(nulls.sum())
gk = a[~nulls].astype(np.int64) * K + b[~nulls].astype(np.int64); gs = d[~nulls].astype(np.float64)
missing = np.setdiff1d(ek, gk); extra = np.setdiff1d(gk, ek)
common, ei, gi = np.intersect1d(ek, gk, return_indices=True)
dd = float(np.abs(es[ei] - gs[gi]).max()) if len(common) else 0.0
dup = len(gk) - len(np.unique(gk))
print(json.dumps({"expected": int(len(ek)), "got": int(len(gk)), "rows": T.num_rows, "unmatched": unmatched,
                  "missing": [[int(m // K), int(m % K)] for m in missing[:10]], "extra": [[int(m // K), int(m % K)] for m in extra[:10]],
                  "nmissing": int(len(missing)), "nextra": int(len(extra) + dup), "max_dist_diff": dd, "left_rows": L.num_rows,
                  "matched_left": int(len(np.unique(lid[i1])))}))
"""#

    struct Verdict: Decodable {
        var expected: Int
        var got: Int
        var rows: Int
        var unmatched: Int
        var nmissing: Int
        var nextra: Int
        var missing: [[Int64]]
        var extra: [[Int64]]
        var max_dist_diff: Double
        var left_rows: Int
        var matched_left: Int
    }

    static func verdict(_ f: CrossmatchFixture, output: String, mode: String, radius: Double = 1, how: String = "inner") throws -> Verdict {
        let text = try TestSupport.runPython(compare, arguments: [f.leftFile, f.rightFile, output, mode, String(radius), how])
        return try JSONDecoder().decode(Verdict.self, from: Data(text.utf8))
    }

    @Test func allPairsEqualSearchAroundSky() throws {
        let f = try CrossmatchFixture.get()
        var c = CrossmatchConfig(left: f.left, right: f.right, output: f.dir + "/x_all", radiusArcsec: 1)
        c.mode = .allPairs
        c.jobs = 2
        let report = try CrossmatchPipeline.run(c, progress: false)
        let v = try Self.verdict(f, output: c.output, mode: "all")
        #expect(v.expected > f.rows / 3, "the fixture should have many pairs")
        #expect(v.nmissing == 0, "pairs astropy finds but AstroPile lost: \(v.missing)")
        #expect(v.nextra == 0, "pairs AstroPile found that astropy does not: \(v.extra)")
        #expect(v.got == v.expected)
        #expect(v.max_dist_diff < 1e-6, "_dist_arcsec differs from astropy's separation by \(v.max_dist_diff) arcsec")
        #expect(report.outputRows == Int64(v.expected))
        #expect(report.partitions == (try HATSCatalog.open(f.left)).partitions.count)
    }

    @Test func nearestEqualsMatchToCatalogSky() throws {
        let f = try CrossmatchFixture.get()
        var c = CrossmatchConfig(left: f.left, right: f.right, output: f.dir + "/x_nearest", radiusArcsec: 1)
        c.jobs = 2
        let report = try CrossmatchPipeline.run(c, progress: false)
        let v = try Self.verdict(f, output: c.output, mode: "nearest")
        #expect(v.nmissing == 0, "missing: \(v.missing)")
        #expect(v.nextra == 0, "extra: \(v.extra)")
        #expect(v.got == v.expected && v.expected > 0)
        #expect(report.matchedLeftRows == Int64(v.matched_left))
    }

    @Test func leftJoinKeepsEveryLeftRowOnce() throws {
        let f = try CrossmatchFixture.get()
        var c = CrossmatchConfig(left: f.left, right: f.right, output: f.dir + "/x_leftjoin", radiusArcsec: 1)
        c.join = .left
        c.jobs = 2
        _ = try CrossmatchPipeline.run(c, progress: false)
        let v = try Self.verdict(f, output: c.output, mode: "nearest", how: "left")
        #expect(v.nmissing == 0 && v.nextra == 0)
        #expect(v.rows == v.left_rows, "a left join has one row per left row in nearest-1 mode")
        #expect(v.unmatched == v.left_rows - v.matched_left)
    }

    @Test func minimumRadiusAndTwoNeighbours() throws {
        let f = try CrossmatchFixture.get()
        var c = CrossmatchConfig(left: f.left, right: f.right, output: f.dir + "/x_k2", radiusArcsec: 1)
        c.mode = .nearest(2)
        c.minRadiusArcsec = 0.5
        c.jobs = 2
        _ = try CrossmatchPipeline.run(c, progress: false)
        let script = #"""
import sys, json, numpy as np, pyarrow.parquet as pq, pyarrow.dataset as ds
import astropy.units as u
from astropy.coordinates import SkyCoord, search_around_sky
L = pq.read_table(sys.argv[1]); R = pq.read_table(sys.argv[2])
lc = SkyCoord(L["ra"].to_numpy() * u.deg, L["dec"].to_numpy() * u.deg); rc = SkyCoord(R["ra"].to_numpy() * u.deg, R["dec"].to_numpy() * u.deg)
i1, i2, sep, _ = search_around_sky(lc, rc, 1 * u.arcsec)
keep = sep > 0.5 * u.arcsec
i1, i2, sep = i1[keep], i2[keep], sep[keep].to_value(u.arcsec)
order = np.lexsort((sep, i1))
exp = set(); count = {}
for a, b in zip(i1[order], i2[order]):
    if count.get(a, 0) < 2:
        exp.add((int(L["id"][int(a)].as_py()), int(R["id"][int(b)].as_py()))); count[a] = count.get(a, 0) + 1
T = ds.dataset(sys.argv[3] + "/dataset", format="parquet").to_table(columns=["id_left", "id_right", "_dist_arcsec"])
got = set(zip(T["id_left"].to_pylist(), T["id_right"].to_pylist()))
print(json.dumps({"expected": len(exp), "got": len(got), "missing": len(exp - got), "extra": len(got - exp),
                  "min_dist": min(T["_dist_arcsec"].to_pylist() or [1])}))
"""#
        let out = try TestSupport.runPython(script, arguments: [f.leftFile, f.rightFile, c.output])
        struct V: Decodable { var expected: Int; var got: Int; var missing: Int; var extra: Int; var min_dist: Double }
        let v = try JSONDecoder().decode(V.self, from: Data(out.utf8))
        #expect(v.missing == 0 && v.extra == 0 && v.expected == v.got && v.expected > 0, "\(out)")
        #expect(v.min_dist > 0.5)
    }

    @Test func lsdbOpensTheMarginAndTheOutput() throws {
        let f = try CrossmatchFixture.get()
        var c = CrossmatchConfig(left: f.left, right: f.right, output: f.dir + "/x_lsdb", radiusArcsec: 1)
        c.jobs = 2
        let report = try CrossmatchPipeline.run(c, progress: false)
        let script = #"""
import sys, lsdb, hats
from hats.io.validation import is_valid_catalog
right, margin, out = sys.argv[1:4]
m = hats.read_hats(margin)
assert m.catalog_info.catalog_type == "margin", m.catalog_info.catalog_type
assert abs(m.catalog_info.margin_threshold - 1.0) < 1e-12
assert is_valid_catalog(margin, strict=True), "margin not valid"
assert is_valid_catalog(out, strict=True), "output not valid"
cat = lsdb.open_catalog(right, margin_cache=margin)
mdf = cat.margin.compute()
x = lsdb.open_catalog(out).compute()
print(len(mdf), len(x))
"""#
        let text = try TestSupport.runPython(script, arguments: [f.right, f.margin, c.output])
        let parts = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(parts.count == 2)
        #expect(parts.first ?? 0 > 0, "the margin has rows")
        #expect(parts.last.map(Int64.init) == report.outputRows)
    }

    @Test func marginRowsAreWithinTheThresholdOfTheirPixel() throws {
        let f = try CrossmatchFixture.get()
        // Every margin row lies outside its pixel and within 1″ (+ sampling error) of its boundary,
        // measured in Python on a dense sampling of the pixel's edges; and the primary rows within
        // 0.9″ of another pixel's sampled boundary are all in that pixel's margin.
        let script = #"""
import sys, numpy as np, pyarrow.parquet as pq, pyarrow.dataset as ds, astropy.units as u
from cdshealpix import nested
import hats
right, margin = sys.argv[1:3]
m = hats.read_hats(margin)
def boundary(order, pix, k=400):
    pts = []
    t = np.linspace(0, 1, k, endpoint=False)
    for dx, dy in [(t, 0 * t), (0 * t + 0.9999999999, t), (t, 0 * t + 0.9999999999), (0 * t, t)]:
        for a, b in zip(dx, dy):
            lon, lat = nested.healpix_to_lonlat(np.array([pix], dtype=np.uint64), order, dx=float(a), dy=float(b))
            pts.append((lon.to_value(u.rad)[0], lat.to_value(u.rad)[0]))
    p = np.array(pts)
    return np.stack([np.cos(p[:, 1]) * np.cos(p[:, 0]), np.cos(p[:, 1]) * np.sin(p[:, 0]), np.sin(p[:, 1])], axis=1)
def vec(ra, dec):
    r, d = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)], axis=1)
checked = 0; worst = 0.0
pixels = m.get_healpix_pixels()
rng = np.random.default_rng(1)
for p in [pixels[i] for i in rng.choice(len(pixels), min(12, len(pixels)), replace=False)]:
    t = pq.read_table(f"{margin}/dataset/Norder={p.order}/Dir={(p.pixel // 10000) * 10000}/Npix={p.pixel}.parquet")
    ra = t["ra"].to_numpy(); dec = t["dec"].to_numpy()
    inside = nested.lonlat_to_healpix(ra * u.deg, dec * u.deg, p.order) == p.pixel
    assert not inside.any(), f"margin rows inside their own pixel {p}"
    b = boundary(p.order, p.pixel)
    v = vec(ra, dec)
    d = np.degrees(np.arccos(np.clip(v @ b.T, -1, 1)).min(axis=1)) * 3600
    worst = max(worst, float(d.max()) if len(d) else 0.0)
    checked += len(d)
print(checked, worst)
"""#
        let text = try TestSupport.runPython(script, arguments: [f.right, f.margin])
        let parts = text.split(whereSeparator: \.isWhitespace)
        #expect(parts.count == 2)
        let worst = Double(parts.last ?? "") ?? .infinity
        // Sampling 400 points per edge at order ≥ 3 is coarse; allow its error but not whole border pixels.
        #expect(worst < 1.5, "a margin row is \(worst) arcsec from its pixel")
        #expect(Int(parts.first ?? "") ?? 0 > 0)
    }

    @Test func narrowMarginIsAnErrorNamingTheMarginToBuild() throws {
        let f = try CrossmatchFixture.get()
        let c = CrossmatchConfig(left: f.left, right: f.right, output: f.dir + "/x_wide", radiusArcsec: 2)
        do {
            _ = try CrossmatchPipeline.run(c, progress: false)
            Issue.record("a 2 arcsec cross-match with only a 1 arcsec margin must fail")
        } catch let e as CatalogError {
            let text = "\(e)"
            #expect(text.contains("astropile margin"), "\(text)")
            #expect(text.contains("2arcsec"), "\(text)")
        }
    }
}
