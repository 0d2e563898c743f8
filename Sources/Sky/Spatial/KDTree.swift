/// A static k-d tree over unit vectors (x, y, z), built once and then queried many times, from many
/// threads at once — the index behind sky cross-matching.
///
/// Distances are *chord* lengths: the Euclidean 3-D distance between two unit vectors. An angle θ
/// corresponds to the chord `2 sin(θ/2)`, so one arcsecond is a chord of about 4.85e-6. Queries
/// never take a square root: a point at distance d matches a radius r when `d² <= r²`, with
/// `d² = dx*dx + dy*dy + dz*dz` computed in exactly that order. The tree only discards a node when
/// a lower bound on that very expression already rules out every point in it, so results are
/// identical to a brute-force scan, bit for bit, duplicates and ties included.
///
/// The tree is implicit and perfectly balanced: the points are permuted into one contiguous array,
/// every node splits its range at the median of the axis where its points spread most, and every
/// node — leaves included — keeps the bounding box of its points. Leaves hold 8–16 points. Memory
/// is 34–40 bytes per point: 24 for the coordinates, 4 for the original index, 6–12 for the boxes.
/// Point counts are limited to `Int32.max`.
///
/// Any coordinates are accepted. Points with a NaN coordinate never match, exactly as in a scan.
public struct KDTree: Sendable {
    /// One result of ``nearest(x:y:z:k:maxChord:minChord:into:)``: a point's position in the
    /// arrays the tree was built from, and its squared chord distance to the query.
    public struct Neighbor: Sendable, Hashable {
        /// The point's index in the arrays given to ``KDTree/init(x:y:z:)``.
        public var index: Int
        /// The squared chord distance `dx*dx + dy*dy + dz*dz` from the query to the point.
        public var chordSquared: Double

        /// A neighbor at `index`, `chordSquared` away.
        public init(index: Int, chordSquared: Double) {
            self.index = index
            self.chordSquared = chordSquared
        }
    }

    /// Every (query, match) pair that ``allPairs(queryX:queryY:queryZ:maxChord:minChord:)`` found,
    /// as three parallel columns sorted by query, then by distance, then by match.
    public struct Pairs: Sendable, Hashable {
        /// The query's position in the query arrays, one entry per pair.
        public var query: [Int]
        /// The matched point's index in the arrays the tree was built from.
        public var match: [Int]
        /// The squared chord distance between query and match.
        public var chordSquared: [Double]

        /// Three columns of equal length.
        public init(query: [Int] = [], match: [Int] = [], chordSquared: [Double] = []) {
            // invariant: arrays are built together by the caller; point counts are checked against KDTree.maximumPoints first (RightSide throws).
            precondition(query.count == match.count && match.count == chordSquared.count,
                         "pair columns must have equal lengths (\(query.count), \(match.count), \(chordSquared.count))")
            self.query = query
            self.match = match
            self.chordSquared = chordSquared
        }

        /// The number of pairs.
        public var count: Int { query.count }
    }

    /// The most points a leaf holds; the leaf depth is chosen so every leaf has more than half of this.
    static let leafCapacity = 16

    /// The number of points in the tree.
    public let count: Int
    /// The depth of the leaves (the root has depth 0); there are `2^leafDepth` leaves.
    let leafDepth: Int
    /// The points in tree order, interleaved: x, y, z of point 0, then of point 1, ….
    let points: [Double]
    /// For each point in tree order, its index in the arrays the tree was built from.
    let indices: [Int32]
    /// The bounding box of every node, six values each (min x, min y, min z, max x, max y, max z),
    /// nodes numbered as in a binary heap: the root is 1, the children of node `i` are `2i` and
    /// `2i + 1`, and the leaves are `2^leafDepth ..< 2^(leafDepth + 1)`. Entry 0 is unused.
    let boxes: [Double]

    /// The most points a tree holds (indices are 32-bit).
    public static let maximumPoints = Int(Int32.max)

    /// Builds the tree over the points `(x[i], y[i], z[i])`; the three arrays must have the same
    /// count, at most ``maximumPoints``. The tree keeps its own copy, so the arrays can go away
    /// afterwards.
    public init(x: [Double], y: [Double], z: [Double]) {
        // invariant: arrays are built together by the caller; point counts are checked against KDTree.maximumPoints first (RightSide throws).
        precondition(x.count == y.count && y.count == z.count,
                     "coordinate arrays must have equal counts (\(x.count), \(y.count), \(z.count))")
        let n = x.count
        // invariant: arrays are built together by the caller; point counts are checked against KDTree.maximumPoints first (RightSide throws).
        precondition(n <= Int(Int32.max), "a KDTree holds at most \(Int32.max) points, not \(n)")
        var depth = 0
        while (n + (1 << depth) - 1) >> depth > Self.leafCapacity { depth += 1 }

        var points = [Double](unsafeUninitializedCapacity: 3 * n) { buffer, initialized in
            for i in 0 ..< n {
                buffer.initializeElement(at: 3 * i, to: x[i])
                buffer.initializeElement(at: 3 * i + 1, to: y[i])
                buffer.initializeElement(at: 3 * i + 2, to: z[i])
            }
            initialized = 3 * n
        }
        var indices = [Int32](unsafeUninitializedCapacity: n) { buffer, initialized in
            for i in 0 ..< n { buffer.initializeElement(at: i, to: Int32(truncatingIfNeeded: i)) }
            initialized = n
        }
        var boxes = [Double](repeating: 0, count: 6 << (depth + 1))
        points.withUnsafeMutableBufferPointer { p in
            indices.withUnsafeMutableBufferPointer { ix in
                boxes.withUnsafeMutableBufferPointer { b in
                    let builder = Builder(points: p.baseAddress, indices: ix.baseAddress, boxes: b.baseAddress!,
                                          count: n, leafDepth: depth)
                    builder.build(node: 1, depth: 0, lower: 0, upper: n)
                }
            }
        }
        self.count = n
        self.leafDepth = depth
        self.points = points
        self.indices = indices
        self.boxes = boxes
    }

    /// The range of tree-order positions under the node at `depth` whose heap number is `node`:
    /// node `j` of a level with `2^depth` nodes covers `j·n / 2^depth ..< (j + 1)·n / 2^depth`,
    /// so sizes within a level differ by at most one and need not be stored.
    @inline(__always)
    static func range(node: Int, depth: Int, count: Int) -> Range<Int> {
        let j = node - (1 << depth)
        return (j * count) >> depth ..< ((j + 1) * count) >> depth
    }
}

// MARK: - Building

extension KDTree {
    /// Partitions the permuted arrays in place, top-down, and records every node's box.
    private struct Builder {
        let points: UnsafeMutablePointer<Double>?
        let indices: UnsafeMutablePointer<Int32>?
        let boxes: UnsafeMutablePointer<Double>
        let count: Int
        let leafDepth: Int

        /// Below this many points, selection finishes with an insertion sort.
        static let smallRange = 16

        func build(node: Int, depth: Int, lower: Int, upper: Int) {
            let box = boxes + 6 * node
            box.update(repeating: .infinity, count: 3)
            (box + 3).update(repeating: -.infinity, count: 3)
            guard let points, upper > lower else { return }
            guard depth < leafDepth else {
                // A leaf: its box from its points.
                var p = points + 3 * lower
                for _ in lower ..< upper {
                    for axis in 0 ..< 3 {
                        let v = p[axis]
                        if v < box[axis] { box[axis] = v }
                        if v > box[axis + 3] { box[axis + 3] = v }
                    }
                    p += 3
                }
                return
            }
            // The split axis: the widest spread among up to 64 evenly spaced points (only the
            // balance depends on it; boxes are exact, computed bottom-up below).
            var lo = (Double.infinity, Double.infinity, Double.infinity)
            var hi = (-Double.infinity, -Double.infinity, -Double.infinity)
            let step = Swift.max(1, (upper - lower) / 64)
            var i = lower
            while i < upper {
                let p = points + 3 * i
                lo = (Swift.min(lo.0, p[0]), Swift.min(lo.1, p[1]), Swift.min(lo.2, p[2]))
                hi = (Swift.max(hi.0, p[0]), Swift.max(hi.1, p[1]), Swift.max(hi.2, p[2]))
                i += step
            }
            var axis = 0
            var spread = hi.0 - lo.0
            if hi.1 - lo.1 > spread { axis = 1; spread = hi.1 - lo.1 }
            if hi.2 - lo.2 > spread { axis = 2 }
            let middle = KDTree.range(node: 2 * node + 1, depth: depth + 1, count: count).lowerBound
            select(middle, from: lower, to: upper, axis: axis)
            build(node: 2 * node, depth: depth + 1, lower: lower, upper: middle)
            build(node: 2 * node + 1, depth: depth + 1, lower: middle, upper: upper)
            let left = boxes + 12 * node, right = boxes + 12 * node + 6
            for a in 0 ..< 3 {
                box[a] = Swift.min(left[a], right[a])
                box[a + 3] = Swift.max(left[a + 3], right[a + 3])
            }
        }

        /// Moves points so that position `k` holds the one an ascending sort on `axis` would put
        /// there, with nothing greater before it and nothing smaller after it (Hoare's FIND with a
        /// median-of-three pivot). Only the balance of the tree depends on this: every box is
        /// measured from the points that end up under it, so queries stay exact whatever the data.
        private func select(_ k: Int, from lower: Int, to upper: Int, axis: Int) {
            let keys = points! + axis
            @inline(__always) func key(_ i: Int) -> Double { keys[3 * i] }
            var lo = lower, hi = upper - 1
            while hi - lo >= Self.smallRange {
                let a = key(lo), b = key(lo + (hi - lo) / 2), c = key(hi)
                let pivot = Swift.max(Swift.min(a, b), Swift.min(Swift.max(a, b), c))
                var i = lo, j = hi
                while i <= j {
                    while key(i) < pivot { i += 1 }
                    while pivot < key(j) { j -= 1 }
                    if i <= j {
                        swapAt(i, j)
                        i += 1
                        j -= 1
                    }
                }
                if k <= j {
                    hi = j
                } else if k >= i {
                    lo = i
                } else {
                    return
                }
            }
            guard hi > lo else { return }
            for i in lo + 1 ... hi {
                var j = i
                while j > lo, key(j) < key(j - 1) {
                    swapAt(j, j - 1)
                    j -= 1
                }
            }
        }

        @inline(__always)
        private func swapAt(_ i: Int, _ j: Int) {
            let p = points!, ix = indices!
            let a = p + 3 * i, b = p + 3 * j
            (a[0], b[0]) = (b[0], a[0])
            (a[1], b[1]) = (b[1], a[1])
            (a[2], b[2]) = (b[2], a[2])
            (ix[i], ix[j]) = (ix[j], ix[i])
        }
    }
}

// MARK: - Invariants

extension KDTree {
    /// Checks the structure in debug and test builds: `indices` is a permutation, every leaf holds
    /// 1–``leafCapacity`` points (none when the tree is empty), and every node's box is exactly the
    /// bounds of the non-NaN points under it.
    func _checkInvariants() {
        #if DEBUG
        // invariant: arrays are built together by the caller; point counts are checked against KDTree.maximumPoints first (RightSide throws).
        precondition(points.count == 3 * count && indices.count == count)
        precondition(boxes.count == 6 << (leafDepth + 1))
        var seen = [Bool](repeating: false, count: count)
        for i in indices {
            // invariant: arrays are built together by the caller; point counts are checked against KDTree.maximumPoints first (RightSide throws).
            precondition(i >= 0 && Int(i) < count && !seen[Int(i)], "indices are not a permutation")
            seen[Int(i)] = true
        }
        for depth in 0 ... leafDepth {
            for node in 1 << depth ..< 2 << depth {
                let range = Self.range(node: node, depth: depth, count: count)
                if depth == leafDepth {
                    // invariant: arrays are built together by the caller; point counts are checked against KDTree.maximumPoints first (RightSide throws).
                    precondition(range.count <= Self.leafCapacity && (count == 0 || range.count > 0),
                                 "leaf \(node) holds \(range.count) points")
                }
                var lower = [Double](repeating: .infinity, count: 3)
                var upper = [Double](repeating: -.infinity, count: 3)
                for i in range {
                    for axis in 0 ..< 3 {
                        let v = points[3 * i + axis]
                        if v < lower[axis] { lower[axis] = v }
                        if v > upper[axis] { upper[axis] = v }
                    }
                }
                // invariant: arrays are built together by the caller; point counts are checked against KDTree.maximumPoints first (RightSide throws).
                precondition(Array(boxes[6 * node ..< 6 * node + 3]) == lower
                                 && Array(boxes[6 * node + 3 ..< 6 * node + 6]) == upper,
                             "node \(node) has a wrong box")
            }
        }
        #endif
    }
}
