import Foundation
import Testing
import TestSupport

@testable import Sky

@Suite("HEALPix cone and box coverage")
struct HEALPixCoverageTests {
    /// healpy's `query_disc`: the non-inclusive result (pixel centers inside the cone) must be in
    /// ours, ours must be in the inclusive result with a fine `fact` (healpy's superset).
    @Test func coneAgreesWithHealpy() throws {
        var rng = SplitMix64(seed: 8)
        var cones: [(order: Int, ra: Double, dec: Double, radius: Double)] = []
        for k in 0..<60 {
            let order = [2, 5, 8, 11, 14, 17, 20][k % 7]
            let pixelSize = 58.6 / Double(1 << order)  // degrees, the mean pixel size
            var ra = rng.unit() * 360, dec = asin(2 * rng.unit() - 1) * 180 / .pi
            switch k % 6 {
            case 0: dec = k % 12 == 0 ? 90 : -90
            case 1: ra = 360 - 1e-9; dec = 41.810314895778596  // on the transition latitude, RA wrap
            case 2: ra = 0
            default: break
            }
            let radius = k == 3 ? 0 : min(pixelSize * (0.2 + 15 * rng.unit()), 30)
            cones.append((order, ra, dec, radius))
        }
        let script = """
            import sys, numpy as np, healpy as hp
            for line in sys.stdin:
                k, order, ra, dec, radius = line.split()
                order = int(order); nside = 1 << order
                vec = hp.ang2vec(float(ra), float(dec), lonlat=True)
                r = np.radians(float(radius))
                inner = hp.query_disc(nside, vec, r, inclusive=False, nest=True)
                fact = min(64, (1 << 29) // nside)
                outer = hp.query_disc(nside, vec, r, inclusive=True, fact=fact, nest=True)
                print("I", k, " ".join(map(str, inner)))
                print("O", k, " ".join(map(str, outer)))
            """
        let input = cones.enumerated().map { "\($0.offset) \($0.element.order) \($0.element.ra) \($0.element.dec) \($0.element.radius)" }
            .joined(separator: "\n")
        let out = try Self.runPython(script, input: input)
        var inner: [Int: Set<Int64>] = [:], outer: [Int: Set<Int64>] = [:]
        for line in out.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 2, let k = Int(f[1]) else { continue }
            let pixels = Set(f.dropFirst(2).compactMap { Int64($0) })
            if f[0] == "I" { inner[k] = pixels } else { outer[k] = pixels }
        }
        #expect(inner.count == cones.count && outer.count == cones.count)
        for (k, cone) in cones.enumerated() {
            let ours = HEALPix.coneCoverage(ra: cone.ra, dec: cone.dec, radius: cone.radius, order: cone.order)
            #expect(ours == ours.sorted() && Set(ours).count == ours.count)
            let set = Set(ours)
            let missing = inner[k, default: []].subtracting(set)
            let extra = set.subtracting(outer[k, default: []])
            #expect(missing.isEmpty, "cone \(cone): healpy centers inside but not ours: \(missing.sorted().prefix(10))")
            #expect(extra.isEmpty, "cone \(cone): ours beyond healpy's inclusive: \(extra.sorted().prefix(10))")
            #expect(!ours.isEmpty)
        }
    }

    /// Brute force over every pixel at small orders, and over the neighbour-connected region
    /// around the center at large ones: exactly the pixels within the radius (give or take the
    /// 1e-7° tolerance).
    @Test(arguments: [0, 1, 2, 3, 4, 9, 13, 18, 23, 29])
    func coneMatchesBruteForce(order: Int) {
        var rng = SplitMix64(seed: 40 + UInt64(order))
        let pixelSize = 58.6 / Double(1 << order)
        for trial in 0..<12 {
            var ra = rng.unit() * 360, dec = asin(2 * rng.unit() - 1) * 180 / .pi
            if trial == 0 { dec = 90 }
            if trial == 1 { (ra, dec) = (0, -41.810314895778596) }
            let radius = min(pixelSize * [0.0, 0.1, 0.7, 2.5, 6.0][trial % 5] * (0.5 + rng.unit()), 100)
            let ours = HEALPix.coneCoverage(ra: ra, dec: dec, radius: radius, order: order)
            let got = Set(ours)
            let candidates: [Int64]
            if order <= 4 {
                candidates = Array(0..<HEALPix.pixelCount(order: order))
            } else {
                // Every pixel within the radius is reachable through neighbours within it.
                var seen: Set<Int64> = [HEALPix.nestedIndex(ra: ra, dec: dec, order: order)]
                var queue = Array(seen)
                while let pixel = queue.popLast() {
                    for n in HEALPix.neighbours(order: order, index: pixel) where !seen.contains(n)
                        && HEALPix.distanceToPixel(ra: ra, dec: dec, order: order, index: n) <= radius + 1e-6 {
                        seen.insert(n)
                        queue.append(n)
                    }
                }
                candidates = Array(seen)
            }
            for pixel in candidates {
                let d = HEALPix.distanceToPixel(ra: ra, dec: dec, order: order, index: pixel)
                if d <= radius { #expect(got.contains(pixel), "order \(order) cone (\(ra), \(dec), \(radius)): missed \(pixel) at \(d)") }
            }
            for pixel in ours {
                let d = HEALPix.distanceToPixel(ra: ra, dec: dec, order: order, index: pixel)
                #expect(d <= radius + 1e-7, "order \(order) cone (\(ra), \(dec), \(radius)): \(pixel) is \(d)° away")
            }
        }
    }

    @Test func wholeSkyCones() {
        #expect(HEALPix.coneCoverage(ra: 10, dec: 20, radius: 180, order: 3) == Array(0..<768))
        #expect(HEALPix.coneCoverage(ra: 10, dec: 20, radius: 179.9, order: 1).count == 48)
        // A point cone on the pole touches the four pixels around it.
        #expect(HEALPix.coneCoverage(ra: 0, dec: 90, radius: 0, order: 6) == (0..<4).map { Int64($0) * 4096 + 4095 })
        #expect(HEALPix.coneCoverage(ra: 123, dec: 4, radius: 0, order: 9) == [HEALPix.nestedIndex(ra: 123, dec: 4, order: 9)])
    }

    /// Random boxes — wrapping through RA 0, touching the poles, thin, whole circles: every
    /// pixel holding a point of the box is returned, and every returned pixel comes close to it.
    @Test(arguments: [0, 1, 3, 6, 9, 12, 16])
    func boxCoversItsPoints(order: Int) {
        var rng = SplitMix64(seed: 60 + UInt64(order))
        let pixelSize = 58.6 / Double(1 << order)
        for trial in 0..<10 {
            let width = [360.0, 40.0, 5.0, 0.0, 1.0][trial % 5] * (order > 9 && trial % 5 < 2 ? 0.01 : 1) * (0.2 + rng.unit())
            let height = [10.0, 180.0, 3.0, 0.5, 0.0][trial % 5] * (order > 9 ? 0.02 : 1) * (0.2 + rng.unit())
            let raLower = trial % 3 == 0 ? 360 - width * 0.4 : rng.unit() * 360
            var raUpper = raLower + width
            if raUpper >= 360 && width < 360 { raUpper -= 360 }
            var decLower = -90 + rng.unit() * (180 - min(height, 180))
            if trial == 2 { decLower = 90 - min(height, 180) }
            let decUpper = min(90, decLower + height)
            let box = CoordinateBox(ra: (raLower, raUpper), dec: (decLower, decUpper))
            let ours = HEALPix.boxCoverage(raRange: (raLower, raUpper), decRange: (decLower, decUpper), order: order)
            #expect(ours == ours.sorted() && Set(ours).count == ours.count)
            let got = Set(ours)
            // Points inside, on the sides and at the corners.
            let sLow = sin(decLower * .pi / 180), sHigh = sin(decUpper * .pi / 180)
            for k in 0..<3_000 {
                var ra = raLower + (box.fullCircle ? 360 : box.raWidth) * (k % 10 == 0 ? Double(k % 20 / 10) : rng.unit())
                var dec = asin(sLow + (sHigh - sLow) * rng.unit()) * 180 / .pi
                if k % 10 == 1 { dec = [decLower, decUpper][k % 20 / 10] }
                if k % 50 == 3 { ra = [raLower, raUpper][k % 100 / 50]; dec = [decLower, decUpper][k % 3 % 2] }
                ra = ra.truncatingRemainder(dividingBy: 360)
                dec = max(decLower, min(decUpper, dec))
                let pixel = HEALPix.nestedIndex(ra: ra, dec: dec, order: order)
                #expect(got.contains(pixel), "order \(order) box ra (\(raLower), \(raUpper)) dec (\(decLower), \(decUpper)): point (\(ra), \(dec)) in \(pixel)")
            }
            // Returned pixels reach the box: within a quarter of a mean pixel size, by a 9 × 9
            // sampling of each (0.13 is the largest seen).
            for pixel in ours.shuffled(using: &rng).prefix(400) {
                var nearest = Double.infinity
                for a in 0...8 {
                    for b in 0...8 {
                        let q = HEALPix.position(order: order, index: pixel, dx: Double(a) / 8, dy: Double(b) / 8)
                        nearest = min(nearest, box.distance(from: UnitVector(ra: q.ra, dec: q.dec)) * 180 / .pi)
                    }
                }
                #expect(nearest <= 0.25 * pixelSize, "order \(order): pixel \(pixel) is \(nearest)° from the box")
            }
        }
    }

    @Test func boxShapes() {
        // The whole sky, a whole band, a polar cap.
        #expect(HEALPix.boxCoverage(raRange: (0, 360), decRange: (-90, 90), order: 2) == Array(0..<192))
        #expect(HEALPix.boxCoverage(raRange: (-30, 330), decRange: (-90, 90), order: 1) == Array(0..<48))
        let cap = HEALPix.boxCoverage(raRange: (0, 360), decRange: (80, 90), order: 4)
        #expect(cap == HEALPix.coneCoverage(ra: 0, dec: 90, radius: 10, order: 4))
        // Wrapping: (350, 10) is the union of (350, 360) and (0, 10).
        let wrapped = Set(HEALPix.boxCoverage(raRange: (350, 10), decRange: (-5, 5), order: 7))
        let parts = Set(HEALPix.boxCoverage(raRange: (350, 360), decRange: (-5, 5), order: 7))
            .union(HEALPix.boxCoverage(raRange: (0, 10), decRange: (-5, 5), order: 7))
        #expect(wrapped == parts)
    }

    /// Runs a Python script with `input` on its standard input.
    static func runPython(_ script: String, input: String) throws -> String {
        let dir = try TestSupport.temporaryDirectory("coverage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputFile = dir.appendingPathComponent("input.txt")
        try input.write(to: inputFile, atomically: true, encoding: .utf8)
        return try TestSupport.runPython("import sys\nsys.stdin = open(sys.argv[1])\n" + script, arguments: [inputFile.path])
    }
}
