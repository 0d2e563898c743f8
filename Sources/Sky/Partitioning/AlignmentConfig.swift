/// How a histogram becomes partitions: hats-import's `highest_healpix_order`,
/// `lowest_healpix_order`, `pixel_threshold`, `byte_pixel_threshold`, `drop_empty_siblings` and
/// `constant_healpix_order`, with the same defaults and the same meaning.
///
/// Keys missing from a decoded configuration take the defaults below.
public struct AlignmentConfig: Codable, Sendable, Hashable {
    /// The finest order a partition may have (hats-import `highest_healpix_order`, default 10).
    /// The histogram must be at this order or finer.
    public var highestOrder: Int
    /// The coarsest order a partition may have (hats-import `lowest_healpix_order`, default 0).
    /// Equal to `highestOrder`, it means a constant order, as in hats-import.
    public var lowestOrder: Int
    /// The most rows a partition may hold (hats-import `pixel_threshold`, default 1,000,000).
    public var threshold: Int64
    /// The most bytes a partition may hold (hats-import `byte_pixel_threshold`). When set it replaces
    /// `threshold`, and alignment needs a size histogram.
    public var byteThreshold: Int64?
    /// Keep a lone non-empty pixel at its own (finer) order rather than merging it with three
    /// empty siblings (hats-import `drop_empty_siblings`, default `true`).
    public var dropEmptySiblings: Bool
    /// Put every non-empty pixel of this order in its own partition, ignoring the other settings
    /// and the threshold (hats-import `constant_healpix_order`).
    public var constantOrder: Int?
    /// Align at the lowest order above `lowestOrder` at which no pixel exceeds the threshold, when
    /// that is coarser than `highestOrder`, as hats-import does (`use_lower_order=True`). Turning it
    /// off gives `hats.pixel_math.generate_alignment`'s own default; it only changes results with
    /// `dropEmptySiblings`.
    public var useLowerOrder: Bool

    /// A configuration; the defaults are hats-import's.
    public init(
        highestOrder: Int = 10,
        lowestOrder: Int = 0,
        threshold: Int64 = 1_000_000,
        byteThreshold: Int64? = nil,
        dropEmptySiblings: Bool = true,
        constantOrder: Int? = nil,
        useLowerOrder: Bool = true
    ) {
        self.highestOrder = highestOrder
        self.lowestOrder = lowestOrder
        self.threshold = threshold
        self.byteThreshold = byteThreshold
        self.dropEmptySiblings = dropEmptySiblings
        self.constantOrder = constantOrder
        self.useLowerOrder = useLowerOrder
    }

    private enum CodingKeys: String, CodingKey {
        case highestOrder, lowestOrder, threshold, byteThreshold, dropEmptySiblings, constantOrder, useLowerOrder
    }

    /// Decodes a configuration; absent keys take the defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = AlignmentConfig()
        self.init(
            highestOrder: try container.decodeIfPresent(Int.self, forKey: .highestOrder) ?? defaults.highestOrder,
            lowestOrder: try container.decodeIfPresent(Int.self, forKey: .lowestOrder) ?? defaults.lowestOrder,
            threshold: try container.decodeIfPresent(Int64.self, forKey: .threshold) ?? defaults.threshold,
            byteThreshold: try container.decodeIfPresent(Int64.self, forKey: .byteThreshold),
            dropEmptySiblings: try container.decodeIfPresent(Bool.self, forKey: .dropEmptySiblings)
                ?? defaults.dropEmptySiblings,
            constantOrder: try container.decodeIfPresent(Int.self, forKey: .constantOrder),
            useLowerOrder: try container.decodeIfPresent(Bool.self, forKey: .useLowerOrder) ?? defaults.useLowerOrder
        )
    }

    /// The order every partition gets, if the order is constant: `constantOrder`, or
    /// `lowestOrder` when it equals `highestOrder` (hats-import's rule).
    public var effectiveConstantOrder: Int? {
        constantOrder ?? (lowestOrder == highestOrder ? lowestOrder : nil)
    }

    /// The order the map stage must histogram at (at least): hats-import's `mapping_healpix_order`.
    public var mappingOrder: Int { effectiveConstantOrder ?? highestOrder }

    /// What the threshold counts: bytes when `byteThreshold` is set, rows otherwise.
    public var thresholdMeasure: ThresholdMeasure { byteThreshold == nil ? .rows : .bytes }

    /// The threshold in force: `byteThreshold` if set, else `threshold`.
    public var effectiveThreshold: Int64 { byteThreshold ?? threshold }

    /// Checks the settings as hats-import's `ImportArguments` does: orders in `0...29`, lowest not
    /// above highest, a row threshold of at least 1, a byte threshold of at least 0.
    public func validate() throws(AlignmentError) {
        let orders = 0...HealpixPixel.maxOrder
        if let constantOrder {
            guard orders.contains(constantOrder) else {
                throw .invalidOrder(name: "constantOrder", value: constantOrder, allowed: orders)
            }
            return
        }
        guard orders.contains(highestOrder) else {
            throw .invalidOrder(name: "highestOrder", value: highestOrder, allowed: orders)
        }
        guard (0...highestOrder).contains(lowestOrder) else {
            throw .invalidOrder(name: "lowestOrder", value: lowestOrder, allowed: 0...highestOrder)
        }
        if lowestOrder == highestOrder { return }
        if let byteThreshold {
            guard byteThreshold >= 0 else { throw .invalidThreshold(byteThreshold, measure: .bytes) }
        } else {
            guard threshold >= 1 else { throw .invalidThreshold(threshold, measure: .rows) }
        }
    }
}

/// What a partition threshold counts.
public enum ThresholdMeasure: String, Codable, Sendable, Hashable {
    /// Rows (hats-import `pixel_threshold`).
    case rows
    /// Bytes in memory (hats-import `byte_pixel_threshold`).
    case bytes
}
