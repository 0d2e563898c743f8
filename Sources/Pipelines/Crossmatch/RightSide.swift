import Foundation
import Formats
import RunEngine
import Sky
import Table

/// The right catalog seen as a tiling of the whole sky: its partitions, plus the margin
/// catalog's partitions where the right catalog has none (hats' negative tree), so that a left
/// row anywhere finds every right row within the radius in exactly one tile's partition + margin.
struct RightTiling: Sendable {
    /// One tile: a right partition and/or a margin partition of the same pixel.
    struct Tile: Sendable {
        var pixel: HealpixPixel
        var partition: String?
        var margin: String?
    }

    let tree: PixelTree
    let tiles: [Tile]

    init(right: HATSCatalog, margin: HATSCatalog) throws {
        var byPixel: [HealpixPixel: Tile] = [:]
        for p in right.partitions.pixels { byPixel[p] = Tile(pixel: p, partition: right.leafPath(p), margin: nil) }
        for p in margin.partitions.pixels {
            if byPixel[p] != nil {
                byPixel[p]!.margin = margin.leafPath(p)
            } else if !right.partitions.positions(overlapping: p).isEmpty {
                throw CatalogError.notACatalog(margin.root, "margin partition \(p) overlaps partitions of \(right.root) without matching one; it was not made for this catalog")
            } else {
                byPixel[p] = Tile(pixel: p, partition: nil, margin: margin.leafPath(p))
            }
        }
        do { tree = try PixelTree(Array(byPixel.keys)) } catch {
            throw CatalogError.notACatalog(margin.root, "\(error)")
        }
        tiles = tree.pixels.map { byPixel[$0]! }
    }
}

/// One right tile loaded for matching: its rows (partition, then margin) as one table, and a
/// k-d tree over their unit vectors.
final class RightSide: @unchecked Sendable {
    /// Rows per batch when reading a partition: whole partitions (they are bounded by the
    /// catalog's threshold) come back as one batch, so the table that rows are taken from needs
    /// no concatenation copy.
    static let batchRows = 1 << 22

    let table: ChunkedTable
    let tree: KDTree
    let rows: Int

    init(tile: RightTiling.Tile, columns: [String], schema: Schema, ra: String, dec: String) throws {
        var batches: [RecordBatch] = []
        for path in [tile.partition, tile.margin].compactMap({ $0 }) {
            let reader = try CatalogError.reading(path) { try ParquetFileReader(path: path, columns: columns, batchRows: Self.batchRows) }
            while let b = try CatalogError.reading(path, { try reader.next() }) {
                if b.schema.fields != schema.fields {
                    batches.append(try ArrowCompute.cast(b, to: schema))
                } else {
                    batches.append(b)
                }
            }
        }
        var x: [Double] = [], y: [Double] = [], z: [Double] = []
        for b in batches {
            guard let (raValues, raValid) = b.column(ra)?.doubles(), let (decValues, decValid) = b.column(dec)?.doubles() else {
                throw CatalogError.notACatalog(tile.partition ?? tile.margin ?? "", "right rows lack numeric \(ra)/\(dec)")
            }
            for i in 0..<b.length {
                if raValid?[i] == false || decValid?[i] == false || SkyCoordinateCheck.validate(ra: raValues[i], dec: decValues[i]) != nil {
                    // A row without a position (null, NaN, |dec| > 90) never matches: put it far off
                    // the unit sphere (chord > 2).
                    x.append(10); y.append(10); z.append(10)
                    continue
                }
                let v = UnitVector(ra: raValues[i], dec: decValues[i])
                x.append(v.x); y.append(v.y); z.append(v.z)
            }
        }
        guard x.count <= KDTree.maximumPoints else {
            throw CatalogError.notACatalog(tile.partition ?? tile.margin ?? "", "a partition and its margin hold \(x.count) rows, more than a k-d tree holds (\(KDTree.maximumPoints))")
        }
        table = try ChunkedTable(batches, schema: schema)
        tree = KDTree(x: x, y: y, z: z)
        rows = x.count
    }
}

/// Right sides recently built, shared by the workers (left partitions in sky order often share
/// one coarser right tile).
final class RightSideCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(tile: Int, side: RightSide)] = []
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func side(_ tile: Int, build: () throws -> RightSide) throws -> RightSide {
        lock.lock()
        if let k = entries.firstIndex(where: { $0.tile == tile }) {
            let e = entries.remove(at: k)
            entries.append(e)
            lock.unlock()
            return e.side
        }
        lock.unlock()
        let side = try build()
        lock.lock()
        entries.append((tile, side))
        if entries.count > capacity { entries.removeFirst() }
        lock.unlock()
        return side
    }
}
