import Foundation
import Testing
@testable import Pipelines
import Registry
import RunEngine
import TestSupport
@testable import AstroPileCLI

/// `astropile project` against hostile input: `--sources` past the catalog or near Int64.max,
/// names and fluxes that are not finite, light-curve lines of the wrong width, repeated epochs,
/// names that need CSV quoting, and passwords in `--database` and `survey.base`: each a clear
/// error or a right answer, never a trap, a silent loss or a printed secret.
@Suite("Project: hostile input", .serialized) struct ProjectHostileTests {
    static let fixture = "ztf-lightcurves/ZTF_lightcurve.csv"
    /// The service's base on a closed port: the tests that use it never fetch.
    static let deadBase = "http://127.0.0.1:9/lc"

    /// A fresh folder with a CSV catalog of `rows` sources named S0, S1, … and its project file.
    static func project(_ name: String, rows: Int = 3) throws -> (dir: String, yaml: String) {
        let dir = try TestSupport.temporaryDirectory("hostile-\(name)").path
        let lines = (0..<rows).map { "S\($0),\(10 + Double($0) * 0.25),\(-20 + Double($0) * 0.125)" }
        try ("name,ra,dec\n" + lines.joined(separator: "\n") + "\n").write(toFile: dir + "/sources.csv", atomically: true, encoding: .utf8)
        var config = ProjectConfig(name: name, catalog: "sources.csv")
        config.catalog.name = "name"
        config.survey.base = deadBase
        config.injection.perSource = 1
        let yaml = dir + "/\(name).yaml"
        try config.yaml().write(toFile: yaml, atomically: true, encoding: .utf8)
        return (dir, yaml)
    }

    /// `astropile ARGS` run in `dir` (relative paths, such as a URL taken for one, land there).
    static func cli(in dir: String, _ args: [String]) throws -> TestSupport.Finished {
        try TestSupport.runProcess("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", dir, TestSupport.executable] + args)
    }

    /// Files under `dir` whose relative path or bytes contain `word`.
    static func files(mentioning word: String, under dir: String) -> [String] {
        var hits: [String] = []
        let e = FileManager.default.enumerator(atPath: dir)
        while let f = e?.nextObject() as? String {
            if f.contains(word) {
                hits.append(f)
            } else if let data = FileManager.default.contents(atPath: dir + "/" + f), String(decoding: data, as: UTF8.self).contains(word) {
                hits.append(f)
            }
        }
        return hits.sorted()
    }

    /// The width and height in a PNG's IHDR.
    static func pngSize(_ path: String) -> (Int, Int)? {
        let b = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        guard b.count > 24, b[1...3] == [0x50, 0x4E, 0x47][...] else { return nil }
        func be(_ k: Int) -> Int { Int(b[k]) << 24 | Int(b[k + 1]) << 16 | Int(b[k + 2]) << 8 | Int(b[k + 3]) }
        return (be(16), be(20))
    }

    // MARK: 1. --sources

    @Test func sourcesPastTheCatalogAreAUsageErrorAndAnEndPastItIsItsEnd() throws {
        #expect(try ProjectRun.selectedRows(nil, count: 50, catalog: "c.csv") == 0..<50)
        #expect(try ProjectRun.selectedRows(0..<Int64.max, count: 50, catalog: "c.csv") == 0..<50)
        #expect(try ProjectRun.selectedRows(48..<Int64.max, count: 50, catalog: "c.csv") == 48..<50)
        #expect(try ProjectRun.selectedRows(10..<20, count: 50, catalog: "c.csv") == 10..<20)
        #expect(try ProjectRun.selectedRows(7..<7, count: 50, catalog: "c.csv").isEmpty)
        #expect(try ProjectRun.selectedRows(90..<90, count: 50, catalog: "c.csv").isEmpty)
        let past: [Range<Int64>] = [100..<200, 50..<51, (Int64.max - 1)..<Int64.max, 0..<1]
        for (k, r) in past.enumerated() {
            let count: Int64 = k == 3 ? 0 : 50
            #expect {
                _ = try ProjectRun.selectedRows(r, count: count, catalog: "c.csv")
            } throws: { e in
                ExitStatus(error: e) == .usage && "\(e)".contains("--sources \(r.lowerBound)..") && "\(e)".contains("c.csv has \(count) sources")
            }
        }
        // The option's text: N = Int64.max would overflow N + 1.
        #expect {
            _ = try ProjectRunCommand.range("9223372036854775807")
        } throws: { e in
            "\(e)".contains("--sources")
        }
        #expect(try ProjectRunCommand.range("9223372036854775806..9223372036854775807") == (Int64.max - 1)..<Int64.max)
        #expect(try ProjectRunCommand.range("0..9223372036854775807") == 0..<Int64.max)
        #expect(try ProjectRunCommand.range("5..") == 5..<Int64.max)
        #expect(try ProjectRunCommand.range("9223372036854775806") == (Int64.max - 1)..<Int64.max)
    }

    @Test func sourcesPastA50RowCatalogExitWithUsageNotATrap() throws {
        let (dir, yaml) = try Self.project("range", rows: 50)
        for sources in ["100..200", "9223372036854775806..9223372036854775807", "9223372036854775807", "50"] {
            let r = try Self.cli(in: dir, ["project", "run", yaml, "--quiet", "--sources", sources])
            #expect(!r.signaled && r.status == 2, "--sources \(sources): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("--sources"), "\(r.stderr)")
            if sources.hasPrefix("100") { #expect(r.stderr.contains("has 50 sources"), "\(r.stderr)") }
        }
    }

    @Test func anEndNearInt64MaxIsTheCatalogsEnd() throws {
        let s = try ProjectRunTests.setup("clamp", count: 50, bad: false, perSource: 1)
        let r = try ProjectRunTests.cli(["project", "run", s.yaml, "--quiet", "--sources", "48..9223372036854775807"], expect: 0)
        #expect(r.stderr.contains("50 sources (2 selected)"), "\(r.stderr)")
        #expect(s.server.requests().count == 2)
        let st = try ProjectRunTests.status(s.yaml)
        #expect(st.stages.allSatisfy { $0.done == 2 && $0.pending == 48 }, "\(st.stages)")
    }

    // MARK: 2. Names

    /// A Parquet catalog whose `name` column holds `names` (Python spellings, e.g. `inf`, `nan`)
    /// as `type` (`float64` or `int64`).
    static func parquetCatalog(_ dir: String, _ file: String, names: [String], type: String = "float64") throws -> String {
        let path = dir + "/" + file
        try TestSupport.runPython("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            kind = sys.argv[3]
            names = [float(x) if kind == "float64" else int(x) for x in sys.argv[2].split(",")]
            n = len(names)
            pq.write_table(pa.table({"name": pa.array(names, getattr(pa, kind)()), "ra": [10.0 + i for i in range(n)], "dec": [20.0] * n}), sys.argv[1])
            """, arguments: [path, names.joined(separator: ","), type])
        return path
    }

    static func nameColumn(_ path: String) -> ProjectConfig.Catalog {
        var c = ProjectConfig.Catalog(path: path)
        c.name = "name"
        return c
    }

    @Test(arguments: ["inf", "-inf", "nan"])
    func aNonFiniteFloatNameIsAnErrorNamingFileRowAndColumn(_ bad: String) throws {
        let dir = try TestSupport.temporaryDirectory("hostile-names").path
        let path = try Self.parquetCatalog(dir, "names.parquet", names: ["7.0", bad])
        #expect {
            _ = try ProjectPlan.readSources(path, Self.nameColumn(path))
        } throws: { e in
            let text = "\(e)"
            return ExitStatus(error: e) == .usage && text.contains(path) && text.contains("row 1") && text.contains("column name")
        }
    }

    @Test func floatAndIntegerNamesAreSpelledWithoutATrapOrRounding() throws {
        let dir = try TestSupport.temporaryDirectory("hostile-names").path
        let floats = try Self.parquetCatalog(dir, "floats.parquet", names: ["1e300", "12.5", "42.0", "-3.0"])
        #expect(try ProjectPlan.readSources(floats, Self.nameColumn(floats)).map(\.name) == ["1e+300", "12.5", "42", "-3"])
        // 64-bit integers past 2^53 keep every digit (through a Double, 2^60 + 1 and 2^60 + 3 would
        // be one name or a wrong one).
        let ints = try Self.parquetCatalog(dir, "ids.parquet", names: ["1152921504606846977", "1152921504606846979"], type: "int64")
        #expect(try ProjectPlan.readSources(ints, Self.nameColumn(ints)).map(\.name) == ["1152921504606846977", "1152921504606846979"])
    }

    @Test func aCatalogLineWithTheWrongNumberOfFieldsIsAnErrorNamingIt() throws {
        let dir = try TestSupport.temporaryDirectory("hostile-catalog").path
        let path = dir + "/sources.csv"
        try "name,ra,dec\nA,10,20\nB,11\nC,12,22\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try ProjectPlan.readSources(path, Self.nameColumn(path))
        } throws: { e in
            ExitStatus(error: e) == .usage && "\(e)".contains(path) && "\(e)".contains("line 3")
        }
    }

    // MARK: 3. Plots

    static func curve(_ flux: [Double], mjd: [Double]? = nil, err: [Double]? = nil) -> ReducedLightCurve {
        ReducedLightCurve(filter: "zg", group: 0, season: 0, oids: [1], magZP: 26, mjd: mjd ?? flux.indices.map { 58000 + Double($0) },
                          mag: flux.map { _ in 18 }, magErr: flux.map { _ in 0.1 }, flux: flux, fluxErr: err ?? flux.map { _ in 1 },
                          counts: flux)
    }

    @Test func lightCurvesOfNaNAndHugeValuesAreDrawnWithoutATrap() throws {
        let dir = try TestSupport.temporaryDirectory("hostile-plots").path
        let png = dir + "/lc.png"
        // Every flux NaN: an empty frame, no point drawn.
        #expect(try ProjectPlots.lightCurves([Self.curve([.nan, .nan, .nan])], detections: [], injections: [], to: png) == 0)
        #expect(Self.pngSize(png).map { $0 == (1200, 500) } == true)
        // Huge, infinite and NaN fluxes and errors, NaN and huge MJDs, detections and injections
        // at NaN and infinite times: only the points with a finite MJD and flux are drawn.
        let wild = Self.curve([1, 2, 1e300, -1e300, .infinity, -.infinity, .nan, 3],
                              err: [1, 1e308, 1e300, 1, .nan, 1, 1, .infinity])
        let odd = Self.curve([1, 2, 3, 4], mjd: [58000, .nan, 1e300, -1e300])
        let detections = [
            DetectionRow(source: "X", filter: "zg", zpGroup: 0, season: 0, startMJD: .nan, endMJD: .infinity, peakMJD: .nan,
                         durationDays: .nan, amplitudeMicroJansky: 1e300, peakSNR: .infinity, snr: .nan, epochs: 2),
            DetectionRow(source: "X", filter: "zg", zpGroup: 0, season: 0, startMJD: -.infinity, endMJD: 1e300, peakMJD: 58001,
                         durationDays: 1, amplitudeMicroJansky: 1, peakSNR: 9, snr: 9, epochs: 2),
        ]
        let injections: [(start: Double, recovered: Bool)] = [(.nan, true), (.infinity, false), (1e300, true), (58002, false)]
        #expect(try ProjectPlots.lightCurves([wild], detections: detections, injections: injections, to: png) == 5)
        #expect(try ProjectPlots.lightCurves([wild, odd], detections: detections, injections: injections, to: png) == 8)
        #expect(Self.pngSize(png).map { $0 == (1200, 500) } == true)
        // No finite MJD at all: an error naming the file, not a trap.
        #expect {
            try ProjectPlots.lightCurves([Self.curve([1, 2], mjd: [.nan, .nan])], detections: [], injections: [], to: png)
        } throws: { e in
            "\(e)".contains(png) && "\(e)".contains("no light-curve points")
        }
    }

    @Test func efficiencyTablesWithOddCellsAreDrawnWithoutATrap() throws {
        let dir = try TestSupport.temporaryDirectory("hostile-plots").path
        let png = dir + "/eff.png"
        let odd = EfficiencyTable(amplitudes: [0, -1, .nan, .infinity, 1e300, 3, .leastNonzeroMagnitude], durations: [1, .nan],
                                  injected: [[1, 1], [1, 1], [1, 1], [1, 1], [1, 1], [2, 0], [1, 1]],
                                  recovered: [[5, 1], [1, 1], [1, 1], [1, 1], [Int.max, 1], [1, 0], [0, 1]])
        try ProjectPlots.efficiency(odd, to: png)
        #expect(Self.pngSize(png).map { $0 == (900, 500) } == true)
        // Rows and cells the table lacks, and no amplitude that is a positive number.
        let ragged = EfficiencyTable(amplitudes: [1, 3, 10], durations: [1, 3, 10], injected: [[4], [4, 4]], recovered: [[2, 9], []])
        try ProjectPlots.efficiency(ragged, to: png)
        let none = EfficiencyTable(amplitudes: [0, -2], durations: [1], injected: [[1], [1]], recovered: [[1], [1]])
        try ProjectPlots.efficiency(none, to: png)
        #expect(Self.pngSize(png).map { $0 == (900, 500) } == true)
    }

    // MARK: 4. Light-curve lines of the wrong width

    /// The fixture's first `lines` lines, line 3 short of its last field and line 5 with one more.
    static func corruptLightCurve(_ dir: String, lines: Int = 6) throws -> String {
        let text = try String(contentsOfFile: try TestSupport.fixture(fixture), encoding: .utf8)
        var rows = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(lines).map(String.init)
        let cut = try #require(rows[2].lastIndex(of: ","))
        rows[2] = String(rows[2][..<cut])
        rows[4] += ",1"
        let path = dir + "/corrupt.csv"
        try (rows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aLightCurveLineWithTheWrongNumberOfFieldsRejectsTheFileNamingTheLine() throws {
        let dir = try TestSupport.temporaryDirectory("hostile-fields").path
        let path = try Self.corruptLightCurve(dir)
        #expect {
            _ = try ZTFLightCurveCSV.read(path)
        } throws: { e in
            let text = "\(e)"
            return text.contains(path) && text.contains("line 3") && text.contains("and 1 more")
        }
        // The same lines intact: every point read.
        let text = try String(contentsOfFile: try TestSupport.fixture(Self.fixture), encoding: .utf8)
        let good = dir + "/good.csv"
        try (text.split(separator: "\n", omittingEmptySubsequences: false).prefix(6).joined(separator: "\n") + "\n")
            .write(toFile: good, atomically: true, encoding: .utf8)
        #expect(try ZTFLightCurveCSV.read(good).count == 5)
    }

    @Test func aRunRecordsTheSourceWhoseRawFileHasAShortLineAsFailedWithTheLine() throws {
        let dir = try TestSupport.temporaryDirectory("hostile-fields-run")
        let corrupt = try Self.corruptLightCurve(dir.path, lines: 40)
        let server = try IRSAServer(folder: dir, fixture: corrupt)
        let s = try ProjectRunTests.setup("fields", count: 2, bad: false, perSource: 1, dir: dir, server: server)
        let r = try ProjectRunTests.cli(["project", "run", s.yaml, "--quiet"], expect: 3)
        #expect(r.stderr.contains("line 3"), "\(r.stderr)")
        let st = try ProjectRunTests.status(s.yaml)
        let reduce = try #require(st.stages.first { $0.stage == ProjectStage.reduce.rawValue })
        #expect(reduce.failed == 2 && reduce.done == 0)
        #expect(reduce.failures.allSatisfy { $0.reason.contains("line 3") && $0.reason.contains("fields where the header has") }, "\(reduce.failures)")
    }

    // MARK: 5. Repeated epochs

    static func point(_ oid: Int64, _ mjd: Double, _ mag: Double, err: Double = 0.05) -> PhotometryPoint {
        PhotometryPoint(oid: oid, mjd: mjd, mag: mag, magErr: err, catflags: 0, filter: "zg", field: 700, limitMag: 21, magZP: 26.2)
    }

    @Test func repeatedEpochsAreOneEpochAndEventsHaveTheirDuration() throws {
        // 40 nightly epochs of a flat star; night 20 one bright exposure, listed three times (twice
        // by its object, once by a second object of the same zero point); nights 30 and 31 a
        // two-night flare, each night listed twice.
        var points: [PhotometryPoint] = []
        for d in 0..<40 where d != 20 && d != 30 && d != 31 {
            points.append(Self.point(1, 58000 + Double(d), d % 2 == 0 ? 18.0 : 18.02))
        }
        points += [Self.point(1, 58020, 16, err: 0.02), Self.point(1, 58020, 16, err: 0.02), Self.point(2, 58020, 16.01, err: 0.04)]
        points += [Self.point(1, 58030, 16), Self.point(2, 58030, 16), Self.point(1, 58031, 16.1), Self.point(1, 58031, 16.1)]
        let (curves, counts) = LightCurveReduction(settings: ProjectConfig.Reduction(), filters: ["zg"]).reduce(points)
        let c = try #require(curves.first)
        #expect(curves.count == 1 && c.oids == [1, 2])
        #expect(c.mjd.count == 40 && Set(c.mjd).count == 40)
        #expect(counts.duplicateEpochs == 4 && counts.kept == 40 && counts.points == 44)
        #expect(counts.points == counts.kept + counts.flagged + counts.fainterThanLimit + counts.noMagnitude + counts.otherFilter + counts.duplicateEpochs)
        // The point kept at night 20: the smallest error.
        let k = try #require(c.mjd.firstIndex(of: 58020))
        #expect(c.mag[k] == 16 && c.magErr[k] == 0.02)

        // One exposure is not a two-epoch event; the two-night flare lasts one day.
        let events = EventFinder(threshold: 5, minEpochs: 2).find(mjd: c.mjd, flux: c.flux)
        #expect(events.count == 1, "\(events)")
        let e = try #require(events.first)
        #expect(c.mjd[e.first] == 58030 && c.mjd[e.last] == 58031 && e.duration == 1 && e.epochs == 2)
        #expect(events.allSatisfy { $0.duration > 0 })

        // The finder alone, on points it was given twice: they count as one epoch.
        var mjd = (0..<40).map { 58000 + Double($0) }, flux = (0..<40).map { $0 % 2 == 0 ? 100.0 : 102.0 }
        mjd.insert(58020, at: 20)
        flux[20] = 1000
        flux.insert(1000, at: 20)
        #expect(EventFinder(threshold: 5, minEpochs: 2).find(mjd: mjd, flux: flux).isEmpty)
        let single = EventFinder(threshold: 5, minEpochs: 1).find(mjd: mjd, flux: flux)
        #expect(single.count == 1 && single.first?.epochs == 1 && single.first?.duration == 0)
    }

    // MARK: 6. CSV

    @Test func detectionsCSVQuotesNamesWithNewlinesCommasAndQuotes() throws {
        let names = ["plain", "with,comma", "with \"quote\"", "two\nlines", "cr\r\nlf", "tab\there"]
        let rows = names.map {
            DetectionRow(source: $0, filter: "zg", zpGroup: 0, season: 1, startMJD: 58000, endMJD: 58001, peakMJD: 58000.5, durationDays: 1,
                         amplitudeMicroJansky: 10, peakSNR: 8, snr: 9, epochs: 2)
        }
        let csv = ProjectQueries.detectionsCSV(rows)
        #expect(csv.contains("\n\"two\nlines\",zg,0,1,"))
        #expect(csv.contains("\n\"with \"\"quote\"\"\",zg,"))
        #expect(csv.contains("\nplain,zg,"))
        // Python's csv module (RFC 4180) reads every name back, 12 fields a row.
        let dir = try TestSupport.temporaryDirectory("hostile-csv").path
        try csv.write(toFile: dir + "/d.csv", atomically: true, encoding: .utf8)
        let out = try TestSupport.runPython("""
            import sys, csv, json
            rows = list(csv.reader(open(sys.argv[1], newline="")))
            assert all(len(r) == 12 for r in rows), rows
            print(json.dumps([r[0] for r in rows[1:]]))
            """, arguments: [dir + "/d.csv"])
        #expect(try JSONDecoder().decode([String].self, from: Data(out.utf8)) == names)
    }

    // MARK: 7. --database

    @Test func databaseAddressesAreReadInAnyCaseAndOthersAreRefused() throws {
        #expect(try RegistryLocation("sqlite:/tmp/r.sqlite") == .sqlite("/tmp/r.sqlite"))
        #expect(try RegistryLocation("SQLite:/tmp/r.sqlite") == .sqlite("/tmp/r.sqlite"))
        #expect(try RegistryLocation("/tmp/r.sqlite") == .sqlite("/tmp/r.sqlite"))
        #expect(try RegistryLocation("relative/r.sqlite") == .sqlite("relative/r.sqlite"))
        #expect(try RegistryLocation("POSTGRES://u@h:5432/db") == .postgresql("POSTGRES://u@h:5432/db"))
        #expect(try RegistryLocation("PostgreSQL://u@h/db") == .postgresql("PostgreSQL://u@h/db"))
        #expect {
            _ = try RegistryLocation("postgresql+psycopg2://user:secret@h/db")
        } throws: { e in
            ExitStatus(error: e) == .usage && "\(e)".contains("use postgresql://") && !"\(e)".contains("secret")
        }
        #expect(URLRedaction.redacted("postgres://user:secret@host:5432/db") == "postgres://user:***@host:5432/db")
        #expect(URLRedaction.redacted("postgres://astropile@127.0.0.1:5432/db") == "postgres://astropile@127.0.0.1:5432/db")
        #expect(URLRedaction.redacted("postgresql://user:se#c@r/et@host/db") == "postgresql://user:***@host/db")
        #expect(URLRedaction.redacted("postgresql://user:secret@/db") == "postgresql://user:***@/db")
        #expect(URLRedaction.redacted("postgres://host/db?user=u&password=secret") == "postgres://host/db?user=u&password=***")
        #expect(URLRedaction.redacted("postgres:user:secret@host/db") == "postgres:user:***@host/db")
        #expect(URLRedaction.redacted("sqlite:/tmp/r.sqlite") == "sqlite:/tmp/r.sqlite")
        #expect(URLRedaction.redacted("/data/a:b@c/r.sqlite") == "/data/a:b@c/r.sqlite")
    }

    static let secretAddresses = [
        "POSTGRES://user:secret@/db",
        "postgresql://user:secret@/db",
        "postgresql://user:se#cret@localhost/db",
        "postgresql+psycopg2://user:secret@localhost/db",
        "mysql://user:secret@localhost/db",
        "sqlite://user:secret@localhost/db",
        "postgres:user:secret@localhost/db",
    ]

    @Test(arguments: secretAddresses)
    func aBadDatabaseAddressIsAUsageErrorThatPrintsAndWritesNoPassword(_ address: String) throws {
        // The library: a usage error without the password, and nothing made in the working folder.
        #expect {
            _ = try Registry.open(address)
        } throws: { e in
            ExitStatus(error: e) == .usage && !"\(e)".contains("secret") && !"\(e)".contains("cret@")
        }
        #expect(!FileManager.default.fileExists(atPath: String(address.prefix { $0 != "/" })))
        // The commands, run in the project's folder: exit 2, no password printed, none in any file.
        let (dir, yaml) = try Self.project("hidden")
        for command in ["run", "status", "detections"] {
            let r = try Self.cli(in: dir, ["project", command, yaml, "--database", address])
            #expect(!r.signaled && r.status == 2, "\(command) \(address): \(r.status) \(r.stderr)")
            #expect(!(r.stdout + r.stderr).contains("secret") && !(r.stdout + r.stderr).contains("cret@"), "\(r.stderr)")
        }
        #expect(Self.files(mentioning: "secret", under: dir).isEmpty)
        #expect(Self.files(mentioning: "cret", under: dir).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + String(address.prefix { $0 != "/" })))
    }

    @Test func aServerThatDoesNotAnswerIsAFailureThatNamesNoPassword() throws {
        let address = "postgresql://user:secret@127.0.0.1:\(try PostgresCluster.freePort())/db"
        #expect {
            _ = try Registry.open(address)
        } throws: { e in
            ExitStatus(error: e) == .failure && "\(e)".contains("user:***@127.0.0.1") && !"\(e)".contains("secret")
        }
        let (dir, yaml) = try Self.project("unreachable")
        let r = try Self.cli(in: dir, ["project", "run", yaml, "--database", address])
        #expect(r.status == 1 && !(r.stdout + r.stderr).contains("secret"), "\(r.stderr)")
        #expect(Self.files(mentioning: "secret", under: dir).isEmpty)
    }

    @Test("A password in a working PostgreSQL address (scheme in capitals) is in no output, report, file or row")
    func aPasswordInAWorkingAddressIsNeverPrintedOrStored() throws {
        let cluster = try PostgresCluster()
        let plain = try cluster.database("reg")
        let address = plain.replacingOccurrences(of: "postgres://astropile@", with: "POSTGRESQL://astropile:secret@")
        #expect(address.hasPrefix("POSTGRESQL://astropile:secret@127.0.0.1:"))
        let s = try ProjectRunTests.setup("pgpw", count: 1, bad: false, perSource: 1)
        let run = try ProjectRunTests.cli(["project", "run", s.yaml, "--quiet", "--database", address], expect: 0)
        #expect(!(run.stdout + run.stderr).contains("secret"), "\(run.stderr)")
        let status = try ProjectRunTests.cli(["project", "status", s.yaml, "--json", "--database", address], expect: 0)
        #expect(status.stdout.contains("astropile:***@127.0.0.1") && !status.stdout.contains("secret"), "\(status.stdout)")
        let report = try String(contentsOfFile: try ProjectRunTests.products(s.yaml) + "/astropile_report.json", encoding: .utf8)
        #expect(report.contains("astropile:***@127.0.0.1") && !report.contains("secret"), "\(report)")
        #expect(Self.files(mentioning: "secret", under: s.dir.path).isEmpty)
        let rows = try ProjectRunTests.dump(plain)
        #expect(!rows.isEmpty && rows.allSatisfy { !$0.contains("secret") })
    }

    // MARK: 8. survey.base

    @Test func aBaseURLWithCredentialsIsRefusedWithoutPrintingOrSavingThem() throws {
        let base = "https://user:secret@irsa.example.org/cgi-bin/ZTF/nph_light_curves"
        var config = ProjectConfig(name: "creds", catalog: "sources.csv")
        config.survey.base = base
        let refused = config
        #expect {
            try refused.validate()
        } throws: { e in
            let text = "\(e)"
            return ExitStatus(error: e) == .usage && text.contains("user:***@irsa.example.org") && !text.contains("secret")
                && text.contains("ASTROPILE_FETCH_USER") && text.contains("ASTROPILE_FETCH_PASSWORD") && text.contains("netrc")
        }
        // `project init --base`: refused, nothing written.
        let (dir, yaml) = try Self.project("creds")
        let written = dir + "/init.yaml"
        let r = try Self.cli(in: dir, ["project", "init", "creds", "--catalog", "sources.csv", "--base", base, "--output", written])
        #expect(r.status == 2 && !(r.stdout + r.stderr).contains("secret"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: written))
        // A project file holding it: refused before anything is written (no products, no registry).
        let text = try String(contentsOfFile: yaml, encoding: .utf8)
        try text.replacingOccurrences(of: Self.deadBase, with: base).write(toFile: yaml, atomically: true, encoding: .utf8)
        let run = try Self.cli(in: dir, ["project", "run", yaml, "--quiet"])
        #expect(run.status == 2 && run.stderr.contains(yaml) && run.stderr.contains("survey.base") && !run.stderr.contains("secret"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/projects"))
        #expect(Self.files(mentioning: "secret", under: dir) == ["creds.yaml"])
    }
}
