/// Row counts (or byte sizes) per HEALPix pixel at one order, stored densely like hats-import's
/// mapping histograms: `counts[i]` belongs to nested pixel `i`, and there are `12 * 4^order` entries
/// (12.6 M `Int64`, 100 MB, at order 10).
///
/// The map stage fills one per input batch from `_healpix_29` values; the bin stage merges them
/// (in one process, or with an MPI all-reduce over ``withUnsafeMutableCounts(_:)``) and hands the
/// sum to ``PartitionPlan/align(_:sizes:config:)``.
public struct PixelHistogram: Sendable, Hashable {
    /// The HEALPix order of the bins.
    public let order: Int
    /// One value per nested pixel index at `order`.
    public private(set) var counts: [Int64]

    /// An all-zero histogram at `order`.
    public init(order: Int) {
        self.order = order
        self.counts = [Int64](repeating: 0, count: Int(HealpixPixel.pixelCount(order: order)))
    }

    /// A histogram holding `counts`, which must have `12 * 4^order` entries.
    public init(order: Int, counts: [Int64]) {
        // invariant: histograms are filled from _healpix_29 values AstroPile computed from checked coordinates, with orders it chose.
        precondition(Int64(counts.count) == HealpixPixel.pixelCount(order: order),
                     "a histogram at order \(order) has \(HealpixPixel.pixelCount(order: order)) bins, not \(counts.count)")
        self.order = order
        self.counts = counts
    }

    /// The number of bins, `12 * 4^order`.
    public var pixelCount: Int { counts.count }

    /// The sum over all bins.
    public var total: Int64 { sum(0 ..< counts.count) }

    /// The number of bins holding something.
    public var nonEmptyCount: Int {
        counts.withUnsafeBufferPointer { bins in
            var nonEmpty = 0
            for bin in bins.indices where bins[bin] != 0 { nonEmpty += 1 }
            return nonEmpty
        }
    }

    /// The largest bin (0 for an empty histogram).
    public var maxCount: Int64 { Self.maximum(counts) }

    /// The sum over the bins inside `pixel`, whose order must not exceed the histogram's.
    public subscript(pixel: HealpixPixel) -> Int64 {
        let bins = pixel.range(atOrder: order)
        return sum(Int(bins.lowerBound) ..< Int(bins.upperBound))
    }

    /// The sum over a range of bins, by a plain loop (fast in debug builds too).
    private func sum(_ range: Range<Int>) -> Int64 {
        counts.withUnsafeBufferPointer { bins in
            var total: Int64 = 0
            for bin in range { total += bins[bin] }
            return total
        }
    }

    /// The largest value of `values`, or 0 when empty.
    static func maximum(_ values: [Int64]) -> Int64 {
        values.withUnsafeBufferPointer { bins in
            var largest: Int64 = 0
            for bin in bins.indices where bins[bin] > largest { largest = bins[bin] }
            return largest
        }
    }

    /// Counts one row per value of `indices`, given as nested pixel indices at `fromOrder` (≥ `order`;
    /// by default `_healpix_29` values). Sorted input is not required. An index outside
    /// `0 ..< 12 * 4^fromOrder` is a programmer error.
    public mutating func add(_ indices: UnsafeBufferPointer<Int64>, fromOrder: Int = HealpixPixel.maxOrder) {
        // invariant: histograms are filled from _healpix_29 values AstroPile computed from checked coordinates, with orders it chose.
        precondition(fromOrder >= order && fromOrder <= HealpixPixel.maxOrder,
                     "cannot bin order-\(fromOrder) indices into an order-\(order) histogram")
        let shift = Int64(2 * (fromOrder - order))
        counts.withUnsafeMutableBufferPointer { bins in
            let binCount = UInt64(bins.count)
            for value in indices {
                let bin = value >> shift
                // invariant: histograms are filled from _healpix_29 values AstroPile computed from checked coordinates, with orders it chose.
                precondition(UInt64(bitPattern: bin) < binCount, "HEALPix index \(value) is not a pixel at order \(fromOrder)")
                bins[Int(bin)] += 1
            }
        }
    }

    /// Counts one row per value of `indices` (nested indices at `fromOrder`, by default `_healpix_29`).
    public mutating func add(contentsOf indices: some Sequence<Int64>, fromOrder: Int = HealpixPixel.maxOrder) {
        let contiguous = Array(indices)
        contiguous.withUnsafeBufferPointer { add($0, fromOrder: fromOrder) }
    }

    /// Adds `amount` (rows, or bytes for a size histogram) to the bin of `pixel`, whose order must
    /// be at least the histogram's.
    public mutating func add(_ amount: Int64 = 1, to pixel: HealpixPixel) {
        // invariant: histograms are filled from _healpix_29 values AstroPile computed from checked coordinates, with orders it chose.
        precondition(pixel.order >= order, "pixel \(pixel) is coarser than the histogram's order \(order)")
        counts[Int(pixel.index >> Int64(2 * (pixel.order - order)))] += amount
    }

    /// Adds `other` bin by bin. `other` may be finer than this histogram (it is degraded on the fly),
    /// never coarser.
    public mutating func merge(_ other: PixelHistogram) {
        // invariant: histograms are filled from _healpix_29 values AstroPile computed from checked coordinates, with orders it chose.
        precondition(other.order >= order, "cannot merge an order-\(other.order) histogram into order \(order)")
        let group = 1 << (2 * (other.order - order))
        counts.withUnsafeMutableBufferPointer { bins in
            other.counts.withUnsafeBufferPointer { source in
                if group == 1 {
                    for bin in bins.indices { bins[bin] += source[bin] }
                } else {
                    for bin in bins.indices {
                        var sum: Int64 = 0
                        for fine in (bin * group) ..< ((bin + 1) * group) { sum += source[fine] }
                        bins[bin] += sum
                    }
                }
            }
        }
    }

    /// The same counts summed into the bins of a coarser (or the same) order.
    public func degraded(to coarserOrder: Int) -> PixelHistogram {
        // invariant: histograms are filled from _healpix_29 values AstroPile computed from checked coordinates, with orders it chose.
        precondition(coarserOrder >= 0 && coarserOrder <= order, "cannot degrade order \(order) to \(coarserOrder)")
        if coarserOrder == order { return self }
        var result = PixelHistogram(order: coarserOrder)
        result.merge(self)
        return result
    }

    /// Gives `body` the bins in place, e.g. for an MPI all-reduce. `body` must not change the count.
    public mutating func withUnsafeMutableCounts<Result>(
        _ body: (UnsafeMutableBufferPointer<Int64>) throws -> Result
    ) rethrows -> Result {
        try counts.withUnsafeMutableBufferPointer { try body($0) }
    }
}
