import Foundation
import Formats
import Sky
import Table

/// `astropile import`: plan → map+spill → bin → reduce → finish, each step recorded durably in
/// the work folder so that re-running the same configuration continues where it stopped, and a
/// finished catalog is left alone.
public struct ImportPipeline {
    /// The settings.
    public let config: ImportConfig
    /// Whether to print progress lines on stderr.
    public var showProgress: Bool

    /// A pipeline for `config`.
    public init(config: ImportConfig, showProgress: Bool = true) {
        self.config = config
        self.showProgress = showProgress
    }

    /// The outcome of ``run()``.
    public enum Outcome: Sendable {
        /// The catalog was (finished being) written.
        case written(ImportReport)
        /// The catalog was already complete with these settings; nothing was done.
        case alreadyComplete(ImportReport)
    }

    /// Runs (or continues) the import.
    public func run() throws -> Outcome {
        let layout = HATSLayout(root: config.output)
        let state = WorkState(root: config.workDirectory)
        let fm = FileManager.default
        if !fm.fileExists(atPath: state.root), let done = WorkState.read(ImportReport.self, from: layout.reportFile) {
            guard done.configHash == config.configHash else {
                throw ImportError.outputConflict("\(config.output) already holds a catalog made with other settings (config \(done.configHash)); choose another --output or remove it")
            }
            return .alreadyComplete(done)
        }
        if !fm.fileExists(atPath: state.root), let items = try? fm.contentsOfDirectory(atPath: config.output), !items.isEmpty {
            throw ImportError.outputConflict("\(config.output) exists and is not empty; choose another --output or remove it")
        }
        try config.alignment.validate()
        var seconds: [String: Double] = [:]
        func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
            let t0 = Date()
            defer { seconds[stage, default: 0] += Date().timeIntervalSince(t0) }
            return try body()
        }

        // Plan
        let (record, inputSchema) = try timed("plan") { try self.plan(state) }
        let leafSchema = Schema([MapStage.healpixField] + inputSchema.fields)

        // Map
        let memory = max(config.memoryBytes, 64 << 20)
        let jobs = config.effectiveJobs
        let mapStage = MapStage(config: config, state: state, inputSchema: inputSchema, leafSchema: leafSchema,
                                chunkBytes: Int(memory / Int64(jobs) / 6))
        if !fm.fileExists(atPath: state.alignmentFile) { Self.discardDamagedRuns(state, inputs: record.inputs) }
        let todo = record.inputs.filter { !fm.fileExists(atPath: state.mapMarker($0.index)) }
            .sorted { ($0.byteCount, $1.index) > ($1.byteCount, $0.index) }
        try timed("map") {
            let totalBytes = record.inputs.reduce(Int64(0)) { $0 + $1.byteCount }
            let doneBytes = totalBytes - todo.reduce(Int64(0)) { $0 + $1.byteCount }
            let progress = ProgressReporter(stage: "map", unit: "input bytes", total: totalBytes, enabled: showProgress)
            progress.advance(doneBytes)
            try WorkerPool.run(count: todo.count, jobs: jobs) { i in
                let input = todo[i]
                let result = try mapStage.map(input, progress: progress)
                try WorkState.write(result, to: state.mapMarker(input.index))
                CrashHook.completed("map")
            }
            try Interruption.check()
            progress.finish()
        }
        let maps = record.inputs.map { WorkState.read(MapRecord.self, from: state.mapMarker($0.index)) }
        guard maps.allSatisfy({ $0 != nil }) else { throw ImportError.io("map records missing in \(state.mapDirectory)") }
        let mapRecords = maps.map { $0! }

        // Bin
        let (plan, histogram) = try timed("bin") { try self.bin(state, maps: mapRecords) }

        // Reduce
        let runs = mapRecords.filter { $0.status == MapRecord.Status.mapped }.flatMap { $0.runs }
        let reduce = ReduceStage(config: config, state: state, layout: layout, leafSchema: leafSchema, runs: runs)
        // Largest pixels first, so the workers finish together (the order of work never changes
        // what is written).
        let pixelsTodo = plan.pixels.indices.filter { !fm.fileExists(atPath: state.reduceMarker(plan.pixels[$0])) }
            .sorted { (plan.rowCounts[$0], $1) > (plan.rowCounts[$1], $0) }
        try timed("reduce") {
            try fm.createDirectory(atPath: layout.datasetDirectory, withIntermediateDirectories: true)
            Self.removeTemporaryFiles(under: layout.root)
            let progress = ProgressReporter(stage: "reduce", unit: "rows", total: plan.totalRows, enabled: showProgress)
            progress.advance(plan.totalRows - pixelsTodo.reduce(Int64(0)) { $0 + plan.rowCounts[$1] })
            let caches = ThreadCaches()
            try WorkerPool.run(count: pixelsTodo.count, jobs: jobs) { k in
                let i = pixelsTodo[k]
                let pixel = plan.pixels[i]
                try Interruption.check()
                let r = try reduce.reduce(pixel, expectedRows: plan.rowCounts[i], files: caches.cache())
                try WorkState.write(r, to: state.reduceMarker(pixel))
                CrashHook.completed("reduce")
                progress.advance(r.rows)
            }
            try Interruption.check()
            progress.finish()
        }
        let leafRecords = plan.pixels.compactMap { WorkState.read(ReduceRecord.self, from: state.reduceMarker($0)) }

        // Finish
        let report: ImportReport = try timed("finish") {
            let finish = FinishStage(config: config, layout: layout, leafSchema: leafSchema, plan: plan, histogram: histogram)
            let leafBytes = try finish.writeMetadata(leafRecords: leafRecords, inputs: record.inputs)
            let problems = try finish.verify()
            let rowsRead = mapRecords.reduce(Int64(0)) { $0 + $1.rowsRead }
            let rowsPlaced = mapRecords.reduce(Int64(0)) { $0 + $1.rowsPlaced }
            let rejectedRows = mapRecords.reduce(Int64(0)) { $0 + $1.rejectedRows }
            let written = leafRecords.reduce(Int64(0)) { $0 + $1.rows }
            var all = problems
            if written != rowsPlaced { all.append("rows placed \(rowsPlaced) but \(written) written") }
            if rowsRead != written + rejectedRows { all.append("rows read \(rowsRead) ≠ written \(written) + rejected \(rejectedRows)") }
            guard all.isEmpty else { throw ImportError.verification(all.joined(separator: "; ")) }
            var perOrder: [String: Int] = [:]
            for p in plan.pixels { perOrder[String(p.order), default: 0] += 1 }
            let rejectedFiles = record.rejectedFiles + mapRecords.filter { $0.status == .rejected }.map {
                RejectedFile(path: record.inputs[$0.input].path, reason: $0.error ?? "unreadable")
            }
            let report = ImportReport(
                status: (rejectedRows > 0 || !rejectedFiles.isEmpty) ? .completeWithRejections : .complete,
                catalog: config.output, configHash: config.configHash, astropileVersion: AstroPileVersion.string,
                inputFiles: record.inputs.count + record.rejectedFiles.count, rowsRead: rowsRead, rowsWritten: written,
                rowsRejected: rejectedRows, rejectedRowSamples: mapRecords.flatMap(\.rejectedRowSamples),
                rejectedFiles: rejectedFiles, partitions: plan.pixels.count, partitionsPerOrder: perOrder,
                leafBytes: leafBytes, stageSeconds: seconds)
            var withUnpacked = report
            withUnpacked.unpackedInputs = mapRecords.filter { $0.unpacked == true }.map { record.inputs[$0.input].path }
            try WorkState.write(withUnpacked, to: layout.reportFile)
            return withUnpacked
        }
        try? fm.removeItem(atPath: state.root)
        return .written(report)
    }

    /// Forgets mapped inputs whose spill runs are missing or unreadable (spill runs are written
    /// without fsync, so a power cut can leave a marker whose run did not reach the disk): those
    /// inputs are mapped again.
    static func discardDamagedRuns(_ state: WorkState, inputs: [ImportInput]) {
        for input in inputs {
            guard let m = WorkState.read(MapRecord.self, from: state.mapMarker(input.index)), m.status == .mapped else { continue }
            let intact = m.runs.allSatisfy { run in
                guard let f = try? IPCFile(path: state.runDirectory + "/" + run.file) else { return false }
                return f.batchCount == run.batchRows.count
            }
            if !intact {
                AtomicFile.remove(state.mapMarker(input.index))
                for run in m.runs { AtomicFile.remove(state.runDirectory + "/" + run.file) }
            }
        }
    }

    /// Removes files a killed run left under their temporary names (`*.tmp-<pid>`), so the
    /// catalog folder holds only HATS files.
    static func removeTemporaryFiles(under root: String) {
        guard let e = FileManager.default.enumerator(atPath: root) else { return }
        while let item = e.nextObject() as? String {
            if item.range(of: ".tmp-") != nil { try? FileManager.default.removeItem(atPath: root + "/" + item) }
        }
    }

    /// Loads the recorded plan, or makes and records it.
    func plan(_ state: WorkState) throws -> (ImportPlanRecord, Schema) {
        if var record = WorkState.read(ImportPlanRecord.self, from: state.planFile),
           FileManager.default.fileExists(atPath: state.schemaFile) {
            if record.configHash != config.configHash && record.mapHash == config.mapHash {
                // Only partitioning settings changed (e.g. a raised threshold after an over-threshold
                // error): keep the mapped runs, bin and reduce again.
                let fm = FileManager.default
                try? fm.removeItem(atPath: state.alignmentFile)
                try? fm.removeItem(atPath: state.reduceDirectory)
                try? fm.removeItem(atPath: HATSLayout(root: config.output).datasetDirectory)
                try state.createDirectories()
                record.configHash = config.configHash
                try WorkState.write(record, to: state.planFile)
                if showProgress {
                    FileHandle.standardError.write(Data("astropile: partitioning settings changed; re-using the mapped inputs in \(state.root)\n".utf8))
                }
            }
            guard record.configHash == config.configHash else {
                throw ImportError.outputConflict("the work folder \(state.root) belongs to a run with other settings (config \(record.configHash)); delete it to start over, or re-run with the same settings to continue")
            }
            return (record, try IPCFile(path: state.schemaFile).schema)
        }
        let planned = try ImportPlanner(config: config).plan()
        try state.createDirectories()
        let w = try IPCFileWriter(path: state.schemaFile, schema: planned.schema)
        try w.close()
        let record = ImportPlanRecord(configHash: config.configHash, mapHash: config.mapHash, inputs: planned.inputs,
                                      rejectedFiles: planned.rejectedFiles)
        try WorkState.write(record, to: state.planFile)
        return (record, planned.schema)
    }

    /// Merges the per-input histograms and aligns partitions (or loads the recorded alignment).
    func bin(_ state: WorkState, maps: [MapRecord]) throws -> (PartitionPlan, PixelHistogram) {
        var histogram = PixelHistogram(order: config.mappingOrder)
        histogram.withUnsafeMutableCounts { counts in
            for m in maps where m.status == .mapped {
                guard let data = FileManager.default.contents(atPath: state.histogramFile(m.input)) else { continue }
                data.withUnsafeBytes { raw in
                    let pairs = raw.bindMemory(to: Int64.self)
                    var i = 0
                    while i + 1 < pairs.count {
                        counts[Int(pairs[i])] += pairs[i + 1]
                        i += 2
                    }
                }
            }
        }
        if let saved = WorkState.read(AlignmentRecord.self, from: state.alignmentFile) {
            let pixels = zip(saved.orders, saved.indices).map { HealpixPixel(order: $0, index: $1) }
            return (try PartitionPlan(pixels: pixels, rowCounts: saved.counts, highestOrder: config.mappingOrder), histogram)
        }
        let plan: PartitionPlan
        do {
            plan = try PartitionPlan.align(histogram, config: config.alignment)
        } catch {
            throw ImportError.alignment(error)
        }
        try WorkState.write(AlignmentRecord(orders: plan.pixels.map(\.order), indices: plan.pixels.map(\.index),
                                            counts: plan.rowCounts, mappingOrder: config.mappingOrder), to: state.alignmentFile)
        return (plan, histogram)
    }
}

/// One ``RunFileCache`` per worker thread.
final class ThreadCaches: @unchecked Sendable {
    private let lock = NSLock()
    private var caches: [ObjectIdentifier: RunFileCache] = [:]

    func cache() -> RunFileCache {
        let key = ObjectIdentifier(Thread.current)
        lock.lock(); defer { lock.unlock() }
        if let c = caches[key] { return c }
        let c = RunFileCache()
        caches[key] = c
        return c
    }
}
