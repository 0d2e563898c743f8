import Foundation
import Formats
import RunEngine
import Sky
import Table

/// `astropile import`: plan → map+spill → bin → reduce → finish on the run engine, so that
/// re-running the same configuration continues where it stopped and a finished catalog is left
/// alone.
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
    public typealias Outcome = RunOutcome<ImportDetails>

    /// Runs (or continues) the import.
    public func run() throws -> Outcome {
        try config.validate()
        try config.alignment.validate()
        let start = try Run.begin(pipeline: "import", output: config.output, configHash: config.configHash, stages: ImportStage.self,
                                  stageKeys: [.list: config.mapHash, .scan: config.mapHash, .plan: config.mapHash, .map: config.mapHash],
                                  options: config.runOptions(progress: showProgress), details: ImportDetails.self)
        let run: Run
        switch start {
        case .complete(let report): return .alreadyComplete(report)
        case .started(let r): run = r
        }
        let layout = HATSLayout(root: run.folder.output)
        let files = ImportWorkFiles(root: run.folder.path)
        if run.resumed && run.invalidatedStages.contains(ImportStage.reduce.rawValue) {
            // Only partitioning settings changed (e.g. a raised threshold after an over-threshold
            // error): the mapped runs stay; the leaves of the old partitioning go.
            try? FileManager.default.removeItem(atPath: layout.datasetDirectory)
            if showProgress {
                FileHandle.standardError.write(Data("astropile: partitioning settings changed; re-using the mapped inputs in \(run.folder.path)\n".utf8))
            }
        }
        try files.createDirectories()

        // Plan: list the inputs, read their schemas (split over workers and ranks), unify them.
        let planner = ImportPlanner(config: config)
        let listed = try run.step(ImportStage.list) { try planner.list(to: files.inputListFile) }
        // Every rank opens rank 0's list (memory-mapped), and they agree it is readable.
        let list = try run.collective(during: "reading the input list") {
            let list = try ImportInputList(path: files.inputListFile)
            guard list.count == listed.count else {
                throw RunError.io("the input list \(list.path) holds \(list.count) inputs, its record \(listed.count); remove the work folder to start over")
            }
            return list
        }
        let plan = try self.plan(run, planner, list, files)
        let inputSchema: Schema
        do { inputSchema = try IPCFile(path: files.schemaFile).schema } catch {
            throw RunError.io("the work folder \(run.folder.path) lacks its schema (\(error)); remove it to start over")
        }
        let leafSchema = Schema([MapStage.healpixField] + inputSchema.fields)

        // Map
        let memory = max(config.memoryBytes, ImportConfig.minimumMemoryBytes)
        let mapStage = MapStage(config: config, files: files, inputSchema: inputSchema, leafSchema: leafSchema,
                                chunkBytes: Int(memory / Int64(run.executor.workers) / 6))
        let skipped = plan.skipped
        let mapItems = MapItem.items(byteCounts: list.byteCounts, skipping: skipped)
        let binned = try run.recordedStep(ImportStage.bin, as: AlignmentRecord.self) != nil
        if !binned {
            try run.onLeader(during: "checking the spill runs") { try Self.discardDamagedRuns(run, files, items: mapItems) }
        }
        let mapRecords = try run.stage(ImportStage.map, items: mapItems, key: \.key,
                                       progress: StageProgress(unit: "input bytes", total: plan.bytes) { item, _ in item.byteCount },
                                       priority: { $0.byteCount }) { item, context in
            let inputs = try list.inputs(item.range, skipping: skipped)
            return try mapStage.map(item, inputs: inputs, progress: context.progress)
        }

        // Bin. The merged histogram is needed only by the steps still to do (a resumed run whose
        // bin and finish are recorded never reads the per-input histograms again).
        var merged: PixelHistogram? = nil
        if let cluster = run.cluster, !binned {
            // Under MPI each rank merges the histograms of a share of the items and the ranks sum
            // them (MPI_Allreduce), rather than rank 0 reading every item's histogram file.
            let mine = try run.collective(during: "merging histograms") {
                try mergedHistogram(files, items: mapItems.indices.filter { $0 % cluster.size == cluster.rank }.map { mapItems[$0] })
            }
            merged = PixelHistogram(order: config.mappingOrder, counts: try run.sum(mine.counts, during: "summing histograms"))
        }
        func histogram() throws -> PixelHistogram {
            if let merged { return merged }
            let h = try mergedHistogram(files, items: mapItems)
            merged = h
            return h
        }
        let alignment = try run.step(ImportStage.bin) { try self.align(try histogram()) }
        let partitions = try PartitionPlan(
            pixels: try zip(alignment.orders, alignment.indices).map { order, index in
                guard let pixel = HealpixPixel(checkedOrder: order, index: index) else {
                    throw RunError.io("the work folder's alignment names pixel (\(order), \(index)), which is not a pixel; remove \(run.folder.path) to start over")
                }
                return pixel
            },
            rowCounts: alignment.counts, highestOrder: config.mappingOrder)

        // Reduce
        let runs = mapRecords.flatMap(\.runs)
        let reduce = ReduceStage(config: config, files: files, layout: layout, leafSchema: leafSchema, runs: runs)
        do { try FileManager.default.createDirectory(atPath: layout.datasetDirectory, withIntermediateDirectories: true) } catch {
            throw RunError.writing(layout.datasetDirectory, error)
        }
        Self.removeTemporaryFiles(under: layout.root)
        let caches = WorkerCaches<RunFileCache>(workers: run.executor.workers) { RunFileCache() }
        let leafRecords = try run.stage(ImportStage.reduce, items: Array(partitions.pixels.indices),
                                        key: { "\(partitions.pixels[$0].order)-\(partitions.pixels[$0].index)" },
                                        progress: StageProgress(unit: "rows", total: partitions.totalRows) { _, r in r.rows },
                                        priority: { partitions.rowCounts[$0] }) { i, context in
            let pixel = partitions.pixels[i]
            try Interruption.check()
            let r = try reduce.reduce(pixel, expectedRows: partitions.rowCounts[i], cache: caches[context.worker])
            context.progress.advance(r.rows)
            return r
        }

        // Finish
        let report = try run.step(ImportStage.finish) {
            try self.finish(layout: layout, staging: try run.stagingDirectory(), leafSchema: leafSchema, plan: plan, list: list, maps: mapRecords,
                            partitions: partitions, histogram: try histogram(), leafRecords: leafRecords, output: run.output)
        }
        return .written(try run.commit(report))
    }

    /// Writes the metadata, verifies rows and schemas, and makes the report.
    func finish(layout: HATSLayout, staging: String, leafSchema: Schema, plan: ImportPlanRecord, list: ImportInputList, maps: [MapItemRecord],
                partitions: PartitionPlan, histogram: PixelHistogram, leafRecords: [ReduceRecord], output: String) throws -> ImportReport {
        let finish = FinishStage(config: config, layout: layout, leafSchema: leafSchema, plan: partitions, histogram: histogram,
                                 staging: staging)
        let leafBytes = try finish.writeMetadata(leafRecords: leafRecords, inputs: try provenance(plan: plan, list: list))
        let problems = try finish.verify()
        let rowsRead = maps.reduce(Int64(0)) { $0 + $1.rowsRead }
        let rowsPlaced = maps.reduce(Int64(0)) { $0 + $1.rowsPlaced }
        let rejectedRows = maps.reduce(Int64(0)) { $0 + $1.rejectedRows }
        let written = leafRecords.reduce(Int64(0)) { $0 + $1.rows }
        var all = problems
        if written != rowsPlaced { all.append("rows placed \(rowsPlaced) but \(written) written") }
        if rowsRead != written + rejectedRows { all.append("rows read \(rowsRead) ≠ written \(written) + rejected \(rejectedRows)") }
        guard all.isEmpty else { throw RunError.verification(all.joined(separator: "; ")) }
        var perOrder: [String: Int] = [:]
        for p in partitions.pixels { perOrder[String(p.order), default: 0] += 1 }
        let rejectedFiles = (plan.rejected + maps.flatMap(\.rejectedInputs)).map(\.rejection)
        let details = ImportDetails(partitions: partitions.pixels.count, partitionsPerOrder: perOrder, leafBytes: leafBytes,
                                    unpackedInputs: maps.flatMap(\.unpacked))
        return ImportReport(pipeline: "import", output: output, configHash: config.configHash,
                            inputs: list.count,
                            counts: RunCounts(unit: "rows", read: rowsRead, written: written, rejected: rejectedRows),
                            rejectedInputs: rejectedFiles, rejectedRecords: maps.flatMap(\.rejectedRowSamples), details: details)
    }

    /// The inputs the catalog's properties name: the files planned, or past
    /// ``FinishStage/listedInputsLimit`` of them the arguments that found them.
    func provenance(plan: ImportPlanRecord, list: ImportInputList) throws -> FinishStage.Inputs {
        guard plan.inputs <= FinishStage.listedInputsLimit else { return FinishStage.Inputs(names: config.inputs, count: plan.inputs) }
        let paths = try list.inputs(0..<list.count, skipping: plan.skipped).map(\.path)
        return FinishStage.Inputs(names: paths, count: paths.count)
    }

    /// Forgets mapped inputs whose spill runs are missing or unreadable (spill runs are written
    /// without fsync, so a power cut can leave a record whose run did not reach the disk): those
    /// inputs are mapped again.
    static func discardDamagedRuns(_ run: Run, _ files: ImportWorkFiles, items: [MapItem]) throws {
        let recorded = try run.store.keys(stage: ImportStage.map.rawValue)
        for item in items where recorded.contains(item.key) {
            guard let data = try run.store.load(stage: ImportStage.map.rawValue, key: item.key),
                  let m = RecordCoding.decode(MapItemRecord.self, from: data) else { continue }
            let intact = m.runs.allSatisfy { spill in
                guard let f = try? IPCFile(path: files.runFile(spill.file)) else { return false }
                return f.batchCount == spill.batchRows.count
            }
            if !intact {
                try run.store.remove(stage: ImportStage.map.rawValue, key: item.key)
                for spill in m.runs { AtomicFile.remove(files.runFile(spill.file)) }
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

    /// Scans the inputs' schemas (a stage split over workers and ranks) and settles the plan: the
    /// schema written to the work folder, the inputs rejected. The scan's records are dropped here.
    func plan(_ run: Run, _ planner: ImportPlanner, _ list: ImportInputList, _ files: ImportWorkFiles) throws -> ImportPlanRecord {
        let items = ScanItem.items(inputs: list.count)
        let folder = files.scanDirectory
        let scans = try run.stage(ImportStage.scan, items: items, key: \.key,
                                  progress: StageProgress(unit: "files", total: Int64(list.count)) { item, _ in Int64(item.range.count) }
        ) { item, context in
            let r = try planner.scan(item, list: list, folder: folder)
            context.progress.advance(Int64(item.range.count))
            return r
        }
        return try run.step(ImportStage.plan) {
            let planned = try planner.plan(list: list, scans: scans, folder: folder)
            do {
                let w = try IPCFileWriter(path: files.schemaFile, schema: planned.schema)
                try w.close()
            } catch {
                throw RunError.writing(files.schemaFile, error)
            }
            var record = ImportPlanRecord(rejected: planned.rejected, inputs: 0, bytes: 0)
            let skipped = record.skipped
            record.inputs = list.count - skipped.count
            for (i, b) in list.byteCounts.enumerated() where !skipped.contains(i) { record.bytes += b }
            return record
        }
    }

    /// The map items' histograms merged at the mapping order.
    func mergedHistogram(_ files: ImportWorkFiles, items: [MapItem]) throws -> PixelHistogram {
        var histogram = PixelHistogram(order: config.mappingOrder)
        let bins = Int64(histogram.counts.count)
        var damaged: String? = nil
        histogram.withUnsafeMutableCounts { counts in
            for item in items {
                guard damaged == nil else { return }
                guard let data = FileManager.default.contents(atPath: files.histogramFile(item.first)) else { continue }
                data.withUnsafeBytes { raw in
                    let pairs = raw.bindMemory(to: Int64.self)
                    var i = 0
                    while i + 1 < pairs.count {
                        guard pairs[i] >= 0, pairs[i] < bins else { damaged = files.histogramFile(item.first); return }
                        counts[Int(pairs[i])] += pairs[i + 1]
                        i += 2
                    }
                }
            }
        }
        if let damaged { throw RunError.io("\(damaged) is damaged; remove the work folder to start over") }
        return histogram
    }

    /// Aligns partitions to the histogram as hats does.
    func align(_ histogram: PixelHistogram) throws -> AlignmentRecord {
        let plan: PartitionPlan
        do {
            plan = try PartitionPlan.align(histogram, config: config.alignment)
        } catch {
            throw ImportError.alignment(error)
        }
        return AlignmentRecord(orders: plan.pixels.map(\.order), indices: plan.pixels.map(\.index), counts: plan.rowCounts,
                               mappingOrder: config.mappingOrder)
    }
}

/// One value per worker of an executor, made on first use (per-worker caches of open files).
final class WorkerCaches<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Value?]
    private let make: () -> Value

    init(workers: Int, make: @escaping () -> Value) {
        values = Array(repeating: nil, count: max(1, workers))
        self.make = make
    }

    /// The value of `worker` (a worker runs one item at a time, so its value is never shared).
    subscript(worker: Int) -> Value {
        lock.lock(); defer { lock.unlock() }
        let w = min(max(0, worker), values.count - 1)
        if let v = values[w] { return v }
        let v = make()
        values[w] = v
        return v
    }
}
