import Foundation

/// Expected values written by cdshealpix and healpy, generated once per test run by running the
/// project venv's Python on `generatorScript`. Missing Python or modules is a test failure.
struct HEALPixReferenceData: Sendable {
    struct Center: Sendable {
        var order: Int
        var index: Int64
        var ra: Double
        var dec: Double
    }

    var count: Int
    /// The first `randomCount` points are uniform on the sphere (no boundary cases).
    var randomCount: Int
    var orders: [Int]
    var ra: [Double]
    var dec: [Double]
    /// `expected[k][p]`: cdshealpix index of point p at `orders[k]`.
    var expected: [[Int64]]
    var healpy29: [Int64]
    var centers: [Center]

    static let shared: Result<HEALPixReferenceData, any Error> = Result { try generate() }

    struct GenerationError: Error, CustomStringConvertible {
        var description: String
    }

    /// The package root: three levels above this file (symlinks resolved, so a scratch package
    /// that links to `Tests/SkyTests` still finds the real root and its `.venv`).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func generate() throws -> HEALPixReferenceData {
        let python = ProcessInfo.processInfo.environment["ASTROPILE_PYTHON"]
            ?? packageRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw GenerationError(description: "no Python at \(python): run `make setup` (needs cdshealpix, healpy, astropy)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("healpix-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("generate.py")
        let output = dir.appendingPathComponent("reference.bin")
        try generatorScript.write(to: script, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, output.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GenerationError(description: "\(python) failed (status \(process.terminationStatus)):\n\(log)")
        }
        return try parse(Data(contentsOf: output))
    }

    static func parse(_ data: Data) throws -> HEALPixReferenceData {
        var reader = LittleEndianReader(data: data)
        let count = Int(try reader.int64())
        let randomCount = Int(try reader.int64())
        let orderCount = Int(try reader.int64())
        let orders = try (0..<orderCount).map { _ in Int(try reader.int64()) }
        let ra = try reader.doubles(count)
        let dec = try reader.doubles(count)
        let expected = try orders.map { _ in try reader.int64s(count) }
        let healpy29 = try reader.int64s(randomCount)
        let centerCount = Int(try reader.int64())
        let cOrder = try reader.int64s(centerCount)
        let cIndex = try reader.int64s(centerCount)
        let cRA = try reader.doubles(centerCount)
        let cDec = try reader.doubles(centerCount)
        let centers = (0..<centerCount).map {
            Center(order: Int(cOrder[$0]), index: cIndex[$0], ra: cRA[$0], dec: cDec[$0])
        }
        guard reader.offset == data.count else { throw GenerationError(description: "trailing bytes in reference file") }
        return HEALPixReferenceData(
            count: count, randomCount: randomCount, orders: orders, ra: ra, dec: dec,
            expected: expected, healpy29: healpy29, centers: centers)
    }
}

extension HEALPixReferenceData {
    /// Reads the little-endian 64-bit words the generator writes.
    struct LittleEndianReader {
        let data: Data
        var offset = 0

        mutating func int64() throws -> Int64 { try int64s(1)[0] }

        mutating func int64s(_ n: Int) throws -> [Int64] {
            try words(n).map { Int64(bitPattern: $0) }
        }

        mutating func doubles(_ n: Int) throws -> [Double] {
            try words(n).map { Double(bitPattern: $0) }
        }

        private mutating func words(_ n: Int) throws -> [UInt64] {
            guard n >= 0, offset + 8 * n <= data.count else {
                throw HEALPixReferenceData.GenerationError(description: "reference file truncated")
            }
            let start = offset
            offset += 8 * n
            return data.withUnsafeBytes { raw in
                (0..<n).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * $0, as: UInt64.self)) }
            }
        }
    }
}

extension HEALPixReferenceData {
    /// Writes points and the cdshealpix/healpy answers for them; run as `python generate.py OUT`.
    static let generatorScript = #"""
import sys
import numpy as np
import cdshealpix
import healpy
from astropy.coordinates import Latitude, Longitude

out_path = sys.argv[1]
rng = np.random.default_rng(20240611)
ORDERS = [0, 1, 5, 10, 29]


def ulps(x, k):
    """x moved by k ulps (k may be negative)."""
    x = np.asarray(x, dtype=np.float64)
    step = np.inf if k > 0 else -np.inf
    for _ in range(abs(k)):
        x = np.nextafter(x, step)
    return x


# 1. Uniform random points on the sphere (also compared against healpy).
n_random = 80_000
ra_r = rng.uniform(0.0, 360.0, n_random)
dec_r = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n_random)))
parts = [(ra_r, dec_r)]

# 2. float32 coordinates widened to float64.
n32 = 20_000
ra32 = rng.uniform(0.0, 360.0, n32).astype(np.float32).astype(np.float64)
dec32 = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n32))).astype(np.float32).astype(np.float64)
parts.append((ra32, dec32))

# 3. Grid of special longitudes x special latitudes.
t = np.degrees(np.arcsin(2.0 / 3.0))
t_rust = 0.7297276562269663 * (180.0 / np.pi)
special_dec = [0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 45.0, -45.0, 60.0, -60.0, 30.0, -30.0,
               90.0, -90.0, np.nextafter(90.0, 0.0), np.nextafter(-90.0, 0.0), 90.0 - 1e-10, -90.0 + 1e-10,
               89.99999999, -89.99999999, 19.47122063449069, -19.47122063449069]
for base in (t, t_rust, np.degrees(0.7297276562269663)):
    for k in range(-3, 4):
        special_dec += [float(ulps(base, k)), -float(ulps(base, k))]
special_ra = [0.0, -0.0, 360.0, -1e-12, 1e-12, -1e-300, 1e-300, 5e-324, -5e-324, 359.99999999999994,
              np.nextafter(360.0, 0.0), 360.0 - 1e-12, 720.0, -360.0, -720.5, 1e6, 1e15, 1e20, -1e20,
              180.0, 270.0, -90.0, -45.0, -270.0, 405.0, 450.0, 1e-15, -1e-15]
for k in range(-16, 33):
    base = 22.5 * k
    special_ra += [base] + [float(ulps(base, d)) for d in (-2, -1, 1, 2)]
for k in range(0, 128):
    special_ra.append(360.0 * k / 128.0)
gra, gdec = np.meshgrid(np.array(special_ra), np.array(special_dec))
parts.append((gra.ravel(), gdec.ravel()))

# 4. Points on and next to pixel vertices and edges, at several orders, moved by a few ulps.
for depth in (1, 2, 3, 5, 10, 20, 29):
    ipix = rng.integers(0, 12 * 4**depth, 300, dtype=np.uint64)
    lon_v, lat_v = cdshealpix.nested.vertices(ipix, depth)
    pts_ra = [lon_v.deg.ravel()]
    pts_dec = [lat_v.deg.ravel()]
    for dx, dy in ((0.0, 0.5), (0.5, 0.0), (0.0, 0.0)):
        lon_e, lat_e = cdshealpix.nested.healpix_to_lonlat(ipix, depth, dx=dx, dy=dy)
        pts_ra.append(lon_e.deg)
        pts_dec.append(lat_e.deg)
    er = np.concatenate(pts_ra)
    ed = np.concatenate(pts_dec)
    for kr in (-1, 0, 1):
        for kd in (-1, 0, 1):
            parts.append((ulps(er, kr), ulps(ed, kd)))
    parts.append((ulps(er, 2), ed))
    parts.append((er, ulps(ed, -2)))

ra = np.concatenate([p[0] for p in parts]).astype(np.float64)
dec = np.concatenate([p[1] for p in parts]).astype(np.float64)
keep = (np.abs(dec) <= 90.0) & np.isfinite(ra) & np.isfinite(dec)
keep[:n_random] = True
ra, dec = ra[keep], dec[keep]
n = len(ra)

# astropy's Longitude wraps a whole array only if some value is outside [0, 360), and then
# turns -0.0 into +0.0 for every element; AstroPile works per point, as if each array held
# in-range values only. So the in-range and out-of-range points go to cdshealpix separately.
in_range = (ra >= 0.0) & (ra < 360.0)
expected = np.zeros((len(ORDERS), n), dtype=np.int64)
for sel in (in_range, ~in_range):
    if not sel.any():
        continue
    lon = Longitude(ra[sel], unit="deg")
    lat = Latitude(dec[sel], unit="deg")
    for k, order in enumerate(ORDERS):
        expected[k, sel] = cdshealpix.nested.lonlat_to_healpix(lon, lat, order).astype(np.int64)

hp29 = healpy.ang2pix(2**29, ra[:n_random], dec[:n_random], nest=True, lonlat=True).astype(np.int64)

c_order, c_index = [], []
for order in ORDERS:
    if order <= 1:
        idx = np.arange(12 * 4**order, dtype=np.int64)
    else:
        idx = expected[ORDERS.index(order), :3000]
        idx = np.concatenate([idx, [0, 12 * 4**order - 1, 4 * 4**order, 8 * 4**order - 1]]).astype(np.int64)
    c_order.append(np.full(len(idx), order, dtype=np.int64))
    c_index.append(idx)
c_order = np.concatenate(c_order)
c_index = np.concatenate(c_index)
c_ra = np.empty(len(c_index))
c_dec = np.empty(len(c_index))
for order in ORDERS:
    sel = c_order == order
    lon_c, lat_c = cdshealpix.nested.healpix_to_lonlat(c_index[sel].astype(np.uint64), order)
    c_ra[sel] = lon_c.deg
    c_dec[sel] = lat_c.deg

with open(out_path, "wb") as f:
    np.array([n, n_random, len(ORDERS)] + ORDERS, dtype="<i8").tofile(f)
    ra.astype("<f8").tofile(f)
    dec.astype("<f8").tofile(f)
    expected.astype("<i8").tofile(f)
    hp29.astype("<i8").tofile(f)
    np.array([len(c_index)], dtype="<i8").tofile(f)
    c_order.astype("<i8").tofile(f)
    c_index.astype("<i8").tofile(f)
    c_ra.astype("<f8").tofile(f)
    c_dec.astype("<f8").tofile(f)
print(f"points={n} random={n_random} centers={len(c_index)} cdshealpix={cdshealpix.__version__}")
"""#
}
