extension PartitionPlan {
    /// Turns the merged histogram into partitions exactly as hats-import's binning stage does: the
    /// same pixels with the same row counts for the same histogram and settings.
    ///
    /// - With a constant order (``AlignmentConfig/effectiveConstantOrder``), every non-empty pixel
    ///   of that order is a partition and the threshold is not looked at.
    /// - Otherwise, if any pixel at the highest order holds more than the threshold, alignment fails
    ///   with ``AlignmentError/pixelOverThreshold(_:)`` naming the fullest pixel and, if the histogram
    ///   is finer than the highest order, the smallest highest order that would fit.
    /// - Pixels are then merged up the HEALPix tree, never above the lowest order: with
    ///   `dropEmptySiblings`, a pixel becomes one partition when its children hold at most the
    ///   threshold together and more than one child holds something (a lone non-empty child keeps
    ///   its own, finer order); without, each non-empty pixel of the coarsest order that fits the
    ///   threshold is one partition.
    /// - Like hats-import (`use_lower_order=True`), the merging starts from the coarsest order above
    ///   the lowest at which no pixel exceeds the threshold, so with `dropEmptySiblings` a lone
    ///   pixel stays no finer than that order (``AlignmentConfig/useLowerOrder``).
    ///
    /// Thresholds count rows, or bytes from `sizes` when ``AlignmentConfig/byteThreshold`` is set;
    /// partition row counts always come from `rows`. Both histograms may be finer than the highest
    /// order. Runs in time and extra memory linear in the bins at the highest order; no per-pixel
    /// objects are made except the partitions themselves.
    public static func align(
        _ rows: PixelHistogram, sizes: PixelHistogram? = nil, config: AlignmentConfig
    ) throws(AlignmentError) -> PartitionPlan {
        try config.validate()
        if let sizes, sizes.order != rows.order {
            throw .histogramOrderMismatch(rowsOrder: rows.order, sizesOrder: sizes.order)
        }
        if let constantOrder = config.effectiveConstantOrder {
            return try constantOrderPlan(rows, order: constantOrder)
        }
        let highest = config.highestOrder
        guard rows.order >= highest else {
            throw .histogramTooCoarse(histogramOrder: rows.order, requiredOrder: highest)
        }
        let measure = config.thresholdMeasure
        let threshold = config.effectiveThreshold
        let measured: PixelHistogram
        switch measure {
        case .rows:
            measured = rows
        case .bytes:
            guard let sizes else { throw .missingSizeHistogram }
            measured = sizes
        }
        let rowsAtHighest = rows.degraded(to: highest)
        let measuredAtHighest = measure == .rows ? rowsAtHighest : measured.degraded(to: highest)
        if let over = overThreshold(measuredAtHighest, finest: measured, threshold: threshold, measure: measure) {
            throw .pixelOverThreshold(over)
        }

        let sums = NestedSums(measuredAtHighest.counts, highestOrder: highest, lowestOrder: config.lowestOrder)
        let alignmentOrder = config.useLowerOrder ? sums.coarsestFittingOrder(threshold: threshold) : highest
        var pixels: [HealpixPixel] = []
        var rowCounts: [Int64] = []
        sums.visitPartitions(
            alignmentOrder: alignmentOrder, threshold: threshold, dropEmptySiblings: config.dropEmptySiblings
        ) { order, index in
            let pixel = HealpixPixel(order: order, index: index)
            let count = measure == .rows ? sums[order, index] : rowsAtHighest[pixel]
            // hats-import keeps only destination pixels with rows (`if int(row_count) > 0`).
            if count > 0 {
                pixels.append(pixel)
                rowCounts.append(count)
            }
        }
        let plan = PartitionPlan(
            uncheckedSorted: pixels, rowCounts: rowCounts, highestOrder: highest, alignmentOrder: alignmentOrder)
        if plan.totalRows != rowsAtHighest.total, let lost = firstUnplacedPixel(rowsAtHighest, plan: plan) {
            throw .unplacedRows(pixel: lost, rows: rowsAtHighest.counts[Int(lost.index)])
        }
        return plan
    }

    /// Every non-empty pixel at `order` on its own (hats-import's `constant_healpix_order`).
    private static func constantOrderPlan(_ rows: PixelHistogram, order: Int) throws(AlignmentError) -> PartitionPlan {
        guard rows.order >= order else {
            throw .histogramTooCoarse(histogramOrder: rows.order, requiredOrder: order)
        }
        let binned = rows.degraded(to: order)
        var pixels: [HealpixPixel] = []
        var rowCounts: [Int64] = []
        binned.counts.withUnsafeBufferPointer { bins in
            for index in bins.indices where bins[index] > 0 {
                pixels.append(HealpixPixel(order: order, index: Int64(index)))
                rowCounts.append(bins[index])
            }
        }
        return PartitionPlan(uncheckedSorted: pixels, rowCounts: rowCounts, highestOrder: order, alignmentOrder: order)
    }

    /// The over-threshold report if some pixel of `atHighest` exceeds `threshold`; `finest` is the
    /// same measure at the histogram's own order, used to find an order that would fit.
    private static func overThreshold(
        _ atHighest: PixelHistogram, finest: PixelHistogram, threshold: Int64, measure: ThresholdMeasure
    ) -> AlignmentError.OverThreshold? {
        guard atHighest.maxCount > threshold else { return nil }
        var worst = 0
        var overCount = 0
        atHighest.counts.withUnsafeBufferPointer { bins in
            for index in bins.indices where bins[index] > threshold {
                overCount += 1
                if bins[index] > bins[worst] { worst = index }
            }
        }

        // The histogram's own order first, then coarser ones down to just above the highest order,
        // degrading in place; sums only grow as pixels merge, so the fitting orders are the finest few.
        var fittingOrder: Int?
        var buffer = finest.counts
        var fullest = 0
        buffer.withUnsafeMutableBufferPointer { bins in
            for index in bins.indices where bins[index] > bins[fullest] { fullest = index }
        }
        let fullestCount = buffer[fullest]
        buffer.withUnsafeMutableBufferPointer { bins in
            var length = bins.count
            for order in stride(from: finest.order, to: atHighest.order, by: -1) {
                if order < finest.order {
                    length /= 4
                    for index in 0 ..< length {
                        bins[index] = bins[4 * index] + bins[4 * index + 1] + bins[4 * index + 2] + bins[4 * index + 3]
                    }
                }
                var largest: Int64 = 0
                for index in 0 ..< length where bins[index] > largest { largest = bins[index] }
                guard largest <= threshold else { break }
                fittingOrder = order
            }
        }
        return AlignmentError.OverThreshold(
            pixel: HealpixPixel(order: atHighest.order, index: Int64(worst)),
            count: atHighest.counts[worst], threshold: threshold, measure: measure,
            pixelsOverThreshold: overCount, suggestedHighestOrder: fittingOrder, histogramOrder: finest.order,
            fullestAtHistogramOrder: HealpixPixel(order: finest.order, index: Int64(fullest)),
            fullestCountAtHistogramOrder: fullestCount)
    }

    /// The first highest-order pixel with rows that no partition holds.
    private static func firstUnplacedPixel(_ rows: PixelHistogram, plan: PartitionPlan) -> HealpixPixel? {
        for index in rows.counts.indices where rows.counts[index] > 0 {
            let pixel = HealpixPixel(order: rows.order, index: Int64(index))
            if plan.destination(of: pixel) == nil { return pixel }
        }
        return nil
    }
}

/// The threshold measure summed up the HEALPix tree, one dense level per order from the lowest to
/// the highest (hats' `_get_nested_sums`): a third more memory than the highest-order level alone.
struct NestedSums {
    let lowestOrder: Int
    let highestOrder: Int
    /// `levels[order - lowestOrder][index]`.
    private let levels: [[Int64]]

    init(_ highest: [Int64], highestOrder: Int, lowestOrder: Int) {
        self.lowestOrder = lowestOrder
        self.highestOrder = highestOrder
        var levels = [highest]
        for _ in stride(from: highestOrder, to: lowestOrder, by: -1) {
            let finer = levels[levels.count - 1]
            let coarser = [Int64](unsafeUninitializedCapacity: finer.count / 4) { bins, initialized in
                finer.withUnsafeBufferPointer { source in
                    for index in 0 ..< bins.count {
                        bins[index] = source[4 * index] + source[4 * index + 1] + source[4 * index + 2] + source[4 * index + 3]
                    }
                }
                initialized = bins.count
            }
            levels.append(coarser)
        }
        self.levels = levels.reversed()
    }

    subscript(order: Int, index: Int64) -> Int64 { levels[order - lowestOrder][Int(index)] }

    /// hats' `use_lower_order`: walking down from the highest order to just above the lowest, the
    /// last order whose fullest pixel still fits the threshold.
    func coarsestFittingOrder(threshold: Int64) -> Int {
        var fitting = highestOrder
        for order in stride(from: highestOrder, to: lowestOrder, by: -1) {
            guard PixelHistogram.maximum(levels[order - lowestOrder]) <= threshold else { break }
            fitting = order
        }
        return fitting
    }

    /// Calls `body` with each partition's `(order, index)` in breadth-first (`_healpix_29`) order,
    /// by a depth-first walk from the lowest order that stops at the first pixel that becomes a
    /// partition. This gives hats' choice: in `_get_alignment_dropping_siblings` the coarsest merge
    /// overwrites the finer ones beneath it; in `_get_alignment` the coarsest fitting pixel claims
    /// its descendants. Empty subtrees are skipped, so the walk costs the non-empty pixels only.
    func visitPartitions(
        alignmentOrder: Int, threshold: Int64, dropEmptySiblings: Bool, _ body: (Int, Int64) -> Void
    ) {
        var stack: [(order: Int, index: Int64)] = []
        stack.reserveCapacity(3 * (alignmentOrder - lowestOrder) + 4)
        for root in 0 ..< HealpixPixel.pixelCount(order: lowestOrder) where self[lowestOrder, root] > 0 {
            stack.append((lowestOrder, root))
            while let (order, index) = stack.popLast() {
                let value = self[order, index]
                if value == 0 { continue }
                let isPartition: Bool
                if order == alignmentOrder {
                    isPartition = true  // every pixel here fits: validated, or chosen by use_lower_order
                } else if dropEmptySiblings {
                    let first = index << 2
                    let fullestChild = max(self[order + 1, first], self[order + 1, first + 1],
                                           self[order + 1, first + 2], self[order + 1, first + 3])
                    isPartition = value != fullestChild && value <= threshold
                } else {
                    isPartition = value <= threshold
                }
                if isPartition {
                    body(order, index)
                } else {
                    let first = index << 2
                    for child in stride(from: first + 3, through: first, by: -1) { stack.append((order + 1, child)) }
                }
            }
        }
    }
}
