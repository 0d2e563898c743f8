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
        let report = try CrossmatchPipeline.run(c, progress: false).report
        let v = try Self.verdict(f, output: c.output, mode: "all")
        #expect(v.expected > f.rows / 3, "the fixture should have many pairs")
        #expect(v.nmissing == 0, "pairs astropy finds but AstroPile lost: \(v.missing)")
        #expect(v.nextra == 0, "pairs AstroPile found that astropy does not: \(v.extra)")
        #expect(v.got == v.expected)
        #expect(v.max_dist_diff < 1e-6, "_dist_arcsec differs from astropy's separation by \(v.max_dist_diff) arcsec")
        #expect(report.counts.written == Int64(v.expected))
        #expect(report.details.partitions == (try HATSCatalog.open(f.left)).partitions.count)
    }

    @Test func nearestEqualsMatchToCatalogSky() throws {
        let f = try CrossmatchFixture.get()
        var c = CrossmatchConfig(left: f.left, right: f.right, output: f.dir + "/x_nearest", radiusArcsec: 1)
        c.jobs = 2
        let report = try CrossmatchPipeline.run(c, progress: false).report
        let v = try Self.verdict(f, output: c.output, mode: "nearest")
        #expect(v.nmissing == 0, "missing: \(v.missing)")
        #expect(v.nextra == 0, "extra: \(v.extra)")
        #expect(v.got == v.expected && v.expected > 0)
        #expect(report.details.matchedLeftRows == Int64(v.matched_left))
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
        let report = try CrossmatchPipeline.run(c, progress: false).report
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
        #expect(parts.last.map(Int64.init) == report.counts.written)
    }

    @Test func marginRowsAreWithinTheThresholdOfTheirPixel() throws {
        let f = try CrossmatchFixture.get()
        // Every margin row lies outside its pixel and within 1″ of it (plus the 0.72 mas tolerance
        // of the distance computation): some point at most 1.001″ away, found by astropy's
        // directional offsets, lies in the pixel by cdshealpix. Whole border pixels would fail this.
        let script = #"""
import sys, numpy as np, pyarrow.parquet as pq, astropy.units as u
from astropy.coordinates import SkyCoord, Longitude, Latitude
from cdshealpix import nested
import hats
margin = sys.argv[1]
m = hats.read_hats(margin)
rows = []
for p in m.get_healpix_pixels():
    t = pq.read_table(f"{margin}/dataset/Norder={p.order}/Dir={(p.pixel // 10000) * 10000}/Npix={p.pixel}.parquet", columns=["ra", "dec"])
    for r, d in zip(t["ra"].to_numpy(), t["dec"].to_numpy()):
        rows.append((r, d, p.order, p.pixel))
rng = np.random.default_rng(3)
sample = [rows[i] for i in rng.choice(len(rows), min(2000, len(rows)), replace=False)]
ra = np.array([r[0] for r in sample]); dec = np.array([r[1] for r in sample])
order = np.array([r[2] for r in sample]); pix = np.array([r[3] for r in sample], dtype=np.int64)
inside_own = 0
for k in np.unique(order):
    w = order == k
    own = nested.lonlat_to_healpix(Longitude(ra[w] * u.deg), Latitude(dec[w] * u.deg), int(k)).astype(np.int64)
    inside_own += int((own == pix[w]).sum())
# Some point within 1.001" (the threshold plus the distance tolerance, 0.72 mas) of each row must lie in its pixel.
D, R = 360, [0.5, 0.9, 1.0, 1.001]
c = SkyCoord(np.repeat(ra, D * len(R)) * u.deg, np.repeat(dec, D * len(R)) * u.deg)
q = c.directional_offset_by(np.tile(np.repeat(np.arange(D) * (360 / D), len(R)), len(ra)) * u.deg,
                            np.tile(np.tile(R, D), len(ra)) * u.arcsec)
qo = np.repeat(order, D * len(R)); qp = np.repeat(pix, D * len(R)); hit = np.zeros(len(qo), dtype=bool)
for k in np.unique(order):
    w = qo == k
    hit[w] = nested.lonlat_to_healpix(q.ra[w], q.dec[w], int(k)).astype(np.int64) == qp[w]
far = int((~hit.reshape(len(ra), -1).any(axis=1)).sum()); checked = len(ra)
print(checked, far, inside_own)
"""#
        let text = try TestSupport.runPython(script, arguments: [f.margin])
        let parts = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(parts.count == 3)
        #expect(parts.first ?? 0 > 100, "the margin has rows")
        #expect(parts.dropFirst().first == 0, "margin rows farther than 1 arcsec from their pixel: \(text)")
        #expect(parts.last == 0, "margin rows inside their own pixel: \(text)")
    }

    @Test func partialRightCoverageAndFinerRightPartitions() throws {
        let dir = try TestSupport.temporaryDirectory("xmatch-edge").path
        try TestSupport.runPython(Self.edgeGenerator, arguments: [dir, "60000"])
        for (name, threshold) in [("left", 800), ("right", 300)] {
            var c = ImportConfig(inputs: [dir + "/\(name).parquet"], output: dir + "/" + name)
            c.threshold = Int64(threshold)
            c.highestOrder = 9
            c.jobs = 2
            _ = try ImportPipeline(config: c, showProgress: false).run()
        }
        var m = MarginConfig(catalog: dir + "/right", radiusArcsec: 1.5)
        m.jobs = 2
        let margin = try MarginPipeline.run(m, progress: false).report
        let right = try HATSCatalog.open(dir + "/right"), marginCatalog = try HATSCatalog.open(margin.output)
        let uncovered = marginCatalog.partitions.pixels.filter { right.partitions.positions(overlapping: $0).isEmpty }
        #expect(!uncovered.isEmpty, "margins of the sky the right catalog does not cover")
        let fixture = (leftFile: dir + "/left.parquet", rightFile: dir + "/right.parquet")
        for (mode, radius, join) in [(CrossmatchMode.allPairs, 1.0, CrossmatchJoin.inner), (.nearest(1), 1.5, .left)] {
            var c = CrossmatchConfig(left: dir + "/left", right: dir + "/right", output: dir + "/x-\(radius)", radiusArcsec: radius)
            c.mode = mode
            c.join = join
            c.jobs = 2
            _ = try CrossmatchPipeline.run(c, progress: false)
            let text = try TestSupport.runPython(Self.compare, arguments: [fixture.leftFile, fixture.rightFile, c.output,
                                                                           mode == .allPairs ? "all" : "nearest", String(radius), join.rawValue])
            let v = try JSONDecoder().decode(Verdict.self, from: Data(text.utf8))
            #expect(v.expected > 1000)
            #expect(v.nmissing == 0 && v.nextra == 0, "\(text)")
            if join == .left { #expect(v.rows == v.left_rows) }
        }
        // The same match through a margin catalog made by hats-import (whole border pixels).
        try TestSupport.runPython(#"""
import sys
from hats_import.margin_cache.margin_cache_arguments import MarginCacheArguments
from hats_import.pipeline import pipeline_with_client
from dask.distributed import Client
args = MarginCacheArguments(input_catalog_path=sys.argv[1] + "/right", output_path=sys.argv[1], output_artifact_name="hats_import_margin",
                            margin_threshold=1.5, progress_bar=False)
with Client(n_workers=1, threads_per_worker=2, processes=False) as c:
    pipeline_with_client(args, c)
"""#, arguments: [dir])
        var c = CrossmatchConfig(left: dir + "/left", right: dir + "/right", output: dir + "/x-hats-import-margin", radiusArcsec: 1)
        c.margin = dir + "/hats_import_margin"
        c.mode = .allPairs
        c.jobs = 2
        _ = try CrossmatchPipeline.run(c, progress: false)
        let text = try TestSupport.runPython(Self.compare, arguments: [fixture.leftFile, fixture.rightFile, c.output, "all", "1", "inner"])
        let v = try JSONDecoder().decode(Verdict.self, from: Data(text.utf8))
        #expect(v.expected > 1000 && v.nmissing == 0 && v.nextra == 0, "\(text)")
    }

    static let edgeGenerator = #"""
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
import astropy.units as u
from astropy.coordinates import SkyCoord, Longitude, Latitude
from cdshealpix import nested
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
# Right: only inside a set S of order-3 pixels (a disc of them), so its partitions end at S's
# edges and the sky beyond is covered only by margin partitions of the uncovered sky.
S, _, _ = nested.cone_search(Longitude(20 * u.deg), Latitude(5 * u.deg), 12 * u.deg, 3)
S = np.unique(S.astype(np.int64))
def inside(ra, dec):
    return np.isin(nested.lonlat_to_healpix(Longitude(ra * u.deg), Latitude(dec * u.deg), 3).astype(np.int64), S)
ra = rng.uniform(0, 45, 4 * n); dec = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-15)), np.sin(np.radians(25)), 4 * n)))
keep = inside(ra, dec)
rra, rdec = ra[keep][:n], dec[keep][:n]
# Right rows along S's pixel edges (nudged by up to 0.3", kept when still inside S).
m = n // 20
ipix = rng.choice(S, m).astype(np.uint64)
ex = np.empty(m); ey = np.empty(m)
choice = rng.integers(0, 6, m)
for k, (dx, dy) in enumerate([(0.0, 0.3), (0.0, 0.8), (0.4, 0.0), (0.9, 0.0), (0.0, 0.0), (0.0, 0.55)]):
    w = choice == k
    lon, lat = nested.healpix_to_lonlat(ipix[w], 3, dx=dx, dy=dy)
    ex[w] = lon.to_value(u.deg); ey[w] = lat.to_value(u.deg)
e = SkyCoord(ex * u.deg, ey * u.deg).directional_offset_by(rng.uniform(0, 360, m) * u.deg, rng.uniform(0, 0.3, m) * u.arcsec)
ek = inside(e.ra.deg, e.dec.deg)
rra = np.concatenate([rra, e.ra.deg[ek]]); rdec = np.concatenate([rdec, e.dec.deg[ek]])
# Left: uniform over a larger region, plus copies of the edge rows moved by up to 1.2" (many land outside S).
lra = rng.uniform(0, 45, n); ldec = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(-15)), np.sin(np.radians(25)), n)))
src = np.nonzero(ek)[0]
c = SkyCoord(e.ra.deg[src] * u.deg, e.dec.deg[src] * u.deg).directional_offset_by(rng.uniform(0, 360, len(src)) * u.deg, rng.uniform(0, 1.2, len(src)) * u.arcsec)
lra = np.concatenate([lra, c.ra.deg]); ldec = np.concatenate([ldec, c.dec.deg])
for path, ra, dec, first in [(out + "/left.parquet", lra, ldec, 1_000_000), (out + "/right.parquet", rra, rdec, 5_000_000)]:
    pq.write_table(pa.table({"id": np.arange(first, first + len(ra), dtype=np.int64), "ra": ra, "dec": dec}), path)
print(len(lra), len(rra), int((~inside(c.ra.deg, c.dec.deg)).sum()))
"""#

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
