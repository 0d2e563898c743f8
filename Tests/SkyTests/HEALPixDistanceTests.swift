import Foundation
import Testing
import TestSupport

@testable import Sky

/// `distanceToPixel` and `boundingCap` against brute force: the pixel boundary sampled densely
/// through `position(dx:dy:)` (cdshealpix's own projection), each local minimum refined by
/// golden-section search.
@Suite("HEALPix distance to a pixel")
struct HEALPixDistanceTests {
    /// The contract: within 1e-7° of the exact distance, both ways.
    static let contract = 1e-7

    @Test(arguments: Array(0...29))
    func distanceMatchesBruteForce(order: Int) {
        var rng = SplitMix64(seed: 100 + UInt64(order))
        var worst = 0.0
        for trial in 0..<60 {
            let index = Self.interestingPixel(order: order, trial: trial, &rng)
            let p = Self.pointNear(order: order, index: index, trial: trial, &rng)
            let got = HEALPix.distanceToPixel(ra: p.ra, dec: p.dec, order: order, index: index)
            if HEALPix.nestedIndex(ra: p.ra, dec: p.dec, order: order) == index {
                #expect(got == 0)
                continue
            }
            let expected = Self.bruteForceDistance(ra: p.ra, dec: p.dec, order: order, index: index)
            worst = max(worst, abs(got - expected))
            #expect(abs(got - expected) <= Self.contract,
                    "order \(order) pixel \(index) point (\(p.ra), \(p.dec)): brute force \(expected)°, got \(got)°")
        }
        // The implementation's own bound (plus the brute force's error).
        #expect(worst <= HEALPix.distanceTolerance + 1e-9, "order \(order): worst error \(worst)°")
    }

    /// Every piece of the boundary stays within its deviation bound of its chord arc, through
    /// several halvings — the premise of the branch and bound. The largest ratio seen is ≈ 0.754
    /// (over 1500 pixels per order), so the bound has a third in reserve.
    @Test(arguments: [0, 1, 2, 3, 5, 8, 12, 16, 20, 24, 29])
    func deviationBoundsHold(order: Int) {
        var rng = SplitMix64(seed: 7 + UInt64(order))
        let layer = HEALPix.Layer(order: order)
        var ratioMax = 0.0
        for trial in 0..<40 {
            let index = Self.interestingPixel(order: order, trial: trial, &rng)
            let outline = HEALPix.PixelOutline(layer: layer, hash: UInt64(index))
            var pieces: [HEALPix.Piece] = []
            outline.forEachPiece(vertices: outline.vertexVectors()) { pieces.append($0) }
            for _ in 0..<4 {
                var next: [HEALPix.Piece] = []
                for piece in pieces {
                    for k in 0...48 {
                        let t = Double(k) / 48
                        let q = HEALPix.Projection.unproject(x: HEALPix.Layer.nonNegative(piece.x0 + t * (piece.x1 - piece.x0)),
                                                             y: piece.y0 + t * (piece.y1 - piece.y0))
                        let v = UnitVector(x: cos(q.lat) * cos(q.lon), y: cos(q.lat) * sin(q.lon), z: sin(q.lat))
                        let off = SphericalGeometry.distanceToArc(v, from: piece.a, to: piece.b)
                        if piece.deviation.isFinite && piece.deviation > 1e-12 { ratioMax = max(ratioMax, off / piece.deviation) }
                        #expect(off <= piece.deviation + 1e-15, "order \(order) pixel \(index): \(off) > \(piece.deviation)")
                    }
                    let (h0, h1) = piece.halves()
                    next += [h0, h1]
                }
                pieces = next
            }
        }
        #expect(ratioMax <= 0.8, "order \(order): a piece strays \(ratioMax) of its bound")
    }

    @Test(arguments: [0, 1, 3, 6, 10, 15, 22, 29])
    func boundingCapContainsPixel(order: Int) {
        var rng = SplitMix64(seed: 300 + UInt64(order))
        for trial in 0..<40 {
            let index = Self.interestingPixel(order: order, trial: trial, &rng)
            let cap = HEALPix.boundingCap(order: order, index: index)
            var farthest = 0.0
            for a in 0...24 {
                for b in 0...24 where a == 0 || a == 24 || b == 0 || b == 24 || (a % 4 == 0 && b % 4 == 0) {
                    let q = HEALPix.position(order: order, index: index, dx: Double(a) / 24, dy: Double(b) / 24)
                    farthest = max(farthest, cap.center.angle(to: UnitVector(ra: q.ra, dec: q.dec)))
                }
            }
            #expect(farthest <= cap.radius, "order \(order) pixel \(index)")
            #expect(cap.radius <= 1.25 * farthest + 1e-15, "order \(order) pixel \(index): cap \(cap.radius), farthest \(farthest)")
        }
    }

    /// Points on a pixel's edges are at distance ≈ 0 from the neighbour across them; a
    /// neighbour's center is farther than 0 but within the neighbour's cap.
    @Test(arguments: [1, 4, 12, 20, 29])
    func neighboursTouch(order: Int) {
        var rng = SplitMix64(seed: 500 + UInt64(order))
        for trial in 0..<60 {
            let index = Self.interestingPixel(order: order, trial: trial, &rng)
            let edgePoints = [(0.5, 0.0), (1.0, 0.5), (0.5, 1.0), (0.0, 0.5), (0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
                .map { HEALPix.position(order: order, index: index, dx: $0.0, dy: $0.1) }
            for n in HEALPix.neighbours(order: order, index: index) {
                let nearest = edgePoints.map { HEALPix.distanceToPixel(ra: $0.ra, dec: $0.dec, order: order, index: n) }.min()!
                #expect(nearest <= Self.contract, "order \(order): pixel \(index) and neighbour \(n)")
                let c = HEALPix.center(order: order, index: n)
                let d = HEALPix.distanceToPixel(ra: c.ra, dec: c.dec, order: order, index: index)
                let cap = HEALPix.boundingCap(order: order, index: n)
                #expect(d > 0 && d <= cap.radius * 180 / .pi, "order \(order): center of \(n) vs \(index)")
            }
        }
    }

    /// The distance to a pixel is at least that to its parent, and between the cap bound and the
    /// distance to the center.
    @Test func distanceIsConsistentAcrossOrders() {
        var rng = SplitMix64(seed: 77)
        for _ in 0..<400 {
            let ra = rng.unit() * 360, dec = asin(2 * rng.unit() - 1) * 180 / .pi
            let order = 1 + Int(rng.next() % 29)
            let q = UnitVector(ra: rng.unit() * 360, dec: asin(2 * rng.unit() - 1) * 180 / .pi)
            let index = HEALPix.nestedIndex(ra: q.ra, dec: q.dec, order: order)
            let d = HEALPix.distanceToPixel(ra: ra, dec: dec, order: order, index: index)
            let parent = HEALPix.distanceToPixel(ra: ra, dec: dec, order: order - 1, index: index >> 2)
            #expect(parent <= d + Self.contract)
            let c = HEALPix.center(order: order, index: index)
            #expect(d <= SphericalGeometry.separation(ra1: ra, dec1: dec, ra2: c.ra, dec2: c.dec) + 1e-12)
            let cap = HEALPix.boundingCap(order: order, index: index)
            #expect(d >= (UnitVector(ra: ra, dec: dec).angle(to: cap.center) - cap.radius) * 180 / .pi - 1e-12)
        }
    }

    // MARK: - Helpers

    /// A pixel chosen to exercise the hard places: pole pixels, base-cell corners, pixels on the
    /// transition latitude, and random ones.
    static func interestingPixel(order: Int, trial: Int, _ rng: inout SplitMix64) -> Int64 {
        let n = Int64(1) << order, last = n - 1
        let base = Int64(rng.next() % 12)
        func pixel(_ b: Int64, _ i: Int64, _ j: Int64) -> Int64 {
            (b << (2 * Int64(order))) | Int64(HEALPix.ZOrder.interleave(UInt32(i), UInt32(j)))
        }
        let r = Int64(rng.next() % UInt64(n))
        switch trial % 6 {
        case 0: return base < 4 ? pixel(base, last, last) : (base >= 8 ? pixel(base, 0, 0) : pixel(base, last, 0))
        case 1: return pixel(base, [0, last][Int(rng.next() % 2)], [0, last][Int(rng.next() % 2)])
        case 2:  // near the north transition (x + y ≈ nside in a polar base cell) or near a pole
            let i = r, j = max(0, min(last, n - 1 - r + Int64(rng.next() % 3) - 1))
            return pixel(Int64(rng.next() % 4) + (rng.next() % 2 == 0 ? 0 : 8), i, j)
        case 3:  // close to a pole
            let k = Int64(rng.next() % UInt64(min(n, 6)))
            return rng.next() % 2 == 0 ? pixel(Int64(rng.next() % 4), last - k, last - Int64(rng.next() % UInt64(min(n, 6))))
                : pixel(8 + Int64(rng.next() % 4), k, Int64(rng.next() % UInt64(min(n, 6))))
        default: return Int64(rng.next() % UInt64(HEALPix.pixelCount(order: order)))
        }
    }

    /// A point at various scales from the pixel: far away, pixel-sized offsets, and offsets of
    /// 1e-10° to 1e-6° from a boundary point (edges and vertices).
    static func pointNear(order: Int, index: Int64, trial: Int, _ rng: inout SplitMix64) -> (ra: Double, dec: Double) {
        let size = HEALPix.boundingCap(order: order, index: index).radius
        let anchor: (ra: Double, dec: Double)
        var offset: Double
        switch trial % 5 {
        case 0:
            return (rng.unit() * 360, asin(2 * rng.unit() - 1) * 180 / .pi)
        case 1, 2:
            anchor = HEALPix.position(order: order, index: index, dx: rng.unit(), dy: rng.unit())
            offset = size * 3 * rng.unit()
        default:
            let t = rng.unit()
            let edge = [(t, 0.0), (1.0, t), (t, 1.0), (0.0, t), (0, 0), (1, 0), (1, 1), (0, 1)][Int(rng.next() % 8)]
            anchor = HEALPix.position(order: order, index: index, dx: edge.0, dy: edge.1)
            offset = pow(10, -12 - 4 * rng.unit()) * .pi  // 1e-10° … 1e-6°
        }
        let a = UnitVector(ra: anchor.ra, dec: anchor.dec)
        // Move `offset` radians from the anchor in a random direction.
        let east = Vector3(x: -a.y, y: a.x, z: 0)
        let el = max(east.length, 1e-300)
        let north = Vector3(a).cross(east)
        let phi = rng.unit() * 2 * .pi
        let dirx = cos(phi) * east.x / el + sin(phi) * north.x / el
        let diry = cos(phi) * east.y / el + sin(phi) * north.y / el
        let dirz = cos(phi) * east.z / el + sin(phi) * north.z / el
        let v = UnitVector(x: a.x * cos(offset) + dirx * sin(offset), y: a.y * cos(offset) + diry * sin(offset),
                           z: a.z * cos(offset) + dirz * sin(offset))
        return (v.ra, max(-90, min(90, v.dec)))
    }

    /// The distance in degrees from the point to the pixel boundary, by dense sampling of each
    /// edge with `position(dx:dy:)` and golden-section refinement around every local minimum.
    static func bruteForceDistance(ra: Double, dec: Double, order: Int, index: Int64) -> Double {
        let p = UnitVector(ra: ra, dec: dec)
        let edges: [(Double) -> (Double, Double)] = [{ ($0, 0) }, { (1, $0) }, { (1 - $0, 1) }, { (0, 1 - $0) }]
        var best = Double.infinity
        for edge in edges {
            let f = { (t: Double) -> Double in
                let (dx, dy) = edge(min(max(t, 0), 1))
                let q = HEALPix.position(order: order, index: index, dx: dx, dy: dy)
                return p.angle(to: UnitVector(ra: q.ra, dec: q.dec))
            }
            let n = 128
            let values = (0...n).map { f(Double($0) / Double(n)) }
            for k in 0...n where (k == 0 || values[k] <= values[k - 1]) && (k == n || values[k] <= values[k + 1]) {
                var lo = Double(max(k - 1, 0)) / Double(n), hi = Double(min(k + 1, n)) / Double(n)
                let g = (5.0.squareRoot() - 1) / 2
                var m1 = hi - g * (hi - lo), m2 = lo + g * (hi - lo)
                var f1 = f(m1), f2 = f(m2)
                for _ in 0..<70 {
                    if f1 < f2 {
                        hi = m2; m2 = m1; f2 = f1; m1 = hi - g * (hi - lo); f1 = f(m1)
                    } else {
                        lo = m1; m1 = m2; f1 = f2; m2 = lo + g * (hi - lo); f2 = f(m2)
                    }
                }
                best = min(best, values[k], f1, f2)
            }
        }
        return best * 180 / .pi
    }
}
