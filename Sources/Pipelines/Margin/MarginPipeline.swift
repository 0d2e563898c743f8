import Foundation
import Formats
import Sky
import Table

/// What a margin run did.
public struct MarginReport: Codable, Sendable {
    /// The primary catalog.
    public var catalog: String
    /// The margin catalog written.
    public var output: String
    /// The threshold, arcseconds.
    public var radiusArcsec: Double
    /// Partitions of the primary catalog read.
    public var sourcePartitions: Int
    /// Partitions of the margin catalog (tiles with at least one margin row, including tiles
    /// where the primary catalog has no partition).
    public var marginPartitions: Int
    /// Rows in the margin catalog (a row near several partitions counts once per partition).
    public var rows: Int64
    /// The order of the search cells.
    public var cellOrder: Int
    /// Wall time, seconds.
    public var seconds: Double
    /// True when the output was already complete and nothing was done.
    public var alreadyComplete: Bool
}

/// `astropile margin`: writes a HATS margin catalog of a catalog.
///
/// Stages, each recorded in `<output>.astropile-work/` so that a stopped run continues:
/// 1. **map** — every partition is streamed once; each row's distance to the neighbouring tiles
///    (partitions and the pixels of the complement) is measured by ``MarginFinder``, and the rows
///    within the threshold are appended to one Arrow IPC shard per (tile, source partition);
/// 2. **reduce** — each tile's shards, concatenated in sky order (already sorted by
///    `_healpix_29`), become its leaf;
/// 3. **finish** — `partition_info.csv`, `_metadata`, `_common_metadata` and the properties with
///    `dataproduct_type=margin`, `hats_margin_threshold` and `hats_primary_table_url`.
public enum MarginPipeline {
    /// Runs (or continues) the margin build described by `config`.
    public static func run(_ config: MarginConfig, progress: Bool = true) throws -> MarginReport {
        let start = Date()
        guard config.radiusArcsec > 0, config.radiusArcsec.isFinite else {
            throw CatalogError.configuration("the margin radius must be a positive angle, got \(config.radiusArcsec) arcsec")
        }
        guard config.radiusArcsec <= MarginFinder.maximumThresholdArcsec else {
            throw CatalogError.configuration(
                "a margin of \(config.radiusArcsec) arcsec is too wide; the largest is \(Int(MarginFinder.maximumThresholdArcsec)) arcsec")
        }
        let catalog = try HATSCatalog.open(config.catalog)
        if let type = catalog.type, type == .margin || type == .index {
            throw CatalogError.configuration("\(catalog.root) is a \(type.rawValue) catalog; margins are built from object or source catalogs")
        }
        let outputRoot = config.resolvedOutput
        let layout = HATSLayout(root: outputRoot)
        let work = config.tmp ?? outputRoot + ".astropile-work"
        let hash = config.configHash
        let fm = FileManager.default

        if fm.fileExists(atPath: layout.propertiesFile), !fm.fileExists(atPath: work) {
            let existing = try HATSCatalog.open(outputRoot)
            guard existing.property("astropile_config_hash") == hash else {
                throw CatalogError.outputConflict("\(outputRoot) already holds a catalog made with other settings; remove it or choose another --output")
            }
            return MarginReport(catalog: catalog.root, output: outputRoot, radiusArcsec: config.radiusArcsec,
                                sourcePartitions: catalog.partitions.count, marginPartitions: existing.partitions.count,
                                rows: existing.rowCount ?? 0, cellOrder: MarginFinder.cellOrder(thresholdArcsec: config.radiusArcsec) ?? 0,
                                seconds: Date().timeIntervalSince(start), alreadyComplete: true)
        }
        let state = MarginWorkState(root: work)
        try state.begin(hash: hash)

        let positives = catalog.partitions.pixels
        let tiles: PixelTree
        do { tiles = try PixelTree(positives + catalog.partitions.complement()) } catch {
            throw CatalogError.notACatalog(catalog.root, "\(error)")
        }
        let finder = MarginFinder(tiles: tiles, thresholdArcsec: config.radiusArcsec)
        let jobs = config.jobs ?? ProcessInfo.processInfo.activeProcessorCount

        // Map.
        let totalRows = catalog.rowCount
        let mapProgress = ProgressReporter(stage: "margin map", unit: "rows", total: totalRows, enabled: progress)
        let mapper = MarginMapper(catalog: catalog, tiles: tiles, finder: finder, state: state, progress: mapProgress)
        try WorkerPool.run(count: positives.count, jobs: jobs) { i in try mapper.map(partition: positives[i]) }
        mapProgress.finish()

        // Reduce.
        var shardsByTile: [Int: [HealpixPixel]] = [:]
        for source in positives {
            guard let record = state.mapRecord(source) else {
                throw CatalogError.verification("partition \(source) has no map record")
            }
            for (tile, rows) in record.rowsPerTile where rows > 0 { shardsByTile[tile, default: []].append(source) }
        }
        let targets = shardsByTile.keys.sorted()
        let sourcesByTile = shardsByTile
        let reduceProgress = ProgressReporter(stage: "margin reduce", unit: "partitions", total: Int64(targets.count), enabled: progress)
        let leaves = LeafCollector()
        try WorkerPool.run(count: targets.count, jobs: jobs) { k in
            let tile = tiles.pixels[targets[k]]
            let rows = try mapper.reduce(tile: tile, tilePosition: targets[k], sources: sourcesByTile[targets[k]]!.sorted(), layout: layout)
            leaves.add(HATSCatalogWriter.Leaf(pixel: tile, rows: rows))
            reduceProgress.advance(1)
        }
        reduceProgress.finish()

        // Finish.
        let writer = HATSCatalogWriter(layout: layout)
        let written = leaves.all
        let schema = try catalog.schema()
        try fm.createDirectory(atPath: layout.datasetDirectory, withIntermediateDirectories: true)
        let name = config.catalogName ?? URL(fileURLWithPath: outputRoot).lastPathComponent
        try writer.finish(leaves: written, schema: schema, name: name, type: .margin, ra: catalog.raColumn, dec: catalog.decColumn,
                          properties: [("hats_primary_table_url", catalog.absoluteRoot),
                                       ("hats_margin_threshold", String(config.radiusArcsec)),
                                       ("astropile_config_hash", hash)])
        let problems = try writer.verify(leaves: written)
        guard problems.isEmpty else { throw CatalogError.verification(problems.prefix(5).joined(separator: "; ")) }
        try? fm.removeItem(atPath: work)
        return MarginReport(catalog: catalog.root, output: outputRoot, radiusArcsec: config.radiusArcsec,
                            sourcePartitions: positives.count, marginPartitions: written.count,
                            rows: written.reduce(0) { $0 + $1.rows }, cellOrder: finder.cellOrder,
                            seconds: Date().timeIntervalSince(start), alreadyComplete: false)
    }
}

/// Leaves finished by worker threads.
final class LeafCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var leaves: [HATSCatalogWriter.Leaf] = []
    func add(_ leaf: HATSCatalogWriter.Leaf) { lock.lock(); leaves.append(leaf); lock.unlock() }
    var all: [HATSCatalogWriter.Leaf] { lock.lock(); defer { lock.unlock() }; return leaves.sorted { $0.pixel < $1.pixel } }
}
