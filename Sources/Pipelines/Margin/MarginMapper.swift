import Foundation
import Formats
import Sky
import Table

/// Resume state of a margin run: `config.json`, one map record per source partition, one
/// reduce record per margin tile, and the shards in between.
struct MarginWorkState: Sendable {
    let root: String
    var shardDirectory: String { root + "/shards" }
    var mapDirectory: String { root + "/map" }
    var reduceDirectory: String { root + "/reduce" }

    struct MapRecord: Codable { var rowsPerTile: [Int: Int64] }
    struct ReduceRecord: Codable { var rows: Int64 }

    /// Creates the folders, or checks that an existing state belongs to the same settings.
    func begin(hash: String) throws {
        try WorkState.begin(root: root, hash: hash, folders: [shardDirectory, mapDirectory, reduceDirectory])
    }

    static func name(_ p: HealpixPixel) -> String { "\(p.order)-\(p.index)" }
    func shardFolder(tile: HealpixPixel) -> String { shardDirectory + "/" + Self.name(tile) }
    func shardPath(tile: HealpixPixel, source: HealpixPixel) -> String { shardFolder(tile: tile) + "/" + Self.name(source) + ".arrow" }
    func mapRecord(_ source: HealpixPixel) -> MapRecord? { WorkState.read(MapRecord.self, from: mapDirectory + "/" + Self.name(source) + ".json") }
    func writeMapRecord(_ r: MapRecord, _ source: HealpixPixel) throws { try WorkState.write(r, to: mapDirectory + "/" + Self.name(source) + ".json") }
    func reduceRecord(_ tile: HealpixPixel) -> ReduceRecord? { WorkState.read(ReduceRecord.self, from: reduceDirectory + "/" + Self.name(tile) + ".json") }
    func writeReduceRecord(_ r: ReduceRecord, _ tile: HealpixPixel) throws { try WorkState.write(r, to: reduceDirectory + "/" + Self.name(tile) + ".json") }
}

/// The map and reduce work of one margin run; shared by the worker threads (it holds no
/// mutable state: each call makes its own ``MarginFinder`` copy, reader and writers).
struct MarginMapper: Sendable {
    let catalog: HATSCatalog
    let tiles: PixelTree
    let finder: MarginFinder
    let state: MarginWorkState
    let progress: ProgressReporter

    /// Streams one source partition and writes its margin shards; skipped when recorded done.
    func map(partition source: HealpixPixel) throws {
        if state.mapRecord(source) != nil {
            progress.advance(Int64((try? ParquetFileReader.info(path: catalog.leafPath(source)).rows) ?? 0))
            return
        }
        guard let own = tiles.position(containing: source.healpix29Range.lowerBound) else {
            throw CatalogError.verification("partition \(source) is not in the tiling")
        }
        let path = catalog.leafPath(source)
        let reader: ParquetFileReader
        do { reader = try ParquetFileReader(path: path) } catch { throw CatalogError.io("\(error)") }
        var finder = self.finder
        var writers: [Int: IPCFileWriter] = [:]
        var counts: [Int: Int64] = [:]
        var targets: [Int] = []
        defer { for w in writers.values { try? w.close() } }
        while let batch = try reader.next() {
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
                if let raValid, !raValid[i] { continue }
                if let decValid, !decValid[i] { continue }
                targets.removeAll(keepingCapacity: true)
                finder.targets(ownTile: own, healpix29: hpx[i], ra: ra[i], dec: dec[i], into: &targets)
                for t in targets { perTile[t, default: []].append(Int64(i)) }
            }
            if !perTile.isEmpty {
                let table = try ChunkedTable([batch], schema: batch.schema)
                for (tile, indices) in perTile.sorted(by: { $0.key < $1.key }) {
                    let rows = try indices.withUnsafeBufferPointer { try table.take($0) }
                    if writers[tile] == nil {
                        let tilePixel = tiles.pixels[tile]
                        try FileManager.default.createDirectory(atPath: state.shardFolder(tile: tilePixel), withIntermediateDirectories: true)
                        writers[tile] = try IPCFileWriter(path: state.shardPath(tile: tilePixel, source: source), schema: batch.schema,
                                                          durable: false)
                    }
                    try writers[tile]!.write(rows)
                    counts[tile, default: 0] += Int64(indices.count)
                }
            }
            progress.advance(Int64(batch.length))
        }
        for (tile, w) in writers.sorted(by: { $0.key < $1.key }) {
            try w.close()
            writers[tile] = nil
        }
        try state.writeMapRecord(MarginWorkState.MapRecord(rowsPerTile: counts), source)
        CrashHook.completed("margin-map")
    }

    /// Writes the leaf of one margin tile from its shards (in sky order); returns its rows.
    func reduce(tile: HealpixPixel, tilePosition: Int, sources: [HealpixPixel], layout: HATSLayout) throws -> Int64 {
        if let done = state.reduceRecord(tile), FileManager.default.fileExists(atPath: layout.leafPath(tile)) {
            return done.rows
        }
        try Interruption.check()
        try FileManager.default.createDirectory(atPath: layout.leafDirectory(tile), withIntermediateDirectories: true)
        var writer: ParquetFileWriter? = nil
        var rows: Int64 = 0
        var options = ParquetWriteOptions()
        options.sortedByFirstColumn = true
        for source in sources {
            let file = try IPCFile(path: state.shardPath(tile: tile, source: source))
            if writer == nil { writer = try ParquetFileWriter(path: layout.leafPath(tile), schema: file.schema, options: options) }
            for b in 0..<file.batchCount {
                let batch = try file.batch(b)
                try writer!.write(batch)
                rows += Int64(batch.length)
            }
        }
        try writer?.close()
        try state.writeReduceRecord(MarginWorkState.ReduceRecord(rows: rows), tile)
        CrashHook.completed("margin-reduce")
        return rows
    }
}
