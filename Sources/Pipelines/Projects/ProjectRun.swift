import Fetch
import Foundation
import Formats
import Registry
import RunEngine
import Table

/// How `astropile project run` runs, as opposed to what it makes (none of these enter the hash).
public struct ProjectRunOptions: Sendable {
    /// The registry: `sqlite:PATH`, `postgres://USER@HOST:PORT/DB`; default the version's own
    /// SQLite file, `registry.sqlite` in its products folder.
    public var database: String?
    /// Catalog rows to work on (0-based, upper bound excluded); default all. An end past the
    /// catalog's last row is its end; a start past it is an error (``ProjectRun/selectedRows(_:count:catalog:)``).
    public var sources: Range<Int64>?
    /// Failed (source, stage) rows are tried again.
    public var retryFailed = false
    /// Parallel downloads of the fetch stage.
    public var fetchJobs = 8
    /// Workers, progress (the engine's options).
    public var run = RunOptions()
    public init() {}
}

/// What a project run did.
public struct ProjectRunDetails: Codable, Sendable, Hashable {
    /// The registry (`sqlite:PATH`, `postgres://…` with its password as `***`).
    public var database: String
    /// The run's row in the registry; `nil` when there was nothing to do (no row is written then).
    public var runID: Int64?
    /// Sources in the catalog and in the range worked on.
    public var catalogSources: Int
    public var selectedSources: Int
    /// (source, stage) rows this run did, per stage.
    public var didPerStage: [String: Int]
    /// Raw files found on disk and adopted instead of fetched.
    public var adoptedRawFiles: Int
    /// Products (or raw files) found missing or changed on disk and made again.
    public var remade: [String]
    /// Status per stage after the run.
    public var status: [StageStatusCount]
}

/// `astropile project run`: each source of the project's catalog through fetch → reduce →
/// detect → inject, with every (source, stage) claimed in the registry so that a stopped run
/// continues where it stopped, several runs share the work, and a failing source is recorded
/// with its reason while the others go on.
public enum ProjectRun {
    /// The registry a project version uses by default.
    public static func defaultDatabase(products: String) -> String { "sqlite:" + products + "/registry.sqlite" }

    /// The catalog rows a run works on: all, or `requested` with its end past the catalog's last
    /// row taken as the catalog's end (`A..` and `0..9223372036854775807` mean "to the end"); a
    /// non-empty range that starts past the last row is a usage error naming the catalog's size.
    public static func selectedRows(_ requested: Range<Int64>?, count: Int64, catalog: String) throws -> Range<Int64> {
        guard let requested else { return 0..<count }
        let lower = max(0, requested.lowerBound)
        guard lower < count || requested.isEmpty else {
            let end = requested.upperBound == Int64.max ? "" : String(requested.upperBound)
            throw RunError.configuration("--sources \(requested.lowerBound)..\(end): the catalog \(catalog) has \(count) sources (rows 0..\(count), end excluded); start below \(count)")
        }
        let start = min(lower, count)
        return start..<max(start, min(count, requested.upperBound))
    }

    /// Runs the project in `yaml`.
    public static func run(yaml: String, options: ProjectRunOptions) throws -> RunReport<ProjectRunDetails> {
        let plan = try ProjectPlan(yaml: yaml, database: options.database)
        defer { plan.registry.close() }
        let r = plan.registry
        let rows = try selectedRows(options.sources, count: Int64(plan.sources.count), catalog: plan.config.catalog.path)
        if options.retryFailed { try r.retryFailed(version: plan.version) }
        try r.releaseStaleClaims(version: plan.version)
        var remade = try plan.verifyFiles(rows: rows)
        var alerts: AlertLightCurveSource?
        if plan.config.survey.kind == .ztfAlerts {
            let source = try AlertLightCurveSource.prepare(plan: plan, options: options)
            if try source.sendBackIfChanged(plan: plan) { remade.append(source.catalog.root) }
            alerts = source
        }
        var adopted = 0
        var did: [String: Int] = [:]
        var runID: Int64?
        var stopError: (any Error)?
        let todo = try ProjectStage.allCases.reduce(0) { n, s in
            n + (try r.pending(version: plan.version, stage: s.rawValue, after: s.earlier.map(\.rawValue), rows: rows))
        }
        if todo > 0 {
            let run = try r.startRun(version: plan.version)
            runID = run
            let beat = Heartbeat(registry: r, run: run)
            beat.start()
            do {
                for stage in ProjectStage.allCases {
                    let work = ProjectStageWork(plan: plan, run: run, stage: stage, options: options, alerts: alerts)
                    did[stage.title] = try work.run(rows: rows)
                    adopted += work.adopted.value
                    remade += work.remadeNote
                }
            } catch { stopError = error }
            beat.stop()
            let status = stopError == nil ? "complete" : (Interruption.requested ? "interrupted" : "failed")
            try? r.finishRun(run, status: status)
        }
        if let stopError { throw stopError }
        let status = try r.status(version: plan.version, stages: ProjectStage.allCases.map(\.rawValue))
        var rejected: [Rejection] = []
        for s in status {
            for f in s.failures { rejected.append(Rejection(input: f.source, position: "stage " + String(s.stage.dropFirst(8)), reason: f.reason)) }
        }
        let complete = status.last?.done ?? 0
        var report = RunReport(pipeline: "project", output: plan.products, configHash: plan.hash, inputs: plan.sources.count,
                               counts: RunCounts(unit: "sources", read: Int64(rows.count), written: Int64(complete)),
                               rejectedInputs: rejected,
                               details: ProjectRunDetails(database: r.db.name, runID: runID, catalogSources: plan.sources.count,
                                                          selectedSources: rows.count, didPerStage: did, adoptedRawFiles: adopted,
                                                          remade: remade, status: status))
        if runID != nil {
            let path = Run.reportPath(output: plan.products)
            do { try AtomicFile.write(Array(try RecordCoding.encode(report)), to: path) } catch { throw RunError.writing(path, error) }
        } else {
            report.output = plan.products
        }
        return report
    }
}

/// Beats the run's heartbeat every 30 s until stopped.
private final class Heartbeat: @unchecked Sendable {
    let registry: Registry
    let run: Int64
    private let done = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    init(registry: Registry, run: Int64) { self.registry = registry; self.run = run }
    func start() {
        Thread.detachNewThread { [self] in
            while done.wait(timeout: .now() + 30) == .timedOut { try? registry.heartbeat(run: run) }
            finished.signal()
        }
    }
    func stop() { done.signal(); finished.wait() }
}
