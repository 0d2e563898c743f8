import Foundation
import Formats
import Sky
import Table

/// What a cross-match run did.
public struct CrossmatchReport: Codable, Sendable {
    /// The output catalog.
    public var output: String
    /// The margin catalog used.
    public var margin: String
    /// Left rows read.
    public var leftRows: Int64
    /// Output rows (pairs, plus unmatched left rows in a left join).
    public var outputRows: Int64
    /// Left rows with at least one match.
    public var matchedLeftRows: Int64
    /// Output partitions (those of the left catalog).
    public var partitions: Int
    /// Wall time, seconds.
    public var seconds: Double
    /// True when the output was already complete and nothing was done.
    public var alreadyComplete: Bool
}

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
    public static func run(_ config: CrossmatchConfig, progress: Bool = true) throws -> CrossmatchReport {
        let start = Date()
        guard config.radiusArcsec > 0, config.radiusArcsec.isFinite else {
            throw CatalogError.configuration("the radius must be a positive angle, got \(config.radiusArcsec) arcsec")
        }
        guard config.minRadiusArcsec >= 0, config.minRadiusArcsec < config.radiusArcsec else {
            throw CatalogError.configuration("--min-radius must be at least 0 and below the radius")
        }
        if case .nearest(let k) = config.mode, k < 1 {
            throw CatalogError.configuration("--neighbors must be at least 1")
        }
        guard config.leftSuffix != config.rightSuffix else {
            throw CatalogError.configuration("the left and right suffixes must differ")
        }
        let left = try HATSCatalog.open(config.left)
        let right = try HATSCatalog.open(config.right)
        let margin = try MarginLocator.find(right: right, explicit: config.margin, radiusArcsec: config.radiusArcsec)
        let layout = HATSLayout(root: config.output)
        let work = config.tmp ?? config.output + ".astropile-work"
        let hash = config.configHash
        let fm = FileManager.default
        if fm.fileExists(atPath: layout.propertiesFile), !fm.fileExists(atPath: work) {
            let existing = try HATSCatalog.open(config.output)
            guard existing.property("astropile_config_hash") == hash else {
                throw CatalogError.outputConflict("\(config.output) already holds a catalog made with other settings; remove it or choose another --output")
            }
            return CrossmatchReport(output: config.output, margin: margin.root, leftRows: left.rowCount ?? 0,
                                    outputRows: existing.rowCount ?? 0, matchedLeftRows: 0, partitions: existing.partitions.count,
                                    seconds: Date().timeIntervalSince(start), alreadyComplete: true)
        }
        let state = CrossmatchWorkState(root: work)
        try state.begin(hash: hash)

        let tiling = try RightTiling(right: right, margin: margin)
        let plan = try CrossmatchPlan(config: config, left: left, right: right)
        let jobs = config.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let pixels = left.partitions.pixels
        let bar = ProgressReporter(stage: "crossmatch", unit: "left rows", total: left.rowCount, enabled: progress)
        let worker = CrossmatchWorker(config: config, plan: plan, left: left, tiling: tiling, layout: layout, state: state,
                                      cache: RightSideCache(capacity: jobs + 1), progress: bar)
        try fm.createDirectory(atPath: layout.datasetDirectory, withIntermediateDirectories: true)
        try WorkerPool.run(count: pixels.count, jobs: jobs) { i in try worker.match(pixels[i]) }
        bar.finish()

        var leaves: [HATSCatalogWriter.Leaf] = []
        var leftRows: Int64 = 0, matched: Int64 = 0
        for p in pixels {
            guard let r = state.record(p) else { throw CatalogError.verification("left partition \(p) has no record") }
            leaves.append(HATSCatalogWriter.Leaf(pixel: p, rows: r.outputRows))
            leftRows += r.leftRows
            matched += r.matchedLeftRows
        }
        let writer = HATSCatalogWriter(layout: layout)
        let name = config.catalogName ?? URL(fileURLWithPath: config.output).lastPathComponent
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
                                       ("astropile_config_hash", hash)])
        let problems = try writer.verify(leaves: leaves)
        guard problems.isEmpty else { throw CatalogError.verification(problems.prefix(5).joined(separator: "; ")) }
        try? fm.removeItem(atPath: work)
        return CrossmatchReport(output: config.output, margin: margin.root, leftRows: leftRows,
                                outputRows: leaves.reduce(0) { $0 + $1.rows }, matchedLeftRows: matched,
                                partitions: leaves.count, seconds: Date().timeIntervalSince(start), alreadyComplete: false)
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
                throw CatalogError.configuration("\(explicit) is not a margin catalog (no dataproduct_type=margin / hats_margin_threshold)")
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
