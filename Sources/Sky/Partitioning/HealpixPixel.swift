/// A HEALPix pixel in the nested numbering scheme: an order (depth) and an index at that order.
///
/// Pixels order the way hats lists partitions in `partition_info.csv` (`hats.pixel_math.sort_pixels`):
/// breadth-first, by where the pixel's `_healpix_29` range starts, so a sorted list of disjoint
/// pixels is in the same order as the rows of a catalog sorted by `_healpix_29`. Two pixels that
/// start at the same place (a pixel and its first descendant) sort coarser first. This is *not* the
/// `(order, pixel)` ordering of the hats `HealpixPixel` dataclass.
public struct HealpixPixel: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The deepest order HEALPix supports here, that of the `_healpix_29` spatial index.
    public static let maxOrder = HEALPix.maxOrder

    /// The HEALPix order (depth), `0...29`; there are `12 * 4^order` pixels at an order.
    public let order: Int
    /// The nested pixel index at `order`, `0 ..< 12 * 4^order`.
    public let index: Int64

    /// Creates a pixel. Both values must be in range; anything else is a programmer error.
    public init(order: Int, index: Int64) {
        // invariant: values from files, names or options go through HealpixPixel(checkedOrder:index:); this init and these helpers get AstroPile's own arithmetic.
        precondition(Self.isValid(order: order, index: index), "invalid HEALPix pixel (order \(order), index \(index))")
        self.order = order
        self.index = index
    }

    /// A pixel from untrusted numbers (a file name, a CSV line): `nil` unless both are in range.
    public init?(checkedOrder order: Int, index: Int64) {
        guard Self.isValid(order: order, index: index) else { return nil }
        self.order = order
        self.index = index
    }

    /// Whether `order` is in `0...29` and `index` is a pixel index at that order.
    public static func isValid(order: Int, index: Int64) -> Bool {
        (0...maxOrder).contains(order) && index >= 0 && index < pixelCount(order: order)
    }

    /// The number of pixels covering the sphere at `order`: `12 * 4^order`.
    public static func pixelCount(order: Int) -> Int64 {
        HEALPix.pixelCount(order: order)
    }

    /// The indices at `finerOrder` (≥ `order`) of the pixels inside this one: a contiguous range,
    /// `index << 2(finerOrder - order) ..< (index + 1) << 2(finerOrder - order)`.
    public func range(atOrder finerOrder: Int) -> Range<Int64> {
        // invariant: values from files, names or options go through HealpixPixel(checkedOrder:index:); this init and these helpers get AstroPile's own arithmetic.
        precondition(finerOrder >= order && finerOrder <= Self.maxOrder, "order \(finerOrder) is not in \(order)...\(Self.maxOrder)")
        let shift = Int64(2 * (finerOrder - order))
        return (index << shift) ..< ((index + 1) << shift)
    }

    /// The `_healpix_29` values of the rows that fall in this pixel, a contiguous range.
    public var healpix29Range: Range<Int64> { range(atOrder: Self.maxOrder) }

    /// The pixel at `coarserOrder` (≤ `order`) that contains this one.
    public func ancestor(atOrder coarserOrder: Int) -> HealpixPixel {
        // invariant: values from files, names or options go through HealpixPixel(checkedOrder:index:); this init and these helpers get AstroPile's own arithmetic.
        precondition(coarserOrder >= 0 && coarserOrder <= order, "order \(coarserOrder) is not in 0...\(order)")
        return HealpixPixel(order: coarserOrder, index: index >> Int64(2 * (order - coarserOrder)))
    }

    /// The pixel one order coarser that contains this one, or `nil` at order 0.
    public var parent: HealpixPixel? { order == 0 ? nil : ancestor(atOrder: order - 1) }

    /// The four pixels one order finer inside this one, in index order (order 29 has none: a
    /// programmer error).
    public var children: [HealpixPixel] {
        range(atOrder: order + 1).map { HealpixPixel(order: order + 1, index: $0) }
    }

    /// Whether `other` is this pixel or lies inside it.
    public func contains(_ other: HealpixPixel) -> Bool {
        other.order >= order && other.index >> Int64(2 * (other.order - order)) == index
    }

    /// Whether a row with this `_healpix_29` value lies in this pixel.
    public func contains(healpix29 value: Int64) -> Bool { healpix29Range.contains(value) }

    /// The rows of this pixel in a buffer sorted by `_healpix_29`, found by two binary searches.
    public func rows(inSortedHealpix29 values: UnsafeBufferPointer<Int64>) -> Range<Int> {
        let range = healpix29Range
        return Self.firstIndex(in: values, notBelow: range.lowerBound) ..< Self.firstIndex(in: values, notBelow: range.upperBound)
    }

    /// `(order, index)`, e.g. `(1, 47)`.
    public var description: String { "(\(order), \(index))" }

    /// Breadth-first order: by the start of the `_healpix_29` range, then coarser first.
    public static func < (lhs: HealpixPixel, rhs: HealpixPixel) -> Bool {
        let left = lhs.healpix29Range.lowerBound, right = rhs.healpix29Range.lowerBound
        return left != right ? left < right : lhs.order < rhs.order
    }
}

extension HealpixPixel: Codable {
    private enum CodingKeys: String, CodingKey { case order, index }

    /// Decodes `{"order": …, "index": …}`, rejecting pixels that do not exist.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let order = try container.decode(Int.self, forKey: .order)
        let index = try container.decode(Int64.self, forKey: .index)
        guard Self.isValid(order: order, index: index) else {
            throw DecodingError.dataCorruptedError(
                forKey: .index, in: container, debugDescription: "no HEALPix pixel (order \(order), index \(index))")
        }
        self.init(order: order, index: index)
    }

    /// Encodes `{"order": …, "index": …}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(order, forKey: .order)
        try container.encode(index, forKey: .index)
    }
}

extension HealpixPixel {
    /// The first position in sorted `values` holding a value ≥ `bound` (binary search).
    static func firstIndex(in values: UnsafeBufferPointer<Int64>, notBelow bound: Int64) -> Int {
        var low = 0, high = values.count
        while low < high {
            let mid = low + (high - low) / 2
            if values[mid] >= bound { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
