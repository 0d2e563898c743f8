import Foundation
import Testing
import Formats
import Pipelines
import RunEngine
import TestSupport

/// Hostile inputs of `alerts ingest`: each is rejected with a message naming the file and what is
/// wrong, the good inputs of the run reach the lake, and nothing crashes — not on a re-run either.
@Suite("Hostile alert inputs")
struct AlertsHostileTests {
    /// Files named like tarballs that libarchive cannot open (its format detection fails): each is
    /// quarantined with libarchive's message, the good tarballs of the run reach the lake (exit 3),
    /// and a re-run does the same without crashing (the failed open used to free libarchive's
    /// handle twice: a segfault on every run, and no archive of the run reached the lake).
    @Test func archivesLibarchiveCannotOpenAreQuarantinedAndTheRestReachTheLake() throws {
        let f = try AlertsFixture.get()
        let dir = try TestSupport.temporaryDirectory("alerts-unopenable").path
        let inputs = dir + "/in"
        try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
        for a in try f.tarballs(f.nightly) {
            try FileManager.default.copyItem(atPath: a, toPath: inputs + "/" + (a as NSString).lastPathComponent)
        }
        let bad: [String: Data] = [
            "ztf_public_20300101.tar.gz": Data(),
            "ztf_public_20300102.tar.gz": Data("ab".utf8),
            "ztf_public_20300103.tar.gz": Data("this is a text file, not a tarball\n".utf8),
        ]
        for (name, bytes) in bad { try bytes.write(to: URL(fileURLWithPath: inputs + "/" + name)) }
        let lake = dir + "/lake"
        for attempt in 1...2 {
            let run = try f.astropile(["alerts", "ingest", inputs, "--output", lake])
            #expect(!run.signaled, "run \(attempt) crashed (signal \(run.status)): \(run.stderr.suffix(800))")
            #expect(run.status == 3, "run \(attempt): \(run.stderr.suffix(800))")
            for name in bad.keys.sorted() {
                #expect(run.stderr.contains("\(name): quarantined: not a readable tar archive: Unrecognized archive format"),
                        "run \(attempt), \(name): \(run.stderr.suffix(800))")
            }
            let s = try AlertsFixture.status(lake)
            #expect(s["alerts"] as? Int == f.avro.count, "run \(attempt): the good tarballs' alerts are in the lake: \(s)")
            let quarantined = (s["quarantined"] as? [[String: Any]] ?? []).compactMap { ($0["path"] as? String).map { ($0 as NSString).lastPathComponent } }
            #expect(quarantined.sorted() == bad.keys.sorted(), "run \(attempt): \(s)")
        }
        for (name, bytes) in bad {
            #expect(FileManager.default.contents(atPath: inputs + "/" + name) == bytes, "\(name) is never changed or deleted")
        }
    }

    /// Writes ARGV[1]/nulls.avro (an array of 2^62 nulls), ARGV[1]/empty-rows.avro (a block of
    /// 2^62 datums of a record without fields) and ARGV[1]/bomb.avro (a deflate block of 1 GiB).
    static let hostileAvro = TestSupport.avroPythonPrelude + """
        def avro(path, schema, codec, blocks):
            sync = bytes(range(16))
            out = b"Obj\\x01" + long(2) + string(b"avro.schema") + string(schema) + string(b"avro.codec") + string(codec) + long(0) + sync
            for count, data in blocks:
                out += long(count) + long(len(data)) + data + sync
            open(path, "wb").write(out)
        out = sys.argv[1]
        avro(out + "/nulls.avro", b'{"type": "record", "name": "alert", "fields": [{"name": "prv_candidates", "type": {"type": "array", "items": "null"}}]}',
             b"null", [(1, long(1 << 62) + long(0))])
        avro(out + "/empty-rows.avro", b'{"type": "record", "name": "alert", "fields": []}', b"null", [(1 << 62, b"")])
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = c.compress(b"\\0" * (1 << 24)) + c.flush(zlib.Z_FULL_FLUSH)
        avro(out + "/bomb.avro", b'{"type": "record", "name": "alert", "fields": [{"name": "candid", "type": "long"}]}',
             b"deflate", [(1, chunk * 64 + c.flush())])
        """

    /// Counts of items that take no bytes and a block that inflates to 1 GiB: each file is
    /// rejected quickly with a message naming it (and the block), not decoded into memory; the
    /// good alert of the run is in the lake.
    @Test func avroCountsAndInflationAreBoundedInAnIngest() throws {
        let f = try AlertsFixture.get()
        let dir = try TestSupport.temporaryDirectory("alerts-bounded").path
        let inputs = dir + "/in"
        try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
        try TestSupport.runPython(Self.hostileAvro, arguments: [inputs])
        try FileManager.default.copyItem(atPath: f.avro[0], toPath: inputs + "/" + (f.avro[0] as NSString).lastPathComponent)
        let lake = dir + "/lake"
        let started = ContinuousClock.now
        let run = try f.astropile(["alerts", "ingest", inputs, "--output", lake, "--jobs", "1"])
        #expect(ContinuousClock.now - started < .seconds(120), "the bounds are checked before decoding or inflating")
        #expect(!run.signaled, "signal \(run.status): \(run.stderr.suffix(800))")
        #expect(run.status == 3, "\(run.stderr.suffix(800))")
        #expect(run.stderr.contains("nulls.avro: alert 0 of block 0 does not decode: a count of 4611686018427387904 items that take no bytes"),
                "\(run.stderr)")
        #expect(run.stderr.contains("empty-rows.avro, block 0: the block's count of alerts does not fit it: a count of 4611686018427387904 items that take no bytes"),
                "\(run.stderr)")
        #expect(run.stderr.contains("bomb.avro, block 0: the block inflates to more than 256 MiB"), "\(run.stderr)")
        let s = try AlertsFixture.status(lake)
        #expect(s["alerts"] as? Int == 1 && s["membersRejected"] as? Int == 3, "\(s)")
    }

    /// `--output` onto an existing file: a clear error (as `import --output` onto a file says
    /// it, exit 1), not Foundation's `NSCocoaErrorDomain Code=516`; the file is left as it was.
    @Test func ingestOntoAFileIsAClearError() throws {
        let f = try AlertsFixture.get()
        let dir = try TestSupport.temporaryDirectory("alerts-onto-file").path
        let file = dir + "/lake"
        try "not a lake\n".write(toFile: file, atomically: true, encoding: .utf8)
        let run = try f.astropile(["alerts", "ingest", f.avro[0], "--output", file])
        #expect(!run.signaled && run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("exists and is not a folder, so not an alert lake; choose another --output"), "\(run.stderr)")
        #expect(!run.stderr.contains("NSCocoaErrorDomain"), "\(run.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "not a lake\n")
        // The same words as import's.
        let csv = dir + "/in.csv"
        try "id,ra,dec\n1,10.0,20.0\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let imported = try TestSupport.runProcess(TestSupport.executable, ["import", "--input", csv, "--output", file, "--quiet"])
        #expect(imported.status == run.status && imported.stderr.contains("exists and is not a folder"), "\(imported.stderr)")
    }
}

/// CSV lines longer than Arrow's block: `import --csv-block-size` raises the block, and the error
/// for a line that does not fit names the file and the option.
@Suite("Hostile CSV lines")
struct HostileCSVLineTests {
    /// A CSV of `before` short rows, one row whose `note` is `long` bytes, one short row.
    static func csv(_ path: String, long: Int, before: Int) throws {
        var text = "id,ra,dec,note\n"
        for i in 0..<before { text += "\(i),\(10 + Double(i) / 100),20.5,short\n" }
        text += "\(before),11.0,21.0,\(String(repeating: "x", count: long))\n"
        text += "\(before + 1),12.0,22.0,short\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func report(_ output: String) throws -> ImportReport {
        try JSONDecoder().decode(ImportReport.self, from: Data(contentsOf: URL(fileURLWithPath: output + "/astropile_report.json")))
    }

    @Test func aLineLongerThanTheBlockNamesTheFileAndTheOption() throws {
        let dir = try TestSupport.temporaryDirectory("csv-long-line").path
        let good = dir + "/good.csv", long = dir + "/long.csv"
        try "id,ra,dec,note\n1,10.0,20.0,a\n2,10.1,20.1,b\n3,10.2,20.2,c\n".write(toFile: good, atomically: true, encoding: .utf8)
        try Self.csv(long, long: 3 << 20, before: 100)
        let small = try TestSupport.runProcess(TestSupport.executable, ["import", "--input", good + "," + long, "--output", dir + "/small",
                                                                       "--csv-block-size", "1MiB", "--quiet"])
        #expect(!small.signaled && small.status == 3, "\(small.stderr)")
        #expect(small.stderr.contains("long.csv: a line is longer than the CSV block size (1 MiB); raise it with --csv-block-size"), "\(small.stderr)")
        let rejected = try Self.report(dir + "/small")
        #expect(rejected.rejectedInputs.map { ($0.input as NSString).lastPathComponent } == ["long.csv"], "\(rejected.rejectedInputs)")
        #expect(rejected.counts.written == 3)
        // A block that holds the line reads every row.
        let large = try TestSupport.runProcess(TestSupport.executable, ["import", "--input", good + "," + long, "--output", dir + "/large",
                                                                       "--csv-block-size", "8MiB", "--quiet"])
        #expect(large.status == 0, "\(large.stderr)")
        #expect(try Self.report(dir + "/large").counts.written == 3 + 102)
    }

    /// A first line too long for the planner's 2 MiB sample (Arrow reads a line of up to twice
    /// the block) but within the block (16 MiB by default) is read: the schema is then taken from
    /// a whole block, as the map reads the file.
    @Test func aLongFirstLineWithinTheBlockIsRead() throws {
        let dir = try TestSupport.temporaryDirectory("csv-long-first").path
        let path = dir + "/first.csv"
        try Self.csv(path, long: 6 << 20, before: 0)
        let run = try TestSupport.runProcess(TestSupport.executable, ["import", "--input", path, "--output", dir + "/cat", "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.report(dir + "/cat").counts.written == 2)
    }

    @Test(arguments: ["0", "2GiB", "-1MiB", "lots"])
    func anAbsurdBlockSizeIsAUsageError(_ value: String) throws {
        let dir = try TestSupport.temporaryDirectory("csv-block-absurd").path
        try "id,ra,dec\n1,10.0,20.0\n".write(toFile: dir + "/in.csv", atomically: true, encoding: .utf8)
        let r = try TestSupport.runProcess(TestSupport.executable, ["import", "--input", dir + "/in.csv", "--output", dir + "/out",
                                                                   "--csv-block-size=" + value, "--quiet"])
        #expect(!r.signaled && r.status == 2, "\(value): \(r.stderr)")
        #expect(r.stderr.contains("--csv-block-size"), "\(value): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/astropile_report.json"))
    }
}
