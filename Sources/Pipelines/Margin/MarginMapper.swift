import Foundation
import Formats
import RunEngine
import Sky
import Table

/// The stages of a margin build, in order.
public enum MarginStage: String, RunStage {
    /// Stream every partition once and write its margin shards.
    case map = "margin-map"
    /// Concatenate each tile's shards into its leaf.
    case reduce = "margin-reduce"
    /// Write the HATS metadata and verify.
    case finish = "margin-finish"
}

/// The margin build's scratch files: one Arrow IPC shard per (tile, source partition) in
/// `<work>/shards/<tile>/<source>.arrow`.
struct MarginShards: Sendable {
    let root: String
    var directory: String { root + "/shards" }

    static func name(_ p: HealpixPixel) -> String { "\(p.order)-\(p.index)" }
    func folder(tile: HealpixPixel) -> String { directory + "/" + Self.name(tile) }
    func path(tile: HealpixPixel, source: HealpixPixel) -> String { folder(tile: tile) + "/" + Self.name(source) + ".arrow" }
}

/// The record of one mapped source partition: its rows, and the margin rows it gave each tile
/// (by position in the tiling).
struct MarginMapRecord: Codable, Sendable {
    var rowsRead: Int64
    var rowsPerTile: [Int: Int64]
}

/// The record of one margin leaf written.
struct MarginReduceRecord: Codable, Sendable {
    var rows: Int64
}

/// The map and reduce work of one margin run; shared by the workers (it holds no mutable state:
/// each call makes its own ``MarginFinder`` copy, reader and writers).
struct MarginMapper: Sendable {
    let catalog: HATSCatalog
    let tiles: PixelTree
    let finder: MarginFinder
    let shards: MarginShards

    /// Streams one source partition and writes its margin shards.
    func map(partition source: HealpixPixel, progress: ProgressReporter) throws -> MarginMapRecord {
        guard let own = tiles.position(containing: source.healpix29Range.lowerBound) else {
            throw RunError.verification("partition \(source) is not in the tiling")
        }
        let path = catalog.leafPath(source)
        let reader = try CatalogError.reading(path) { try ParquetFileReader(path: path) }
        let range = source.healpix29Range
        var finder = self.finder
        var writers: [Int: IPCFileWriter] = [:]
        var counts: [Int: Int64] = [:]
        var targets: [Int] = []
        var rowsRead: Int64 = 0
        defer { for w in writers.values { try? w.close() } }
        while let batch = try CatalogError.reading(path, { try reader.next() }) {
            try Interruption.check()
            guard let hpxColumn = batch.column(catalog.healpixColumn), hpxColumn.type == .int64 else {
                throw CatalogError.notACatalog(catalog.root, "\(path) has no int64 column \(catalog.healpixColumn)")
            }
            guard let (ra, raValid) = batch.column(catalog.raColumn)?.doubles(),
                  let (dec, decValid) = batch.column(catalog.decColumn)?.doubles() else {
                throw CatalogError.notACatalog(catalog.root, "\(path) has no numeric columns \(catalog.raColumn)/\(catalog.decColumn)")
            }
            let hpx = hpxColumn.values(Int64.self)
            var perTile: [Int: [Int64]] = [:]
            for i in 0..<batch.length {
                // A row without a position (null, NaN, |dec| > 90) is in no margin.
                if let raValid, !raValid[i] { continue }
                if let decValid, !decValid[i] { continue }
                guard SkyCoordinateCheck.validate(ra: ra[i], dec: dec[i]) == nil else { continue }
                guard range.contains(hpx[i]) else {
                    throw CatalogError.notACatalog(catalog.root, "\(path) row \(rowsRead + Int64(i)): \(catalog.healpixColumn) = \(hpx[i]) is outside its partition \(source)")
                }
                targets.removeAll(keepingCapacity: true)
                finder.targets(ownTile: own, healpix29: hpx[i], ra: ra[i], dec: dec[i], into: &targets)
                for t in targets { perTile[t, default: []].append(Int64(i)) }
            }
            rowsRead += Int64(batch.length)
            if !perTile.isEmpty {
                let table = try ChunkedTable([batch], schema: batch.schema)
                for (tile, indices) in perTile.sorted(by: { $0.key < $1.key }) {
                    let rows = try indices.withUnsafeBufferPointer { try table.take($0) }
                    let tilePixel = tiles.pixels[tile]
                    if writers[tile] == nil {
                        try FileManager.default.createDirectory(atPath: shards.folder(tile: tilePixel), withIntermediateDirectories: true)
                        writers[tile] = try IPCFileWriter(path: shards.path(tile: tilePixel, source: source), schema: batch.schema,
                                                          durable: false)
                    }
                    try writers[tile]?.write(rows)
                    counts[tile, default: 0] += Int64(indices.count)
                }
            }
            progress.advance(Int64(batch.length))
        }
        for (tile, w) in writers.sorted(by: { $0.key < $1.key }) {
            try w.close()
            writers[tile] = nil
        }
        return MarginMapRecord(rowsRead: rowsRead, rowsPerTile: counts)
    }

    /// Writes the leaf of one margin tile from its shards (in sky order).
    func reduce(tile: HealpixPixel, sources: [HealpixPixel], layout: HATSLayout) throws -> MarginReduceRecord {
        try FileManager.default.createDirectory(atPath: layout.leafDirectory(tile), withIntermediateDirectories: true)
        var writer: ParquetFileWriter? = nil
        var rows: Int64 = 0
        var options = ParquetWriteOptions()
        options.sortedByFirstColumn = true
        for source in sources {
            try Interruption.check()
            let file = try IPCFile(path: shards.path(tile: tile, source: source))
            if writer == nil { writer = try ParquetFileWriter(path: layout.leafPath(tile), schema: file.schema, options: options) }
            for b in 0..<file.batchCount {
                let batch = try file.batch(b)
                try writer?.write(batch)
                rows += Int64(batch.length)
            }
        }
        try writer?.close()
        return MarginReduceRecord(rows: rows)
    }
}
