import ArgumentParser
import Foundation
import Pipelines
import RunEngine

/// `astropile alerts`: the ZTF alert lake.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Build and inspect a ZTF alert lake: nested Parquet partitioned by observing night.",
        discussion: """
            The lake: LAKE/year=YYYY/month=MM/day=DD/part-NNNNN.parquet (zstd, rows sorted by objectId then \
            candidate.jd), one schema for every ZTF alert schema from 3.0 to 4.02 (candidate a struct, \
            prv_candidates and fp_hists lists of structs, the three cutouts struct<fileName, stampData>; a field \
            an older alert lacks is null), LAKE/_manifest.sqlite (every archive with its size, SHA-256, counts and \
            status) and LAKE/_lake.json. pyarrow.dataset(LAKE, partitioning="hive") opens it. With ingest --cutouts \
            separate the cutouts are in LAKE/year=…/day=DD/_cutouts/part-NNNNN.parquet instead, row for row.
            """,
        subcommands: [AlertsIngestCommand.self, AlertsStatusCommand.self, AlertsCatalogCommand.self, AlertsLightCurvesCommand.self])
}

/// `astropile alerts ingest`.
struct AlertsIngestCommand: ParsableCommand, StatusReturningCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Stream ZTF alert archives (tar, tar.gz) and loose .avro files into the alert lake.",
        discussion: """
            Archives are read as streams with libarchive: nothing is unpacked to disk, and members with absolute \
            paths, '..' components, links or device files are never read (they are listed as rejected). Every Avro \
            file is decoded with its own writer schema (never its schemavsn label) and mapped by field name into the \
            lake schema; a field whose type differs from the lake's rejects that file, naming the field and both types.

            Night: from the archive name (ztf_public_YYYYMMDD) for tarballs; for loose files and other archives from \
            candidate.jd, as the Palomar night: noon to noon local standard time (UTC-8), labelled with the UTC date \
            it ends on — the UTC date of jd + 4 h, which is the date ZTF gives that night's tarball.

            Integrity: per archive, members read = members rejected + members decoded, and alerts decoded = alerts \
            written + duplicates, checked before the run is complete, and recorded in LAKE/_manifest.sqlite with the \
            archive's size and SHA-256. A bad Avro member (bad sync marker, unreadable schema, truncated) is rejected \
            and the archive's other alerts are kept; a corrupt archive or truncated gzip stream quarantines the whole \
            archive (listed with the reason, never deleted, none of its alerts kept: which members are missing cannot \
            be known). A night is rewritten in a staging folder and swapped in atomically, merged with what the lake \
            holds; an alert whose candid is already in the night is reported and kept once. Inputs the manifest has \
            ingested, unchanged (same path, size and time), are skipped. Exit status: 0 done, 3 done with rejected \
            inputs, 1 failed, 2 usage, 130 interrupted (re-run the same command to continue).
            """)

    @Argument(help: "Archives (.tar, .tar.gz, .tgz, …), .avro files, folders (searched recursively) or quoted patterns ('data/**/ztf_public_*.tar.gz').")
    var inputs: [String]

    @Option(name: .long, help: "The lake folder.")
    var output: String

    @Option(name: .long, help: "The most alerts per Parquet file of a night (default: 50000).")
    var alertsPerFile: Int = 50_000

    @Option(name: .long, help: "Alerts per Parquet row group (default: 1000; a row group is held in memory while written).")
    var alertsPerRowGroup: Int = 1000

    @Option(name: .long, help: ArgumentHelp(
        "Where the cutouts go: inline or separate (default: the lake's mode; inline for a new lake).",
        discussion: "inline: cutoutScience/cutoutTemplate/cutoutDifference struct<fileName, stampData> columns of the alert rows. "
            + "separate: a cutout table per night, year=…/day=DD/_cutouts/part-NNNNN.parquet, the same rows in the same order as "
            + "part-NNNNN.parquet with candid and objectId, so scans of the alerts read a tenth of the bytes. A lake keeps its mode."))
    var cutouts: AlertCutoutMode?

    @Option(name: .long, help: "Memory budget, e.g. 2GiB (default: 1GiB).")
    var memory: String?

    @OptionGroup var runOptions: RunOptionsGroup

    func makeConfig() throws -> AlertIngestConfig {
        var c = AlertIngestConfig(inputs: inputs, output: output)
        c.cutouts = cutouts
        c.alertsPerFile = alertsPerFile
        c.alertsPerRowGroup = alertsPerRowGroup
        c.jobs = runOptions.jobs
        c.tmp = runOptions.tmp
        if let memory {
            guard let bytes = ByteSize.parse(memory), bytes > 0 else {
                throw ValidationError("--memory: cannot read '\(memory)' as a size (e.g. 2GiB)")
            }
            c.memoryBytes = bytes
        }
        return c
    }

    func run() throws { _ = try runReturningStatus() }

    func runReturningStatus() throws -> ExitStatus {
        let config = try makeConfig()
        Interruption.install()
        let started = Date()
        let outcome = try AlertIngestPipeline.run(config, progress: !runOptions.quiet)
        let r = outcome.report
        let d = r.details
        var text = outcome.wasAlreadyComplete || d.archives + d.looseFiles == 0
            ? "astropile: every input is already in \(d.lake), unchanged; nothing to do.\n" : ""
        let seconds = max(Date().timeIntervalSince(started), 1e-3)
        text += String(format: "alerts ingest %@: %d archives, %d loose files (%d unchanged, skipped); %lld members, %lld rejected; "
                       + "%lld alerts decoded, %lld written, %lld duplicates; %d nights; %d quarantined (%.1f s, %.0f alerts/s)",
                       d.lake, d.archives, d.looseFiles, d.unchanged, d.members, d.membersRejected, d.alertsDecoded, d.alertsWritten,
                       d.duplicates, d.nights.count, d.quarantined.count, seconds, Double(d.alertsDecoded) / seconds)
        if r.hasRejections { text += "\n" + r.rejectionSummary }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return r.exitStatus
    }
}

extension AlertCutoutMode: ExpressibleByArgument {}

/// `astropile alerts status`.
struct AlertsStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what an alert lake holds: nights, archives done and quarantined, alerts per night, writer schemas seen.")

    @Argument(help: "The lake folder.")
    var lake: String

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let s = try AlertLakeStatus.read(lake)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            FileHandle.standardOutput.write(try e.encode(s))
            print()
        } else {
            print(s.text)
        }
    }
}

/// `astropile alerts catalog`.
struct AlertsCatalogCommand: ParsableCommand, StatusReturningCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Make a HATS catalog of a lake's alerts by position (lsdb opens it), nested columns kept nested.",
        discussion: """
            Runs the import pipeline on the lake's files: candidate.ra / candidate.dec become the top-level ra / dec \
            columns (hats_col_ra/dec), candidate stays a struct, prv_candidates and fp_hists lists of structs, the \
            cutouts struct<fileName, stampData> (or dropped with --without-cutouts; a lake ingested with --cutouts \
            separate gives a catalog without them). dataproduct_type is source. Resumable and a no-op when \
            complete, as any import.
            """)

    @Argument(help: "The lake folder.")
    var lake: String

    @Option(name: .long, help: "The catalog folder.")
    var output: String

    @Flag(name: .long, help: "Leave the three image cutouts out (a far smaller catalog).")
    var withoutCutouts = false

    @Option(name: .long, help: "Most alerts per partition (default: 10000 with cutouts, 200000 without).")
    var threshold: Int64?

    @Option(name: .long, help: "Deepest HEALPix order (default: 10).")
    var highestOrder: Int = 10

    @OptionGroup var runOptions: RunOptionsGroup

    func run() throws { _ = try runReturningStatus() }

    func runReturningStatus() throws -> ExitStatus {
        var config = try AlertCatalog.importConfig(lake: lake, output: output, withoutCutouts: withoutCutouts, threshold: threshold,
                                                   highestOrder: highestOrder)
        config.jobs = runOptions.jobs
        config.tmp = runOptions.tmp
        Interruption.install()
        let outcome = try ImportPipeline(config: config, showProgress: !runOptions.quiet).run()
        let prefix = outcome.wasAlreadyComplete ? "astropile: \(output) is already complete; nothing to do.\n" : ""
        FileHandle.standardError.write(Data((prefix + outcome.report.summary + "\n").utf8))
        return outcome.report.exitStatus
    }
}

/// `astropile alerts lightcurves`.
struct AlertsLightCurvesCommand: ParsableCommand, StatusReturningCommand {
    static let configuration = CommandConfiguration(
        commandName: "lightcurves",
        abstract: "Make a HATS catalog with one row per objectId and its light curve as a nested column.",
        discussion: """
            Each object's detections are its alerts' candidate records plus the prv_candidates entries that are             detections (magpsf not null; the rest are upper limits), de-duplicated by (jd, fid) and sorted by jd.             The light curve lc is a struct of equal-length lists, one per field prv_candidate and candidate share             (jd, fid, magpsf, sigmapsf, ra, dec, …), which nested-pandas and lsdb load as a nested frame. Object             columns: objectId, ra / dec (mean of the detections, degrees), nobs, nalerts, jd_first, jd_last. The             objects are first written as plain Parquet to OUTPUT.astropile-objects (kept: a re-run on an unchanged             lake is then a no-op), then imported (dataproduct_type object).
            """)

    @Argument(help: "The lake folder.")
    var lake: String

    @Option(name: .long, help: "The catalog folder.")
    var output: String

    @Option(name: .long, help: "Most objects per partition (default: 50000).")
    var threshold: Int64?

    @Option(name: .long, help: "Deepest HEALPix order (default: 10).")
    var highestOrder: Int = 10

    @OptionGroup var runOptions: RunOptionsGroup

    func run() throws { _ = try runReturningStatus() }

    func runReturningStatus() throws -> ExitStatus {
        Interruption.install()
        let (d, outcome) = try AlertLightCurves.run(lake: lake, output: output, threshold: threshold, highestOrder: highestOrder,
                                                    jobs: runOptions.jobs, tmp: runOptions.tmp, progress: !runOptions.quiet)
        let text = (outcome.wasAlreadyComplete ? "astropile: \(output) is already complete for this lake; nothing to do.\n" : "")
            + String(format: "alerts lightcurves: %lld objects from %lld alerts, %lld detections (%lld repeats of an epoch dropped)\n",
                          d.objects, d.alerts, d.detections, d.repeats) + outcome.report.summary
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return outcome.report.exitStatus
    }
}
