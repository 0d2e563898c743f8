import Foundation
import Formats
import RunEngine
import Sky
import Table

/// What a margin build wrote beyond the common counts (rows read from the catalog, margin rows
/// written — a row near several partitions counts once per partition).
public struct MarginDetails: Codable, Sendable, Hashable {
    /// The primary catalog.
    public var catalog: String
    /// The threshold, arcseconds.
    public var radiusArcsec: Double
    /// Partitions of the primary catalog read.
    public var sourcePartitions: Int
    /// Partitions of the margin catalog (tiles with at least one margin row, including tiles
    /// where the primary catalog has no partition).
    public var marginPartitions: Int
    /// The order of the search cells.
    public var cellOrder: Int
}

/// What a margin run did (`astropile_report.json` in the margin catalog).
public typealias MarginReport = RunReport<MarginDetails>

/// `astropile margin`: writes a HATS margin catalog of a catalog, on the run engine.
///
/// Stages (``MarginStage``), each item recorded in the work folder so that a stopped run continues:
/// 1. **map** — every partition is streamed once; each row's distance to the neighbouring tiles
///    (partitions and the pixels of the complement) is measured by ``MarginFinder``, and the rows
///    within the threshold are appended to one Arrow IPC shard per (tile, source partition);
/// 2. **reduce** — each tile's shards, concatenated in sky order (already sorted by
///    `_healpix_29`), become its leaf;
/// 3. **finish** — `partition_info.csv`, `_metadata`, `_common_metadata` and the properties with
///    `dataproduct_type=margin`, `hats_margin_threshold` and `hats_primary_table_url`.
public enum MarginPipeline {
    /// Runs (or continues) the margin build described by `config`.
    public static func run(_ config: MarginConfig, progress: Bool = true) throws -> RunOutcome<MarginDetails> {
        try config.validate()
        let catalog = try HATSCatalog.open(config.catalog)
        if let type = catalog.type, type == .margin || type == .index {
            throw RunError.configuration("\(catalog.root) is a \(type.rawValue) catalog; margins are built from object or source catalogs")
        }
        let outputRoot = config.resolvedOutput
        let run: Run
        switch try Run.begin(pipeline: "margin", output: outputRoot, configHash: config.configHash, stages: MarginStage.self,
                             options: RunOptions(jobs: config.jobs, tmp: config.tmp, progress: progress), details: MarginDetails.self) {
        case .complete(let report): return .alreadyComplete(report)
        case .started(let r): run = r
        }
        let layout = HATSLayout(root: run.folder.output)
        let positives = catalog.partitions.pixels
        let tiles: PixelTree
        do { tiles = try PixelTree(positives + catalog.partitions.complement()) } catch {
            throw CatalogError.notACatalog(catalog.root, "\(error)")
        }
        guard let finder = MarginFinder(tiles: tiles, thresholdArcsec: config.radiusArcsec) else {
            throw RunError.configuration("a margin of \(config.radiusArcsec) arcsec is not possible")
        }
        let mapper = MarginMapper(catalog: catalog, tiles: tiles, finder: finder, shards: MarginShards(root: run.folder.path))

        // Map.
        let maps = try run.stage(MarginStage.map, items: positives, key: MarginShards.name,
                                 progress: StageProgress(unit: "rows", total: catalog.rowCount) { _, r in r.rowsRead }) { source, context in
            try mapper.map(partition: source, progress: context.progress)
        }

        // Reduce.
        var shardsByTile: [Int: [HealpixPixel]] = [:]
        for (source, record) in zip(positives, maps) {
            for (tile, rows) in record.rowsPerTile where rows > 0 {
                guard tiles.pixels.indices.contains(tile) else {
                    throw RunError.io("the work folder's record of partition \(source) names tile \(tile), which does not exist; remove \(run.folder.path) to start over")
                }
                shardsByTile[tile, default: []].append(source)
            }
        }
        let targets = shardsByTile.keys.sorted()
        let sourcesByTile = shardsByTile
        let reduced = try run.stage(MarginStage.reduce, items: targets, key: { MarginShards.name(tiles.pixels[$0]) },
                                    progress: StageProgress(unit: "partitions", total: Int64(targets.count)) { _, _ in 1 }) { tile, context in
            let r = try mapper.reduce(tile: tiles.pixels[tile], sources: (sourcesByTile[tile] ?? []).sorted(), layout: layout)
            context.progress.advance(1)
            return r
        }

        // Finish.
        let report = try run.step(MarginStage.finish) { () -> MarginReport in
            let leaves = zip(targets, reduced).map { HATSCatalogWriter.Leaf(pixel: tiles.pixels[$0], rows: $1.rows) }
            let writer = HATSCatalogWriter(layout: layout)
            let schema = try catalog.schema()
            let name = config.catalogName ?? URL(fileURLWithPath: layout.root).lastPathComponent
            try FileManager.default.createDirectory(atPath: layout.datasetDirectory, withIntermediateDirectories: true)
            try writer.finish(leaves: leaves, schema: schema, name: name, type: .margin, ra: catalog.raColumn, dec: catalog.decColumn,
                              properties: [("hats_primary_table_url", catalog.absoluteRoot),
                                           ("hats_margin_threshold", String(config.radiusArcsec)),
                                           ("astropile_config_hash", config.configHash)],
                              propertiesDirectory: try run.stagingDirectory())
            let problems = try writer.verify(leaves: leaves)
            guard problems.isEmpty else { throw RunError.verification(problems.prefix(5).joined(separator: "; ")) }
            let details = MarginDetails(catalog: catalog.root, radiusArcsec: config.radiusArcsec, sourcePartitions: positives.count,
                                        marginPartitions: leaves.count, cellOrder: finder.cellOrder)
            return MarginReport(pipeline: "margin", output: run.output, configHash: config.configHash, inputs: positives.count,
                                counts: RunCounts(unit: "rows", read: maps.reduce(0) { $0 + $1.rowsRead },
                                                  written: leaves.reduce(0) { $0 + $1.rows }),
                                details: details)
        }
        return .written(try run.commit(report))
    }
}
