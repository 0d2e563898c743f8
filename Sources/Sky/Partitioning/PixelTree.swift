/// A set of disjoint HEALPix pixels (NESTED, mixed orders), kept sorted by their `_healpix_29`
/// ranges so that the pixel holding a point, or the pixels overlapping a range, are found by
/// binary search. The partitions of a HATS catalog form one.
///
/// Pixels are compared through their order-29 ranges: pixel (k, n) covers
/// [n·4^(29−k), (n+1)·4^(29−k)).
public struct PixelTree: Sendable, Hashable {
    /// The pixels, sorted by the start of their order-29 range.
    public let pixels: [HealpixPixel]
    private let starts: [Int64]
    private let ends: [Int64]

    /// Builds the tree of `pixels`.
    /// - Throws: ``AlignmentError/overlappingPixels(_:_:)`` when two pixels overlap.
    public init(_ pixels: [HealpixPixel]) throws(AlignmentError) {
        let sorted = pixels.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.healpix29Range.overlaps(b.healpix29Range) {
            throw .overlappingPixels(a, b)
        }
        self.pixels = sorted
        starts = sorted.map { $0.healpix29Range.lowerBound }
        ends = sorted.map { $0.healpix29Range.upperBound }
    }

    /// The number of pixels.
    public var count: Int { pixels.count }

    /// The position in ``pixels`` of the pixel holding the order-29 index `value`, if any.
    public func position(containing value: Int64) -> Int? {
        // Last start <= value.
        var low = 0, high = starts.count
        while low < high {
            let mid = (low + high) / 2
            if starts[mid] <= value { low = mid + 1 } else { high = mid }
        }
        guard low > 0, value < ends[low - 1] else { return nil }
        return low - 1
    }

    /// The positions in ``pixels`` of the pixels overlapping `pixel` (one containing it, or
    /// any number inside it), in sky order.
    public func positions(overlapping pixel: HealpixPixel) -> Range<Int> {
        positions(overlapping: pixel.healpix29Range)
    }

    /// The positions of the pixels whose order-29 range overlaps `range`.
    public func positions(overlapping range: Range<Int64>) -> Range<Int> {
        // First pixel whose end > range.lowerBound … first pixel whose start >= range.upperBound.
        var low = 0, high = ends.count
        while low < high {
            let mid = (low + high) / 2
            if ends[mid] <= range.lowerBound { low = mid + 1 } else { high = mid }
        }
        let first = low
        high = starts.count
        while low < high {
            let mid = (low + high) / 2
            if starts[mid] < range.upperBound { low = mid + 1 } else { high = mid }
        }
        return first..<max(first, low)
    }

    /// The fewest pixels that cover the part of the sky this tree does not cover (hats' "negative
    /// tree"): a base pixel with no tree pixel in it is one pixel; a partly covered pixel is split
    /// into its four children, recursively.
    public func complement() -> [HealpixPixel] {
        var result: [HealpixPixel] = []
        func visit(_ p: HealpixPixel) {
            let inside = positions(overlapping: p)
            if inside.isEmpty { result.append(p); return }
            // Covered by one tree pixel that contains p (or equals it)?
            if inside.count == 1, pixels[inside.lowerBound].contains(p) { return }
            // Fully tiled by finer tree pixels?
            let covered = inside.reduce(Int64(0)) { $0 + (ends[$1] - starts[$1]) }
            if covered == Int64(p.healpix29Range.count) { return }
            for child in p.children { visit(child) }
        }
        for base in 0..<12 { visit(HealpixPixel(order: 0, index: Int64(base))) }
        return result
    }
}
