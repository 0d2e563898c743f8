import Foundation
import Formats
import Pipelines
import Sky
import Testing
import TestSupport

@testable import AstroPileCLI

/// Cone, box and id lookups on the cross-match fixture's left catalog, against astropy / numpy.
@Suite("Spatial queries", .serialized)
struct QueryTests {
    /// Ids selected by astropy (cone) or numpy (box) from the original file, one line of ids.
    static let reference = #"""
import sys, numpy as np, pyarrow.parquet as pq, astropy.units as u
from astropy.coordinates import SkyCoord
f, kind = sys.argv[1], sys.argv[2]
t = pq.read_table(f); ra = t["ra"].to_numpy(); dec = t["dec"].to_numpy(); ids = t["id"].to_numpy()
if kind == "cone":
    cra, cdec, r = map(float, sys.argv[3:6])
    sep = SkyCoord(cra * u.deg, cdec * u.deg).separation(SkyCoord(ra * u.deg, dec * u.deg))
    sel = sep <= r * u.deg
else:
    ra1, ra2, d1, d2 = map(float, sys.argv[3:7])
    w = np.mod(ra, 360)
    sel = (dec >= d1) & (dec <= d2) & (((w >= ra1) & (w <= ra2)) if ra1 <= ra2 else ((w >= ra1) | (w <= ra2)))
print(" ".join(str(i) for i in sorted(ids[sel])))
"""#

    static func ids(_ path: String) throws -> [Int64] {
        try ImportHarness.integers(path, column: "id").sorted()
    }

    @Test(arguments: [
        (150.1, 2.2, 30.0 / 3600),      // a dense spot
        (0.0, 0.0, 0.01),               // crosses RA 0 and the equator, a dense spot
        (123.0, 89.999, 0.005),         // around the north pole
        (200.0, -89.9995, 0.002),       // around the south pole
        (45.0, 41.81, 0.02),            // the polar-cap transition latitude
        (300.0, 10.0, 3.0),             // a big cone over many partitions
    ])
    func coneEqualsAstropySeparation(ra: Double, dec: Double, radius: Double) throws {
        let f = try CrossmatchFixture.get()
        let out = f.dir + "/cone-\(ra)-\(dec).parquet"
        let report = try CatalogQuery.region(.cone(ra: ra, dec: dec, radius: radius), in: f.left, output: .parquet(out))
        let expected = try TestSupport.runPython(Self.reference, arguments: [f.leftFile, "cone", "\(ra)", "\(dec)", "\(radius)"])
            .split(whereSeparator: \.isWhitespace).map { Int64($0)! }
        let got = try Self.ids(out)
        #expect(got == expected)
        #expect(report.rows == Int64(expected.count))
        if radius < 1 { #expect(report.partitionsRead < report.partitions, "a small cone reads few partitions") }
    }

    @Test(arguments: [
        (150.0, 150.2, 2.1, 2.3),
        (359.99, 0.01, -1.0, 1.0),      // wraps through RA 0
        (0.0, 360.0, 89.99, 90.0),      // a polar cap
    ])
    func boxEqualsNumpyMask(ra1: Double, ra2: Double, dec1: Double, dec2: Double) throws {
        let f = try CrossmatchFixture.get()
        let out = f.dir + "/box-\(ra1)-\(dec1).parquet"
        let report = try CatalogQuery.region(.box(raMin: ra1, raMax: ra2, decMin: dec1, decMax: dec2), in: f.left, output: .parquet(out))
        let expected = try TestSupport.runPython(Self.reference, arguments: [f.leftFile, "box", "\(ra1)", "\(ra2)", "\(dec1)", "\(dec2)"])
            .split(whereSeparator: \.isWhitespace).map { Int64($0)! }
        #expect(try Self.ids(out) == expected)
        #expect(!expected.isEmpty)
        #expect(report.rowGroupsRead <= report.rowGroups)
    }

    @Test func lookupThroughTheIndexReadsOnlyNamedPartitions() throws {
        let f = try CrossmatchFixture.get()
        let index = try IndexCatalog.build(catalog: f.left, column: "id", output: f.dir + "/idx_left_id")
        let wanted: [Int64] = [1_000_000, 1_000_123, 1_150_000, 1_299_999]
        let out = f.dir + "/lookup.parquet"
        let (report, used) = try CatalogQuery.lookup(column: "id", values: wanted.map(String.init), in: f.left, index: index,
                                                     output: .parquet(out))
        #expect(used == index)
        #expect(try Self.ids(out) == wanted)
        #expect(report.partitionsRead <= wanted.count)
        #expect(report.partitionsRead < report.partitions)
        // Without the index: same rows, every partition scanned.
        let (scan, none) = try CatalogQuery.lookup(column: "id", values: ["1000123"], in: f.left, output: .countOnly)
        #expect(none == nil)
        #expect(scan.rows == 1)
        #expect(scan.partitionsRead == scan.partitions)
        // A value that does not exist.
        let (missing, _) = try CatalogQuery.lookup(column: "id", values: ["42"], in: f.left, index: index, output: .countOnly)
        #expect(missing.rows == 0 && missing.partitionsRead == 0)
    }

    @Test func anglesNeedUnits() throws {
        #expect(try AngleText.arcseconds("1arcsec") == 1)
        #expect(try AngleText.arcseconds("0.5 arcmin") == 30)
        #expect(try AngleText.arcseconds("2deg") == 7200)
        #expect(try AngleText.arcseconds("1e-3deg") == 3.6)
        #expect(try AngleText.arcseconds("250mas") == 0.25)
        #expect(throws: AngleText.Problem.missingUnit("5")) { try AngleText.arcseconds("5") }
        #expect(throws: AngleText.Problem.unknownUnit("5parsec")) { try AngleText.arcseconds("5parsec") }
        #expect(throws: AngleText.Problem.notANumber("arcsec")) { try AngleText.arcseconds("arcsec") }
    }
}

/// The command line: margin, crossmatch (killed and resumed), cone, lookup.
@Suite("Cross-match command line", .serialized)
struct CrossmatchCommandTests {
    static var executable: String { TestSupport.root.appendingPathComponent(".build/debug/astropile").path }

    @Test func killedCrossmatchResumesToTheSameLeaves() throws {
        let f = try CrossmatchFixture.get()
        let clean = f.dir + "/cli_clean", resumed = f.dir + "/cli_resumed"
        let args = ["crossmatch", f.left, f.right, "--radius", "1arcsec", "--all-pairs", "--quiet", "--jobs", "2"]
        let r0 = try TestSupport.runStatus(Self.executable, args + ["--output", clean])
        #expect(r0.status == 0, "\(r0.stderr)")
        let r1 = try TestSupport.runStatus(Self.executable, args + ["--output", resumed], environment: ["ASTROPILE_CRASH_AFTER": "crossmatch:5"])
        #expect(r1.status != 0, "the crash hook should have killed the run")
        #expect(FileManager.default.fileExists(atPath: resumed + ".astropile-work"))
        let r2 = try TestSupport.runStatus(Self.executable, args + ["--output", resumed])
        #expect(r2.status == 0, "\(r2.stderr)")
        for p in try HATSCatalog.open(clean).partitions.pixels {
            let a = try Data(contentsOf: URL(fileURLWithPath: HATSLayout(root: clean).leafPath(p)))
            let b = try Data(contentsOf: URL(fileURLWithPath: HATSLayout(root: resumed).leafPath(p)))
            #expect(a == b, "leaf \(p) differs after resume")
        }
        #expect(!FileManager.default.fileExists(atPath: resumed + ".astropile-work"))
        let r3 = try TestSupport.runStatus(Self.executable, args + ["--output", resumed])
        #expect(r3.status == 0 && r3.stdout.contains("already complete"), "\(r3.stdout)")
    }

    @Test func marginResumesAfterAKill() throws {
        let f = try CrossmatchFixture.get()
        let out = f.dir + "/margin_resumed"
        let args = ["margin", f.right, "--radius", "1arcsec", "--output", out, "--quiet", "--jobs", "2"]
        let r1 = try TestSupport.runStatus(Self.executable, args, environment: ["ASTROPILE_CRASH_AFTER": "margin-map:3"])
        #expect(r1.status != 0)
        let r2 = try TestSupport.runStatus(Self.executable, args)
        #expect(r2.status == 0, "\(r2.stderr)")
        let a = try HATSCatalog.open(f.margin), b = try HATSCatalog.open(out)
        #expect(a.partitions.pixels == b.partitions.pixels)
        for p in a.partitions.pixels {
            #expect(try Data(contentsOf: URL(fileURLWithPath: a.leafPath(p))) == Data(contentsOf: URL(fileURLWithPath: b.leafPath(p))))
        }
    }

    @Test(arguments: [[], ["import"], ["margin"], ["crossmatch"], ["cone"], ["box"], ["lookup"], ["index"], ["info"],
                      ["fetch"], ["fetch", "sdss-frames"], ["fetch", "sdss-spectra"], ["fetch", "urls"], ["fetch", "ztf-alerts"],
                      ["fetch", "plan"], ["fetch", "plan", "urls"], ["fetch", "status"]])
    func helpExitsZero(_ sub: [String]) throws {
        let r = try TestSupport.runStatus(Self.executable, sub + ["--help"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("USAGE:"), "\(r.stdout.prefix(300))")
    }

    @Test func importBuildsAnIndexThatLookupUses() throws {
        let dir = try TestSupport.temporaryDirectory("index-cli").path
        let input = try TestSupport.fixture("hats-import/small_sky/catalog.csv")
        let r = try TestSupport.runStatus(Self.executable, ["import", "--input", input, "--output", dir + "/sky", "--index", "id", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let index = try HATSCatalog.open(dir + "/sky_index_id")
        #expect(index.type == .index && index.property("hats_index_column") == "id")
        let l = try TestSupport.runStatus(Self.executable, ["lookup", dir + "/sky", "--column", "id", "--value", "707,792", "--output", dir + "/hit.csv"])
        #expect(l.status == 0, "\(l.stderr)")
        #expect(!l.stderr.contains("no index catalog"), "lookup should find <catalog>_index_id: \(l.stderr)")
        let csv = try String(contentsOfFile: dir + "/hit.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 3, "header and two rows: \(csv)")
        #expect(csv.contains("707") && csv.contains("792"))
    }

    @Test func infoDescribesTheMargin() throws {
        let f = try CrossmatchFixture.get()
        let r = try TestSupport.runStatus(Self.executable, ["info", f.margin])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("(margin)") && r.stdout.contains("margin    1.0 arcsec around the partitions of"), "\(r.stdout)")
    }

    @Test func unitlessRadiusIsAUsageError() throws {
        let f = try CrossmatchFixture.get()
        let r = try TestSupport.runStatus(Self.executable, ["margin", f.right, "--radius", "5"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("no unit"), "\(r.stderr)")
        let m = try TestSupport.runStatus(Self.executable, ["crossmatch", f.left, f.right, "--radius", "3arcsec", "--output", f.dir + "/nope"])
        #expect(m.status == 2)
        #expect(m.stderr.contains("astropile margin"), "\(m.stderr)")
    }

    @Test func coneOnTheCommandLinePrintsCSV() throws {
        let f = try CrossmatchFixture.get()
        let r = try TestSupport.runStatus(Self.executable, ["cone", f.left, "--ra", "150.1", "--dec", "2.2", "--radius", "10arcsec",
                                                            "--columns", "id"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first?.contains("\"id\"") == true, "\(r.stdout.prefix(200))")
        #expect(lines.count > 1)
        // A negative declination follows its option directly, as astronomers type it.
        let south = try TestSupport.runStatus(Self.executable, ["cone", f.left, "--ra", "10", "--dec", "-30", "--radius", "20arcsec", "--count"])
        #expect(south.status == 0 && (Int(south.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0, "\(south.stdout) \(south.stderr)")
        let box = try TestSupport.runStatus(Self.executable, ["box", f.left, "--ra", "9.99,10.01", "--dec", "-30.01,-29.99", "--count"])
        #expect(box.status == 0 && (Int(box.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0, "\(box.stdout) \(box.stderr)")
        let c = try TestSupport.runStatus(Self.executable, ["lookup", f.left, "--column", "id", "--value", "1000007", "--count"])
        #expect(c.status == 0 && c.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(c.stdout) \(c.stderr)")
    }
}
