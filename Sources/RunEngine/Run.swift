import Foundation
import Formats

/// One run of a pipeline: its work folder, its completion records, its executor, its progress
/// lines and stage timings, and the commit that marks its output complete.
///
/// A pipeline states its configuration hash and its stages (``begin(pipeline:output:configHash:stages:stageKeys:options:details:store:)``),
/// hands each stage's work items to ``stage(_:items:key:progress:priority:_:)`` (or a single
/// step to ``step(_:_:)``), and ends with ``commit(_:)``. The run decides what is done: an item
/// with a record is never done again, a stage interrupted or failed leaves the items it did not
/// finish unrecorded, and nothing marks the output complete but the commit, after every stage.
public final class Run: @unchecked Sendable {
    /// The pipeline's name (`import`, `margin`, …).
    public let pipeline: String
    /// The output as the user named it (reports and messages).
    public let output: String
    /// The work folder (its `output` is canonical).
    public let folder: WorkFolder
    /// The settings' hash.
    public let configHash: String
    /// The completion records.
    public let store: any CompletionStore
    /// Runs the work items.
    public let executor: any Executor
    /// Whether progress lines are printed.
    public let showProgress: Bool
    /// Whether records of an earlier invocation were found (the run continues).
    public let resumed: Bool
    /// Stages whose records were dropped because settings they depend on changed; the pipeline
    /// removes what those stages wrote into the output.
    public let invalidatedStages: [String]

    /// The MPI ranks running this command together (``Cluster/world``), or `nil` for a single
    /// process. Under a cluster rank 0 begins, runs the steps and commits; every rank runs its
    /// share of each stage's items (split by ``stage(_:items:key:progress:priority:_:)``'s
    /// priority, e.g. bytes or rows) and reads the others' records from the shared work folder.
    public let cluster: Cluster?
    /// Whether this process does the run's single steps, its commit and its printing: rank 0
    /// under MPI, always without.
    public var isLeader: Bool { cluster?.isLeader ?? true }

    private let lock = NSLock()
    private var seconds: [String: Double] = [:]

    /// How ``begin(pipeline:output:configHash:stages:stageKeys:options:details:store:)`` found the output.
    public enum Start<Details: Codable & Sendable> {
        /// Complete with these settings: nothing to do (a leftover work folder was removed).
        case complete(RunReport<Details>)
        /// A run to do or continue.
        case started(Run)
    }

    private init(pipeline: String, output: String, folder: WorkFolder, configHash: String, store: any CompletionStore,
                 executor: any Executor, showProgress: Bool, resumed: Bool, invalidatedStages: [String], cluster: Cluster?) {
        self.cluster = cluster
        self.pipeline = pipeline
        self.output = output
        self.folder = folder
        self.configHash = configHash
        self.store = store
        self.executor = executor
        self.showProgress = showProgress
        self.resumed = resumed
        self.invalidatedStages = invalidatedStages
    }

    /// The report file of an output folder.
    public static func reportPath(output: String) -> String { output + "/" + RunReportFile.name }

    /// Starts or continues the run of `pipeline` writing `output`.
    ///
    /// - An output with a report of the same pipeline and settings is complete: returns it.
    /// - An output with another report, or a non-empty output without a work folder, is a conflict.
    /// - A work folder of this output with the same settings continues; with other settings, the
    ///   leading stages whose `stageKeys` are unchanged keep their records and the rest are cleared
    ///   (``invalidatedStages``); when no stage can be kept it is a conflict.
    ///
    /// Under MPI (``Cluster/world``) rank 0 does all of this and the other ranks follow what it
    /// found: the same report, or the same work folder, which must be on a file system every
    /// rank sees (an error naming the folder otherwise).
    public static func begin<S: RunStage, D: Codable & Sendable>(
        pipeline: String, output: String, configHash: String, stages: S.Type, stageKeys: [S: String] = [:],
        options: RunOptions, details: D.Type, store: (any CompletionStore)? = nil
    ) throws -> Start<D> {
        guard let cluster = Cluster.world else {
            return try beginHere(pipeline: pipeline, output: output, configHash: configHash, stages: stages, stageKeys: stageKeys,
                                 options: options, details: details, store: store, cluster: nil)
        }
        // Rank 0 begins; the others follow what it found (the report, or how the run continues).
        var leaderStart: Start<D>? = nil
        let found = try cluster.fromLeader(during: "\(pipeline): begin") { () -> FollowerStart<D> in
            let start = try beginHere(pipeline: pipeline, output: output, configHash: configHash, stages: stages, stageKeys: stageKeys,
                                      options: options, details: details, store: store, cluster: cluster)
            leaderStart = start
            switch start {
            case .complete(let report): return FollowerStart(report: report, resumed: false, invalidatedStages: [])
            case .started(let run):
                // A stop signal left by an earlier failed run must not stop this one.
                unlink(run.folder.file(Cluster.stopFileName))
                return FollowerStart(report: nil, resumed: run.resumed, invalidatedStages: run.invalidatedStages)
            }
        }
        let start: Start<D>
        if let leaderStart {
            start = leaderStart
        } else if let report = found.report {
            start = .complete(report)
        } else {
            let folder = try WorkFolder(output: output, parent: options.tmp)
            start = .started(Run(pipeline: pipeline, output: output, folder: folder, configHash: configHash,
                                 store: store ?? FileCompletionStore(root: folder.path),
                                 executor: options.executor ?? ThreadExecutor(workers: options.workers), showProgress: false,
                                 resumed: found.resumed, invalidatedStages: found.invalidatedStages, cluster: cluster))
        }
        guard case .started(let run) = start else { return start }
        try cluster.agree(during: "\(pipeline): the shared work folder") {
            guard run.folder.exists else {
                throw ClusterError.inconsistent("rank \(cluster.rank) does not see the work folder \(run.folder.path) that rank 0 made: the output (or --tmp) must be on a file system every rank shares")
            }
        }
        cluster.watch(folder: run.folder.path)
        return start
    }

    /// What the other ranks learn of rank 0's start: the report of a complete output, or how
    /// the run continues.
    private struct FollowerStart<D: Codable & Sendable>: Codable {
        var report: RunReport<D>?
        var resumed: Bool
        var invalidatedStages: [String]
    }

    private static func beginHere<S: RunStage, D: Codable & Sendable>(
        pipeline: String, output: String, configHash: String, stages: S.Type, stageKeys: [S: String],
        options: RunOptions, details: D.Type, store: (any CompletionStore)?, cluster: Cluster?
    ) throws -> Start<D> {
        let folder = try WorkFolder(output: output, parent: options.tmp)
        let fm = FileManager.default
        let reportPath = Self.reportPath(output: folder.output)
        if let data = fm.contents(atPath: reportPath) {
            guard let header = RecordCoding.decode(ReportHeader.self, from: data) else {
                throw RunError.outputConflict("\(reportPath) is damaged or was written by an older AstroPile; remove \(output) to make it again")
            }
            guard header.pipeline == pipeline, header.configHash == configHash else {
                throw RunError.outputConflict("\(output) already holds \(header.pipeline == pipeline ? "an output" : "the output of astropile \(header.pipeline)") made with other settings (config \(header.configHash)); choose another --output or remove it")
            }
            guard let report = RecordCoding.decode(RunReport<D>.self, from: data) else {
                throw RunError.outputConflict("\(reportPath) is damaged; remove \(output) to make it again")
            }
            // A run killed between its commit and removing its work folder left it behind.
            try? folder.remove()
            return .complete(report)
        }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: folder.output, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw RunError.outputConflict("\(output) exists and is not a folder; choose another --output")
            }
            let items = (try? fm.contentsOfDirectory(atPath: folder.output)) ?? []
            if !folder.exists, !items.isEmpty {
                throw RunError.outputConflict("\(output) exists and is not empty; choose another --output or remove it")
            }
        }
        let store = store ?? FileCompletionStore(root: folder.path)
        let keys = Dictionary(uniqueKeysWithValues: stageKeys.map { ($0.key.rawValue, $0.value) })
        let identity = RunIdentity(pipeline: pipeline, output: folder.output, configHash: configHash, stageKeys: keys)
        var resumed = false
        var invalidated: [String] = []
        if folder.exists {
            if let old = try store.identity() {
                guard old.output == folder.output else {
                    throw RunError.outputConflict("the work folder \(folder.path) belongs to a run writing \(old.output); remove it or choose another --tmp")
                }
                guard old.pipeline == pipeline else {
                    throw RunError.outputConflict("the work folder \(folder.path) belongs to a stopped astropile \(old.pipeline) run; finish or remove it")
                }
                if old.configHash != configHash {
                    var keeping = true
                    for s in S.allCases {
                        if keeping, let k = keys[s.rawValue], old.stageKeys[s.rawValue] == k { continue }
                        keeping = false
                        invalidated.append(s.rawValue)
                    }
                    guard invalidated.count < S.allCases.count else {
                        throw RunError.outputConflict("the work folder \(folder.path) belongs to a run with other settings (config \(old.configHash)); re-run with the same settings to continue, or remove it to start over")
                    }
                    for s in invalidated { try store.clear(stage: s) }
                }
                resumed = true
            } else if let items = try? fm.contentsOfDirectory(atPath: folder.path), !items.isEmpty {
                throw RunError.outputConflict("\(folder.path) exists but is not an AstroPile work folder (no run.json); remove it")
            }
        }
        try store.setIdentity(identity)
        let executor = options.executor ?? ThreadExecutor(workers: options.workers)
        return .started(Run(pipeline: pipeline, output: output, folder: folder, configHash: configHash, store: store,
                            executor: executor, showProgress: options.progress, resumed: resumed, invalidatedStages: invalidated,
                            cluster: cluster))
    }

    /// What every report carries, read before knowing its details' type.
    private struct ReportHeader: Decodable {
        var pipeline: String
        var configHash: String
    }

    // MARK: Stages

    /// Runs the work items of `stage` and returns their records, in `items` order.
    ///
    /// Items with a record (from an earlier invocation) are not run again; the others run on the
    /// executor, highest `priority` first (ties in `items` order), and each one's record is stored
    /// durably before it counts as done (then the fault hooks fire). The stage checks for an
    /// interrupt before it starts and after it ends; an interrupt or error in between leaves the
    /// unfinished items unrecorded and is thrown.
    ///
    /// Under MPI every rank runs a share of the items left: shares balanced by `priority` (the
    /// largest first, each to the rank with the least so far; by count without a priority), the
    /// same on every rank, so no item runs twice. The ranks meet at the stage's end, agree on its
    /// outcome (one rank's failure is every rank's, ``Cluster/agree(during:_:)``), and each reads
    /// the other ranks' records from the shared store. Rank 0 prints the progress of all ranks.
    /// - Parameters:
    ///   - key: each item's record key, unique in the stage (a file name is made of it).
    ///   - progress: the progress line; already recorded items count with `doneWeight`.
    public func stage<S: RunStage, Item: Sendable, Record: Codable & Sendable>(
        _ stage: S, items: [Item], key: (Item) -> String, progress: StageProgress<Item, Record>? = nil,
        priority: ((Item) -> Int64)? = nil, _ work: @escaping @Sendable (Item, StageContext) throws -> Record
    ) throws -> [Record] {
        let started = Date()
        defer { addSeconds(stage.rawValue, Date().timeIntervalSince(started)) }
        let name = stage.rawValue
        let keys = items.map(key)
        let store = self.store
        // Every rank reads the same records before any rank records more (the agreement).
        let (records, todo, weights) = try collective(during: "\(name): start") {
            try Self.pending(store: store, stage: name, items: items, keys: keys, priority: priority, as: Record.self)
        }
        let reporter = ProgressReporter(stage: stage.title, unit: progress?.unit ?? "items", total: progress?.total,
                                        enabled: showProgress && progress != nil && isLeader)
        if let progress, isLeader {
            var done: Int64 = 0
            for (i, r) in records.enumerated() { if let r { done += progress.doneWeight(items[i], r) } }
            reporter.advance(done)
        }
        var mine = todo
        if let cluster {
            mine = Self.share(weights: weights, ranks: cluster.size)[cluster.rank].map { todo[$0] }
            if cluster.isLeader {
                reporter.addPeers { cluster.peersDone(stage: name) }
            } else {
                cluster.publish(stage: name, done: { reporter.count })
            }
        }
        let slots = RecordSlots<Record>(count: items.count)
        let todoItems = mine.map { (index: $0, item: items[$0], key: keys[$0]) }
        let executor = self.executor
        let run: @Sendable () throws -> Void = {
            try executor.run(count: todoItems.count) { k, worker in
                let t = todoItems[k]
                let record = try Self.classifyingFullDisk { try work(t.item, StageContext(progress: reporter, worker: worker)) }
                try store.save(try RecordCoding.encode(record), stage: name, key: t.key)
                slots.set(t.index, record)
                FaultHooks.itemRecorded(stage: name)
            }
            try Interruption.check()
        }
        defer { cluster?.publish(stage: nil, done: nil) }
        try collective(during: name, run)
        var out: [Record] = []
        out.reserveCapacity(items.count)
        for i in items.indices {
            var r = records[i] ?? slots.get(i)
            if r == nil, cluster != nil, let data = try store.load(stage: name, key: keys[i]) {
                r = RecordCoding.decode(Record.self, from: data)   // another rank's item
            }
            guard let r else {
                throw RunError.verification("\(stage.rawValue): item \(keys[i]) finished without a record")
            }
            out.append(r)
        }
        if let progress, cluster != nil {
            reporter.settle(zip(items, out).reduce(Int64(0)) { $0 + progress.doneWeight($1.0, $1.1) })
        }
        reporter.finish()
        return out
    }

    /// The records `store` holds of `items`, the positions of the items without one (largest
    /// `priority` first, ties in `items` order) and their weights.
    private static func pending<Item, Record: Decodable>(
        store: any CompletionStore, stage name: String, items: [Item], keys: [String], priority: ((Item) -> Int64)?, as: Record.Type
    ) throws -> (records: [Record?], todo: [Int], weights: [Int64]) {
        try Interruption.check()
        var records: [Record?] = Array(repeating: nil, count: items.count)
        let recorded = try store.keys(stage: name)
        for (i, k) in keys.enumerated() where recorded.contains(k) {
            if let data = try store.load(stage: name, key: k) {
                records[i] = RecordCoding.decode(Record.self, from: data)
            }
        }
        var todo = records.indices.filter { records[$0] == nil }
        guard let priority else { return (records, todo, Array(repeating: 1, count: todo.count)) }
        let w = todo.map { priority(items[$0]) }
        let order = todo.indices.sorted { w[$0] != w[$1] ? w[$0] > w[$1] : $0 < $1 }
        todo = order.map { todo[$0] }
        return (records, todo, order.map { w[$0] })
    }

    /// The items of each rank, as positions in `weights` (sorted largest first): each item goes to
    /// the rank with the least weight so far, the lowest rank on a tie — deterministic, so every
    /// rank computes the same shares.
    static func share(weights: [Int64], ranks: Int) -> [[Int]] {
        var shares = Array(repeating: [Int](), count: max(1, ranks))
        var load = Array(repeating: Int64(0), count: shares.count)
        for (i, w) in weights.enumerated() {
            var best = 0
            for r in 1..<load.count where load[r] < load[best] { best = r }
            shares[best].append(i)
            load[best] += max(w, 1)
        }
        return shares
    }

    /// Runs `body` on this rank; under MPI every rank runs its own `body` and they agree on the
    /// outcome (``Cluster/agree(during:_:)``). `during` names the point in error messages.
    public func collective<T>(during: String, _ body: () throws -> T) throws -> T {
        guard let cluster else { return try body() }
        return try cluster.agree(during: "\(pipeline): \(during)", body)
    }

    /// `values` summed element by element over every rank (MPI_Allreduce); `values` itself
    /// without MPI. Every rank passes the same count.
    public func sum(_ values: [Int64], during: String) throws -> [Int64] {
        guard let cluster else { return values }
        return try cluster.allreduce(values, .sum, during: "\(pipeline): \(during)")
    }

    /// Runs `body` on rank 0 only (removing what an earlier run left, say) and makes every rank
    /// wait for it and share its outcome; without MPI it just runs `body`.
    public func onLeader(during: String, _ body: () throws -> Void) throws {
        try collective(during: during) { if isLeader { try body() } }
    }

    /// Runs a stage of one step (planning, binning, finishing): its record is returned from the
    /// store when an earlier invocation finished it, else `work` runs and its record is stored.
    /// Under MPI rank 0 runs `work` and the other ranks receive its record (so what a step
    /// leaves in memory must be in its record; what it writes, in the shared folders).
    public func step<S: RunStage, Record: Codable & Sendable>(_ stage: S, _ work: () throws -> Record) throws -> Record {
        let started = Date()
        defer { addSeconds(stage.rawValue, Date().timeIntervalSince(started)) }
        guard let cluster else { return try stepHere(stage, work) }
        return try cluster.fromLeader(during: "\(pipeline): \(stage.title)") { try stepHere(stage, work) }
    }

    private func stepHere<S: RunStage, Record: Codable & Sendable>(_ stage: S, _ work: () throws -> Record) throws -> Record {
        try Interruption.check()
        if let data = try store.load(stage: stage.rawValue, key: Self.stepKey), let r = RecordCoding.decode(Record.self, from: data) {
            return r
        }
        let record = try Self.classifyingFullDisk(work)
        try store.save(try RecordCoding.encode(record), stage: stage.rawValue, key: Self.stepKey)
        FaultHooks.itemRecorded(stage: stage.rawValue)
        try Interruption.check()
        return record
    }

    /// The record of a step, if it is done.
    public func recordedStep<S: RunStage, Record: Decodable>(_ stage: S, as type: Record.Type) throws -> Record? {
        guard let data = try store.load(stage: stage.rawValue, key: Self.stepKey) else { return nil }
        return RecordCoding.decode(type, from: data)
    }

    static let stepKey = "step"

    /// Runs `body`; a write that failed because the disk is full (a ``FormatError`` with code
    /// `noSpace`, wherever in a pipeline it was raised) becomes ``RunError/diskFull(path:message:)``,
    /// so every stage stops on a full disk the same way (exit 1, state kept).
    static func classifyingFullDisk<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as FormatError where e.code == .noSpace {
            throw RunError.writing(e.path ?? "the output", e)
        }
    }

    /// Adds seconds to a stage's timing (stages run one after another; the lock is for safety).
    private func addSeconds(_ stage: String, _ s: Double) {
        lock.lock(); defer { lock.unlock() }
        seconds[stage, default: 0] += s
    }

    /// Seconds per stage so far in this invocation.
    public var stageSeconds: [String: Double] {
        lock.lock(); defer { lock.unlock() }
        return seconds
    }

    // MARK: Commit

    /// A folder for files that mark the output as a finished product to other tools (HATS
    /// `hats.properties`): written here by the last stage, moved into the output by ``commit(_:)``,
    /// so an interrupted run never leaves them in the output.
    public func stagingDirectory() throws -> String { try folder.directory("commit") }

    /// Marks the output complete: moves the staged files into it, writes `astropile_report.json`
    /// (with this invocation's stage timings) and removes the work folder. Checks for an interrupt
    /// first: nothing is complete until this returns.
    ///
    /// Under MPI every rank stops its heartbeat first, rank 0 commits, and the others return the
    /// report it wrote.
    public func commit<D>(_ report: RunReport<D>) throws -> RunReport<D> {
        guard let cluster else { return try commitHere(report) }
        try cluster.agree(during: "\(pipeline): commit") {
            cluster.unwatch()
            try Interruption.check()
        }
        return try cluster.fromLeader(during: "\(pipeline): commit") { try commitHere(report) }
    }

    private func commitHere<D>(_ report: RunReport<D>) throws -> RunReport<D> {
        try Interruption.check()
        var r = report
        r.stageSeconds = stageSeconds
        r.ranks = cluster?.size
        r.output = output
        let fm = FileManager.default
        do { try fm.createDirectory(atPath: folder.output, withIntermediateDirectories: true) } catch {
            throw RunError.writing(folder.output, error)
        }
        let staged = folder.file("commit")
        if let names = try? fm.contentsOfDirectory(atPath: staged) {
            for name in names.sorted() where !name.contains(".tmp-") {
                try Self.move(staged + "/" + name, to: folder.output + "/" + name)
            }
        }
        let path = Self.reportPath(output: folder.output)
        do { try AtomicFile.write(Array(try RecordCoding.encode(r)), to: path) } catch { throw RunError.writing(path, error) }
        try folder.remove()
        return r
    }

    /// Moves a file into place atomically: a rename (after an fsync), or across file systems a
    /// durable copy under a temporary name and a rename.
    static func move(_ from: String, to path: String) throws {
        do {
            try AtomicFile.fsyncPath(from)
            if rename(from, path) == 0 {
                try AtomicFile.fsyncPath(AtomicFile.directory(of: path))
                return
            }
            guard errno == EXDEV, let data = FileManager.default.contents(atPath: from) else {
                throw RunError.io("cannot move \(from) to \(path): \(String(cString: strerror(errno)))")
            }
            try AtomicFile.write(Array(data), to: path)
            unlink(from)
        } catch {
            throw RunError.writing(path, error)
        }
    }
}

/// What a work item gets from the engine.
public struct StageContext: Sendable {
    /// The stage's progress line.
    public let progress: ProgressReporter
    /// The worker running the item, in `0..<executor.workers` (for per-worker caches).
    public let worker: Int
}

/// A stage's progress line: what it counts, how many in all, and how much an item recorded by an
/// earlier invocation counts for.
public struct StageProgress<Item, Record>: Sendable {
    /// What is counted (`rows`, `input bytes`, `partitions`).
    public var unit: String
    /// The total, when known.
    public var total: Int64?
    /// How much an already recorded item counts for.
    public var doneWeight: @Sendable (Item, Record) -> Int64

    /// A progress line.
    public init(unit: String, total: Int64?, doneWeight: @escaping @Sendable (Item, Record) -> Int64) {
        self.unit = unit
        self.total = total
        self.doneWeight = doneWeight
    }
}

/// Records made by the workers, by item position.
private final class RecordSlots<Record>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Record?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Record) { lock.lock(); slots[i] = r; lock.unlock() }
    func get(_ i: Int) -> Record? { lock.lock(); defer { lock.unlock() }; return slots[i] }
}
