import Foundation
import Testing
import Formats
import Pipelines
import TestSupport

/// One stage of one pipeline, stopped after `count` recorded items.
struct StageStop: Sendable, CustomTestStringConvertible {
    var pipeline: String
    var stage: String
    var count: Int
    var testDescription: String { "\(stage):\(count)" }
}

/// How a run is stopped: a Ctrl-C (SIGINT from the engine's fault hook) or a kill -9.
enum StopKind: String, Sendable, CaseIterable {
    case interrupt = "ASTROPILE_INTERRUPT_AFTER"
    case crash = "ASTROPILE_CRASH_AFTER"
}

/// Small inputs and the uninterrupted outputs every stopped run is compared with.
final class StopFixture: Sendable {
    let dir: String
    let importArgs: [String]
    let catalog: String
    let margin: String
    let crossmatch: String
    let stamps: String
    let stampsInputs: StampsFixture
    /// 80 spec files (the fixtures replicated) and their clean spectra data set.
    let spectraFiles: String
    let spectra: String
    /// Two synthetic MMU-layout data sets and their clean pairing.
    let pairLeft: String
    let pairRight: String
    let pair: String
    /// A data set to split (copied for every run, since split updates its files) and a clean split copy.
    let splitSource: String
    let split: String

    static let shared: Result<StopFixture, any Error> = Result { try StopFixture() }
    static func get() throws -> StopFixture { try shared.get() }

    init() throws {
        dir = try TestSupport.temporaryDirectory("stops").path
        _ = try ResilienceTests.makeInputs(in: URL(fileURLWithPath: dir), files: 6, rows: 3000)
        importArgs = ["import", "--input", dir + "/part_*.csv", "--highest-order", "8", "--threshold", "1500", "--jobs", "1", "--quiet"]
        catalog = dir + "/clean_catalog"
        margin = dir + "/clean_margin"
        crossmatch = dir + "/clean_crossmatch"
        stamps = dir + "/clean_stamps"
        stampsInputs = try StampsFixture.get()
        spectraFiles = dir + "/spectra_in"
        spectra = dir + "/clean_spectra"
        pairLeft = dir + "/pair_left"
        pairRight = dir + "/pair_right"
        pair = dir + "/clean_pair"
        splitSource = dir + "/split_source"
        split = dir + "/clean_split/splits"
        let scripts = TestSupport.root.appendingPathComponent("Tests/PipelinesTests/Python").path
        try TestSupport.run(TestSupport.python, [scripts + "/spectra_replicate.py", try TestSupport.fixture("sdss-spectra"), spectraFiles, "80"])
        try TestSupport.run(TestSupport.python, [scripts + "/pair_synthetic.py", pairLeft, pairRight, "5", "8"])
        try TestSupport.run(TestSupport.python, [scripts + "/split_make.py", splitSource, "2000", "1"])
        try Self.copyDataSet(splitSource, to: dir + "/clean_split")
        for args in [importArgs + ["--output", catalog], Self.marginArgs(catalog: catalog, output: margin),
                     Self.crossmatchArgs(catalog: catalog, margin: margin, output: crossmatch),
                     Self.stampsArgs(stampsInputs, output: stamps), Self.spectraArgs(spectraFiles, output: spectra),
                     Self.pairArgs(pairLeft, pairRight, output: pair), Self.splitArgs(output: split)] {
            let r = try TestSupport.runProcess(TestSupport.executable, args)
            guard r.status == 0, !r.signaled else { throw TestSupportError("\(args.prefix(2)): \(r.stderr)") }
        }
    }

    static func marginArgs(catalog: String, output: String) -> [String] {
        ["margin", catalog, "--radius", "5arcsec", "--output", output, "--jobs", "1", "--quiet"]
    }

    static func crossmatchArgs(catalog: String, margin: String, output: String) -> [String] {
        ["crossmatch", catalog, catalog, "--radius", "5arcsec", "--min-radius", "1mas", "--all-pairs", "--margin", margin,
         "--output", output, "--jobs", "1", "--quiet"]
    }

    static func stampsArgs(_ f: StampsFixture, output: String) -> [String] {
        ["stamps", "--catalog", f.syntheticCatalog, "--frames", f.synthetic, "--size", "16", "--objects-per-file", "20",
         "--healpix-order", "9", "--output", output, "--jobs", "1", "--quiet"]
    }

    static func spectraArgs(_ files: String, output: String) -> [String] {
        ["spectra", "--files", files, "--objects-per-file", "2", "--healpix-order", "1", "--format", "both", "--output", output,
         "--jobs", "1", "--quiet"]
    }

    static func pairArgs(_ left: String, _ right: String, output: String) -> [String] {
        ["pair", left, right, "--radius", "1arcsec", "--all-pairs", "--objects-per-file", "3", "--output", output, "--jobs", "1", "--quiet"]
    }

    /// `output` is `DATASET/splits`.
    static func splitArgs(output: String) -> [String] {
        ["split", (output as NSString).deletingLastPathComponent, "--seed", "42", "--fractions", "train=0.6,val=0.2,test=0.2",
         "--jobs", "1", "--quiet"]
    }

    static func copyDataSet(_ source: String, to destination: String) throws {
        try? FileManager.default.removeItem(atPath: destination)
        try FileManager.default.copyItem(atPath: source, toPath: destination)
    }

    /// Where a stopped run of `pipeline` writes, for the test named `name`: `split` writes
    /// `DATASET/splits` into a fresh copy of the data set.
    func output(_ pipeline: String, name: String) throws -> String {
        guard pipeline == "split" else { return dir + "/" + name }
        try Self.copyDataSet(splitSource, to: dir + "/" + name)
        return dir + "/" + name + "/splits"
    }

    /// The command of `pipeline` writing `output`, and the clean output to compare with.
    func command(_ pipeline: String, output: String) -> (args: [String], clean: String) {
        switch pipeline {
        case "import": (importArgs + ["--output", output], catalog)
        case "stamps": (Self.stampsArgs(stampsInputs, output: output), stamps)
        case "spectra": (Self.spectraArgs(spectraFiles, output: output), spectra)
        case "pair": (Self.pairArgs(pairLeft, pairRight, output: output), pair)
        case "split": (Self.splitArgs(output: output), split)
        case "margin": (Self.marginArgs(catalog: catalog, output: output), margin)
        default: (Self.crossmatchArgs(catalog: catalog, margin: margin, output: output), crossmatch)
        }
    }
}

/// Every stage of every pipeline interrupted (Ctrl-C) and killed (SIGKILL) through the engine's
/// fault hooks: no output is marked complete, the exit status is the documented one, and the
/// re-run finishes to byte-identical leaves.
@Suite("Interrupt and crash every stage", .serialized)
struct InterruptMatrixTests {
    static let stops: [StageStop] = [
        StageStop(pipeline: "import", stage: "list", count: 1), StageStop(pipeline: "import", stage: "scan", count: 1),
        StageStop(pipeline: "import", stage: "plan", count: 1), StageStop(pipeline: "import", stage: "map", count: 2),
        StageStop(pipeline: "import", stage: "bin", count: 1), StageStop(pipeline: "import", stage: "reduce", count: 2),
        StageStop(pipeline: "import", stage: "finish", count: 1),
        StageStop(pipeline: "margin", stage: "margin-map", count: 2), StageStop(pipeline: "margin", stage: "margin-reduce", count: 2),
        StageStop(pipeline: "margin", stage: "margin-finish", count: 1),
        StageStop(pipeline: "crossmatch", stage: "crossmatch", count: 2),
        StageStop(pipeline: "crossmatch", stage: "crossmatch-finish", count: 1),
        StageStop(pipeline: "stamps", stage: "stamps-plan", count: 1), StageStop(pipeline: "stamps", stage: "stamps-cut", count: 2),
        StageStop(pipeline: "stamps", stage: "stamps-write", count: 1), StageStop(pipeline: "stamps", stage: "stamps-finish", count: 1),
        StageStop(pipeline: "spectra", stage: "spectra-scan", count: 1), StageStop(pipeline: "spectra", stage: "spectra-write", count: 2),
        StageStop(pipeline: "spectra", stage: "spectra-finish", count: 1),
        StageStop(pipeline: "pair", stage: "pair-plan", count: 1), StageStop(pipeline: "pair", stage: "pair-match", count: 2),
        StageStop(pipeline: "pair", stage: "pair-finish", count: 1),
        StageStop(pipeline: "split", stage: "split-assign", count: 2), StageStop(pipeline: "split", stage: "split-finish", count: 1),
    ]

    /// Pipelines whose output is a data set of HDF5 files (compared file by file), not HATS leaves.
    static let dataSetPipelines: Set<String> = ["stamps", "spectra", "pair", "split"]

    @Test(arguments: stops, StopKind.allCases)
    func aStoppedStageLeavesNothingCompleteAndResumesIdentically(_ stop: StageStop, _ kind: StopKind) throws {
        let f = try StopFixture.get()
        let out = try f.output(stop.pipeline, name: "\(stop.stage)-\(kind == .interrupt ? "int" : "kill")")
        let (args, clean) = f.command(stop.pipeline, output: out)
        let stopped = try TestSupport.runProcess(TestSupport.executable, args, environment: [kind.rawValue: "\(stop.stage):\(stop.count)"])
        switch kind {
        case .interrupt:
            #expect(!stopped.signaled && stopped.status == 130, "Ctrl-C exits 130 from every pipeline: \(stopped.status) \(stopped.stderr)")
            #expect(stopped.stderr.contains("re-run the same command"), "\(stopped.stderr)")
        case .crash:
            #expect(stopped.signaled && stopped.status == SIGKILL, "the crash hook should have killed the run: \(stopped.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/astropile_report.json"), "a stopped run is never marked complete")
        #expect(!FileManager.default.fileExists(atPath: out + "/hats.properties"), "no hats.properties before the run completes")
        #expect(!FileManager.default.fileExists(atPath: out + "/object_index.parquet"), "no data set index before the run completes")
        #expect(FileManager.default.fileExists(atPath: out + ".astropile-work"), "the work folder keeps the state")

        let resumed = try TestSupport.runProcess(TestSupport.executable, args)
        #expect(resumed.status == 0 && !resumed.signaled, "\(resumed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + ".astropile-work"))
        #expect(FileManager.default.fileExists(atPath: out + "/astropile_report.json"))
        if Self.dataSetPipelines.contains(stop.pipeline) {
            // split: the splits folder and the data set's files it updated.
            let root = { (p: String) in stop.pipeline == "split" ? (p as NSString).deletingLastPathComponent : p }
            let expected = try dataSetBytes(root(clean)), got = try dataSetBytes(root(out))
            #expect(expected.count > 3, "the fixture should have several files")
            #expect(got.keys.sorted() == expected.keys.sorted())
            #expect(got == expected, "data set files after the resume differ from an uninterrupted run's")
        } else {
            #expect(FileManager.default.fileExists(atPath: out + "/hats.properties"))
            let expected = try TestSupport.leafBytes(clean), got = try TestSupport.leafBytes(out)
            #expect(expected.count > 2, "the fixture should have several partitions")
            #expect(got.keys.sorted() == expected.keys.sorted())
            #expect(got == expected, "leaves after the resume differ from an uninterrupted run's")
            #expect(try String(contentsOfFile: out + "/partition_info.csv", encoding: .utf8)
                    == String(contentsOfFile: clean + "/partition_info.csv", encoding: .utf8))
        }

        let again = try TestSupport.runProcess(TestSupport.executable, args)
        #expect(again.status == 0, "a finished run is a no-op: \(again.stderr)")
        #expect((again.stdout + again.stderr).contains("already complete"))
    }

    /// `--output out/`: the work folder goes beside the catalog, and `out` and `out/` are one run.
    @Test(arguments: ["import", "margin", "crossmatch"])
    func aTrailingSlashKeepsTheWorkFolderBesideTheOutput(_ pipeline: String) throws {
        let f = try StopFixture.get()
        let out = f.dir + "/slash-\(pipeline)"
        let stage = ["import": "map", "margin": "margin-map", "crossmatch": "crossmatch"][pipeline] ?? "map"
        let (args, clean) = f.command(pipeline, output: out + "/")
        let stopped = try TestSupport.runProcess(TestSupport.executable, args, environment: ["ASTROPILE_INTERRUPT_AFTER": "\(stage):1"])
        #expect(stopped.status == 130, "\(stopped.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + ".astropile-work"))
        let inside = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        #expect(!inside.contains { $0.hasSuffix(".astropile-work") }, "a work folder inside the output: \(inside)")
        let (plainArgs, _) = f.command(pipeline, output: out)
        let resumed = try TestSupport.runProcess(TestSupport.executable, plainArgs)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try TestSupport.leafBytes(out) == TestSupport.leafBytes(clean))
        #expect(!FileManager.default.fileExists(atPath: out + ".astropile-work"))
    }

    /// `--tmp DIR` holds the run's own subfolder; after success DIR and what else it holds stay.
    @Test func aTmpFolderOutlivesTheRun() throws {
        let f = try StopFixture.get()
        let tmp = f.dir + "/scratch"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try "mine".write(toFile: tmp + "/keep.txt", atomically: true, encoding: .utf8)
        let out = f.dir + "/with-tmp"
        let args = f.importArgs + ["--output", out, "--tmp", tmp]
        let stopped = try TestSupport.runProcess(TestSupport.executable, args, environment: ["ASTROPILE_INTERRUPT_AFTER": "map:1"])
        #expect(stopped.status == 130)
        let during = try FileManager.default.contentsOfDirectory(atPath: tmp)
        #expect(during.contains { $0.hasPrefix("with-tmp-") && $0.hasSuffix(".astropile-work") }, "\(during)")
        #expect(!FileManager.default.fileExists(atPath: out + ".astropile-work"))
        let done = try TestSupport.runProcess(TestSupport.executable, args)
        #expect(done.status == 0, "\(done.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp) == ["keep.txt"], "--tmp itself and its other files stay")
        #expect(try TestSupport.leafBytes(out) == TestSupport.leafBytes(f.catalog))
    }

    /// A stopped run with other settings is not silently mixed with new ones.
    @Test func aStoppedRunWithOtherSettingsIsAConflict() throws {
        let f = try StopFixture.get()
        let out = f.dir + "/other-settings"
        let stopped = try TestSupport.runProcess(TestSupport.executable, f.importArgs + ["--output", out],
                                                 environment: ["ASTROPILE_INTERRUPT_AFTER": "map:1"])
        #expect(stopped.status == 130)
        let other = try TestSupport.runProcess(TestSupport.executable, f.importArgs + ["--output", out, "--columns", "id"])
        #expect(other.status == 1 && other.stderr.contains("other settings"), "\(other.stderr)")
        let resumed = try TestSupport.runProcess(TestSupport.executable, f.importArgs + ["--output", out])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }
}
