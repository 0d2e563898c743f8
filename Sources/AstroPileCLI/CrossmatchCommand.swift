import ArgumentParser
import Foundation
import Pipelines
import RunEngine
import Sky

/// `astropile crossmatch`: pairs of rows of two HATS catalogs within a radius.
struct CrossmatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crossmatch",
        abstract: "Cross-match two HATS catalogs within a radius; the output is a HATS catalog partitioned like the left one.",
        discussion: """
            The right catalog's margin (astropile margin RIGHT --radius R) must be at least as wide as --radius; \
            without --margin it is found beside RIGHT as RIGHT_margin_<R>arcsec. Output columns: the left _healpix_29, \
            the left columns with the left suffix, the right columns with the right suffix, and _dist_arcsec. \
            A stopped run continues where it stopped.
            """)

    @Argument(help: "The left HATS catalog.")
    var left: String

    @Argument(help: "The right HATS catalog.")
    var right: String

    @Option(name: .long, help: "Match radius with a unit: 1arcsec, 0.5arcmin.")
    var radius: String

    @Option(name: .long, help: "The output catalog folder.")
    var output: String

    @Option(name: .long, help: "The right catalog's margin catalog (default: found beside it).")
    var margin: String?

    @Option(name: .long, help: "Keep the k nearest right rows within the radius (default: 1).")
    var neighbors: Int?

    @Flag(name: .long, help: "Keep every pair within the radius.")
    var allPairs = false

    @Option(name: .long, help: "Ignore pairs closer than this, with a unit (default: 0arcsec).")
    var minRadius: String?

    @Option(name: .long, help: "inner: drop unmatched left rows; left: keep them with null right columns (default: inner).")
    var how: CrossmatchJoin = .inner

    @Option(name: .long, help: "Left and right column suffixes, comma-separated (default: _left,_right).")
    var suffixes: String?

    @Option(name: .long, help: "Columns to keep from both sides, comma-separated (ra/dec always kept).")
    var columns: String?

    @Option(name: .long, help: "Left columns to keep, comma-separated.")
    var leftColumns: String?

    @Option(name: .long, help: "Right columns to keep, comma-separated.")
    var rightColumns: String?

    @OptionGroup var runOptions: RunOptionsGroup

    func run() throws {
        let arcsec: Double
        do { arcsec = try AngleText.arcseconds(radius) } catch { throw ValidationError("--radius: \(error)") }
        var config = CrossmatchConfig(left: left, right: right, output: output, radiusArcsec: arcsec)
        config.margin = margin
        if let minRadius {
            do { config.minRadiusArcsec = try AngleText.arcseconds(minRadius) } catch { throw ValidationError("--min-radius: \(error)") }
        }
        if allPairs && neighbors != nil { throw ValidationError("--all-pairs and --neighbors exclude each other") }
        config.mode = allPairs ? .allPairs : .nearest(neighbors ?? 1)
        config.join = how
        if let suffixes {
            let parts = suffixes.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--suffixes takes two comma-separated suffixes, e.g. _hsc,_decals") }
            config.leftSuffix = parts[0]
            config.rightSuffix = parts[1]
        }
        let split = { (s: String) in s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let columns {
            let wanted = split(columns)
            let leftNames = try HATSCatalog.open(left).schema().names
            let rightNames = try HATSCatalog.open(right).schema().names
            for name in wanted where !leftNames.contains(name) && !rightNames.contains(name) {
                throw ValidationError("--columns: neither catalog has a column \(name)")
            }
            config.leftColumns = wanted.filter(leftNames.contains)
            config.rightColumns = wanted.filter(rightNames.contains)
        }
        if let leftColumns { config.leftColumns = split(leftColumns) }
        if let rightColumns { config.rightColumns = split(rightColumns) }
        config.jobs = runOptions.jobs
        config.tmp = runOptions.tmp
        Interruption.install()
        let outcome = try CrossmatchPipeline.run(config, progress: !runOptions.quiet)
        let r = outcome.report
        if outcome.wasAlreadyComplete {
            print("\(r.output) is already complete (\(r.counts.written) rows)")
        } else {
            print(String(format: "crossmatch %@: %lld rows (%lld of %lld left rows matched) in %d partitions, margin %@ (%.1f s)",
                         r.output, r.counts.written, r.details.matchedLeftRows, r.counts.read, r.details.partitions, r.details.margin, r.seconds))
        }
    }
}

extension CrossmatchJoin: ExpressibleByArgument {}
