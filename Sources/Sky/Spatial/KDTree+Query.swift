// Queries on `KDTree`: everything within a chord, the k nearest, all pairs for a batch of queries.
//
// A node is skipped only when a bound computed from its box proves that no point under it can pass
// the test a scan would apply. The bounds use the same floating-point expression as the points:
// rounding is monotonic, so a box side at least as far as every point gives a per-axis difference,
// a square and a sum no larger than any point's (and likewise for the far corner and `minChord`).

extension KDTree {
    /// Calls `body(index, chordSquared)` for every point whose squared chord distance `d²` from
    /// (x, y, z) satisfies `minChord² <= d² <= maxChord²`, in no particular order. `index` is the
    /// point's position in the arrays the tree was built from; `d² = dx*dx + dy*dy + dz*dz`.
    ///
    /// Only the squares of `maxChord` and `minChord` are used. A query with a NaN coordinate, or
    /// `minChord² > maxChord²`, matches nothing.
    public func forEachWithin(
        x: Double, y: Double, z: Double, maxChord: Double, minChord: Double = 0, _ body: (Int, Double) -> Void
    ) {
        visitWithin(x, y, z, maxSquared: maxChord * maxChord, minSquared: minChord * minChord) { index, d2 in
            body(Int(index), d2)
        }
    }

    /// Replaces `result`'s contents with the `k` nearest points to (x, y, z) among those with
    /// `minChord² <= d² <= maxChord²`, nearest first; equal distances put the smaller original
    /// index first. Fewer than `k` come back when fewer qualify. `result`'s storage is reused, so
    /// a loop over many queries allocates nothing after the first.
    ///
    /// Only the squares of `maxChord` and `minChord` are used. A query with a NaN coordinate,
    /// `k <= 0`, or `minChord² > maxChord²` gives an empty result.
    public func nearest(
        x: Double, y: Double, z: Double, k: Int, maxChord: Double, minChord: Double = 0,
        into result: inout [Neighbor]
    ) {
        result.removeAll(keepingCapacity: true)
        let r2 = maxChord * maxChord, m2 = minChord * minChord
        guard k > 0, count > 0, m2 <= r2, !x.isNaN, !y.isNaN, !z.isNaN else { return }
        if k == 1 {
            var best = NearestOne(bound: r2)
            searchNearest(x, y, z, minSquared: m2, &best)
            if best.index >= 0 { result.append(Neighbor(index: Int(best.index), chordSquared: best.bound)) }
            return
        }
        let capacity = Swift.min(k, count)
        result.append(contentsOf: repeatElement(Neighbor(index: -1, chordSquared: .nan), count: capacity))
        let found = result.withUnsafeMutableBufferPointer { storage in
            var heap = NearestHeap(storage: storage.baseAddress!, capacity: capacity, radiusSquared: r2)
            searchNearest(x, y, z, minSquared: m2, &heap)
            return heap.count
        }
        result.removeSubrange(found...)
        result.sort(by: Self.precedes)
    }

    /// Every pair of a query point (`queryX[q]`, `queryY[q]`, `queryZ[q]`) and a tree point with
    /// `minChord² <= d² <= maxChord²`, sorted by query, then by `d²`, then by match index — the
    /// result of ``forEachWithin(x:y:z:maxChord:minChord:_:)`` for each query in turn, sorted.
    /// The three buffers must have the same count.
    ///
    /// The queries run one after another on the calling thread; to use several cores, split the
    /// queries into slices (`UnsafeBufferPointer(rebasing:)`) and add each slice's offset to `query`.
    public func allPairs(
        queryX: UnsafeBufferPointer<Double>, queryY: UnsafeBufferPointer<Double>, queryZ: UnsafeBufferPointer<Double>,
        maxChord: Double, minChord: Double = 0
    ) -> Pairs {
        // invariant: the query arrays are built together by the caller.
        precondition(queryX.count == queryY.count && queryY.count == queryZ.count,
                     "query arrays must have equal counts (\(queryX.count), \(queryY.count), \(queryZ.count))")
        let r2 = maxChord * maxChord, m2 = minChord * minChord
        var pairs = Pairs()
        var found: [Neighbor] = []
        for q in queryX.indices {
            found.removeAll(keepingCapacity: true)
            visitWithin(queryX[q], queryY[q], queryZ[q], maxSquared: r2, minSquared: m2) { index, d2 in
                found.append(Neighbor(index: Int(index), chordSquared: d2))
            }
            if found.count > 1 { found.sort(by: Self.precedes) }
            for neighbor in found {
                pairs.query.append(q)
                pairs.match.append(neighbor.index)
                pairs.chordSquared.append(neighbor.chordSquared)
            }
        }
        return pairs
    }

    /// ``allPairs(queryX:queryY:queryZ:maxChord:minChord:)`` for queries held in arrays.
    public func allPairs(
        queryX: [Double], queryY: [Double], queryZ: [Double], maxChord: Double, minChord: Double = 0
    ) -> Pairs {
        queryX.withUnsafeBufferPointer { qx in
            queryY.withUnsafeBufferPointer { qy in
                queryZ.withUnsafeBufferPointer { qz in
                    allPairs(queryX: qx, queryY: qy, queryZ: qz, maxChord: maxChord, minChord: minChord)
                }
            }
        }
    }

    /// Nearer first; at equal distance, the smaller original index first.
    @inline(__always)
    static func precedes(_ a: Neighbor, _ b: Neighbor) -> Bool {
        a.chordSquared < b.chordSquared || (a.chordSquared == b.chordSquared && a.index < b.index)
    }
}

// MARK: - Traversal

extension KDTree {
    /// The tree's arrays as raw pointers (the tree must not be empty).
    @inline(__always)
    private func withStorage<R>(
        _ body: (UnsafePointer<Double>, UnsafePointer<Int32>, UnsafePointer<Double>) -> R
    ) -> R {
        points.withUnsafeBufferPointer { p in
            indices.withUnsafeBufferPointer { ix in
                boxes.withUnsafeBufferPointer { b in body(p.baseAddress!, ix.baseAddress!, b.baseAddress!) }
            }
        }
    }

    /// A lower bound on `d²` from (x, y, z) to any point in `box`, computed as `d²` is.
    @inline(__always)
    private static func nearSquared(_ box: UnsafePointer<Double>, _ x: Double, _ y: Double, _ z: Double) -> Double {
        let ex = Swift.max(Swift.max(box[0] - x, x - box[3]), 0)
        let ey = Swift.max(Swift.max(box[1] - y, y - box[4]), 0)
        let ez = Swift.max(Swift.max(box[2] - z, z - box[5]), 0)
        return ex * ex + ey * ey + ez * ez
    }

    /// An upper bound on `d²` from (x, y, z) to any point in `box`, computed as `d²` is.
    @inline(__always)
    private static func farSquared(_ box: UnsafePointer<Double>, _ x: Double, _ y: Double, _ z: Double) -> Double {
        let fx = Swift.max((x - box[0]).magnitude, (x - box[3]).magnitude)
        let fy = Swift.max((y - box[1]).magnitude, (y - box[4]).magnitude)
        let fz = Swift.max((z - box[2]).magnitude, (z - box[5]).magnitude)
        return fx * fx + fy * fy + fz * fz
    }

    /// Calls `body(originalIndex, d²)` for every point with `m2 <= d² <= r2`.
    @inline(__always)
    func visitWithin(
        _ qx: Double, _ qy: Double, _ qz: Double, maxSquared r2: Double, minSquared m2: Double,
        _ body: (Int32, Double) -> Void
    ) {
        guard count > 0, m2 <= r2, !qx.isNaN, !qy.isNaN, !qz.isNaN else { return }
        let n = count, depth = leafDepth, firstLeaf = 1 << leafDepth
        withStorage { p, ix, b in
            @inline(__always) func skips(_ node: Int) -> Bool {
                let box = b + 6 * node
                return Self.nearSquared(box, qx, qy, qz) > r2 || (m2 > 0 && Self.farSquared(box, qx, qy, qz) < m2)
            }
            if skips(1) { return }
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { stack in
                var top = 0, node = 1
                while true {
                    if node >= firstLeaf {
                        for i in Self.range(node: node, depth: depth, count: n) {
                            let point = p + 3 * i
                            let dx = qx - point[0], dy = qy - point[1], dz = qz - point[2]
                            let d2 = dx * dx + dy * dy + dz * dz
                            if d2 <= r2 && d2 >= m2 { body(ix[i], d2) }
                        }
                    } else {
                        let left = 2 * node
                        let visitLeft = !skips(left), visitRight = !skips(left + 1)
                        if visitLeft {
                            if visitRight {
                                stack[top] = left + 1
                                top += 1
                            }
                            node = left
                            continue
                        }
                        if visitRight {
                            node = left + 1
                            continue
                        }
                    }
                    if top == 0 { return }
                    top -= 1
                    node = stack[top]
                }
            }
        }
    }

    /// Depth-first search, nearer child first, offering `collector` every point with
    /// `m2 <= d² <= collector.bound` and skipping nodes whose near bound exceeds `collector.bound`.
    @inline(__always)
    private func searchNearest<Collector: NearestCollector>(
        _ qx: Double, _ qy: Double, _ qz: Double, minSquared m2: Double, _ collector: inout Collector
    ) {
        let n = count, depth = leafDepth, firstLeaf = 1 << leafDepth
        withStorage { p, ix, b in
            withUnsafeTemporaryAllocation(of: (node: Int, near: Double).self, capacity: 64) { stack in
                var top = 0, node = 1
                var near = Self.nearSquared(b + 6, qx, qy, qz)
                while true {
                    if !(near > collector.bound) && !(m2 > 0 && Self.farSquared(b + 6 * node, qx, qy, qz) < m2) {
                        if node >= firstLeaf {
                            for i in Self.range(node: node, depth: depth, count: n) {
                                let point = p + 3 * i
                                let dx = qx - point[0], dy = qy - point[1], dz = qz - point[2]
                                let d2 = dx * dx + dy * dy + dz * dz
                                if d2 <= collector.bound && d2 >= m2 { collector.offer(ix[i], d2) }
                            }
                        } else {
                            // Branches, not a select: with tiny radii one child is usually out, the
                            // branch is predicted, and the next level's boxes load speculatively.
                            let left = 2 * node
                            let nearLeft = Self.nearSquared(b + 6 * left, qx, qy, qz)
                            let nearRight = Self.nearSquared(b + 6 * (left + 1), qx, qy, qz)
                            let bound = collector.bound
                            if nearLeft > bound {
                                if !(nearRight > bound) {
                                    (node, near) = (left + 1, nearRight)
                                    continue
                                }
                            } else if nearRight > bound {
                                (node, near) = (left, nearLeft)
                                continue
                            } else {
                                if nearLeft <= nearRight {
                                    stack[top] = (left + 1, nearRight)
                                    (node, near) = (left, nearLeft)
                                } else {
                                    stack[top] = (left, nearLeft)
                                    (node, near) = (left + 1, nearRight)
                                }
                                top += 1
                                continue
                            }
                        }
                    }
                    if top == 0 { return }
                    top -= 1
                    (node, near) = stack[top]
                }
            }
        }
    }
}

// MARK: - Collectors

/// Keeps the best candidates of a nearest-neighbor search; `bound` is the largest `d²` that could
/// still be accepted (candidates at exactly `bound` are offered, to settle ties by index).
private protocol NearestCollector {
    var bound: Double { get }
    mutating func offer(_ index: Int32, _ d2: Double)
}

/// The single nearest point: `index` is -1 until one is found, then `bound` is its `d²`.
private struct NearestOne: NearestCollector {
    var bound: Double
    var index: Int32 = -1

    @inline(__always)
    mutating func offer(_ index: Int32, _ d2: Double) {
        if self.index < 0 || d2 < bound || index < self.index {
            bound = d2
            self.index = index
        }
    }
}

/// The k nearest points, as a max-heap on (d², index) in caller-provided storage.
private struct NearestHeap: NearestCollector {
    let storage: UnsafeMutablePointer<KDTree.Neighbor>
    let capacity: Int
    let radiusSquared: Double
    var count = 0

    init(storage: UnsafeMutablePointer<KDTree.Neighbor>, capacity: Int, radiusSquared: Double) {
        self.storage = storage
        self.capacity = capacity
        self.radiusSquared = radiusSquared
    }

    var bound: Double { count < capacity ? radiusSquared : storage[0].chordSquared }

    mutating func offer(_ index: Int32, _ d2: Double) {
        let candidate = KDTree.Neighbor(index: Int(index), chordSquared: d2)
        if count < capacity {
            var i = count
            count += 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard KDTree.precedes(storage[parent], candidate) else { break }
                storage[i] = storage[parent]
                i = parent
            }
            storage[i] = candidate
            return
        }
        guard KDTree.precedes(candidate, storage[0]) else { return }
        var i = 0
        while true {
            var child = 2 * i + 1
            if child >= count { break }
            if child + 1 < count && KDTree.precedes(storage[child], storage[child + 1]) { child += 1 }
            guard KDTree.precedes(candidate, storage[child]) else { break }
            storage[i] = storage[child]
            i = child
        }
        storage[i] = candidate
    }
}
