import ArgumentParser
import Foundation
import Pipelines
import Sky

/// `astropile margin`: a HATS margin catalog for cross-matching across partition borders.
struct MarginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "margin",
        abstract: "Write a HATS margin catalog: the rows within --radius of each partition's border (true angular distance).",
        discussion: """
            The margin catalog goes beside the catalog as <catalog>_margin_<R>arcsec unless --output is given; \
            `astropile crossmatch` finds it there. Margins are written also for the sky the catalog does not cover, \
            so that cross-matches near the catalog's edge lose no pair. A stopped run continues where it stopped.
            """)

    @Argument(help: "The HATS catalog folder.")
    var catalog: String

    @Option(name: .long, help: "Margin width with a unit: 5arcsec, 0.1arcmin, 0.001deg.")
    var radius: String

    @Option(name: .long, help: "The margin catalog folder (default: <catalog>_margin_<R>arcsec).")
    var output: String?

    @Option(name: .long, help: "The margin catalog's name (obs_collection; default: the folder name).")
    var catalogName: String?

    @Option(name: .long, help: "Parallel workers (default: all cores).")
    var jobs: Int?

    @Option(name: .long, help: "Folder for resume state (default: <output>.astropile-work).")
    var tmp: String?

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    func run() throws {
        let arcsec: Double
        do { arcsec = try AngleText.arcseconds(radius) } catch { throw ValidationError("--radius: \(error)") }
        var config = MarginConfig(catalog: catalog, radiusArcsec: arcsec, output: output)
        config.catalogName = catalogName
        if let jobs {
            guard jobs > 0 else { throw ValidationError("--jobs must be positive") }
            config.jobs = jobs
        }
        config.tmp = tmp
        Interruption.install()
        let report = try MarginPipeline.run(config, progress: !quiet)
        if report.alreadyComplete {
            print("\(report.output) is already complete (\(report.rows) rows in \(report.marginPartitions) partitions)")
        } else {
            print(String(format: "margin %@: %lld rows in %d partitions from %d partitions of %@ (%.1f s)",
                         report.output, report.rows, report.marginPartitions, report.sourcePartitions, report.catalog, report.seconds))
        }
    }
}
