import ArgumentParser
import Foundation
import Formats
import Pipelines
import Registry
import RunEngine

/// `astropile project`: per-source projects (sources, raw photometry, light curves, events).
struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Per-source projects: fetch each source's photometry, reduce it to light curves, find events, measure the sensitivity by injection-recovery — in runs that continue where they stopped.",
        discussion: """
            A project is a catalog of sources, the survey to query for their photometry, and the reduction, \
            analysis and injection settings, in one YAML file that `project init` writes with every parameter \
            and its meaning. The settings that change results (marked (hashed) in the file), the AstroPile version \
            and the catalog's bytes make the project's hash; products go under ROOT/NAME_HASH8/. Key order, number \
            spelling, display settings and the service's base URL do not change the hash.

            `project run` takes each source through fetch, reduce, detect and inject. Every (source, stage) is \
            claimed in the registry (SQLite beside the products by default, or PostgreSQL with --database \
            postgres://USER@HOST:PORT/DB), so a stopped run continues where it stopped, two runs share the work, \
            and a source that fails is recorded with its reason while the others go on.
            """,
        subcommands: [ProjectInitCommand.self, ProjectHashCommand.self, ProjectRunCommand.self, ProjectStatusCommand.self,
                      ProjectDetectionsCommand.self, ProjectEfficiencyCommand.self, ProjectShowCommand.self])
}

extension ProjectSurvey: ExpressibleByArgument {}

/// `astropile project init`.
struct ProjectInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write NAME.yaml: a project with every parameter at its default, each with a comment.")

    @Argument(help: "The project's name (letters, digits, '_', '-', '.').")
    var name: String

    @Option(name: .long, help: "The catalog of sources (any format astropile import reads).")
    var catalog: String

    @Option(name: .long, help: "ztf (the IRSA light-curve service) or ztf-alerts (an alert lake, --lake).")
    var survey: ProjectSurvey = .ztf

    @Option(name: .long, help: "The light-curve service's base URL (default: IRSA's nph_light_curves). No user:password@ in it (it is saved with the project): credentials come from ASTROPILE_FETCH_USER + ASTROPILE_FETCH_PASSWORD (or ASTROPILE_FETCH_TOKEN), else ~/.netrc.")
    var base: String?

    @Option(name: .long, help: "The alert lake, for --survey ztf-alerts.")
    var lake: String?

    @Option(name: .long, help: "Where to write the file (default: NAME.yaml).")
    var output: String?

    @Flag(name: .long, help: "Replace an existing file.")
    var force = false

    func run() throws {
        var config = ProjectConfig(name: name, catalog: catalog)
        config.survey.kind = survey
        if let base { config.survey.base = base }
        config.survey.lake = lake
        try config.validate()
        let path = output ?? name + ".yaml"
        if FileManager.default.fileExists(atPath: path), !force {
            throw RunError.outputConflict("\(path) exists; pass --force to replace it")
        }
        try AtomicFile.write(Array(config.yaml().utf8), to: path)
        print("wrote \(path): edit it, then `astropile project run \(path)`")
    }
}

/// `astropile project hash`.
struct ProjectHashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print a project's hash, its catalog's SHA-256 and its products folder.")

    @Argument(help: "The project file.")
    var project: String

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let id = try ProjectIdentity.of(yaml: project)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(id), as: UTF8.self))
        } else {
            print("hash \(id.hash)\ncatalog sha256 \(id.catalogSHA256)\nproducts \(id.products)")
        }
    }
}

/// `--database`, shared by the project subcommands.
struct ProjectDatabaseOption: ParsableArguments {
    @Option(name: .long, help: "The registry: sqlite:PATH, a file path, or postgres://USER[:PASSWORD]@HOST:PORT/DB (or postgresql://; the password percent-encoded, or in PGPASSWORD; shown as ***). Any other scheme:// is refused. Default: registry.sqlite in the project's products folder.")
    var database: String?
}

/// `astropile project run`.
struct ProjectRunCommand: ParsableCommand, StatusReturningCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Fetch, reduce, detect and inject for every source not done yet; Ctrl-C stops cleanly, a re-run continues.",
        discussion: """
            Raw photometry goes to ROOT/_raw/SURVEY_KEY/ (shared by every project and version with the same download \
            settings; a file already there is adopted, not fetched), products to ROOT/NAME_HASH8/: lightcurves/, \
            detections/, injections/ (one Parquet file per source), project.yaml (the effective settings), \
            astropile_report.json. A product file that is gone or changed is made again. Exit status 3 when some \
            sources failed (listed with their reasons; `project status` shows them, --retry-failed tries them again).
            """)

    @Argument(help: "The project file.")
    var project: String

    @OptionGroup var db: ProjectDatabaseOption

    @Option(name: .long, help: "Parallel workers for reduce, detect and inject (default: all cores).")
    var jobs: Int?

    @Option(name: .customLong("fetch-jobs"), help: "Parallel downloads (default 8).")
    var fetchJobs = 8

    @Option(name: .long, help: "Catalog rows to work on, 0-based, end excluded: A..B, A.. or N (default: all). An end past the catalog's last row is taken as its end; a start past it is a usage error.")
    var sources: String?

    @Flag(name: .customLong("retry-failed"), help: "Try failed sources again.")
    var retryFailed = false

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    func validate() throws {
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw ValidationError(problem) }
        guard (1...256).contains(fetchJobs) else { throw ValidationError("--fetch-jobs must be 1…256, got \(fetchJobs)") }
        if let sources { _ = try Self.range(sources) }
    }

    static func range(_ text: String) throws -> Range<Int64> {
        let parts = text.components(separatedBy: "..")
        if parts.count == 1, let n = Int64(text), n >= 0 {
            guard n < Int64.max else { throw ValidationError("--sources: row \(n) is past the end of any catalog") }
            return n..<(n + 1)
        }
        guard parts.count == 2, let a = Int64(parts[0]), a >= 0 else {
            throw ValidationError("--sources: expected A..B, A.. or N (0-based catalog rows), got '\(text)'")
        }
        if parts[1].isEmpty { return a..<Int64.max }
        guard let b = Int64(parts[1]), b >= a else { throw ValidationError("--sources: expected A..B with B ≥ A, got '\(text)'") }
        return a..<b
    }

    func run() throws { _ = try runReturningStatus() }

    func runReturningStatus() throws -> ExitStatus {
        var options = ProjectRunOptions()
        options.database = db.database
        options.sources = try sources.map(Self.range)
        options.retryFailed = retryFailed
        options.fetchJobs = fetchJobs
        options.run = RunOptions(jobs: jobs, progress: !quiet)
        Interruption.install()
        let started = Date()
        let r = try ProjectRun.run(yaml: project, options: options)
        let d = r.details
        var text = d.runID == nil ? "astropile: every selected source of \(r.output) is done; nothing to do.\n" : ""
        let did = ProjectStage.allCases.map { "\($0.title) \(d.didPerStage[$0.title] ?? 0)" }.joined(separator: ", ")
        text += String(format: "project run %@: %d sources (%d selected); this run did %@; %d adopted raw files; %.1f s",
                       r.output, d.catalogSources, d.selectedSources, did, d.adoptedRawFiles, Date().timeIntervalSince(started))
        text += "\n" + ProjectStatusText.lines(d.status)
        if r.hasRejections { text += r.rejectionSummary }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return r.exitStatus
    }
}

/// The status table's text.
enum ProjectStatusText {
    static func lines(_ status: [StageStatusCount]) -> String {
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, n - s.count))
            return left ? s + fill : fill + s
        }
        var out = pad("stage", 8, left: true) + ["done", "pending", "running", "failed", "blocked"].map { pad($0, 9) }.joined()
        for s in status {
            out += "\n" + pad(String(s.stage.dropFirst(8)), 8, left: true)
                + [s.done, s.pending - s.blocked, s.running, s.failed, s.blocked].map { pad(String($0), 9) }.joined()
        }
        return out + "\n(blocked: an earlier stage failed for the source; --retry-failed tries it again)"
    }
}

/// `astropile project status`.
struct ProjectStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Sources done, pending, running and failed, by stage, with the reasons of failures.")

    @Argument(help: "The project file.")
    var project: String

    @OptionGroup var db: ProjectDatabaseOption

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let s = try ProjectQueries.status(yaml: project, database: db.database)
        if json {
            print(String(decoding: try ProjectQueries.json(s), as: UTF8.self))
            return
        }
        var text = "project \(s.name) (hash \(s.hash)), \(s.products)\n" + ProjectStatusText.lines(s.stages)
        for stage in s.stages where !stage.failures.isEmpty {
            text += "\nfailed at \(stage.stage.dropFirst(8)):"
            for f in stage.failures { text += "\n  \(f.source): \(f.reason)" }
        }
        print(text)
    }
}

/// `astropile project detections`.
struct ProjectDetectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detections",
        abstract: "The detected events: source, filter, season, start/end/peak MJD, duration (days), amplitude (µJy), S/N, epochs.")

    @Argument(help: "The project file.")
    var project: String

    @OptionGroup var db: ProjectDatabaseOption

    @Option(name: .customLong("min-snr"), help: "Only events with peak S/N at least this.")
    var minSNR: Double?

    @Flag(name: .long, help: "CSV on stdout instead of a table.")
    var csv = false

    @Option(name: .long, help: "Write a Parquet file instead.")
    var parquet: String?

    func run() throws {
        let rows = try ProjectQueries.detections(yaml: project, database: db.database, minSNR: minSNR)
        if let parquet {
            try ProjectQueries.writeDetections(rows, parquet: parquet)
            print("wrote \(rows.count) detections to \(parquet)")
        } else if csv {
            print(ProjectQueries.detectionsCSV(rows), terminator: "")
        } else {
            print(String(format: "%-16@ %-3@ %4@ %4@ %12@ %12@ %8@ %12@ %8@ %6@", "source" as NSString, "flt" as NSString, "grp" as NSString,
                         "seas" as NSString, "start_mjd" as NSString, "peak_mjd" as NSString, "days" as NSString, "ampl_uJy" as NSString,
                         "peak_snr" as NSString, "epochs" as NSString))
            for d in rows {
                print(String(format: "%-16@ %-3@ %4lld %4lld %12.5f %12.5f %8.3f %12.3f %8.2f %6lld", d.source as NSString, d.filter as NSString,
                             d.zpGroup, d.season, d.startMJD, d.peakMJD, d.durationDays, d.amplitudeMicroJansky, d.peakSNR, d.epochs))
            }
            print("\(rows.count) detections")
        }
    }
}

/// `astropile project efficiency`.
struct ProjectEfficiencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "efficiency",
        abstract: "Injection-recovery efficiency over amplitude (robust σ) × duration (days), summed over every source done.")

    @Argument(help: "The project file.")
    var project: String

    @OptionGroup var db: ProjectDatabaseOption

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Option(name: .long, help: "Also draw it to this PNG: efficiency (0…1) against amplitude (log axis), one line per duration (legend: days).")
    var png: String?

    func run() throws {
        let table = try ProjectQueries.efficiency(yaml: project, database: db.database)
        if let png {
            try ProjectQueries.efficiencyPNG(table, to: png)
            FileHandle.standardError.write(Data("wrote \(png)\n".utf8))
        }
        if json {
            print(String(decoding: try ProjectQueries.json(table), as: UTF8.self))
            return
        }
        var text = "recovered / injected (efficiency); rows: amplitude in robust sigma, columns: duration in days\n"
        text += String(format: "%10@", "amp\\days" as NSString) + table.durations.map { String(format: " %16g", $0) }.joined()
        for (a, amp) in table.amplitudes.enumerated() {
            text += String(format: "\n%10g", amp)
            for d in table.durations.indices {
                let n = table.injected[a][d], k = table.recovered[a][d]
                text += n == 0 ? String(format: " %16@", "-" as NSString) : String(format: " %7d/%-5d%3.0f%%", k, n, 100 * Double(k) / Double(n))
            }
        }
        print(text)
    }
}

/// `astropile project show`.
struct ProjectShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Draw a source's light curves (flux in µJy against MJD; zg green, zr red, zi dark red) with its detections shaded and its injections ticked under the axis (recovered black, missed grey).")

    @Argument(help: "The project file.")
    var project: String

    @OptionGroup var db: ProjectDatabaseOption

    @Option(name: .long, help: "The source's name.")
    var source: String

    @Option(name: .long, help: "The PNG to write.")
    var png: String

    func run() throws {
        let n = try ProjectQueries.show(yaml: project, database: db.database, source: source, png: png)
        var text = "wrote \(png): \(n.curves) light curves, \(n.points) points, \(n.detections) detections, \(n.injections) injections"
        if n.drawn < n.points {
            text += "\nnote: \(n.points - n.drawn) points without a finite MJD and flux are not drawn" + (n.drawn == 0 ? " (the plot is empty)" : "")
        }
        print(text)
    }
}
