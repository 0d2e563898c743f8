/// Why a histogram could not be turned into partitions.
public enum AlignmentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A pixel at the highest order holds more than the threshold, so no partitioning exists.
    /// (hats raises `ValueError("single pixel row count … exceeds threshold …")` without naming it.)
    case pixelOverThreshold(OverThreshold)
    /// An order setting is out of range.
    case invalidOrder(name: String, value: Int, allowed: ClosedRange<Int>)
    /// A row threshold below 1 or a byte threshold below 0.
    case invalidThreshold(Int64, measure: ThresholdMeasure)
    /// The histogram is coarser than the order the configuration needs.
    case histogramTooCoarse(histogramOrder: Int, requiredOrder: Int)
    /// The size histogram's order differs from the row histogram's.
    case histogramOrderMismatch(rowsOrder: Int, sizesOrder: Int)
    /// A byte threshold was configured but no size histogram was given.
    case missingSizeHistogram
    /// Rows in a pixel whose size is zero were left without a partition (hats-import fails on this
    /// too, with a row-count mismatch).
    case unplacedRows(pixel: HealpixPixel, rows: Int64)
    /// Two partitions given to ``PartitionPlan/init(pixels:rowCounts:highestOrder:)`` overlap.
    case overlappingPixels(HealpixPixel, HealpixPixel)
    /// A partition given to ``PartitionPlan/init(pixels:rowCounts:highestOrder:)`` is finer than
    /// the plan's highest order, or the pixel and count lists differ in length.
    case inconsistentPartitions(String)

    /// The details of a pixel over the threshold, and the order that would fit, if any.
    public struct OverThreshold: Hashable, Sendable {
        /// The fullest pixel at the highest order.
        public let pixel: HealpixPixel
        /// What it holds, in `measure` units.
        public let count: Int64
        /// The threshold it exceeds.
        public let threshold: Int64
        /// Whether `count` and `threshold` are rows or bytes.
        public let measure: ThresholdMeasure
        /// How many pixels at the highest order exceed the threshold.
        public let pixelsOverThreshold: Int
        /// The smallest highest order at which no pixel exceeds the threshold, if the histogram is
        /// fine enough to show one (a histogram at order k can only answer for orders ≤ k).
        public let suggestedHighestOrder: Int?
        /// The histogram's own order, the finest that could be evaluated.
        public let histogramOrder: Int
        /// The fullest pixel at the histogram's order, and what it holds: the least the threshold
        /// must be raised to when no order fits.
        public let fullestAtHistogramOrder: HealpixPixel
        /// What `fullestAtHistogramOrder` holds.
        public let fullestCountAtHistogramOrder: Int64

        /// Creates the details; `AlignmentError` users only read them.
        public init(
            pixel: HealpixPixel, count: Int64, threshold: Int64, measure: ThresholdMeasure,
            pixelsOverThreshold: Int, suggestedHighestOrder: Int?, histogramOrder: Int,
            fullestAtHistogramOrder: HealpixPixel, fullestCountAtHistogramOrder: Int64
        ) {
            self.pixel = pixel
            self.count = count
            self.threshold = threshold
            self.measure = measure
            self.pixelsOverThreshold = pixelsOverThreshold
            self.suggestedHighestOrder = suggestedHighestOrder
            self.histogramOrder = histogramOrder
            self.fullestAtHistogramOrder = fullestAtHistogramOrder
            self.fullestCountAtHistogramOrder = fullestCountAtHistogramOrder
        }
    }

    /// A sentence naming the pixel, the counts and the way out.
    public var description: String {
        switch self {
        case .pixelOverThreshold(let details):
            return details.message
        case .invalidOrder(let name, let value, let allowed):
            return "\(name) is \(value); it must be in \(allowed.lowerBound)...\(allowed.upperBound)"
        case .invalidThreshold(let value, let measure):
            return "the \(measure == .rows ? "row" : "byte") threshold is \(value); it must be at least \(measure == .rows ? 1 : 0)"
        case .histogramTooCoarse(let histogramOrder, let requiredOrder):
            return "the histogram is at order \(histogramOrder), coarser than the order \(requiredOrder) the partitioning needs"
        case .histogramOrderMismatch(let rowsOrder, let sizesOrder):
            return "the row histogram is at order \(rowsOrder) but the size histogram at order \(sizesOrder)"
        case .missingSizeHistogram:
            return "a byte threshold needs a histogram of row sizes"
        case .unplacedRows(let pixel, let rows):
            return "\(rows) rows in pixel (order \(pixel.order), index \(pixel.index)) have a size of 0 bytes and fit no partition"
        case .overlappingPixels(let first, let second):
            return "partitions (order \(first.order), index \(first.index)) and (order \(second.order), index \(second.index)) overlap"
        case .inconsistentPartitions(let reason):
            return reason
        }
    }
}

extension AlignmentError.OverThreshold {
    fileprivate var message: String {
        let unit = measure == .rows ? "rows" : "bytes"
        let others = pixelsOverThreshold > 1 ? " (\(pixelsOverThreshold) pixels at order \(pixel.order) exceed it)" : ""
        var text = "pixel (order \(pixel.order), index \(pixel.index)) holds \(count) \(unit), over the threshold of "
            + "\(threshold)\(others); "
        if let suggestedHighestOrder {
            text += "with a highest order of \(suggestedHighestOrder) no pixel exceeds it"
        } else if histogramOrder > pixel.order {
            text += "no highest order up to \(histogramOrder) (the histogram's order) fits: pixel (order "
                + "\(fullestAtHistogramOrder.order), index \(fullestAtHistogramOrder.index)) alone holds "
                + "\(fullestCountAtHistogramOrder) \(unit); raise the threshold to at least "
                + "\(fullestCountAtHistogramOrder) or map at a higher order"
        } else {
            text += "no order finer than \(histogramOrder) can be evaluated from this histogram; raise the "
                + "highest order or the threshold (to at least \(count))"
        }
        return text
    }
}
