import ArgumentParser
import Foundation
import Pipelines
import RunEngine
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

    @OptionGroup var runOptions: RunOptionsGroup

    func run() throws {
        let arcsec: Double
        do { arcsec = try AngleText.arcseconds(radius) } catch { throw ValidationError("--radius: \(error)") }
        var config = MarginConfig(catalog: catalog, radiusArcsec: arcsec, output: output)
        config.catalogName = catalogName
        config.jobs = runOptions.jobs
        config.tmp = runOptions.tmp
        Interruption.install()
        let outcome = try MarginPipeline.run(config, progress: !runOptions.quiet)
        let r = outcome.report
        if outcome.wasAlreadyComplete {
            print("\(r.output) is already complete (\(r.counts.written) rows in \(r.details.marginPartitions) partitions)")
        } else {
            print(String(format: "margin %@: %lld rows in %d partitions from %d partitions of %@ (%.1f s)",
                         r.output, r.counts.written, r.details.marginPartitions, r.details.sourcePartitions, r.details.catalog, r.seconds))
        }
    }
}
