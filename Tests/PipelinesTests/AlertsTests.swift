import Foundation
import Testing
import Formats
import Pipelines
import RunEngine
import TestSupport

/// Inputs for the alert-lake tests, made once with the venv's fastavro.
final class AlertsFixture: Sendable {
    let dir: String
    /// The real fixture alerts (schema 3.2, 3.3 float-first, the null-first "3.3", templates).
    let avro: [String]
    /// The fixture alerts packed into nightly tarballs.
    let nightly: String
    /// Synthetic 4.02 alerts: 3 nights × 40 alerts.
    let synthetic: String
    /// A truncated tarball, one with a corrupt member, one with unsafe members.
    let bad: String

    static let shared: Result<AlertsFixture, any Error> = Result { try AlertsFixture() }
    static func get() throws -> AlertsFixture { try shared.get() }

    init() throws {
        dir = try TestSupport.temporaryDirectory("alerts").path
        let fixtures = try TestSupport.fixture("ztf-alerts")
        avro = try FileManager.default.contentsOfDirectory(atPath: fixtures).filter { $0.hasSuffix(".avro") }.sorted().map { fixtures + "/" + $0 }
        nightly = dir + "/nightly"
        synthetic = dir + "/synthetic"
        bad = dir + "/bad"
        let script = StampsFixture.script("alerts_make.py")
        let packed = try TestSupport.run(TestSupport.python, [script, "fixtures", nightly] + avro)
        guard packed.trimmingCharacters(in: .whitespacesAndNewlines) == String(avro.count) else {
            throw TestSupportError("alerts_make.py fixtures packed \(packed) alerts, expected \(avro.count)")
        }
        try TestSupport.run(TestSupport.python, [script, "synthetic", synthetic, fixtures + "/schema", "3", "40", "7"])
        try TestSupport.run(TestSupport.python, [script, "bad", bad] + [avro[2], avro[1], avro[0]])
    }

    func astropile(_ arguments: [String], environment: [String: String]? = nil) throws -> TestSupport.Finished {
        try TestSupport.runProcess(TestSupport.executable, arguments + ["--quiet"], environment: environment)
    }

    func check(_ lake: String, _ expected: Int, _ sources: [String], fits: Bool = false, separate: Bool = false) throws -> String {
        try TestSupport.run(TestSupport.python, [StampsFixture.script("alerts_check.py")] + (fits ? ["--fits-cutouts"] : [])
                            + (separate ? ["--separate-cutouts"] : []) + [lake, String(expected)] + sources)
    }

    func tarballs(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".tar.gz") }.sorted().map { folder + "/" + $0 }
    }

    static func status(_ lake: String) throws -> [String: Any] {
        let out = try TestSupport.run(TestSupport.executable, ["alerts", "status", lake, "--json"])
        guard let object = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] else {
            throw TestSupportError("alerts status --json printed no object: \(out)")
        }
        return object
    }

    /// Every Parquet file of the lake's nights with its bytes.
    static func nightFiles(_ lake: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let fm = FileManager.default
        for path in fm.subpaths(atPath: lake) ?? [] where path.hasPrefix("year=") && path.hasSuffix(".parquet") {
            out[path] = fm.contents(atPath: lake + "/" + path)
        }
        return out
    }
}

@Suite("Alert lake") struct AlertsTests {
    @Test func fixtureAlertsEqualFastavroFieldByField() throws {
        let f = try AlertsFixture.get()
        let lake = f.dir + "/fixture-lake"
        let archives = try f.tarballs(f.nightly)
        let run = try f.astropile(["alerts", "ingest", f.nightly, "--output", lake])
        #expect(run.status == 0, "\(run.stderr)")
        let out = try f.check(lake, f.avro.count, archives, fits: true)
        #expect(out.contains("OK \(f.avro.count) alerts equal to fastavro"), "\(out)")
        let s = try AlertsFixture.status(lake)
        #expect(s["alerts"] as? Int == f.avro.count)
        #expect(s["archivesIngested"] as? Int == archives.count)
        // Three writer schemas: 3.2, the float-first 3.3 and the null-first "3.3" — told apart by bytes, not label.
        let schemas = s["schemas"] as? [String: Int] ?? [:]
        #expect(schemas.keys.filter { $0.hasPrefix("3.3 ") }.count >= 2, "\(schemas)")
        #expect(schemas.keys.contains { $0.hasPrefix("3.2 ") }, "\(schemas)")

        // Fields the 3.2 alert lacks are null; 3.3 has drb.
        let nulls = try TestSupport.runPython("""
            import sys, pyarrow.dataset as ds
            t = ds.dataset(sys.argv[1], format="parquet", partitioning="hive").to_table().to_pylist()
            old = [r for r in t if r["candid"] == 739260766315010006][0]
            new = [r for r in t if r["candid"] == 1628364324215010017][0]
            print(old["candidate"]["drb"], old["fp_hists"], new["candidate"]["drb"] is not None)
            """, arguments: [lake])
        #expect(nulls.trimmingCharacters(in: .whitespacesAndNewlines) == "None None True", "\(nulls)")

        // The same inputs again: nothing to do. The same archive under another name: every alert a duplicate.
        let again = try f.astropile(["alerts", "ingest", f.nightly, "--output", lake])
        #expect(again.status == 0 && again.stderr.contains("nothing to do"), "\(again.stderr)")
        let copy = f.dir + "/renamed"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: archives[0], toPath: copy + "/" + (archives[0] as NSString).lastPathComponent.replacingOccurrences(of: ".tar.gz", with: "-copy.tar.gz"))
        let before = try AlertsFixture.nightFiles(lake)
        let dup = try f.astropile(["alerts", "ingest", copy, "--output", lake])
        #expect(dup.status == 3, "duplicates are reported: \(dup.stderr)")
        #expect(dup.stderr.contains("already in night"), "\(dup.stderr)")
        #expect(dup.stderr.contains("0 written, 1 duplicates") || dup.stderr.contains("duplicates"), "\(dup.stderr)")
        _ = try f.check(lake, f.avro.count, archives)
        #expect(try AlertsFixture.nightFiles(lake).keys.sorted() == before.keys.sorted())
    }

    @Test func separateCutoutsAreATableRowForRowThroughAMerge() throws {
        let f = try AlertsFixture.get()
        let lake = f.dir + "/separate-lake"
        // The loose files but one, then the nightly tarballs of all: every night is merged with
        // its separate files (the lake keeps its mode without the flag), one alert new.
        let first = try f.astropile(["alerts", "ingest"] + f.avro.dropLast() + ["--output", lake, "--cutouts", "separate"])
        #expect(first.status == 0, "\(first.stderr)")
        _ = try f.check(lake, f.avro.count - 1, Array(f.avro.dropLast()), separate: true)
        let second = try f.astropile(["alerts", "ingest", f.nightly, "--output", lake])
        #expect(second.status == 3, "the rest are reported duplicates: \(second.stderr)")
        let out = try f.check(lake, f.avro.count, f.avro, fits: true, separate: true)
        #expect(out.contains("OK \(f.avro.count) alerts equal to fastavro"), "\(out)")
        #expect(try AlertsFixture.status(lake)["cutouts"] as? String == "separate")
        let other = try f.astropile(["alerts", "ingest", f.avro[0], "--output", lake, "--cutouts", "inline"])
        #expect(other.status == 2 && other.stderr.contains("--cutouts separate"), "\(other.stderr)")

        // Its catalog has the alert columns and no cutouts.
        let catalog = f.dir + "/separate-catalog"
        let made = try f.astropile(["alerts", "catalog", lake, "--output", catalog])
        #expect(made.status == 0, "\(made.stderr)")
        let columns = try TestSupport.runPython("""
            import sys, lsdb
            c = lsdb.open_catalog(sys.argv[1])
            print(len(c.compute()), "cutoutScience" in c.columns, "candidate" in c.columns)
            """, arguments: [catalog])
        #expect(columns.trimmingCharacters(in: .whitespacesAndNewlines) == "\(f.avro.count) False True", "\(columns)")
    }

    @Test func looseAvroFilesGoToTheirPalomarNight() throws {
        let f = try AlertsFixture.get()
        let lake = f.dir + "/loose-lake"
        let run = try f.astropile(["alerts", "ingest"] + f.avro + ["--output", lake])
        #expect(run.status == 0, "\(run.stderr)")
        _ = try f.check(lake, f.avro.count, f.avro)
        let nights = try AlertsFixture.status(lake)["nights"] as? [[String: Any]] ?? []
        // 2019_01_10_….avro observed on the night ZTF labels 2019-01-10.
        #expect(nights.contains { $0["night"] as? String == "2019-01-10" }, "\(nights)")
        #expect(FileManager.default.fileExists(atPath: lake + "/year=2019/month=01/day=10/part-00000.parquet"))
    }

    @Test func syntheticAlertsUnder402AreExactWithPartitionsAndFileSizes() throws {
        let f = try AlertsFixture.get()
        let lake = f.dir + "/synthetic-lake"
        let archives = try f.tarballs(f.synthetic)
        #expect(archives.count == 3)
        let run = try f.astropile(["alerts", "ingest", f.synthetic + "/**/ztf_public_*.tar.gz", "--output", lake,
                                   "--alerts-per-file", "15", "--alerts-per-row-group", "4", "--jobs", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        let out = try f.check(lake, 120, archives)
        #expect(out.contains("OK 120 alerts"), "\(out)")
        for day in ["01", "02", "03"] {
            let folder = lake + "/year=2020/month=03/day=\(day)"
            let parts = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".parquet") }.sorted()
            #expect(parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"], "40 alerts at 15 per file: \(parts)")
        }
        let rows = try TestSupport.runPython("""
            import sys, pyarrow.parquet as pq
            f = pq.ParquetFile(sys.argv[1] + "/year=2020/month=03/day=01/part-00000.parquet")
            print(f.metadata.num_rows, f.metadata.num_row_groups, f.metadata.row_group(0).column(0).compression)
            """, arguments: [lake])
        #expect(rows.trimmingCharacters(in: .whitespacesAndNewlines) == "15 4 ZSTD", "\(rows)")
    }

    @Test func badArchivesAreQuarantinedAndNothingIsWrittenOutside() throws {
        let f = try AlertsFixture.get()
        let work = f.dir + "/bad-run"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let lake = work + "/lake"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestSupport.executable)
        p.arguments = ["alerts", "ingest", f.bad, "--output", lake, "--quiet"]
        p.currentDirectoryURL = URL(fileURLWithPath: work)
        let err = Pipe()
        p.standardError = err
        try p.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 3, "\(stderr)")
        #expect(stderr.contains("ztf_public_20200101.tar.gz: quarantined") && stderr.contains("truncated gzip"), "\(stderr)")
        #expect(stderr.contains("broken.avro: block 0: the sync marker"), "\(stderr)")
        #expect(stderr.contains("../escape.avro: not read: a '..' path component"), "\(stderr)")
        #expect(stderr.contains("/tmp/abs.avro: not read: an absolute path"), "\(stderr)")
        #expect(stderr.contains("link.avro: not read: a symlink"), "\(stderr)")
        // Nothing unpacked anywhere: not beside the run, not above it, not at the absolute path.
        for path in [work + "/escape.avro", f.dir + "/escape.avro", lake + "/escape.avro", "/tmp/abs.avro"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) was written")
        }
        let s = try AlertsFixture.status(lake)
        #expect(s["alerts"] as? Int == 2, "the good member of each readable archive: \(s)")
        #expect(s["membersRejected"] as? Int == 4)
        let quarantined = s["quarantined"] as? [[String: Any]] ?? []
        #expect(quarantined.count == 1 && (quarantined.first?["path"] as? String ?? "").hasSuffix("ztf_public_20200101.tar.gz"))
        #expect(FileManager.default.fileExists(atPath: f.bad + "/ztf_public_20200101.tar.gz"), "a quarantined archive is never deleted")
        // The manifest: sizes and SHA-256 of every archive, and counts that add up.
        let manifest = try TestSupport.runPython("""
            import sys, sqlite3, hashlib, os
            db = sqlite3.connect(sys.argv[1] + "/_manifest.sqlite")
            for path, size, sha, members, rejected, alerts, status in db.execute(
                    "SELECT path, bytes, sha256, members, members_rejected, alerts, status FROM source ORDER BY path"):
                assert size == os.path.getsize(path), path
                assert sha == hashlib.sha256(open(path, "rb").read()).hexdigest(), path
                print(os.path.basename(path), members, rejected, alerts, status)
            """, arguments: [lake])
        #expect(manifest.split(separator: "\n").map(String.init) == [
            "ztf_public_20200101.tar.gz 1 0 0 quarantined",
            "ztf_public_20200102.tar.gz 2 1 1 ingested",
            "ztf_public_20200103.tar.gz 4 3 1 ingested",
        ], "\(manifest)")
    }

    @Test(arguments: ["alerts-read:1", "alerts-night-swapped:1", "alerts-night:2", "alerts-finish:1"])
    func aKilledIngestResumesWithoutDuplicates(_ stop: String) throws {
        let f = try AlertsFixture.get()
        let lake = f.dir + "/killed-" + stop.replacingOccurrences(of: ":", with: "-")
        let args = ["alerts", "ingest", f.synthetic, "--output", lake, "--alerts-per-file", "15", "--jobs", "1"]
        let killed = try f.astropile(args, environment: ["ASTROPILE_CRASH_AFTER": stop])
        #expect(killed.signaled && killed.status == SIGKILL, "the crash hook should have killed the run: \(killed.stderr)")
        let resumed = try f.astropile(args)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let out = try f.check(lake, 120, try f.tarballs(f.synthetic))
        #expect(out.contains("OK 120 alerts"), "\(out)")
        let s = try AlertsFixture.status(lake)
        #expect(s["alerts"] as? Int == 120 && s["duplicates"] as? Int == 0, "\(s)")
        let clean = f.dir + "/unkilled-" + stop.replacingOccurrences(of: ":", with: "-")
        #expect(try f.astropile(args.map { $0 == lake ? clean : $0 }).status == 0)
        #expect(try AlertsFixture.nightFiles(lake) == AlertsFixture.nightFiles(clean), "the resumed lake differs from an uninterrupted run's")
    }

    @Test func aFieldOfAnotherTypeIsAnErrorNamingFieldAndTypes() throws {
        let f = try AlertsFixture.get()
        let dir = f.dir + "/conflict"
        try TestSupport.runPython("""
            import sys, json, fastavro, io
            schema = {"type": "record", "name": "alert", "namespace": "ztf", "fields": [
                {"name": "objectId", "type": "string"}, {"name": "candid", "type": "long"},
                {"name": "candidate", "type": {"type": "record", "name": "candidate", "fields": [
                    {"name": "jd", "type": "double"}, {"name": "magpsf", "type": "double"}]}}]}
            import os; os.makedirs(sys.argv[1], exist_ok=True)
            with open(sys.argv[1] + "/conflict.avro", "wb") as h:
                fastavro.writer(h, fastavro.parse_schema(schema), [{"objectId": "ZTF20x", "candid": 1, "candidate": {"jd": 2459000.7, "magpsf": 18.5}}])
            """, arguments: [dir])
        let run = try f.astropile(["alerts", "ingest", dir, "--output", dir + "/lake"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("field candidate.magpsf is double in the file and float in the lake schema"), "\(run.stderr)")
    }

    @Test(arguments: ["fixtures", "synthetic"])
    func alertCatalogAndLightCurvesOpenInLsdb(_ which: String) throws {
        let f = try AlertsFixture.get()
        let base = f.dir + "/catalogs-" + which
        let inputs = which == "fixtures" ? f.nightly : f.synthetic
        let lake = base + "/lake"
        #expect(try f.astropile(["alerts", "ingest", inputs, "--output", lake]).status == 0)
        let cat = try f.astropile(["alerts", "catalog", lake, "--output", base + "/alerts", "--threshold", "30", "--highest-order", "4"])
        #expect(cat.status == 0, "\(cat.stderr)")
        let lc = try f.astropile(["alerts", "lightcurves", lake, "--output", base + "/objects", "--highest-order", "4"])
        #expect(lc.status == 0, "\(lc.stderr)")
        let out = try TestSupport.run(TestSupport.python, [StampsFixture.script("alerts_catalogs_check.py"), base + "/alerts", base + "/objects"]
                                      + (try f.tarballs(inputs)))
        #expect(out.contains("OK \(which == "fixtures" ? f.avro.count : 120) alerts"), "\(out)")
        if which == "synthetic" { #expect(!out.contains(" 0 repeated epochs"), "the synthetic alerts repeat earlier detections: \(out)") }
        // A re-run on an unchanged lake is a no-op; without cutouts the catalog has none.
        let again = try f.astropile(["alerts", "lightcurves", lake, "--output", base + "/objects", "--highest-order", "4"])
        #expect(again.status == 0 && again.stderr.contains("already complete"), "\(again.stderr)")
        let slim = try f.astropile(["alerts", "catalog", lake, "--output", base + "/slim", "--without-cutouts"])
        #expect(slim.status == 0, "\(slim.stderr)")
        let columns = try TestSupport.runPython("""
            import sys, lsdb
            c = lsdb.open_catalog(sys.argv[1])
            print(len(c.compute()), any(n.startswith("cutout") for n in c.columns), "prv_candidates" in c.columns)
            """, arguments: [base + "/slim"])
        #expect(columns.split(separator: "\n").last.map(String.init) == "\(which == "fixtures" ? f.avro.count : 120) False True", "\(columns)")
    }

    @Test func palomarNightRule() throws {
        // 2019-01-10 06:15 UTC (JD 2458493.76) is the night of 2019-01-10; 19:59 UTC still that night, 20:01 UTC the next.
        #expect(ObservingNight.palomar(jd: 2_458_493.7607639)?.description == "2019-01-10")
        let midnight = 2_458_493.5 // 2019-01-10T00:00 UTC
        #expect(ObservingNight.palomar(jd: midnight + 19.98 / 24)?.description == "2019-01-10")
        #expect(ObservingNight.palomar(jd: midnight + 20.02 / 24)?.description == "2019-01-11")
        #expect(ObservingNight.palomar(jd: .nan) == nil)
        #expect(ObservingNight.fromArchiveName("ztf_public_20190903.tar.gz")?.folder == "year=2019/month=09/day=03")
        #expect(ObservingNight.fromArchiveName("ztf_public_20191332.tar.gz") == nil)
    }
}
