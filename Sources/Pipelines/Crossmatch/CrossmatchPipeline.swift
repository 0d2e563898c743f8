import Foundation
import Formats
import RunEngine
import Sky
import Table

/// What a cross-match wrote beyond the common counts (left rows read, output rows written).
public struct CrossmatchDetails: Codable, Sendable, Hashable {
    /// The left, right and margin catalogs (absolute paths).
    public var left: String
    public var right: String
    public var margin: String
    /// Left rows with at least one match.
    public var matchedLeftRows: Int64
    /// Output partitions (those of the left catalog).
    public var partitions: Int
}

/// What a cross-match run did (`astropile_report.json` in the output catalog).
public typealias CrossmatchReport = RunReport<CrossmatchDetails>

/// `astropile crossmatch`: pairs the rows of two HATS catalogs within a radius.
///
/// Every left partition is one work item. The right catalog plus its margin catalog tile the
/// sky (``RightTiling``); the tiles overlapping a left partition are either one tile containing it
/// or several finer ones inside it (the finer pixel wins, as in LSDB). Each left row is matched
/// exactly once, against the one tile holding it: the tile's partition plus its margin contain
/// every right row within the margin threshold of the tile, so no pair across a border is lost
/// and none is counted twice. Matching uses a k-d tree over unit vectors; a pair is within the
/// radius when its chord is at most 2·sin(radius/2) (the test astropy's `search_around_sky`
/// makes). The output is a HATS catalog with the left partitioning, rows in left order and, for
/// each left row, nearest first.
public enum CrossmatchPipeline {
    /// Runs (or continues) the cross-match described by `config`.
    public static func run(_ config: CrossmatchConfig, progress: Bool = true) throws -> RunOutcome<CrossmatchDetails> {
        try config.validate()
        let left = try HATSCatalog.open(config.left)
        let right = try HATSCatalog.open(config.right)
        let margin = try MarginLocator.find(right: right, explicit: config.margin, radiusArcsec: config.radiusArcsec)
        let hash = config.configHash
        let run: Run
        switch try Run.begin(pipeline: "crossmatch", output: config.output, configHash: hash, stages: CrossmatchStage.self,
                             options: RunOptions(jobs: config.jobs, tmp: config.tmp, progress: progress), details: CrossmatchDetails.self) {
        case .complete(let report): return .alreadyComplete(report)
        case .started(let r): run = r
        }
        let layout = HATSLayout(root: run.folder.output)
        let tiling = try RightTiling(right: right, margin: margin)
        let plan = try CrossmatchPlan(config: config, left: left, right: right)
        let pixels = left.partitions.pixels
        let worker = CrossmatchWorker(config: config, plan: plan, left: left, tiling: tiling, layout: layout,
                                      cache: RightSideCache(capacity: run.executor.workers + 1))
        do { try FileManager.default.createDirectory(atPath: layout.datasetDirectory, withIntermediateDirectories: true) } catch {
            throw RunError.writing(layout.datasetDirectory, error)
        }
        let records = try run.stage(CrossmatchStage.match, items: pixels, key: { "\($0.order)-\($0.index)" },
                                    progress: StageProgress(unit: "left rows", total: left.rowCount) { _, r in r.leftRows }) { pixel, context in
            try worker.match(pixel, progress: context.progress)
        }

        let report = try run.step(CrossmatchStage.finish) { () -> CrossmatchReport in
            let leaves = zip(pixels, records).map { HATSCatalogWriter.Leaf(pixel: $0, rows: $1.outputRows) }
            let writer = HATSCatalogWriter(layout: layout)
            let name = config.catalogName ?? URL(fileURLWithPath: layout.root).lastPathComponent
            let modeText: String = switch config.mode {
            case .nearest(let k): "nearest \(k)"
            case .allPairs: "all pairs"
            }
            try writer.finish(leaves: leaves, schema: plan.outputSchema, name: name, type: .object,
                              ra: left.raColumn + config.leftSuffix, dec: left.decColumn + config.leftSuffix,
                              properties: [("astropile_crossmatch_left", left.absoluteRoot),
                                           ("astropile_crossmatch_right", right.absoluteRoot),
                                           ("astropile_crossmatch_margin", margin.absoluteRoot),
                                           ("astropile_crossmatch_radius_arcsec", String(config.radiusArcsec)),
                                           ("astropile_crossmatch_mode", modeText),
                                           ("astropile_crossmatch_join", config.join.rawValue),
                                           ("astropile_config_hash", hash)],
                              propertiesDirectory: try run.stagingDirectory())
            let problems = try writer.verify(leaves: leaves)
            guard problems.isEmpty else { throw RunError.verification(problems.prefix(5).joined(separator: "; ")) }
            let details = CrossmatchDetails(left: left.absoluteRoot, right: right.absoluteRoot, margin: margin.absoluteRoot,
                                            matchedLeftRows: records.reduce(0) { $0 + $1.matchedLeftRows }, partitions: leaves.count)
            return CrossmatchReport(pipeline: "crossmatch", output: run.output, configHash: hash, inputs: pixels.count,
                                    counts: RunCounts(unit: "rows", read: records.reduce(0) { $0 + $1.leftRows },
                                                      written: leaves.reduce(0) { $0 + $1.rows }),
                                    details: details)
        }
        return .written(try run.commit(report))
    }
}

/// Finds the right catalog's margin catalog.
enum MarginLocator {
    /// The margin given, or the narrowest `<right>_margin_<R>arcsec` beside `right` with
    /// R ≥ `radiusArcsec`; checks its threshold covers the radius.
    static func find(right: HATSCatalog, explicit: String?, radiusArcsec: Double) throws -> HATSCatalog {
        let build = "astropile margin \(right.root) --radius \(MarginConfig.formatArcsec(radiusArcsec))arcsec"
        if let explicit {
            let margin = try HATSCatalog.open(explicit)
            guard margin.type == .margin, let threshold = margin.marginThreshold else {
                throw RunError.configuration("\(explicit) is not a margin catalog (no dataproduct_type=margin / hats_margin_threshold)")
            }
            guard threshold >= radiusArcsec else {
                throw CatalogError.marginMissing(
                    "the margin \(explicit) is \(MarginConfig.formatArcsec(threshold)) arcsec wide, narrower than the radius \(MarginConfig.formatArcsec(radiusArcsec)) arcsec; build a wider one with: \(build)")
            }
            return margin
        }
        let url = URL(fileURLWithPath: right.root)
        let parent = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + "_margin_"
        var found: [(Double, String)] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        where name.hasPrefix(prefix) && name.hasSuffix("arcsec") {
            let value = name.dropFirst(prefix.count).dropLast("arcsec".count)
            if let r = Double(value) { found.append((r, parent + "/" + name)) }
        }
        let usable = found.filter { $0.0 >= radiusArcsec }.sorted { $0.0 < $1.0 }
        for (_, path) in usable {
            if let margin = try? HATSCatalog.open(path), margin.type == .margin, (margin.marginThreshold ?? 0) >= radiusArcsec {
                return margin
            }
        }
        let have = found.isEmpty ? "none" : found.map { "\(MarginConfig.formatArcsec($0.0)) arcsec" }.joined(separator: ", ")
        throw CatalogError.marginMissing(
            "no margin catalog of at least \(MarginConfig.formatArcsec(radiusArcsec)) arcsec beside \(right.root) (found: \(have)); build one with: \(build)")
    }
}
