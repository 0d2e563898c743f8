import ArgumentParser
import Foundation
import Pipelines
import RunEngine
import Sky

/// `astropile pair`: two data sets paired by position.
struct PairCommand: ParsableCommand, StatusReturningCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair",
        abstract: "Pair two data sets (e.g. image stamps × spectra) by position into one data set with both modalities per pair.",
        discussion: """
            LEFT and RIGHT are folders of healpix=N/*.hdf5 files with object_id, ra and dec — data sets made by \
            astropile stamps or spectra (--format hdf5 or both), or the Multimodal Universe's own. Every right object \
            goes into one k-d tree, so pairs across HEALPix borders and at RA 0/360 are found like any other: all-pairs \
            mode equals astropy search_around_sky, nearest mode match_to_catalog_sky within the radius.

            Output: OUTPUT/healpix=N/001-of-00K.hdf5 partitioned like LEFT, with object_id (the left id; LEFT_RIGHT ids \
            when a left object can pair more than once), ra/dec/healpix of the left object, pair_dist_arcsec, and every \
            column of both sides. Columns both sides have (object_id, ra, dec, …) get the prefixes (default: the \
            modality names image_ / spectrum_, or the folder names), so nothing is overwritten. \
            OUTPUT/unpaired_objects.parquet lists the objects of either side without a pair.
            """)

    @Argument(help: "The left data set (the output is partitioned like it).")
    var left: String

    @Argument(help: "The right data set.")
    var right: String

    @Option(name: .long, help: "Pair radius with a unit: 1arcsec, 0.5arcmin.")
    var radius: String

    @Option(name: .long, help: "The data set folder to write.")
    var output: String

    @Option(name: .long, help: "Keep the k nearest right objects within the radius (default: 1).")
    var neighbors: Int?

    @Flag(name: .long, help: "Keep every pair within the radius.")
    var allPairs = false

    @Option(name: .long, help: "Prefixes for columns both sides have, LEFT,RIGHT (default: the modality or folder names).")
    var prefixes: String?

    @Option(name: .long, help: "hdf5, hats or both (default: hdf5).")
    var format: StampFormat = .hdf5

    @Option(name: .long, help: "The most pairs per HDF5 file (default: 1000).")
    var objectsPerFile: Int = 1000

    @OptionGroup var runOptions: RunOptionsGroup

    func makeConfig() throws -> PairConfig {
        let arcsec: Double
        do { arcsec = try AngleText.arcseconds(radius) } catch { throw ValidationError("--radius: \(error)") }
        var c = PairConfig(left: left, right: right, output: output, radiusArcsec: arcsec)
        if allPairs && neighbors != nil { throw ValidationError("--all-pairs and --neighbors exclude each other") }
        c.mode = allPairs ? .allPairs : .nearest(neighbors ?? 1)
        c.prefixes = prefixes.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        c.format = format
        c.objectsPerFile = objectsPerFile
        c.jobs = runOptions.jobs
        c.tmp = runOptions.tmp
        return c
    }

    func run() throws { _ = try runReturningStatus() }

    func runReturningStatus() throws -> ExitStatus {
        let config = try makeConfig()
        Interruption.install()
        let outcome = try PairPipeline.run(config, progress: !runOptions.quiet)
        let r = outcome.report, d = r.details
        var text = outcome.wasAlreadyComplete
            ? "astropile: \(r.output) is already complete with these settings; nothing to do.\n" : ""
        text += String(format: "pair %@: %lld pairs; unpaired: %d of %d left, %d of %d right (%d files, %.1f s)",
                       r.output, d.pairs, d.leftUnpaired, d.leftObjects, d.rightUnpaired, d.rightObjects, d.files, r.seconds)
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return r.exitStatus
    }
}

/// `astropile split`: deterministic train/val/test splits of a data set.
struct SplitCommand: ParsableCommand, StatusReturningCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Assign a data set's objects to train/val/test splits, deterministically from the object id and a seed.",
        discussion: """
            u = splitmix64(fnv1a64("SEED:OBJECT_ID")) / 2^64 and the object goes to the first split whose cumulative \
            fraction exceeds u, so the same seed gives the same assignment, and adding objects later never moves the \
            existing ones. Written as a `split` dataset in every healpix=N/*.hdf5 file (each file replaced atomically) \
            and as DATASET/splits/NAME.parquet (object_id, file, row) per split; the seed and fractions are in the \
            files' attributes and DATASET/splits/astropile_report.json.
            """)

    @Argument(help: "The data set folder.")
    var dataset: String

    @Option(name: .long, help: "Splits and their shares, adding up to 1 (default: train=0.8,val=0.1,test=0.1).")
    var fractions: String = "train=0.8,val=0.1,test=0.1"

    @Option(name: .long, help: "The seed (default: 0).")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Write only the per-split index files, not the split column.")
    var noColumn = false

    @OptionGroup var runOptions: RunOptionsGroup

    func run() throws { _ = try runReturningStatus() }

    func runReturningStatus() throws -> ExitStatus {
        var config = SplitConfig(dataset: dataset, fractions: try SplitFraction.parse(fractions), seed: seed)
        config.writeColumn = !noColumn
        config.jobs = runOptions.jobs
        config.tmp = runOptions.tmp
        Interruption.install()
        let outcome = try SplitPipeline.run(config, progress: !runOptions.quiet)
        let r = outcome.report, d = r.details
        var text = outcome.wasAlreadyComplete
            ? "astropile: \(r.output) is already complete with these settings; nothing to do.\n" : ""
        text += "split \(dataset) (seed \(d.seed)): "
            + zip(d.fractions, d.counts).map { "\($0.name) \($1)" }.joined(separator: ", ")
            + String(format: " (%.1f s)", r.seconds)
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return r.exitStatus
    }
}
