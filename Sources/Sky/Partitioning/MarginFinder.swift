/// Finds, for a point of a catalog, the other tiles of a sky tiling whose margin it belongs to:
/// the tiles whose closest point is within the margin threshold of it (true angular distance to
/// the tile, not "lies in a bordering pixel" as hats keeps it).
///
/// The tiling is the catalog's partitions plus the pixels of its complement (hats' negative
/// tree), so that margins exist also where the catalog has no partition. The search works on
/// cells of order ``cellOrder``, chosen so that a cell is at least ~3× wider than the threshold:
/// every point within the threshold of a point lies in that point's cell or one of the cell's 7–8
/// neighbours. For each cell the tiles other than the point's own that overlap those nine cells are
/// listed once (points arrive sorted by `_healpix_29`, so a cell's list is reused for all its
/// points); then the distance from the point to the part of each such tile inside the nine cells
/// decides. Points far from every tile border cost one cache lookup.
///
/// Distances come from ``HEALPix/distanceToPixel(ra:dec:order:index:)``, which is within 1e-7° of
/// the exact distance; a point is kept when its distance is at most the threshold plus that
/// tolerance, so no point truly within the threshold is ever dropped.
public struct MarginFinder: Sendable {
    /// The tiling: catalog partitions and complement pixels.
    public let tiles: PixelTree
    /// The threshold, degrees.
    public let thresholdDegrees: Double
    /// The order of the search cells.
    public let cellOrder: Int
    /// Added to the threshold before comparing: the error bound of the distance computation.
    public static let toleranceDegrees = 2e-7

    /// One tile near a cell, with the pixels making up its part near the cell.
    struct Candidate {
        var tile: Int
        var pieces: [HealpixPixel]
    }

    private var cachedCell: Int64 = -1
    private var cachedOwnTile: Int = -1
    private var cached: [Candidate] = []

    /// A finder for `tiles` (which should cover the sphere) and a threshold in arcseconds; `nil`
    /// unless `0 < thresholdArcsec ≤` ``maximumThresholdArcsec`` (some order has cells ≥ 3× as wide).
    public init?(tiles: PixelTree, thresholdArcsec: Double) {
        guard thresholdArcsec > 0, thresholdArcsec.isFinite, let order = Self.cellOrder(thresholdArcsec: thresholdArcsec) else {
            return nil
        }
        self.tiles = tiles
        self.thresholdDegrees = thresholdArcsec / 3600
        self.cellOrder = order
    }

    /// The deepest order whose cells are at least about 3× as wide as the threshold, or `nil`
    /// when even order-0 cells are not (a threshold above ~6°). The narrowest HEALPix cells are
    /// about 0.5× the mean cell size √(4π / 12·4^k); 0.35× is used for safety.
    public static func cellOrder(thresholdArcsec: Double) -> Int? {
        let meanSizeOrder0 = (4 * Double.pi / 12).squareRoot() * 180 / .pi * 3600  // arcsec
        var best: Int? = nil
        for order in 0...HEALPix.maxOrder {
            let width = 0.35 * meanSizeOrder0 / Double(1 << order)
            if width >= 3 * thresholdArcsec { best = order } else { break }
        }
        return best
    }

    /// The largest threshold, arcseconds, that ``cellOrder(thresholdArcsec:)`` accepts.
    public static var maximumThresholdArcsec: Double {
        (4 * Double.pi / 12).squareRoot() * 180 / .pi * 3600 * 0.35 / 3
    }

    /// Appends to `into` the positions (in `tiles.pixels`) of the tiles other than `ownTile`
    /// whose margin holds the point (`ra`, `dec`, degrees) with order-29 index `healpix29`.
    public mutating func targets(ownTile: Int, healpix29: Int64, ra: Double, dec: Double, into result: inout [Int]) {
        let cell = healpix29 >> Int64(2 * (HEALPix.maxOrder - cellOrder))
        if cell != cachedCell || ownTile != cachedOwnTile {
            cached = isInterior(cell: cell, tile: tiles.pixels[ownTile]) ? [] : candidates(cell: cell, ownTile: ownTile)
            cachedCell = cell
            cachedOwnTile = ownTile
        }
        guard !cached.isEmpty else { return }
        let limit = thresholdDegrees + Self.toleranceDegrees
        for candidate in cached {
            for piece in candidate.pieces
            where HEALPix.distanceToPixel(ra: ra, dec: dec, order: piece.order, index: piece.index) <= limit {
                result.append(candidate.tile)
                break
            }
        }
    }

    /// Whether the cell and its eight neighbours all lie inside `tile`: in the tile's own (i, j)
    /// grid of cells (the NESTED index inside a pixel is the Z-order of (i, j)), the cell is off
    /// the grid's first and last rows and columns. Only bit operations — the fast path that keeps
    /// rows far from every border from computing neighbours.
    @inline(__always)
    func isInterior(cell: Int64, tile: HealpixPixel) -> Bool {
        guard tile.order <= cellOrder else { return false }
        let depth = cellOrder - tile.order
        guard depth >= 2 else { return false }
        let local = UInt64(cell - (tile.index << Int64(2 * depth)))
        let (i, j) = HEALPix.ZOrder.deinterleave(local)
        let last = UInt32((1 << depth) - 1)
        return i > 0 && j > 0 && i < last && j < last
    }

    /// The tiles other than `ownTile` overlapping the cell and its neighbours, with their pieces.
    func candidates(cell: Int64, ownTile: Int) -> [Candidate] {
        var cells = HEALPix.neighbours(order: cellOrder, index: cell)
        cells.append(cell)
        var byTile: [Int: [HealpixPixel]] = [:]
        for c in cells {
            let cellPixel = HealpixPixel(order: cellOrder, index: c)
            for position in tiles.positions(overlapping: cellPixel) where position != ownTile {
                let tile = tiles.pixels[position]
                // The tile's part in this cell: the cell itself when the tile contains it, else the tile.
                byTile[position, default: []].append(tile.order <= cellOrder ? cellPixel : tile)
            }
        }
        return byTile.keys.sorted().map { Candidate(tile: $0, pieces: byTile[$0]!) }
    }
}
