/// The partitions of a catalog: disjoint HEALPix pixels, each with its row count, in the order of
/// `partition_info.csv` (breadth-first, that is by `_healpix_29`).
///
/// Made by ``align(_:sizes:config:)`` from the merged histogram (the import's bin stage), or
/// rebuilt from a partition list with ``init(pixels:rowCounts:highestOrder:)``. Lookups are binary
/// searches over the partitions' `_healpix_29` starts, so the plan is cheap to keep and to query.
public struct PartitionPlan: Sendable, Hashable {
    /// The partitions, sorted breadth-first and disjoint.
    public let pixels: [HealpixPixel]
    /// The rows in each partition, parallel to `pixels` (positive in an aligned plan).
    public let rowCounts: [Int64]
    /// The order of the histogram the plan was aligned for (hats-import's mapping order): every
    /// partition is at this order or coarser, so each pixel at this order lies in at most one.
    public let highestOrder: Int
    /// The order hats builds its alignment array at: `highestOrder`, or lower when hats-import's
    /// `use_lower_order` found that no pixel there exceeds the threshold. hats-import's split stage
    /// maps rows at this order.
    public let alignmentOrder: Int
    /// `pixels[i].healpix29Range.lowerBound`, for binary search.
    private let starts: [Int64]

    /// A plan from a list of partitions and their row counts (e.g. read back from
    /// `partition_info.csv` with counts from the leaves). The pixels are sorted; overlapping pixels,
    /// pixels finer than `highestOrder`, negative counts or lists of different lengths are errors.
    public init(pixels: [HealpixPixel], rowCounts: [Int64], highestOrder: Int) throws(AlignmentError) {
        guard pixels.count == rowCounts.count else {
            throw .inconsistentPartitions("\(pixels.count) partitions but \(rowCounts.count) row counts")
        }
        let permutation = pixels.indices.sorted { pixels[$0] < pixels[$1] }
        let sorted = permutation.map { pixels[$0] }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.contains(next) || previous == next {
            throw .overlappingPixels(previous, next)
        }
        if let negative = rowCounts.firstIndex(where: { $0 < 0 }) {
            throw .inconsistentPartitions("partition \(pixels[negative]) has a negative row count")
        }
        if let fine = sorted.first(where: { $0.order > highestOrder }) {
            throw .inconsistentPartitions("partition \(fine) is finer than the highest order \(highestOrder)")
        }
        self.init(uncheckedSorted: sorted, rowCounts: permutation.map { rowCounts[$0] },
                  highestOrder: highestOrder, alignmentOrder: sorted.map(\.order).max() ?? highestOrder)
    }

    /// A plan from already sorted, disjoint partitions.
    init(uncheckedSorted pixels: [HealpixPixel], rowCounts: [Int64], highestOrder: Int, alignmentOrder: Int) {
        self.pixels = pixels
        self.rowCounts = rowCounts
        self.highestOrder = highestOrder
        self.alignmentOrder = alignmentOrder
        self.starts = pixels.map { $0.healpix29Range.lowerBound }
        // invariant: debug-build self-check of the alignment just computed.
        assert(checkInvariants())
    }

    /// The number of partitions.
    public var count: Int { pixels.count }

    /// Whether there are no partitions (an empty input).
    public var isEmpty: Bool { pixels.isEmpty }

    /// The rows over all partitions.
    public var totalRows: Int64 { rowCounts.reduce(0, +) }

    /// The finest partition order (the `hats_order` property), or `nil` for an empty plan.
    public var maxPixelOrder: Int? { pixels.lazy.map(\.order).max() }

    /// The position in `pixels` of the partition holding a row with this `_healpix_29` value.
    public func partitionIndex(ofHealpix29 value: Int64) -> Int? {
        // Last partition starting at or before `value`.
        var low = 0, high = starts.count
        while low < high {
            let mid = low + (high - low) / 2
            if starts[mid] <= value { low = mid + 1 } else { high = mid }
        }
        guard low > 0, pixels[low - 1].healpix29Range.contains(value) else { return nil }
        return low - 1
    }

    /// The partition holding a row with this `_healpix_29` value, if any.
    public func destination(ofHealpix29 value: Int64) -> HealpixPixel? {
        partitionIndex(ofHealpix29: value).map { pixels[$0] }
    }

    /// The partition holding `pixel` whole (a partition equal to or containing it), if any.
    public func destination(of pixel: HealpixPixel) -> HealpixPixel? {
        guard let found = partitionIndex(ofHealpix29: pixel.healpix29Range.lowerBound),
              pixels[found].contains(pixel) else { return nil }
        return pixels[found]
    }

    /// The partition holding pixel `index` at `highestOrder` (a histogram bin), if any.
    public func destination(ofHighestOrderIndex index: Int64) -> HealpixPixel? {
        destination(of: HealpixPixel(order: highestOrder, index: index))
    }

    /// The rows in `pixel` if it is one of the partitions.
    public func rowCount(of pixel: HealpixPixel) -> Int64? {
        guard let found = partitionIndex(ofHealpix29: pixel.healpix29Range.lowerBound),
              pixels[found] == pixel else { return nil }
        return rowCounts[found]
    }

    /// Sorted, disjoint, counts not negative, no partition finer than the alignment order.
    func checkInvariants() -> Bool {
        guard pixels.count == rowCounts.count, pixels.count == starts.count,
              alignmentOrder <= highestOrder, rowCounts.allSatisfy({ $0 >= 0 }),
              pixels.allSatisfy({ $0.order <= alignmentOrder }) else { return false }
        return zip(pixels, pixels.dropFirst()).allSatisfy { $0.healpix29Range.upperBound <= $1.healpix29Range.lowerBound }
    }
}
