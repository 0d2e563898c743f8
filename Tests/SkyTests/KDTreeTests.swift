import Testing
import TestSupport

@testable import Sky

// The k-d tree against brute force: every query's candidates are sorted once by (d², index) with
// d² computed exactly as the tree computes it, and each radius / minChord / k is a slice of that
// list. Clouds mix uniform points with dense spots (down to 1e-7 apart), exact duplicates, the
// poles, the axes and the equator, so boxes are degenerate, ties are common and splits repeat.

@Suite struct KDTreeTests {
    /// One arcsecond as a chord, 2·sin(θ/2) to well below an ulp.
    static let arcsecond: Double = {
        let theta = Double.pi / 648_000
        return theta - theta * theta * theta / 24
    }()

    /// Chord radii from zero (exact positions only) to beyond the sphere's diameter.
    static let radii: [Double] = [0, arcsecond, 2e-5, 1e-3, 0.02, 0.3, 1.0, 2.0001]

    // MARK: - Brute force

    enum Cloud: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case uniform, clustered, fewDistinct, largeClustered
        var testDescription: String { rawValue }
    }

    struct Fixture: Sendable {
        var x: [Double] = [], y: [Double] = [], z: [Double] = []
        var qx: [Double] = [], qy: [Double] = [], qz: [Double] = []
        /// For each query, every point as (index, d²), sorted by d² then index.
        var sorted: [[KDTree.Neighbor]] = []
        let tree: KDTree

        init(_ cloud: Cloud) {
            var rng = SplitMix64(seed: 0x6B64 &+ UInt64(cloud.rawValue.utf8.count))
            switch cloud {
            case .uniform:
                for _ in 0 ..< 2500 { Self.append(Self.randomUnit(&rng), to: &x, &y, &z) }
            case .clustered:
                Self.clustered(count: 2500, &rng, &x, &y, &z)
            case .fewDistinct:
                var distinct: [(Double, Double, Double)] = [(0, 0, 1), (0, 0, -1), (1, 0, 0)]
                for _ in 0 ..< 37 { distinct.append(Self.randomUnit(&rng)) }
                for _ in 0 ..< 2000 { Self.append(distinct[Int(rng.next() % 40)], to: &x, &y, &z) }
            case .largeClustered:
                Self.clustered(count: 20000, &rng, &x, &y, &z)
            }
            tree = KDTree(x: x, y: y, z: z)
            // Queries: points of the cloud, the same nudged by about each radius, uniform points,
            // the poles and axes, and the origin (every point at d² ≈ 1).
            let n = x.count
            let queryCount = cloud == .largeClustered ? 32 : 120
            for q in 0 ..< queryCount {
                let i = Int(rng.next() % UInt64(n))
                switch q % 4 {
                case 0: Self.append((x[i], y[i], z[i]), to: &qx, &qy, &qz)
                case 1, 2:
                    let scale = KDTreeTests.radii[1 + Int(rng.next() % UInt64(KDTreeTests.radii.count - 2))]
                    let d = Self.randomUnit(&rng)
                    Self.append(Self.normalized((x[i] + scale * d.0, y[i] + scale * d.1, z[i] + scale * d.2)),
                                to: &qx, &qy, &qz)
                default: Self.append(Self.randomUnit(&rng), to: &qx, &qy, &qz)
                }
            }
            for special in [(0.0, 0.0, 1.0), (0, 0, -1), (1, 0, 0), (0, -1, 0), (0, 0, 0)] {
                Self.append(special, to: &qx, &qy, &qz)
            }
            for q in qx.indices {
                var all: [KDTree.Neighbor] = []
                all.reserveCapacity(n)
                for i in 0 ..< n {
                    let dx = qx[q] - x[i], dy = qy[q] - y[i], dz = qz[q] - z[i]
                    all.append(KDTree.Neighbor(index: i, chordSquared: dx * dx + dy * dy + dz * dz))
                }
                all.sort(by: KDTree.precedes)
                sorted.append(all)
            }
        }

        /// The brute-force answer for query `q`: everything with m² <= d² <= r², nearest first.
        func within(_ q: Int, maxChord: Double, minChord: Double) -> ArraySlice<KDTree.Neighbor> {
            let all = sorted[q]
            let r2 = maxChord * maxChord, m2 = minChord * minChord
            let lower = Self.firstIndex(in: all) { $0.chordSquared >= m2 }
            let upper = Self.firstIndex(in: all) { $0.chordSquared > r2 }
            return lower < upper ? all[lower ..< upper] : []
        }

        /// The first index where `isAfter` holds, for a predicate false then true along `all`.
        static func firstIndex(in all: [KDTree.Neighbor], where isAfter: (KDTree.Neighbor) -> Bool) -> Int {
            var low = 0, high = all.count
            while low < high {
                let middle = (low + high) / 2
                if isAfter(all[middle]) { high = middle } else { low = middle + 1 }
            }
            return low
        }

        static func clustered(count: Int, _ rng: inout SplitMix64, _ x: inout [Double], _ y: inout [Double],
                              _ z: inout [Double]) {
            let centers = (0 ..< 6).map { _ in randomUnit(&rng) } + [(0, 0, 1), (0, 0, -1)]
            let spreads = [1e-7, 1e-5, 1e-3, 3e-2]
            while x.count < count {
                let roll = rng.next() % 100
                if roll < 35 {
                    append(randomUnit(&rng), to: &x, &y, &z)
                } else if roll < 75 {
                    let c = centers[Int(rng.next() % UInt64(centers.count))]
                    let s = spreads[Int(rng.next() % UInt64(spreads.count))]
                    let d = randomUnit(&rng)
                    append(normalized((c.0 + s * d.0, c.1 + s * d.1, c.2 + s * d.2)), to: &x, &y, &z)
                } else if roll < 88, !x.isEmpty {
                    let i = Int(rng.next() % UInt64(x.count))
                    append((x[i], y[i], z[i]), to: &x, &y, &z)
                } else if roll < 94 {
                    let axes: [(Double, Double, Double)] = [(0, 0, 1), (0, 0, -1), (1, 0, 0), (-1, 0, 0), (0, 1, 0)]
                    append(axes[Int(rng.next() % 5)], to: &x, &y, &z)
                } else {
                    let d = randomUnit(&rng)
                    append(normalized((d.0, d.1, 0)), to: &x, &y, &z)
                }
            }
            // Shuffle so duplicates do not always follow their originals.
            for i in stride(from: x.count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                x.swapAt(i, j)
                y.swapAt(i, j)
                z.swapAt(i, j)
            }
        }

        static func randomUnit(_ rng: inout SplitMix64) -> (Double, Double, Double) {
            while true {
                let v = (2 * rng.unit() - 1, 2 * rng.unit() - 1, 2 * rng.unit() - 1)
                let r2 = v.0 * v.0 + v.1 * v.1 + v.2 * v.2
                if r2 > 1e-4 && r2 <= 1 { return normalized(v) }
            }
        }

        static func normalized(_ v: (Double, Double, Double)) -> (Double, Double, Double) {
            let r = (v.0 * v.0 + v.1 * v.1 + v.2 * v.2).squareRoot()
            return (v.0 / r, v.1 / r, v.2 / r)
        }

        static func append(_ p: (Double, Double, Double), to x: inout [Double], _ y: inout [Double], _ z: inout [Double]) {
            x.append(p.0)
            y.append(p.1)
            z.append(p.2)
        }
    }

    static let uniformFixture = Fixture(.uniform)
    static let clusteredFixture = Fixture(.clustered)
    static let fewDistinctFixture = Fixture(.fewDistinct)
    static let largeClusteredFixture = Fixture(.largeClustered)

    /// Built once per test process, on first use.
    static func fixture(_ cloud: Cloud) -> Fixture {
        switch cloud {
        case .uniform: uniformFixture
        case .clustered: clusteredFixture
        case .fewDistinct: fewDistinctFixture
        case .largeClustered: largeClusteredFixture
        }
    }

    /// minChord values for a radius: none, half, all of it (the shell d = r only), a hair.
    static func minChords(for radius: Double) -> [Double] { [0, radius / 2, radius, 1e-9] }

    // MARK: - Against brute force

    @Test(arguments: Cloud.allCases, radii)
    func forEachWithinMatchesBruteForce(cloud: Cloud, radius: Double) {
        let f = Self.fixture(cloud)
        f.tree._checkInvariants()
        // Wide radii return most of the cloud per query; a sample of queries is enough there.
        let queries = stride(from: 0, to: f.qx.count, by: radius > 0.1 ? 9 : 1)
        for minChord in Self.minChords(for: radius) {
            for q in queries {
                var found: [KDTree.Neighbor] = []
                f.tree.forEachWithin(x: f.qx[q], y: f.qy[q], z: f.qz[q], maxChord: radius, minChord: minChord) {
                    found.append(KDTree.Neighbor(index: $0, chordSquared: $1))
                }
                found.sort(by: KDTree.precedes)
                let expected = f.within(q, maxChord: radius, minChord: minChord)
                #expect(found[...] == expected, "query \(q), radius \(radius), minChord \(minChord)")
                if found[...] != expected { return }
            }
        }
    }

    @Test(arguments: Cloud.allCases, [1, 2, 7, 40])
    func nearestMatchesBruteForce(cloud: Cloud, k: Int) {
        let f = Self.fixture(cloud)
        var result: [KDTree.Neighbor] = []
        for radius in Self.radii {
            for minChord in Self.minChords(for: radius) {
                for q in f.qx.indices {
                    f.tree.nearest(x: f.qx[q], y: f.qy[q], z: f.qz[q], k: k, maxChord: radius, minChord: minChord,
                                   into: &result)
                    let expected = f.within(q, maxChord: radius, minChord: minChord).prefix(k)
                    #expect(result[...] == expected, "query \(q), k \(k), radius \(radius), minChord \(minChord)")
                    if result[...] != expected { return }
                }
            }
        }
    }

    @Test(arguments: Cloud.allCases, [arcsecond, 1e-3, 0.3])
    func allPairsMatchesBruteForce(cloud: Cloud, radius: Double) {
        let f = Self.fixture(cloud)
        for minChord in [0, radius / 2] {
            var expected = KDTree.Pairs()
            for q in f.qx.indices {
                for neighbor in f.within(q, maxChord: radius, minChord: minChord) {
                    expected.query.append(q)
                    expected.match.append(neighbor.index)
                    expected.chordSquared.append(neighbor.chordSquared)
                }
            }
            let pairs = f.tree.allPairs(queryX: f.qx, queryY: f.qy, queryZ: f.qz, maxChord: radius, minChord: minChord)
            #expect(pairs.count == expected.count)
            #expect(pairs == expected, "radius \(radius), minChord \(minChord)")
        }
    }

    // MARK: - Edge cases

    @Test func emptyTree() {
        let tree = KDTree(x: [], y: [], z: [])
        tree._checkInvariants()
        #expect(tree.count == 0)
        var calls = 0
        tree.forEachWithin(x: 0, y: 0, z: 1, maxChord: .infinity) { _, _ in calls += 1 }
        #expect(calls == 0)
        var result = [KDTree.Neighbor(index: 3, chordSquared: 0)]
        tree.nearest(x: 0, y: 0, z: 1, k: 5, maxChord: .infinity, into: &result)
        #expect(result.isEmpty)
        let pairs = tree.allPairs(queryX: [0, 1], queryY: [0, 0], queryZ: [1, 0], maxChord: 3)
        #expect(pairs.count == 0 && pairs == KDTree.Pairs())
    }

    @Test func singlePoint() {
        let tree = KDTree(x: [0], y: [0], z: [1])
        tree._checkInvariants()
        #expect(tree.count == 1)
        var result: [KDTree.Neighbor] = []
        tree.nearest(x: 0, y: 0, z: 1, k: 3, maxChord: 0, into: &result)
        #expect(result == [KDTree.Neighbor(index: 0, chordSquared: 0)])
        tree.nearest(x: 0, y: 0, z: 1, k: 1, maxChord: 1, minChord: 1e-12, into: &result)
        #expect(result.isEmpty)
        tree.nearest(x: 1, y: 0, z: 0, k: 1, maxChord: 2, into: &result)
        let d2 = 1.0 * 1.0 + 0.0 * 0.0 + (0.0 - 1.0) * (0.0 - 1.0)
        #expect(result == [KDTree.Neighbor(index: 0, chordSquared: d2)])
        tree.nearest(x: 1, y: 0, z: 0, k: 1, maxChord: d2.squareRoot().nextDown, into: &result)
        #expect(result.isEmpty)
        var found: [Int] = []
        tree.forEachWithin(x: 0, y: 1, z: 0, maxChord: 1.5) { index, _ in found.append(index) }
        #expect(found == [0])
    }

    /// Sizes around the leaf capacity and its powers of two, so leaves of every size are built.
    @Test(arguments: [1, 2, 3, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257, 1000, 4097])
    func everySizeIsExact(count: Int) {
        var rng = SplitMix64(seed: UInt64(count))
        var x: [Double] = [], y: [Double] = [], z: [Double] = []
        for _ in 0 ..< count { Fixture.append(Fixture.randomUnit(&rng), to: &x, &y, &z) }
        let tree = KDTree(x: x, y: y, z: z)
        tree._checkInvariants()
        #expect(tree.count == count)
        var result: [KDTree.Neighbor] = []
        for _ in 0 ..< 50 {
            let q = Fixture.randomUnit(&rng)
            var all = (0 ..< count).map { i in
                let dx = q.0 - x[i], dy = q.1 - y[i], dz = q.2 - z[i]
                return KDTree.Neighbor(index: i, chordSquared: dx * dx + dy * dy + dz * dz)
            }
            all.sort(by: KDTree.precedes)
            tree.nearest(x: q.0, y: q.1, z: q.2, k: 3, maxChord: 2, into: &result)
            #expect(result[...] == all.prefix(3))
            var found: [KDTree.Neighbor] = []
            tree.forEachWithin(x: q.0, y: q.1, z: q.2, maxChord: 0.4) { found.append(.init(index: $0, chordSquared: $1)) }
            #expect(found.sorted(by: KDTree.precedes) == all.filter { $0.chordSquared <= 0.16 })
        }
    }

    @Test func identicalPointsTieByIndex() {
        let n = 100
        let tree = KDTree(x: Array(repeating: 0.6, count: n), y: Array(repeating: 0.8, count: n),
                          z: Array(repeating: 0, count: n))
        tree._checkInvariants()
        var result: [KDTree.Neighbor] = []
        tree.nearest(x: 0.6, y: 0.8, z: 0, k: 5, maxChord: 0, into: &result)
        #expect(result.map(\.index) == [0, 1, 2, 3, 4])
        tree.nearest(x: 0, y: 0, z: 1, k: 1, maxChord: 2, into: &result)
        #expect(result.map(\.index) == [0])
        tree.nearest(x: 0, y: 0, z: 1, k: 1000, maxChord: 2, into: &result)
        #expect(result.map(\.index) == Array(0 ..< n))
        var count = 0
        tree.forEachWithin(x: 0.6, y: 0.8, z: 0, maxChord: 0) { _, d2 in
            #expect(d2 == 0)
            count += 1
        }
        #expect(count == n)
    }

    @Test func degenerateQueriesFindNothing() {
        let f = Self.clusteredFixture
        var result = [KDTree.Neighbor(index: 1, chordSquared: 1)]
        f.tree.nearest(x: 0, y: 0, z: 1, k: 0, maxChord: 2, into: &result)
        #expect(result.isEmpty)
        f.tree.nearest(x: 0, y: 0, z: 1, k: 1, maxChord: 0.1, minChord: 0.2, into: &result)
        #expect(result.isEmpty)
        f.tree.nearest(x: .nan, y: 0, z: 1, k: 1, maxChord: 2, into: &result)
        #expect(result.isEmpty)
        f.tree.nearest(x: 0, y: 0, z: 1, k: 1, maxChord: .nan, into: &result)
        #expect(result.isEmpty)
        var calls = 0
        f.tree.forEachWithin(x: 0, y: .nan, z: 1, maxChord: 2) { _, _ in calls += 1 }
        f.tree.forEachWithin(x: 0, y: 0, z: 1, maxChord: 0.1, minChord: 0.2) { _, _ in calls += 1 }
        #expect(calls == 0)
    }

    @Test func pointsWithNaNNeverMatch() {
        let tree = KDTree(x: [0, .nan, 1, 0], y: [0, 0, 0, .nan], z: [1, 0, 0, 0])
        tree._checkInvariants()
        var found: [Int] = []
        tree.forEachWithin(x: 0, y: 0, z: 0, maxChord: .infinity) { index, _ in found.append(index) }
        #expect(found.sorted() == [0, 2])
        var result: [KDTree.Neighbor] = []
        tree.nearest(x: 0, y: 0, z: 0, k: 4, maxChord: .infinity, into: &result)
        #expect(result.map(\.index) == [0, 2])
    }

    /// The tree is `Sendable` and read-only: concurrent queries agree with a serial run.
    @Test func concurrentQueriesAgree() async {
        let f = Self.clusteredFixture
        let tree = f.tree, qx = f.qx, qy = f.qy, qz = f.qz
        @Sendable func run(_ slice: Range<Int>) -> [[KDTree.Neighbor]] {
            var result: [KDTree.Neighbor] = []
            return slice.map { q in
                tree.nearest(x: qx[q], y: qy[q], z: qz[q], k: 4, maxChord: 0.02, into: &result)
                return result
            }
        }
        let serial = run(qx.indices)
        let parts = await withTaskGroup(of: (Int, [[KDTree.Neighbor]]).self) { group in
            let step = (qx.count + 3) / 4
            for start in stride(from: 0, to: qx.count, by: step) {
                group.addTask { (start, run(start ..< min(start + step, qx.count))) }
            }
            var parts: [(Int, [[KDTree.Neighbor]])] = []
            for await part in group { parts.append(part) }
            return parts
        }
        #expect(parts.sorted { $0.0 < $1.0 }.flatMap(\.1) == serial)
    }
}
