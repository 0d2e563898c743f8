import Foundation
import Testing
import TestSupport
@testable import RunEngine

/// A two-stage pipeline for exercising the engine.
enum ToyStage: String, RunStage {
    case first = "toy-first"
    case second = "toy-second"
    case finish = "toy-finish"
}

struct ToyRecord: Codable, Sendable, Hashable { var value: Int }

/// Counts calls from worker threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int] = []
    func add(_ i: Int) { lock.lock(); items.append(i); lock.unlock() }
    var all: [Int] { lock.lock(); defer { lock.unlock() }; return items }
}

@Suite struct WorkFolderTests {
    @Test func oneIdentityForEverySpellingOfTheOutput() throws {
        let dir = try TestSupport.temporaryDirectory("wf").path
        let cwd = FileManager.default.currentDirectoryPath
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        let spellings = [dir + "/out", dir + "/out/", dir + "//out//", dir + "/x/../out", dir + "/./out"]
        let folders = try spellings.map { try WorkFolder(output: $0) }
        let canonical = try WorkFolder.canonicalPath(dir + "/out")
        for f in folders {
            #expect(f.output == canonical)
            #expect(f.path == canonical + ".astropile-work", "the work folder sits beside the output, never inside it")
        }
    }

    @Test func tmpHoldsAFolderNamedForTheOutput() throws {
        let dir = try TestSupport.temporaryDirectory("wf-tmp").path
        let a = try WorkFolder(output: dir + "/a", parent: dir + "/scratch")
        let b = try WorkFolder(output: dir + "/b", parent: dir + "/scratch")
        let a2 = try WorkFolder(output: dir + "/a/", parent: dir + "/scratch/")
        #expect(a.path.hasPrefix(try WorkFolder.canonicalPath(dir + "/scratch") + "/a-"))
        #expect(a.path.hasSuffix(".astropile-work"))
        #expect(a.path != b.path, "two outputs never share a work folder")
        #expect(a.path == a2.path)
    }

    @Test(arguments: ["", "   ", "/", "//", "/.."])
    func unusableOutputsAreConfigurationErrors(_ output: String) {
        #expect(throws: RunError.self) { _ = try WorkFolder(output: output) }
    }

    @Test func aTmpInsideTheOutputIsRefused() throws {
        let dir = try TestSupport.temporaryDirectory("wf-in").path
        #expect(throws: RunError.self) { _ = try WorkFolder(output: dir + "/cat", parent: dir + "/cat/tmp") }
    }

    @Test func symbolicLinksInTheParentResolve() throws {
        let dir = try TestSupport.temporaryDirectory("wf-link").path
        try FileManager.default.createDirectory(atPath: dir + "/real", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/real")
        #expect(try WorkFolder(output: dir + "/link/out").output == (try WorkFolder(output: dir + "/real/out").output))
    }
}

@Suite struct CompletionStoreTests {
    @Test func recordsRoundTripAndAreForgotten() throws {
        let dir = try TestSupport.temporaryDirectory("store").path
        let store = FileCompletionStore(root: dir + "/w")
        #expect(try store.identity() == nil)
        let id = RunIdentity(pipeline: "toy", output: "/x", configHash: "abc", stageKeys: ["toy-first": "k"])
        try store.setIdentity(id)
        #expect(try store.identity() == id)
        let keys = ["0", "3-45", "a/b", ".hidden", "ünïcode key", "%", ""]
        for (i, k) in keys.enumerated() { try store.save(Data("\(i)".utf8), stage: "s", key: k) }
        #expect(try store.keys(stage: "s") == Set(keys))
        for (i, k) in keys.enumerated() { #expect(try store.load(stage: "s", key: k) == Data("\(i)".utf8)) }
        try store.remove(stage: "s", key: "a/b")
        #expect(try store.load(stage: "s", key: "a/b") == nil)
        #expect(try store.keys(stage: "s").count == keys.count - 1)
        try store.clear(stage: "s")
        #expect(try store.keys(stage: "s").isEmpty)
        // Nothing escapes the store's folder, whatever the key.
        let files = FileManager.default.enumerator(atPath: dir)!.compactMap { $0 as? String }
        #expect(files.allSatisfy { $0.hasPrefix("w") })
    }

    @Test func aDamagedIdentityIsAnErrorNotATrap() throws {
        let dir = try TestSupport.temporaryDirectory("store-bad").path
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: dir + "/run.json"))
        #expect(throws: RunError.self) { _ = try FileCompletionStore(root: dir).identity() }
    }
}

@Suite struct ExecutorTests {
    @Test(arguments: [1, 2, 7])
    func everyItemRunsOnce(workers: Int) throws {
        let seen = Counter()
        try ThreadExecutor(workers: workers).run(count: 500) { i, w in
            #expect(w >= 0 && w < workers)
            seen.add(i)
        }
        #expect(seen.all.sorted() == Array(0..<500))
    }

    @Test func theFirstErrorStopsTheHandOutAndIsThrown() {
        struct Boom: Error {}
        let seen = Counter()
        #expect(throws: Boom.self) {
            try ThreadExecutor(workers: 1).run(count: 100) { i, _ in
                seen.add(i)
                if i == 3 { throw Boom() }
            }
        }
        #expect(seen.all == [0, 1, 2, 3], "no item is handed out after the first error")
    }

    @Test func absurdWorkerCountsAreBounded() {
        #expect(ThreadExecutor(workers: 0).workers == 1)
        #expect(ThreadExecutor(workers: 1 << 40).workers == ThreadExecutor.maximumWorkers)
        #expect(RunOptions.problem(jobs: 0) != nil)
        #expect(RunOptions.problem(jobs: 100_000) != nil)
        #expect(RunOptions.problem(jobs: 8) == nil)
    }
}

@Suite struct RunTests {
    static func begin(_ output: String, hash: String = "h1", keys: [ToyStage: String] = [:], tmp: String? = nil) throws -> Run.Start<NoDetails> {
        try Run.begin(pipeline: "toy", output: output, configHash: hash, stages: ToyStage.self, stageKeys: keys,
                      options: RunOptions(jobs: 2, tmp: tmp, progress: false), details: NoDetails.self)
    }

    static func started(_ start: Run.Start<NoDetails>) throws -> Run {
        guard case .started(let run) = start else { throw TestSupportError("expected a run to do") }
        return run
    }

    static func report(_ run: Run) -> RunReport<NoDetails> {
        RunReport(pipeline: "toy", output: run.output, configHash: run.configHash, inputs: 3,
                  counts: RunCounts(unit: "things", read: 3, written: 3), details: NoDetails())
    }

    @Test func recordedItemsAreNotDoneAgainAndTheCommitMarksTheOutputComplete() throws {
        let dir = try TestSupport.temporaryDirectory("run").path
        let out = dir + "/out"
        let calls = Counter()
        var run = try Self.started(try Self.begin(out))
        #expect(!run.resumed)
        let first = try run.stage(ToyStage.first, items: [10, 20, 30], key: { "\($0)" }) { item, _ in
            calls.add(item)
            return ToyRecord(value: item * 2)
        }
        #expect(first.map(\.value) == [20, 40, 60])
        // A second invocation (as after a crash before the next stage) loads the records.
        run = try Self.started(try Self.begin(out))
        #expect(run.resumed)
        let again = try run.stage(ToyStage.first, items: [10, 20, 30, 40], key: { "\($0)" }) { item, _ in
            calls.add(item)
            return ToyRecord(value: item * 2)
        }
        #expect(again.map(\.value) == [20, 40, 60, 80])
        #expect(calls.all.sorted() == [10, 20, 30, 40], "only the new item ran again")
        #expect(!FileManager.default.fileExists(atPath: Run.reportPath(output: run.folder.output)), "nothing is complete before the commit")
        let staged = try run.stagingDirectory()
        try "marker".write(toFile: staged + "/hats.properties", atomically: true, encoding: .utf8)
        let committed = try run.commit(Self.report(run))
        #expect(committed.status == .complete)
        #expect(FileManager.default.fileExists(atPath: out + "/hats.properties"), "staged files move into the output")
        #expect(FileManager.default.fileExists(atPath: out + "/astropile_report.json"))
        #expect(!FileManager.default.fileExists(atPath: out + ".astropile-work"), "the work folder is removed after success")
        // Complete: a third invocation does nothing.
        guard case .complete(let done) = try Self.begin(out) else { Issue.record("expected complete"); return }
        #expect(done.configHash == "h1" && done.counts.written == 3)
        // Other settings on a complete output: a conflict, not an overwrite.
        #expect(throws: RunError.self) { _ = try Self.begin(out, hash: "h2") }
    }

    @Test func priorityOrdersTheWork() throws {
        let dir = try TestSupport.temporaryDirectory("run-prio").path
        let run = try Run.begin(pipeline: "toy", output: dir + "/o", configHash: "h", stages: ToyStage.self,
                                options: RunOptions(progress: false, executor: ThreadExecutor(workers: 1)), details: NoDetails.self)
        guard case .started(let r) = run else { Issue.record("expected a run"); return }
        let order = Counter()
        let records = try r.stage(ToyStage.first, items: [3, 9, 1, 9, 5], key: { _ in UUID().uuidString },
                                  priority: { Int64($0) }) { item, _ in
            order.add(item)
            return ToyRecord(value: item)
        }
        #expect(order.all == [9, 9, 5, 3, 1])
        #expect(records.map(\.value) == [3, 9, 1, 9, 5], "records come back in item order")
    }

    @Test func changedSettingsKeepOnlyTheLeadingStagesWithUnchangedKeys() throws {
        let dir = try TestSupport.temporaryDirectory("run-keys").path
        let out = dir + "/o"
        let run = try Self.started(try Self.begin(out, hash: "a", keys: [.first: "map-1"]))
        _ = try run.stage(ToyStage.first, items: [1], key: { "\($0)" }) { _, _ in ToyRecord(value: 1) }
        _ = try run.step(ToyStage.second) { ToyRecord(value: 2) }
        let changed = try Self.started(try Self.begin(out, hash: "b", keys: [.first: "map-1"]))
        #expect(changed.invalidatedStages == ["toy-second", "toy-finish"])
        #expect(try changed.store.keys(stage: "toy-first") == ["1"])
        #expect(try changed.store.keys(stage: "toy-second").isEmpty)
        // Nothing can be kept: a conflict naming the work folder.
        #expect(throws: RunError.self) { _ = try Self.begin(out, hash: "c", keys: [.first: "map-2"]) }
    }

    @Test func aNonEmptyOutputWithoutAWorkFolderIsNotOverwritten() throws {
        let dir = try TestSupport.temporaryDirectory("run-busy").path
        try FileManager.default.createDirectory(atPath: dir + "/o", withIntermediateDirectories: true)
        try "mine".write(toFile: dir + "/o/notes.txt", atomically: true, encoding: .utf8)
        #expect(throws: RunError.self) { _ = try Self.begin(dir + "/o") }
        #expect(FileManager.default.fileExists(atPath: dir + "/o/notes.txt"))
        try "x".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
        #expect(throws: RunError.self) { _ = try Self.begin(dir + "/file") }
    }

    @Test func aSharedTmpFolderIsLeftAloneAfterSuccess() throws {
        let dir = try TestSupport.temporaryDirectory("run-tmp").path
        try FileManager.default.createDirectory(atPath: dir + "/scratch", withIntermediateDirectories: true)
        try "keep".write(toFile: dir + "/scratch/keep.txt", atomically: true, encoding: .utf8)
        let run = try Self.started(try Self.begin(dir + "/o", tmp: dir + "/scratch"))
        #expect(run.folder.path.hasPrefix(try WorkFolder.canonicalPath(dir + "/scratch") + "/"))
        _ = try run.commit(Self.report(run))
        #expect(FileManager.default.fileExists(atPath: dir + "/scratch/keep.txt"), "only the run's own folder in --tmp is removed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/scratch") == ["keep.txt"])
    }

    @Test func aWorkFolderOfAnotherOutputIsNotUsed() throws {
        let dir = try TestSupport.temporaryDirectory("run-other").path
        let run = try Self.started(try Self.begin(dir + "/o"))
        // Pretend the folder belongs to another output (a copied work folder).
        try run.store.setIdentity(RunIdentity(pipeline: "toy", output: "/elsewhere", configHash: "h1"))
        #expect(throws: RunError.self) { _ = try Self.begin(dir + "/o") }
    }

    @Test func aFailedItemLeavesNoRecord() throws {
        struct Boom: Error {}
        let dir = try TestSupport.temporaryDirectory("run-fail").path
        let run = try Self.started(try Self.begin(dir + "/o"))
        #expect(throws: Boom.self) {
            _ = try run.stage(ToyStage.first, items: [1, 2], key: { "\($0)" }) { item, _ in
                if item == 2 { throw Boom() }
                return ToyRecord(value: item)
            }
        }
        #expect(!(try run.store.keys(stage: "toy-first").contains("2")))
    }
}

@Suite struct ExitStatusAndSizesTests {
    @Test func oneMappingFromOutcomesToCodes() {
        #expect(ExitStatus(RunStatus.complete) == .success)
        #expect(ExitStatus(RunStatus.completeWithRejections).rawValue == 3)
        #expect(ExitStatus(error: RunError.interrupted).rawValue == 130)
        #expect(ExitStatus(error: RunError.configuration("x")).rawValue == 2)
        #expect(ExitStatus(error: RunError.diskFull(path: "/x", message: "full")).rawValue == 1)
        struct Unknown: Error {}
        #expect(ExitStatus(error: Unknown()).rawValue == 1)
    }

    @Test(arguments: [("4GiB", Int64(4) << 30), ("512MiB", 512 << 20), ("1GB", 1_000_000_000), ("800M", 800 << 20),
                      ("1000000", 1_000_000), ("1.5KiB", 1536), ("16MiB", 16 << 20)])
    func sizes(_ text: String, _ bytes: Int64) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["99999999999GiB", "1e400", "-5MiB", "abc", "", "5 parsecs", "nanGiB", "١٢MiB", "99999999999999999999"])
    func absurdSizesAreRefused(_ text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    @Test func canonicalHashesAreFNV1a() {
        #expect(CanonicalHash.fnv1a("") == "cbf29ce484222325")
        #expect(CanonicalHash.fnv1a("a") == "af63dc4c8601ec8c")
        struct A: Codable { var b = 1; var a = "x" }
        #expect(CanonicalHash.json(A()) == #"{"a":"x","b":1}"#, "keys sorted")
    }
}
