import Foundation
import Testing
import Formats
import Pipelines
import RunEngine
import TestSupport

/// Kill-and-resume and corrupt inputs, through the real `astropile` executable.
@Suite(.serialized) struct ResilienceTests {
    static var executable: String { TestSupport.root.appendingPathComponent(".build/debug/astropile").path }

    /// Writes `files` CSVs of `rows` rows each, with a few clusters.
    static func makeInputs(in dir: URL, files: Int, rows: Int) throws -> [String] {
        var generator = SplitMix64(seed: 42)
        var paths: [String] = []
        var id = 0
        for f in 0..<files {
            var text = "id,ra,dec,mag\n"
            for _ in 0..<rows {
                let cluster = generator.next() % 3 == 0
                let ra = cluster ? 10 + generator.unit() : generator.unit() * 360
                let dec = cluster ? -5 + generator.unit() : generator.unit() * 180 - 90
                text += "\(id),\(ra),\(dec),\(generator.unit() * 10 + 15)\n"
                id += 1
            }
            let p = dir.appendingPathComponent(String(format: "part_%03d.csv", f)).path
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            paths.append(p)
        }
        return paths
    }

    static func leafBytes(_ root: String) throws -> [String: Data] { try TestSupport.leafBytes(root) }

    @Test(arguments: ["map:3", "reduce:4"])
    func sigkillThenResumeGivesIdenticalLeaves(crashPoint: String) throws {
        let dir = try TestSupport.temporaryDirectory("resume")
        let inputs = try Self.makeInputs(in: dir, files: 8, rows: 3000)
        let args = ["import", "--input", dir.path + "/part_*.csv", "--highest-order", "8", "--threshold", "1500", "--jobs", "1", "--quiet"]
        let clean = dir.appendingPathComponent("clean").path
        let r0 = try TestSupport.runStatus(Self.executable, args + ["--output", clean])
        #expect(r0.status == 0, "\(r0.stderr)")

        let resumed = dir.appendingPathComponent("resumed").path
        let r1 = try TestSupport.runStatus(Self.executable, args + ["--output", resumed], environment: ["ASTROPILE_CRASH_AFTER": crashPoint])
        #expect(r1.status != 0, "the crash hook did not fire")
        #expect(FileManager.default.fileExists(atPath: resumed + ".astropile-work"))
        // Nothing partial at a final path: every leaf present parses.
        for (name, _) in try Self.leafBytes(resumed) {
            #expect(throws: Never.self) { _ = try ParquetFileReader.info(path: resumed + "/dataset/" + name) }
        }
        let r2 = try TestSupport.runStatus(Self.executable, args + ["--output", resumed])
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(!FileManager.default.fileExists(atPath: resumed + ".astropile-work"))
        let stray = FileManager.default.enumerator(atPath: resumed)!.compactMap { $0 as? String }.filter { $0.contains(".tmp-") }
        #expect(stray.isEmpty, "temporary files left in the catalog: \(stray)")
        let a = try Self.leafBytes(clean), b = try Self.leafBytes(resumed)
        #expect(a.count > 1)
        #expect(a == b, "resumed leaves differ from an uninterrupted run's")
        #expect(inputs.count == 8)

        let r3 = try TestSupport.runStatus(Self.executable, args + ["--output", resumed])
        #expect(r3.status == 0)
        #expect(r3.stderr.contains("nothing to do"))
    }

    /// Spill runs are written without fsync; a run damaged by a power cut (simulated: truncated)
    /// is noticed on resume and its input mapped again.
    @Test func damagedSpillRunIsRemappedOnResume() throws {
        let dir = try TestSupport.temporaryDirectory("damaged")
        _ = try Self.makeInputs(in: dir, files: 5, rows: 2000)
        let args = ["import", "--input", dir.path + "/part_*.csv", "--highest-order", "7", "--threshold", "1500", "--jobs", "1", "--quiet"]
        let clean = dir.appendingPathComponent("clean").path
        #expect(try TestSupport.runStatus(Self.executable, args + ["--output", clean]).status == 0)
        let out = dir.appendingPathComponent("cat").path
        let r1 = try TestSupport.runStatus(Self.executable, args + ["--output", out], environment: ["ASTROPILE_CRASH_AFTER": "map:4"])
        #expect(r1.status != 0)
        let runs = try FileManager.default.contentsOfDirectory(atPath: out + ".astropile-work/runs").filter { $0.hasSuffix(".arrow") }.sorted()
        let victim = try #require(runs.first)
        let path = out + ".astropile-work/runs/" + victim
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        let r2 = try TestSupport.runStatus(Self.executable, args + ["--output", out])
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(try Self.leafBytes(clean) == (try Self.leafBytes(out)))
    }

    @Test func corruptInputsAreRejectedAndListed() throws {
        let dir = try TestSupport.temporaryDirectory("corrupt")
        let good = try Self.makeInputs(in: dir, files: 3, rows: 500)
        // A CSV with one short row and one row with bad coordinates.
        try "id,ra,dec,mag\n9000001,10.0,20.0,15\n9000002,11.0\n9000003,12.0,95.0,15\n9000004,nan,1.0,15\n"
            .write(toFile: dir.path + "/part_900.csv", atomically: true, encoding: .utf8)
        // A corrupt gzip stream.
        let gzPath = dir.path + "/part_901.csv.gz"
        var gz = Data([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03])
        gz.append(Data((0..<400).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
        try gz.write(to: URL(fileURLWithPath: gzPath))
        // A truncated Parquet file, made from a good one.
        let pq = dir.path + "/good.parquet"
        try TestSupport.runPython("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({"id": [1, 2, 3], "ra": [1.0, 2.0, 3.0], "dec": [1.0, 2.0, 3.0], "mag": [1.0, 2.0, 3.0]}), sys.argv[1])
            data = open(sys.argv[1], "rb").read()
            open(sys.argv[2], "wb").write(data[: len(data) // 2])
            """, arguments: [pq, dir.path + "/part_902.parquet"])
        try FileManager.default.removeItem(atPath: pq)
        // A FITS file with a broken header.
        try Data(repeating: 0x41, count: 2880).write(to: URL(fileURLWithPath: dir.path + "/part_903.fits"))

        let out = dir.appendingPathComponent("cat").path
        let r = try TestSupport.runStatus(Self.executable, ["import", "--input", dir.path + "/part_*", "--output", out,
                                                            "--highest-order", "4", "--quiet"])
        #expect(r.status == 3, "\(r.stderr)")
        let report = try JSONDecoder().decode(ImportReport.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/astropile_report.json")))
        let rejectedNames = Set(report.rejectedInputs.map { URL(fileURLWithPath: $0.input).lastPathComponent })
        #expect(rejectedNames == ["part_901.csv.gz", "part_902.parquet", "part_903.fits"])
        #expect(report.counts.rejected == 3)
        #expect(report.rejectedRecords.contains { $0.position == "line 3" && $0.input.hasSuffix("part_900.csv") })
        #expect(report.counts.written == Int64(good.count * 500 + 1))
        #expect(report.counts.read == report.counts.written + report.counts.rejected)
        #expect(r.stderr.contains("part_902.parquet"))
    }
}

/// Ctrl-C, `--config` YAML and `astropile info`, through the executable.
@Suite(.serialized) struct CommandLineTests {
    @Test func ctrlCStopsCleanlyAndTheRunResumes() throws {
        let dir = try TestSupport.temporaryDirectory("sigint")
        _ = try ResilienceTests.makeInputs(in: dir, files: 6, rows: 2000)
        let out = dir.appendingPathComponent("cat").path
        let args = ["import", "--input", dir.path + "/part_*.csv", "--output", out, "--highest-order", "7", "--threshold", "1500",
                    "--jobs", "1", "--quiet"]
        let r1 = try TestSupport.runStatus(ResilienceTests.executable, args, environment: ["ASTROPILE_INTERRUPT_AFTER": "map:2"])
        #expect(r1.status == 130, "\(r1.stderr)")
        #expect(r1.stderr.contains("re-run the same command"))
        #expect(FileManager.default.fileExists(atPath: out + ".astropile-work/records/map/1.json"))
        #expect(!FileManager.default.fileExists(atPath: out + "/hats.properties"))
        let r2 = try TestSupport.runStatus(ResilienceTests.executable, args)
        #expect(r2.status == 0, "\(r2.stderr)")
        let report = try JSONDecoder().decode(ImportReport.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/astropile_report.json")))
        #expect(report.counts.written == 12_000)
    }

    /// The pause hook the timing-free tests stop runs with: the run waits right after its second
    /// map record (two records, no third) with a marker naming the point, until the resume file
    /// exists; it then finishes as if never paused.
    @Test func thePauseHookHoldsARunAtItsPointUntilResumed() throws {
        let dir = try TestSupport.temporaryDirectory("pause")
        _ = try ResilienceTests.makeInputs(in: dir, files: 6, rows: 2000)
        let out = dir.appendingPathComponent("cat").path
        let pauses = dir.appendingPathComponent("pauses").path
        try FileManager.default.createDirectory(atPath: pauses, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ResilienceTests.executable)
        p.arguments = ["import", "--input", dir.path + "/part_*.csv", "--output", out, "--highest-order", "7", "--threshold", "1500",
                       "--jobs", "1", "--quiet"]
        p.environment = ProcessInfo.processInfo.environment.merging(["ASTROPILE_PAUSE_AFTER": "map:2", "ASTROPILE_PAUSE_FOLDER": pauses]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let marker = pauses + "/" + FaultHooks.pausedMarkerName(pid: p.processIdentifier)
        let resume = pauses + "/" + FaultHooks.resumeFileName
        let end = ContinuousClock.now + .seconds(120)
        while !FileManager.default.fileExists(atPath: marker), p.isRunning, ContinuousClock.now < end { usleep(20_000) }
        let paused = FileManager.default.fileExists(atPath: marker)
        #expect(paused, "no pause marker in \(pauses)")
        if paused {
            #expect(try String(contentsOfFile: marker, encoding: .utf8) == "map:2\n")
            let records = try FileManager.default.contentsOfDirectory(atPath: out + ".astropile-work/records/map")
                .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            #expect(records.count == 2, "paused right after the second map record: \(records)")
            #expect(p.isRunning, "a paused run waits for the resume file")
            #expect(!FileManager.default.fileExists(atPath: out + "/hats.properties"))
        }
        FileManager.default.createFile(atPath: resume, contents: Data())
        p.waitUntilExit()
        #expect(p.terminationStatus == 0 && p.terminationReason == .exit)
        let report = try JSONDecoder().decode(ImportReport.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/astropile_report.json")))
        #expect(report.counts.written == 12_000)
    }

    @Test func yamlConfigAndInfo() throws {
        let dir = try TestSupport.temporaryDirectory("yaml")
        let input = try TestSupport.fixture("hats-import/small_sky_source/small_sky_source.csv")
        let out = dir.appendingPathComponent("sources").path
        let yaml = """
            inputs: [\(input)]
            output: \(out)
            ra: source_ra
            dec: source_dec
            highestOrder: 2
            threshold: 3000
            dropEmptySiblings: false
            catalogType: source
            """
        try yaml.write(toFile: dir.path + "/import.yaml", atomically: true, encoding: .utf8)
        let r = try TestSupport.runStatus(ResilienceTests.executable, ["import", "--config", dir.path + "/import.yaml", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try ImportHarness.partitions(out).count == 14)
        let info = try TestSupport.run(ResilienceTests.executable, ["info", out])
        #expect(info.contains("rows      17161"))
        #expect(info.contains("order 1: "))
        #expect(info.contains("source_ra: double"))
        let props = try String(contentsOfFile: out + "/hats.properties", encoding: .utf8)
        #expect(props.contains("dataproduct_type=source"))
        #expect(props.contains("hats_max_rows=3000"))
        #expect(props.contains("astropile_config_hash="))
    }
}
