import Foundation
import Testing
import Formats
import Pipelines
import Registry
import TestSupport

/// `astropile project run` end to end against the IRSA stand-in: SQLite and a real PostgreSQL
/// server, re-runs that change nothing, one deleted product made again alone, adoption of raw
/// files, failures recorded with their reasons, Ctrl-C, two runs at once.
@Suite("Project runs", .serialized) struct ProjectRunTests {
    static let fixture = "ztf-lightcurves/ZTF_lightcurve.csv"

    /// A project folder: catalog, project file, stand-in server.
    struct Setup {
        let dir: URL
        let yaml: String
        let server: IRSAServer
        let sources: [(name: String, ra: Double, dec: Double)]
    }

    /// `count` good sources, plus M (404) and G (not a light curve) when `bad`.
    static func setup(_ name: String, count: Int, bad: Bool = true, perSource: Int = 4, dir existing: URL? = nil,
                      server existingServer: IRSAServer? = nil) throws -> Setup {
        let dir = try existing ?? TestSupport.temporaryDirectory("project-\(name)")
        var sources: [(name: String, ra: Double, dec: Double)] = []
        for i in 0..<count {
            let x = Double(i)
            sources.append((name: "S\(i)", ra: 10.0 + x * 0.25, dec: -20.0 + x * 0.125))
        }
        if bad { sources += [(name: "M", ra: 200.0, dec: 10.0), (name: "G", ra: 201.0, dec: 11.0)] }
        let catalog = dir.appendingPathComponent("\(name)-sources.csv").path
        try ("name,ra,dec\n" + sources.map { "\($0.name),\($0.ra),\($0.dec)" }.joined(separator: "\n") + "\n")
            .write(toFile: catalog, atomically: true, encoding: .utf8)
        let server = try existingServer ?? IRSAServer(folder: dir, fixture: try TestSupport.fixture(fixture),
                                                      missing: [(200.0, 10.0)], garbage: [(201.0, 11.0)])
        let yaml = dir.appendingPathComponent("\(name).yaml").path
        try cli(["project", "init", name, "--catalog", catalog, "--base", server.base, "--output", yaml], expect: 0)
        var text = try String(contentsOfFile: yaml, encoding: .utf8)
        text = text.replacingOccurrences(of: "  # name: \"NAME\"", with: "  name: \"name\"")
            .replacingOccurrences(of: "perSource: 10", with: "perSource: \(perSource)")
        try text.write(toFile: yaml, atomically: true, encoding: .utf8)
        return Setup(dir: dir, yaml: yaml, server: server, sources: sources)
    }

    @discardableResult
    static func cli(_ args: [String], expect: Int32? = nil, environment: [String: String]? = nil) throws -> TestSupport.Finished {
        let r = try TestSupport.runProcess(TestSupport.executable, args, environment: environment)
        if let expect, r.status != expect {
            throw TestSupportError("astropile \(args.prefix(3).joined(separator: " ")) exited \(r.status), not \(expect):\n\(r.stderr)")
        }
        return r
    }

    static func status(_ yaml: String, database: String? = nil) throws -> ProjectQueries.Status {
        let out = try cli(["project", "status", yaml, "--json"] + (database.map { ["--database", $0] } ?? []), expect: 0).stdout
        return try JSONDecoder().decode(ProjectQueries.Status.self, from: Data(out.utf8))
    }

    static func products(_ yaml: String) throws -> String { try ProjectIdentity.of(yaml: yaml).products }

    /// Every file under `folder` with its modification time (ns).
    static func files(_ folder: String) -> [String: Int] {
        var out: [String: Int] = [:]
        let e = FileManager.default.enumerator(atPath: folder)
        while let f = e?.nextObject() as? String {
            var st = stat()
            if !f.hasPrefix("registry.sqlite"), stat(folder + "/" + f, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
                out[f] = Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec)
            }
        }
        return out
    }

    /// The checks every registry gets after a run of `setup` with its two bad sources.
    static func checkRegistry(_ s: Setup, database: String?) throws {
        let st = try status(s.yaml, database: database)
        let good = s.sources.count - 2
        let byStage = Dictionary(uniqueKeysWithValues: st.stages.map { (String($0.stage.dropFirst(8)), $0) })
        #expect(byStage["fetch"]?.done == good + 1 && byStage["fetch"]?.failed == 1)
        #expect(byStage["fetch"]?.failures.first?.source == "M")
        #expect(byStage["fetch"]?.failures.first?.reason.contains("HTTP 404") == true)
        #expect(byStage["reduce"]?.done == good && byStage["reduce"]?.failed == 1 && byStage["reduce"]?.blocked == 1)
        #expect(byStage["reduce"]?.failures.first?.source == "G")
        #expect(byStage["reduce"]?.failures.first?.reason.contains("no column oid") == true)
        for stage in ["detect", "inject"] {
            #expect(byStage[stage]?.done == good && byStage[stage]?.blocked == 2 && byStage[stage]?.pending == 2)
        }
        // Histograms with the declared bins, over every epoch of every light curve.
        let points = try LightCurveReduction(settings: ProjectConfig.Reduction(), filters: ["zg", "zr", "zi"])
            .reduce(ZTFLightCurveCSV.read(TestSupport.fixture(fixture))).curves
        let epochs = points.reduce(0) { $0 + $1.mjd.count }
        #expect(st.histograms["magnitude"]?.counts.reduce(0, +) == Int64(epochs * good))
        #expect(st.histograms["magnitude"]?.bins == HistogramBins(lower: 12, upper: 23, count: 110))
        #expect(st.histograms["peakSNR"]?.counts.reduce(0, +) == Int64(points.count * good))

        // Foreign keys hold, every product names its inputs, the hash and the version.
        let registry = try Registry.open(database ?? ProjectRun.defaultDatabase(products: try products(s.yaml)))
        defer { registry.close() }
        let orphans = try registry.db.read { t in
            try t.query("""
                SELECT p.id FROM products p WHERE (p.kind = 'lightcurves' AND NOT EXISTS (SELECT 1 FROM product_raw_inputs r WHERE r.product_id = p.id))
                OR (p.kind <> 'lightcurves' AND NOT EXISTS (SELECT 1 FROM product_inputs i JOIN products q ON q.id = i.input_id
                    WHERE i.product_id = p.id AND q.kind = 'lightcurves' AND q.source_id = p.source_id))
                """, [])
        }
        #expect(orphans.isEmpty)
        let hashes = try registry.db.read { t in try t.query("SELECT DISTINCT config_hash, astropile_version FROM products", []) }
        #expect(hashes.count == 1 && hashes.first?["config_hash"].text == st.hash)
        let counts = try registry.db.read { t in try t.query("SELECT kind, COUNT(*) AS n FROM products GROUP BY kind ORDER BY kind", []) }
        #expect(counts.map { "\($0["kind"].text ?? "")=\($0["n"].int ?? 0)" } == ["detections=\(good)", "injections=\(good)", "lightcurves=\(good)"])
        if registry.db.dialect == .sqlite {
            let fk = try registry.db.read { t in try t.query("PRAGMA foreign_key_check", []) }
            #expect(fk.isEmpty)
        }
        // A unique key holds: the same source name twice in a project is refused by the database.
        let dup = try? registry.db.write { t in
            try t.execute("INSERT INTO sources (project_id, name, catalog_row, ra, dec) SELECT project_id, name, 99, 0, 0 FROM sources LIMIT 1")
        }
        #expect(dup == nil)
    }

    static func dump(_ database: String) throws -> [String] {
        let r = try Registry.open(database)
        defer { r.close() }
        return try r.dump()
    }

    @Test("SQLite: end to end, a re-run changes nothing, a deleted product alone is made again, raw files adopted")
    func sqlite() throws {
        let s = try Self.setup("wd", count: 3)
        let first = try Self.cli(["project", "run", s.yaml, "--quiet"], expect: 3)
        #expect(first.stderr.contains("M: fetching") && first.stderr.contains("G: "))
        #expect(s.server.requests().count == 5)
        try Self.checkRegistry(s, database: nil)
        let products = try Self.products(s.yaml)
        let db = ProjectRun.defaultDatabase(products: products)
        // The effective settings beside the products; the light curves as pyarrow reads them.
        let saved = try ProjectConfig.load(yaml: products + "/project.yaml")
        #expect(saved.resultHash(catalogSHA256: try ProjectIdentity.of(yaml: s.yaml).catalogSHA256) == (try ProjectIdentity.of(yaml: s.yaml).hash))
        let curves = try LightCurveReduction(settings: ProjectConfig.Reduction(), filters: ["zg", "zr", "zi"])
            .reduce(ZTFLightCurveCSV.read(TestSupport.fixture(Self.fixture))).curves
        let lc = try TestSupport.runPython("""
            import sys, glob, pyarrow.parquet as pq
            fs = sorted(glob.glob(sys.argv[1] + "/lightcurves/*/*.parquet"))
            t = pq.read_table(fs[0])
            assert all(len(a) == len(b) for a, b in zip(t["mjd"].to_pylist(), t["flux_ujy"].to_pylist()))
            print(len(fs), t.num_rows, sum(len(x) for x in t["mjd"].to_pylist()), ",".join(t["filter"].to_pylist()))
            """, arguments: [products])
        #expect(lc.trimmingCharacters(in: .whitespacesAndNewlines)
                == "3 \(curves.count) \(curves.reduce(0) { $0 + $1.mjd.count }) \(curves.map(\.filter).joined(separator: ","))")

        // A second run: no work, no request, no row changed, no file touched.
        let before = try Self.dump(db), filesBefore = Self.files(products)
        let second = try Self.cli(["project", "run", s.yaml, "--quiet"], expect: 3)
        #expect(second.stderr.contains("nothing to do"))
        #expect(try Self.dump(db) == before)
        #expect(Self.files(products) == filesBefore)
        #expect(s.server.requests().count == 5)

        // One product deleted: that one alone is made again (same bytes), nothing else touched.
        let victim = filesBefore.keys.filter { $0.hasPrefix("detections/") }.sorted()[1]
        let bytes = FileManager.default.contents(atPath: products + "/" + victim)
        try FileManager.default.removeItem(atPath: products + "/" + victim)
        try Self.cli(["project", "run", s.yaml, "--quiet"], expect: 3)
        let after = Self.files(products)
        #expect(Set(after.keys) == Set(filesBefore.keys))
        #expect(after.filter { filesBefore[$0.key] != $0.value }.keys.sorted() == [victim, "astropile_report.json"].sorted())
        #expect(FileManager.default.contents(atPath: products + "/" + victim) == bytes)
        #expect(s.server.requests().count == 5)

        // A raw file deleted: fetched again (one request); its bytes are the same, so nothing downstream changes.
        let raw = try Registry.open(db)
        let rawPath = try raw.db.read { t in try t.one("SELECT path FROM raw_files ORDER BY id LIMIT 1", [])?["path"].text } ?? ""
        raw.close()
        try FileManager.default.removeItem(atPath: rawPath)
        try Self.cli(["project", "run", s.yaml, "--quiet"], expect: 3)
        #expect(s.server.requests().count == 6)
        #expect(Self.files(products).filter { after[$0.key] != $0.value }.keys.sorted() == ["astropile_report.json"])

        // Another project on the same catalog and root: every raw file is adopted, none fetched.
        let other = try Self.setup("wd2", count: 3, dir: s.dir, server: s.server)
        let r = try Self.cli(["project", "run", other.yaml, "--quiet"], expect: 3)
        #expect(r.stderr.contains("4 adopted raw files"))
        #expect(s.server.requests().count == 7) // M (404) is asked again: a failure is not a file

        // The query commands.
        let det = try Self.cli(["project", "detections", s.yaml, "--csv"], expect: 0).stdout
        #expect(det.hasPrefix("source,filter,zp_group,season,start_mjd"))
        let eff = try Self.cli(["project", "efficiency", s.yaml, "--json"], expect: 0).stdout
        let table = try JSONDecoder().decode(EfficiencyTable.self, from: Data(eff.utf8))
        let injected: Int = table.injected.flatMap { $0 }.reduce(0, +)
        #expect(injected == 3 * 4 * 5)
        // The plots: PNGs of the size asked for (IHDR width and height).
        let effPNG = s.dir.appendingPathComponent("efficiency.png").path, lcPNG = s.dir.appendingPathComponent("lc.png").path
        try Self.cli(["project", "efficiency", s.yaml, "--png", effPNG], expect: 0)
        let shown = try Self.cli(["project", "show", s.yaml, "--source", "S1", "--png", lcPNG], expect: 0).stdout
        #expect(shown.contains("\(curves.count) light curves, \(curves.reduce(0) { $0 + $1.mjd.count }) points, 0 detections, 20 injections"))
        for (png, w, h) in [(effPNG, 900, 500), (lcPNG, 1200, 500)] {
            let b = [UInt8](FileManager.default.contents(atPath: png) ?? Data())
            #expect(b.count > 33 && b[1...3] == [0x50, 0x4E, 0x47][...])
            func be(_ k: Int) -> Int { b.count > k + 3 ? Int(b[k]) << 24 | Int(b[k + 1]) << 16 | Int(b[k + 2]) << 8 | Int(b[k + 3]) : 0 }
            #expect(be(16) == w && be(20) == h)
        }
        let missing = try Self.cli(["project", "show", s.yaml, "--source", "M", "--png", lcPNG])
        #expect(missing.status == 2 && missing.stderr.contains("M has no light curves yet"))
        #expect(table.efficiency(amplitude: 4) >= table.efficiency(amplitude: 0))
    }

    @Test("An alert lake as the survey: light curves equal pandas on the lake; a new night re-cuts only what changed")
    func alertLake() throws {
        let alerts = try AlertsFixture.get()
        let dir = try TestSupport.temporaryDirectory("project-alerts")
        let lake = dir.appendingPathComponent("lake").path
        let nights = try alerts.tarballs(alerts.synthetic)
        #expect(nights.count == 3)
        try Self.cli(["alerts", "ingest"] + nights.prefix(2) + ["--output", lake, "--quiet"], expect: 0)
        let script = StampsFixture.script("project_alerts.py")
        let catalog = dir.appendingPathComponent("objects.csv").path
        // Sources from the first two nights' objects; the third night brings more alerts of them.
        let count = try TestSupport.run(TestSupport.python, [script, "sources", lake, catalog])
        let yaml = dir.appendingPathComponent("lc.yaml").path
        try Self.cli(["project", "init", "lc", "--catalog", catalog, "--survey", "ztf-alerts", "--lake", "lake", "--output", yaml], expect: 0)
        var text = try String(contentsOfFile: yaml, encoding: .utf8)
        text = text.replacingOccurrences(of: "  # name: \"NAME\"", with: "  name: \"name\"").replacingOccurrences(of: "perSource: 10", with: "perSource: 2")
        try text.write(toFile: yaml, atomically: true, encoding: .utf8)
        try Self.cli(["project", "run", yaml, "--quiet"], expect: 0)
        let products = try Self.products(yaml)
        let st = try Self.status(yaml)
        #expect(st.stages.allSatisfy { $0.done == Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }, "\(st.stages)")
        let first = try TestSupport.run(TestSupport.python, [script, "check", lake, products])
        #expect(first.hasPrefix("OK ") && !first.contains(" 0 points"), "\(first)")

        // Nothing changed: nothing to do, no row or file touched.
        let db = ProjectRun.defaultDatabase(products: products)
        let before = try Self.dump(db), filesBefore = Self.files(products)
        let again = try Self.cli(["project", "run", yaml, "--quiet"], expect: 0)
        #expect(again.stderr.contains("nothing to do"), "\(again.stderr)")
        #expect(try Self.dump(db) == before)
        #expect(Self.files(products) == filesBefore)

        // A third night ingested: the catalog is rebuilt, every source cut again, and only the
        // sources whose detections changed are reduced and analysed again.
        try Self.cli(["alerts", "ingest", nights[2], "--output", lake, "--quiet"], expect: 0)
        try Self.cli(["project", "run", yaml, "--quiet"], expect: 0)
        let second = try TestSupport.run(TestSupport.python, [script, "check", lake, products])
        #expect(second.hasPrefix("OK ") && second != first, "\(first) → \(second)")
        let after = Self.files(products)
        let changed = after.filter { filesBefore[$0.key] != $0.value && $0.key.hasPrefix("lightcurves/") }.count
        #expect(changed > 0 && changed < after.keys.filter { $0.hasPrefix("lightcurves/") }.count, "\(changed) light curves remade")
        #expect(after.keys.contains { $0.hasPrefix("detections/") })
    }

    @Test("Ctrl-C stops cleanly with claims handed back; the re-run finishes with the same products")
    func interrupt() throws {
        let s = try Self.setup("stop", count: 12, bad: false)
        let stopped = try Self.cli(["project", "run", s.yaml, "--quiet", "--jobs", "1"], environment: ["ASTROPILE_INTERRUPT_AFTER": "project-reduce:2"])
        #expect(stopped.status == 130)
        let mid = try Self.status(s.yaml)
        #expect(mid.stages.allSatisfy { $0.running == 0 })
        #expect(mid.stages[1].done >= 2 && mid.stages[1].done < 12)
        try Self.cli(["project", "run", s.yaml, "--quiet"], expect: 0)
        let done = try Self.status(s.yaml)
        #expect(done.stages.allSatisfy { $0.done == 12 })
        // The same products as a run that was never stopped.
        let clean = try Self.setup("stop", count: 12, bad: false, dir: try TestSupport.temporaryDirectory("project-clean"), server: s.server)
        try Self.cli(["project", "run", clean.yaml, "--quiet"], expect: 0)
        func parquet(_ folder: String) -> [String: Data] {
            var out: [String: Data] = [:]
            for f in Self.files(folder).keys where f.hasSuffix(".parquet") { out[f] = FileManager.default.contents(atPath: folder + "/" + f) }
            return out
        }
        let a = parquet(try Self.products(s.yaml)), b = parquet(try Self.products(clean.yaml))
        #expect(a.count == 36 && a == b)
    }

    /// Two runs of one project at once: every (source, stage) done once, by one of them.
    static func concurrent(_ s: Setup, database: String?, sources: Int) throws {
        let args = ["project", "run", s.yaml, "--quiet", "--jobs", "2"] + (database.map { ["--database", $0] } ?? [])
        let results = ResultsBox()
        let group = DispatchGroup()
        for _ in 0..<2 {
            group.enter()
            Thread.detachNewThread {
                results.add(try? TestSupport.runProcess(TestSupport.executable, args))
                group.leave()
            }
        }
        group.wait()
        #expect(results.all.count == 2 && results.all.allSatisfy { $0?.status == 0 },
                "\(results.all.map { $0.map { "exit \($0.status): \($0.stderr.suffix(600))" } ?? "did not start" })")
        let r = try Registry.open(database ?? ProjectRun.defaultDatabase(products: try products(s.yaml)))
        defer { r.close() }
        let rows = try r.db.read { t in try t.query("SELECT stage, status, attempts, COUNT(*) AS n FROM stage_status GROUP BY stage, status, attempts", []) }
        #expect(rows.count == 4)
        #expect(rows.allSatisfy { $0["status"].text == "done" && $0["attempts"].int == 1 && $0["n"].int == Int64(sources) })
        let runs = try r.db.read { t in try t.query("SELECT DISTINCT run_id FROM stage_status", []) }
        #expect(runs.count == 2, "both runs did work")
        let products = try r.db.read { t in try t.query("SELECT COUNT(*) AS n, COUNT(DISTINCT path) AS p FROM products", []) }
        #expect(products.first?["n"].int == Int64(3 * sources) && products.first?["p"].int == Int64(3 * sources))
    }

    @Test("Two runs at once on SQLite: each source done exactly once")
    func twoRunsSQLite() throws {
        let s = try Self.setup("pair", count: 40, bad: false, perSource: 2)
        try Self.concurrent(s, database: nil, sources: 40)
    }

    @Test("PostgreSQL (a real server in a temp dir): end to end, a re-run changes nothing, two runs at once")
    func postgres() throws {
        let cluster = try PostgresCluster()
        let db = try cluster.database("registry")
        let s = try Self.setup("pgwd", count: 3)
        try Self.cli(["project", "run", s.yaml, "--quiet", "--database", db], expect: 3)
        try Self.checkRegistry(s, database: db)
        let before = try Self.dump(db)
        let second = try Self.cli(["project", "run", s.yaml, "--quiet", "--database", db], expect: 3)
        #expect(second.stderr.contains("nothing to do"))
        #expect(try Self.dump(db) == before)
        #expect(s.server.requests().count == 5)

        let db2 = try cluster.database("shared")
        let p = try Self.setup("pgpair", count: 40, bad: false, perSource: 2)
        try Self.concurrent(p, database: db2, sources: 40)
    }
}

private final class ResultsBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var all: [TestSupport.Finished?] = []
    func add(_ r: TestSupport.Finished?) { lock.lock(); all.append(r); lock.unlock() }
}
