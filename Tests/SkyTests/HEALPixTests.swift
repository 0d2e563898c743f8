import Foundation
import Testing
import TestSupport

@testable import Sky

// MARK: - Pure unit tests (no Python)

@Suite("HEALPix arithmetic")
struct HEALPixArithmeticTests {
    @Test(arguments: [(0, 12), (1, 48), (5, 12_288), (10, 12_582_912), (29, 3_458_764_513_820_540_928)] as [(Int, Int64)])
    func pixelCount(order: Int, count: Int64) {
        #expect(HEALPix.pixelCount(order: order) == count)
    }

    @Test func parentAndChildRangeAreInverse() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let from = Int(rng.next() % 30)
            let to = Int(rng.next() % UInt64(from + 1))
            let index = Int64(rng.next() % UInt64(HEALPix.pixelCount(order: from)))
            let parent = HEALPix.parent(index, from: from, to: to)
            #expect(parent == index >> (2 * (from - to)))
            let children = HEALPix.childRange(parent, from: to, to: from)
            #expect(children.contains(index))
            #expect(children.count == 1 << (2 * (from - to)))
            #expect(HEALPix.parent(children.lowerBound, from: from, to: to) == parent)
            #expect(HEALPix.parent(children.upperBound - 1, from: from, to: to) == parent)
        }
        #expect(HEALPix.childRange(11, from: 0, to: 29) == (11 << 58)..<(12 << 58))
        #expect(HEALPix.childRange(5, from: 3, to: 3) == 5..<6)
        #expect(HEALPix.parent(HEALPix.pixelCount(order: 29) - 1, from: 29, to: 0) == 11)
    }

    @Test(arguments: [0, 1, 2, 5, 10, 17, 28, 29])
    func centerRoundTrips(order: Int) {
        var rng = SplitMix64(seed: UInt64(order) + 1)
        let count = HEALPix.pixelCount(order: order)
        let indices = (0..<500).map { _ in Int64(rng.next() % UInt64(count)) } + [0, count - 1]
        for index in indices {
            let c = HEALPix.center(order: order, index: index)
            #expect((0..<360).contains(c.ra) && (-90...90).contains(c.dec))
            #expect(HEALPix.nestedIndex(ra: c.ra, dec: c.dec, order: order) == index, "order \(order) pixel \(index)")
        }
    }

    @Test func zOrderRoundTrips() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<1_000 {
            let i = UInt32(truncatingIfNeeded: rng.next()) >> 3
            let j = UInt32(truncatingIfNeeded: rng.next()) >> 3
            let h = HEALPix.ZOrder.interleave(i, j)
            #expect(HEALPix.ZOrder.deinterleave(h) == (i, j))
        }
        #expect(HEALPix.ZOrder.interleave(0b11, 0b01) == 0b0111)
    }

    /// Values from cdshealpix 0.9.0 (Rust crate 0.10.1); healpy differs on most of them.
    @Test(arguments: [
        (90.0, 0.0, 1_657_324_662_872_342_528),
        (45.0, 0.0, 0),
        (0.0, 0.0, 1_369_094_286_720_630_784),
        (360.0, 0.0, 1_369_094_286_720_630_784),
        (-1e-12, 0.0, 1_321_055_890_695_345_493),
        (0.0, 41.810314895778596, 192_153_584_101_141_162),
        (0.0, -41.810314895778596, 1_152_921_504_606_846_976),
        (180.0, -41.810314895778596, 1_729_382_256_910_270_464),
        (0.0, 90.0, 288_230_376_151_711_743),
        (-0.0, 90.0, 1_152_921_504_606_846_975),
        (0.0, -90.0, 2_305_843_009_213_693_952),
    ] as [(Double, Double, Int64)])
    func knownBoundaryPoints(ra: Double, dec: Double, expected: Int64) {
        #expect(HEALPix.nestedIndex(ra: ra, dec: dec, order: 29) == expected)
    }

    @Test func longitudeWrapsLikeAstropy() {
        typealias A = HEALPix.AstropyAngle
        #expect(A.wrapLongitude(degrees: -1e-12) == 359.999999999999)
        #expect(A.wrapLongitude(degrees: 360) == 0)
        #expect(A.wrapLongitude(degrees: 720) == 0)
        #expect(A.wrapLongitude(degrees: -360) == 0)
        #expect(A.wrapLongitude(degrees: 1e20) == 0)
        #expect(A.wrapLongitude(degrees: -Double.leastNonzeroMagnitude) == 0)
        #expect(A.wrapLongitude(degrees: -0.0).sign == .minus)
        #expect(A.wrapLongitude(degrees: 359.99999999999994) == 359.99999999999994)
    }

    @Test(arguments: [
        (10.0, 20.0, nil),
        (-400.0, 90.0, nil),
        (1e300, -90.0, nil),
        (Double.nan, 0.0, CoordinateProblem.notFinite),
        (0.0, Double.nan, .notFinite),
        (Double.infinity, 0.0, .notFinite),
        (0.0, -Double.infinity, .notFinite),
        (0.0, 90.000000000001, .latitudeOutOfRange),
        (0.0, -91.0, .latitudeOutOfRange),
    ] as [(Double, Double, CoordinateProblem?)])
    func coordinateValidation(ra: Double, dec: Double, problem: CoordinateProblem?) {
        #expect(SkyCoordinateCheck.validate(ra: ra, dec: dec) == problem)
    }
}

// MARK: - Bit-for-bit comparison with cdshealpix (and healpy) from the project venv

@Suite("HEALPix against cdshealpix")
struct HEALPixReferenceTests {
    @Test(arguments: [0, 1, 5, 10, 29])
    func nestedIndicesMatchCdshealpix(order: Int) throws {
        let ref = try HEALPixReferenceData.shared.get()
        let k = try #require(ref.orders.firstIndex(of: order))
        let expected = ref.expected[k]
        var got = [Int64](repeating: -1, count: ref.count)
        ref.ra.withUnsafeBufferPointer { ra in
            ref.dec.withUnsafeBufferPointer { dec in
                got.withUnsafeMutableBufferPointer { out in
                    HEALPix.nestedIndices(ra: ra, dec: dec, order: order, into: out)
                }
            }
        }
        var mismatches = 0
        for p in 0..<ref.count {
            let single = HEALPix.nestedIndex(ra: ref.ra[p], dec: ref.dec[p], order: order)
            if got[p] != expected[p] || single != expected[p] {
                mismatches += 1
                if mismatches <= 20 {
                    Issue.record("""
                        order \(order) point \(p): ra=\(ref.ra[p]) (bits \(hex(ref.ra[p]))) \
                        dec=\(ref.dec[p]) (bits \(hex(ref.dec[p]))): cdshealpix \(expected[p]), \
                        nestedIndices \(got[p]), nestedIndex \(single)
                        """)
                }
            }
        }
        #expect(ref.count >= 200_000)
        #expect(mismatches == 0, "\(mismatches) of \(ref.count) points differ from cdshealpix at order \(order)")
    }

    @Test func order29MatchesHealpyOnRandomPoints() throws {
        let ref = try HEALPixReferenceData.shared.get()
        var mismatches = 0
        for p in 0..<ref.randomCount {
            let got = HEALPix.nestedIndex(ra: ref.ra[p], dec: ref.dec[p], order: 29)
            if got != ref.healpy29[p] {
                mismatches += 1
                if mismatches <= 10 {
                    Issue.record("point \(p): ra=\(ref.ra[p]) dec=\(ref.dec[p]): healpy \(ref.healpy29[p]), got \(got)")
                }
            }
        }
        #expect(ref.randomCount >= 50_000)
        #expect(mismatches == 0, "\(mismatches) of \(ref.randomCount) random points differ from healpy")
    }

    @Test func centersMatchCdshealpix() throws {
        let ref = try HEALPixReferenceData.shared.get()
        var mismatches = 0
        for c in ref.centers {
            let got = HEALPix.center(order: c.order, index: c.index)
            if got.ra.bitPattern != c.ra.bitPattern || got.dec.bitPattern != c.dec.bitPattern {
                mismatches += 1
                if mismatches <= 20 {
                    Issue.record("order \(c.order) pixel \(c.index): cdshealpix (\(c.ra), \(c.dec)), got \(got)")
                }
            }
        }
        #expect(ref.centers.count > 1_000)
        #expect(mismatches == 0, "\(mismatches) of \(ref.centers.count) centers differ from cdshealpix")
    }
}

private func hex(_ x: Double) -> String { "0x" + String(x.bitPattern, radix: 16) }

