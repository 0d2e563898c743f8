import Testing
import TestSupport

@testable import Sky

@Suite("Pixel trees and the margin finder")
struct MarginFinderTests {
    /// A tiling of the sphere with pixels of orders 0–4, from random splits.
    static func randomTiling(seed: UInt64) throws -> PixelTree {
        var rng = SplitMix64(seed: seed)
        var tiles: [HealpixPixel] = []
        func split(_ p: HealpixPixel) {
            if p.order < 4 && rng.next() % 3 != 0 { p.children.forEach(split) } else { tiles.append(p) }
        }
        for b in 0..<12 { split(HealpixPixel(order: 0, index: Int64(b))) }
        return try PixelTree(tiles)
    }

    @Test func complementTilesTheSphere() throws {
        let tree = try PixelTree([HealpixPixel(order: 1, index: 5), HealpixPixel(order: 3, index: 300), HealpixPixel(order: 2, index: 90)])
        let negative = tree.complement()
        let all = try PixelTree(tree.pixels + negative)  // throws if any overlap
        let covered = all.pixels.reduce(0.0) { $0 + 1 / Double(HEALPix.pixelCount(order: $1.order)) }
        #expect(abs(covered - 1) < 1e-12)
        #expect(negative.contains(HealpixPixel(order: 0, index: 0)), "an empty base pixel is one negative pixel")
        #expect(tree.position(containing: HealpixPixel(order: 3, index: 300).healpix29Range.lowerBound + 5) == 1)
    }

    @Test func interiorCellsHaveAllNeighboursInTheirTile() throws {
        var rng = SplitMix64(seed: 11)
        let finder = try #require(MarginFinder(tiles: try Self.randomTiling(seed: 1), thresholdArcsec: 60))
        for _ in 0..<20_000 {
            let cell = Int64(rng.next() % UInt64(HEALPix.pixelCount(order: finder.cellOrder)))
            let tile = HealpixPixel(order: finder.cellOrder, index: cell).ancestor(atOrder: Int(rng.next() % 5))
            let truth = HEALPix.neighbours(order: finder.cellOrder, index: cell)
                .allSatisfy { tile.contains(HealpixPixel(order: finder.cellOrder, index: $0)) }
            if finder.isInterior(cell: cell, tile: tile) { #expect(truth, "cell \(cell) in \(tile)") }
        }
    }

    /// Against brute force: a point belongs to the margin of every other tile within the threshold.
    @Test(arguments: [1.0, 30.0, 600.0])
    func targetsEqualBruteForce(thresholdArcsec: Double) throws {
        let tiles = try Self.randomTiling(seed: 2)
        var finder = try #require(MarginFinder(tiles: tiles, thresholdArcsec: thresholdArcsec))
        var rng = SplitMix64(seed: 3)
        var found: [Int] = []
        var nearBorder = 0
        for _ in 0..<1_000 {
            // Points close to a random tile's vertex or edge, so many are near borders.
            let t = tiles.pixels[Int(rng.next() % UInt64(tiles.count))]
            let dx = Double(rng.next() % 1_000_001) / 1_000_000, dy = Double(rng.next() % 2) == 0 ? 0 : 1
            let base = HEALPix.position(order: t.order, index: t.index, dx: dx, dy: Double(dy))
            let off = thresholdArcsec / 3600 * 2 * (Double(rng.next() % 2_000_001) / 1_000_000 - 1)
            let dec = max(-90, min(90, base.dec + off))
            let ra = base.ra + off * 0.7
            let h = HEALPix.nestedIndex(ra: ra, dec: dec, order: 29)
            guard let own = tiles.position(containing: h) else { Issue.record("tiling has a hole"); return }
            found.removeAll()
            finder.targets(ownTile: own, healpix29: h, ra: ra, dec: dec, into: &found)
            let limit = thresholdArcsec / 3600
            var expected: [Int] = []
            let point = UnitVector(ra: ra, dec: dec)
            for (k, p) in tiles.pixels.enumerated() where k != own {
                let cap = HEALPix.boundingCap(order: p.order, index: p.index)
                if (point.angle(to: cap.center) - cap.radius) * 180 / .pi > limit + 1e-3 { continue }
                let d = HEALPix.distanceToPixel(ra: ra, dec: dec, order: p.order, index: p.index)
                if d <= limit - 1e-6 { expected.append(k) }           // surely within
                else if d <= limit + MarginFinder.toleranceDegrees + 1e-6 { expected.append(-k - 1) }  // borderline: either
            }
            let sure = Set(expected.filter { $0 >= 0 }), maybe = Set(expected.filter { $0 < 0 }.map { -$0 - 1 })
            #expect(sure.isSubset(of: Set(found)), "missed tiles \(sure.subtracting(found)) for (\(ra), \(dec))")
            #expect(Set(found).isSubset(of: sure.union(maybe)), "extra tiles \(Set(found).subtracting(sure.union(maybe)))")
            if !sure.isEmpty { nearBorder += 1 }
        }
        #expect(nearBorder > 150)
    }
}
