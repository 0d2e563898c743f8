import Foundation
import Pipelines
import TestSupport

/// Two generated catalogs (300k × 300k by default), imported with different partitionings, and
/// the right one's 1″ margin — shared by the cross-match and query tests, built once.
///
/// Left: uniform on the sphere, dense spots (deep partitions), points at and near both poles, at
/// RA 0/360, and on HEALPix pixel edges and vertices at orders 2–8 (partition borders). Right:
/// half within 0–1.5″ of a left row (so most within 1″, some just outside), a fifth unrelated
/// (uniform), the rest 1–20″ from a left row.
final class CrossmatchFixture: Sendable {
    let dir: String
    let leftFile: String
    let rightFile: String
    let left: String
    let right: String
    let margin: String
    let rows: Int

    static let shared: Result<CrossmatchFixture, any Error> = Result { try CrossmatchFixture(rows: 300_000) }

    static func get() throws -> CrossmatchFixture { try shared.get() }

    init(rows: Int) throws {
        self.rows = rows
        dir = try TestSupport.temporaryDirectory("xmatch").path
        leftFile = dir + "/left.parquet"
        rightFile = dir + "/right.parquet"
        try TestSupport.runPython(Self.generator, arguments: [dir, String(rows)])
        left = dir + "/left"
        right = dir + "/right"
        var l = ImportConfig(inputs: [leftFile], output: left)
        l.threshold = 15_000
        l.highestOrder = 10
        l.jobs = 2
        guard case .written = try ImportPipeline(config: l, showProgress: false).run() else { throw TestSupportError("left import") }
        var r = ImportConfig(inputs: [rightFile], output: right)
        r.threshold = 20_000
        r.highestOrder = 7
        r.jobs = 2
        guard case .written = try ImportPipeline(config: r, showProgress: false).run() else { throw TestSupportError("right import") }
        var m = MarginConfig(catalog: right, radiusArcsec: 1)
        m.jobs = 2
        margin = try MarginPipeline.run(m, progress: false).report.output
    }

    /// Writes left.parquet and right.parquet (columns id, ra, dec, mag) into argv[1].
    static let generator = #"""
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
import astropy.units as u
from astropy.coordinates import SkyCoord
from cdshealpix import nested
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(20261122)
def uniform(k):
    ra = rng.uniform(0, 360, k); dec = np.degrees(np.arcsin(rng.uniform(-1, 1, k)))
    return ra, dec
parts = []
k = int(n * 0.45); parts.append(uniform(k))
for (cra, cdec, sigma) in [(150.1, 2.2, 0.05), (10.0, -30.0, 0.02), (270.0, 66.56, 0.1), (0.0, 0.0, 0.03), (45.0, 41.81, 0.03)]:
    m = int(n * 0.04)
    c = SkyCoord(cra * u.deg, cdec * u.deg)
    pa_ = rng.uniform(0, 360, m) * u.deg; sep = np.abs(rng.normal(0, sigma, m)) * u.deg
    p = c.directional_offset_by(pa_, sep)
    parts.append((p.ra.deg, p.dec.deg))
m = int(n * 0.03)  # near the poles
parts.append((rng.uniform(0, 360, m), 90 - np.abs(rng.normal(0, 0.03, m))))
parts.append((rng.uniform(0, 360, m), -90 + np.abs(rng.normal(0, 0.03, m))))
parts.append((np.array([0.0, 180.0, 0.0, 90.0, 359.9999999999, 0.0, 270.0]), np.array([90.0, -90.0, 0.0, 0.0, 10.0, -45.0, 89.9999999])))
m = int(n * 0.04)  # RA 0/360
parts.append((np.mod(rng.normal(0, 0.0005, m), 360), rng.uniform(-60, 60, m)))
m = int(n * 0.10)  # on pixel edges and vertices, orders 1..8 (mostly the partition orders 1..3)
depth = np.where(rng.uniform(0, 1, m) < 0.75, rng.integers(1, 4, m), rng.integers(4, 9, m))
ra_e = np.empty(m); dec_e = np.empty(m)
for d in range(1, 9):
    sel = depth == d; c = int(sel.sum())
    ipix = rng.integers(0, 12 * 4**d, c, dtype=np.uint64)
    lon_all = np.empty(c); lat_all = np.empty(c)
    choice = rng.integers(0, 9, c)  # 0: vertex; 1-4: west edge at t; 5-8: south edge at t
    for k, (dx, dy) in enumerate([(0.0, 0.0), (0.0, 0.2), (0.0, 0.45), (0.0, 0.7), (0.0, 0.93),
                                  (0.15, 0.0), (0.5, 0.0), (0.62, 0.0), (0.88, 0.0)]):
        w = choice == k
        if w.any():
            lon, lat = nested.healpix_to_lonlat(ipix[w], d, dx=dx, dy=dy)
            lon_all[w] = lon.to_value(u.deg); lat_all[w] = lat.to_value(u.deg)
    ra_e[sel] = lon_all; dec_e[sel] = lat_all
parts.append((ra_e, dec_e))
lra = np.concatenate([p[0] for p in parts]); ldec = np.clip(np.concatenate([p[1] for p in parts]), -90, 90)
rest = n - len(lra)
if rest > 0:
    a, b = uniform(rest); lra = np.concatenate([lra, a]); ldec = np.concatenate([ldec, b])
lra, ldec = lra[:n], ldec[:n]
lra = np.where(lra >= 360, lra - 360, lra)
nl = len(lra)
# Right: half near a left row (0..1.5"), a fifth unrelated, the rest 1..20" away.
nr = n
h = nr // 2; f = nr // 5; rest = nr - h - f
src = rng.integers(0, nl, h + rest)
base = SkyCoord(lra[src] * u.deg, ldec[src] * u.deg)
dist = np.concatenate([rng.uniform(0, 1.5, h), rng.uniform(1, 20, rest)]) * u.arcsec
p = base.directional_offset_by(rng.uniform(0, 360, h + rest) * u.deg, dist)
ura, udec = uniform(f)
rra = np.concatenate([p.ra.deg, ura]); rdec = np.concatenate([p.dec.deg, udec])
perm = rng.permutation(nr); rra, rdec = rra[perm], rdec[perm]
def write(path, ra, dec, first_id):
    t = pa.table({"id": np.arange(first_id, first_id + len(ra), dtype=np.int64), "ra": ra.astype(np.float64),
                  "dec": dec.astype(np.float64), "mag": rng.uniform(14, 24, len(ra)).astype(np.float32)})
    pq.write_table(t, path)
write(out + "/left.parquet", lra, ldec, 1_000_000)
write(out + "/right.parquet", rra, rdec, 5_000_000)
print(nl, nr)
"""#
}
