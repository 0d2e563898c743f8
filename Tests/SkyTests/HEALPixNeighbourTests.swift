import Foundation
import Testing
import TestSupport

@testable import Sky

/// Neighbours, positions inside pixels and vertices, against cdshealpix from the project venv.
@Suite("HEALPix neighbours and vertices against cdshealpix")
struct HEALPixNeighbourTests {
    /// One line `kind order index values…` written by cdshealpix.
    struct Row: Sendable {
        var order: Int
        var index: Int64
        /// The values as text: neighbour indices exceed 2⁵³, so they are not read as doubles.
        var fields: [Substring]
        func double(_ k: Int) -> Double { Double(fields[k])! }
        func int(_ k: Int) -> Int64 { Int64(fields[k])! }
    }

    /// The rows by kind (N neighbours, V vertices, P positions), generated once per run.
    static let reference: Result<[Substring: [Row]], any Error> = Result {
        let out = try TestSupport.runPython("""
            import numpy as np
            import cdshealpix.nested as N
            rng = np.random.default_rng(17)
            def ij2h(b, i, j, o):
                h = 0
                for k in range(o):
                    h |= ((i >> k) & 1) << (2 * k) | ((j >> k) & 1) << (2 * k + 1)
                return (b << (2 * o)) | h
            def emit(kind, o, ipix, cols):
                for row in zip(ipix, *cols):
                    print(kind, o, int(row[0]), " ".join(str(int(v)) if kind == "N" else repr(float(v)) for v in row[1:]))
            for o in range(30):
                if o <= 3:
                    ipix = np.arange(12 * 4**o, dtype=np.uint64)
                else:
                    n = 1 << o
                    special = []
                    for b in range(12):
                        for (i, j) in [(0, 0), (n - 1, 0), (0, n - 1), (n - 1, n - 1), (0, 1), (1, 0), (n - 1, 1), (1, n - 1),
                                       (n - 2, n - 1), (n - 1, n - 2), (0, n // 2), (n // 2, 0), (n - 1, n // 2), (n // 2, n - 1)]:
                            special.append(ij2h(b, i, j, o))
                    ipix = np.concatenate([np.array(special, dtype=np.uint64),
                                           rng.integers(0, 12 * 4**o, 200, dtype=np.uint64)])
                nb = N.neighbours(ipix, o)
                emit("N", o, ipix, [nb[:, k] for k in range(9)])
                ipix = rng.integers(0, 12 * 4**o, 150, dtype=np.uint64)
                lon, lat = N.vertices(ipix, o)
                emit("V", o, ipix, [lon.deg[:, 0], lat.deg[:, 0], lon.deg[:, 1], lat.deg[:, 1],
                                    lon.deg[:, 2], lat.deg[:, 2], lon.deg[:, 3], lat.deg[:, 3]])
                for dx, dy in [(0.0, 0.0), (0.5, 0.5), (0.999999, 0.0), (0.0, 0.999999), (0.25, 0.75), (0.999, 0.999),
                               (float(rng.uniform()), float(rng.uniform()))]:
                    ipix = rng.integers(0, 12 * 4**o, 40, dtype=np.uint64)
                    lon, lat = N.healpix_to_lonlat(ipix, o, dx, dy)
                    emit("P", o, ipix, [np.full(ipix.size, dx), np.full(ipix.size, dy), lon.deg, lat.deg])
            """)
        var table: [Substring: [Row]] = [:]
        for line in out.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 3, let order = Int(fields[1]), let index = Int64(fields[2]) else { continue }
            table[fields[0], default: []].append(Row(order: order, index: index, fields: Array(fields.dropFirst(3))))
        }
        return table
    }

    @Test func neighboursMatchCdshealpix() throws {
        let rows = try #require(try Self.reference.get()["N"])
        var compared = 0
        var perOrder = [Int](repeating: 0, count: 30)
        for row in rows {
            let order = row.order, index = row.index
            // cdshealpix: S, SE, E, SW, the pixel itself, NE, W, NW, N; −1 where there is none.
            #expect(row.fields.count == 9 && row.int(4) == index)
            let expected = Set((0..<9).map { row.int($0) }.filter { $0 >= 0 && $0 != index }).sorted()
            let got = HEALPix.neighbours(order: order, index: index)
            #expect(got == expected, "order \(order) pixel \(index)")
            #expect(order == 0 ? got.count == 6 : (got.count == 7 || got.count == 8))
            compared += 1
            perOrder[order] += 1
        }
        #expect(perOrder[0] == 12 && perOrder[1] == 48 && perOrder[2] == 192 && perOrder[3] == 768)
        #expect(perOrder[4...].allSatisfy { $0 == 368 })
        #expect(compared > 10_000)
    }

    @Test func neighbourhoodIsSymmetric() {
        var rng = SplitMix64(seed: 4)
        for _ in 0..<3_000 {
            let order = Int(rng.next() % 30)
            let index = Int64(rng.next() % UInt64(HEALPix.pixelCount(order: order)))
            for n in HEALPix.neighbours(order: order, index: index) {
                #expect(HEALPix.neighbours(order: order, index: n).contains(index), "order \(order): \(index) ↔ \(n)")
            }
        }
    }

    @Test func positionsMatchCdshealpix() throws {
        let rows = try #require(try Self.reference.get()["P"])
        var inexact = 0
        for row in rows {
            let order = row.order, index = row.index
            let dx = row.double(0), dy = row.double(1), ra = row.double(2), dec = row.double(3)
            let got = HEALPix.position(order: order, index: index, dx: dx, dy: dy)
            if got.ra.bitPattern != ra.bitPattern || got.dec.bitPattern != dec.bitPattern {
                inexact += 1
                Issue.record("order \(order) pixel \(index) dx \(dx) dy \(dy): cdshealpix (\(ra), \(dec)), got \(got)")
            }
            if dx == 0.5 && dy == 0.5 {
                let c = HEALPix.center(order: order, index: index)
                #expect(c.ra == got.ra && c.dec == got.dec)
            }
        }
        #expect(rows.count == 30 * 7 * 40)
        #expect(inexact == 0)
    }

    @Test func verticesMatchCdshealpix() throws {
        let rows = try #require(try Self.reference.get()["V"])
        var inexact = 0
        for row in rows {
            let order = row.order, index = row.index
            let got = HEALPix.vertices(order: order, index: index)
            #expect(got.count == 4)
            for k in 0..<4 {
                let ra = row.double(2 * k), dec = row.double(2 * k + 1)
                if got[k].ra.bitPattern != ra.bitPattern || got[k].dec.bitPattern != dec.bitPattern {
                    inexact += 1
                    Issue.record("order \(order) pixel \(index) vertex \(k): cdshealpix (\(ra), \(dec)), got \(got[k])")
                }
            }
        }
        #expect(rows.count == 30 * 150)
        #expect(inexact == 0)
    }

    /// Vertices are the corners (dx, dy) = (0, 0), (1, 0), (1, 1), (0, 1) of `position`, and a
    /// point just inside each corner maps back to the pixel.
    @Test(arguments: [0, 1, 4, 13, 29])
    func verticesAreCornersOfPosition(order: Int) {
        var rng = SplitMix64(seed: UInt64(order) + 40)
        let corners: [(Double, Double)] = [(0, 0), (1, 0), (1, 1), (0, 1)]
        for _ in 0..<300 {
            let index = Int64(rng.next() % UInt64(HEALPix.pixelCount(order: order)))
            let v = HEALPix.vertices(order: order, index: index)
            for (k, (dx, dy)) in corners.enumerated() {
                let p = HEALPix.position(order: order, index: index, dx: dx, dy: dy)
                let sep = SphericalGeometry.separation(ra1: p.ra, dec1: p.dec, ra2: v[k].ra, dec2: v[k].dec)
                #expect(sep < 1e-12, "order \(order) pixel \(index) corner \(k)")
                let inside = HEALPix.position(order: order, index: index, dx: 0.5 + 0.98 * (dx - 0.5), dy: 0.5 + 0.98 * (dy - 0.5))
                #expect(HEALPix.nestedIndex(ra: inside.ra, dec: inside.dec, order: order) == index)
            }
        }
    }
}
