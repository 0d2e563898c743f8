import Foundation
import Testing
import TestSupport

/// A command line with one absurd value and a word its usage error must contain.
struct AbsurdOption: Sendable, CustomTestStringConvertible {
    var args: [String]
    var says: String
    var testDescription: String { args.joined(separator: " ") }
}

/// Absurd option values are usage errors (exit 2) that name the option, never traps.
@Suite("Absurd options", .serialized)
struct AbsurdOptionsTests {
    static let input = "IN"      // replaced by a real CSV
    static let catalog = "CAT"   // replaced by a real catalog
    static let out = "OUT"       // replaced by a fresh folder
    static let dataset = "DS"    // replaced by a finished spectra data set
    static let project = "PROJECT" // replaced by a project file over a 3-row catalog

    /// A finished data set (the four real spectra), made once.
    static let madeDataSet: Result<String, any Error> = Result {
        let dir = try TestSupport.temporaryDirectory("absurd-ds").path + "/spectra"
        let r = try TestSupport.runProcess(TestSupport.executable, ["spectra", "--files", try TestSupport.fixture("sdss-spectra"),
                                                                  "--output", dir, "--quiet"])
        guard r.status == 0 else { throw TestSupportError("spectra exited \(r.status): \(r.stderr)") }
        return dir
    }

    static let cases: [AbsurdOption] = [
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--memory", "99999999999GiB"], says: "--memory"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--memory", "1e400"], says: "--memory"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--memory", "-1GiB"], says: "--memory"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--memory", "0"], says: "--memory"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--jobs", "0"], says: "--jobs"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--jobs", "1000000"], says: "--jobs"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--jobs", "99999999999999999999"], says: "jobs"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--threshold", "0"], says: "threshold"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--threshold", "-5"], says: "threshold"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--highest-order", "30"], says: "orders"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--highest-order", "29"], says: "--memory"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--lowest-order=-1"], says: "orders"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--constant-order", "99"], says: "constant order"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--hdu", "-3"], says: "HDU"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--delimiter", "ab"], says: "--delimiter"),
        AbsurdOption(args: ["import", "--input", input, "--output", ""], says: "output"),
        AbsurdOption(args: ["import", "--input", input, "--output", "/"], says: "root folder"),
        AbsurdOption(args: ["import", "--input", input, "--output", out, "--tmp", out + "/inside"], says: "inside the output"),
        AbsurdOption(args: ["margin", catalog, "--radius", "1e400arcsec"], says: "--radius"),
        AbsurdOption(args: ["margin", catalog, "--radius", "-1arcsec"], says: "--radius"),
        AbsurdOption(args: ["margin", catalog, "--radius", "0arcsec"], says: "--radius"),
        AbsurdOption(args: ["margin", catalog, "--radius", "nanarcsec"], says: "--radius"),
        AbsurdOption(args: ["margin", catalog, "--radius", "100deg"], says: "too wide"),
        AbsurdOption(args: ["margin", catalog, "--radius", "5arcsec", "--jobs", "0"], says: "--jobs"),
        AbsurdOption(args: ["crossmatch", catalog, catalog, "--radius", "1arcsec", "--output", out, "--neighbors", "0"], says: "--neighbors"),
        AbsurdOption(args: ["crossmatch", catalog, catalog, "--radius", "1arcsec", "--output", out, "--neighbors", "99999999999"], says: "--neighbors"),
        AbsurdOption(args: ["crossmatch", catalog, catalog, "--radius", "1arcsec", "--output", out, "--min-radius", "5arcsec"], says: "--min-radius"),
        AbsurdOption(args: ["crossmatch", catalog, catalog, "--radius", "1e300deg", "--output", out], says: "--radius"),
        AbsurdOption(args: ["crossmatch", catalog, catalog, "--radius", "1arcsec", "--output", out, "--suffixes", "_a"], says: "--suffixes"),
        AbsurdOption(args: ["crossmatch", catalog, catalog, "--radius", "1arcsec", "--output", out, "--jobs", "-2"], says: "--jobs"),
        AbsurdOption(args: ["cone", catalog, "--ra", "inf", "--dec", "0", "--radius", "1deg"], says: "--ra"),
        AbsurdOption(args: ["cone", catalog, "--ra", "nan", "--dec", "0", "--radius", "1deg"], says: "--ra"),
        AbsurdOption(args: ["cone", catalog, "--ra", "10", "--dec", "91", "--radius", "1deg"], says: "--dec"),
        AbsurdOption(args: ["cone", catalog, "--ra", "10", "--dec", "0", "--radius", "1e999deg"], says: "--radius"),
        AbsurdOption(args: ["box", catalog, "--ra", "inf,5", "--dec", "0,1"], says: "--ra"),
        AbsurdOption(args: ["box", catalog, "--ra", "nan,5", "--dec", "0,1"], says: "--ra"),
        AbsurdOption(args: ["box", catalog, "--ra", "1e308,-1e308", "--dec", "0,1"], says: "--ra"),
        AbsurdOption(args: ["box", catalog, "--ra", "0,5", "--dec", "1,0"], says: "--dec"),
        AbsurdOption(args: ["box", catalog, "--ra", "0,5", "--dec", "nan,1"], says: "--dec"),
        AbsurdOption(args: ["fetch", "urls", "--list", input, "--dest", out, "--timeout", "1e300"], says: "--timeout"),
        AbsurdOption(args: ["fetch", "urls", "--list", input, "--dest", out, "--retry-wait", "1e300"], says: "--retry-wait"),
        AbsurdOption(args: ["fetch", "urls", "--list", input, "--dest", out, "--max-retry-wait", "inf"], says: "--retry-wait"),
        AbsurdOption(args: ["fetch", "urls", "--list", input, "--dest", out, "--bandwidth", "99999999999GiB"], says: "--bandwidth"),
        AbsurdOption(args: ["fetch", "urls", "--list", input, "--dest", out, "--keep-free", "99999999999GiB"], says: "--keep-free"),
        AbsurdOption(args: ["fetch", "urls", "--list", input, "--dest", out, "--jobs", "0"], says: "--jobs"),
        AbsurdOption(args: ["fetch", "urls", "--list", input, "--dest", out, "--jobs", "1000000"], says: "--jobs"),
        AbsurdOption(args: ["fetch", "urls", "--list", input, "--dest", out, "--retries", "0"], says: "--retries"),
        AbsurdOption(args: ["fetch", "plan", "urls", "--catalog", input, "--template", "http://h/{id:099999999999999999999d}.fits",
                            "--dest", out, "--no-head"], says: "bad format"),
        AbsurdOption(args: ["fetch", "plan", "urls", "--catalog", input, "--template", "http://h/{id:9999999d}.fits",
                            "--dest", out, "--no-head"], says: "bad format"),
        AbsurdOption(args: ["fetch", "ztf-alerts", "--from", "2019-06-01", "--to", "2019-06-02", "--min-size", "99999999999GiB",
                            "--dest", out], says: "--min-size"),
        // The data-set commands, alerts, projects and the fetch sources.
        AbsurdOption(args: ["stamps", "--catalog", input, "--frames", out, "--output", out, "--size", "0"], says: "--size"),
        AbsurdOption(args: ["stamps", "--catalog", input, "--frames", out, "--output", out, "--size", "99999999999"], says: "--size"),
        AbsurdOption(args: ["stamps", "--catalog", input, "--frames", out, "--output", out, "--healpix-order", "40"], says: "--healpix-order"),
        AbsurdOption(args: ["stamps", "--catalog", input, "--frames", out, "--output", out, "--objects-per-file", "0"], says: "--objects-per-file"),
        AbsurdOption(args: ["stamps", "--catalog", input, "--frames", out, "--output", out, "--deflate", "99"], says: "--deflate"),
        AbsurdOption(args: ["stamps", "--catalog", input, "--frames", out, "--output", out, "--memory", "0"], says: "--memory"),
        AbsurdOption(args: ["stamps", "--catalog", input, "--frames", out, "--output", out, "--bands", "xyz"], says: "--bands"),
        AbsurdOption(args: ["stamps", "--catalog", input, "--frames", out, "--output", out, "--bands", ""], says: "--bands"),
        AbsurdOption(args: ["stamps", "--catalog", input, "--frames", out, "--output", out, "--reference-band", "q"], says: "--reference-band"),
        AbsurdOption(args: ["stamps", "--catalog", input, "--frames", out, "--output", out, "--jobs", "0"], says: "--jobs"),
        AbsurdOption(args: ["spectra", "--files", out, "--output", out, "--objects-per-file", "0"], says: "--objects-per-file"),
        AbsurdOption(args: ["spectra", "--files", out, "--output", out, "--jobs", "99999999999999999999"], says: "jobs"),
        AbsurdOption(args: ["pair", dataset, dataset, "--radius", "1e400arcsec", "--output", out], says: "--radius"),
        AbsurdOption(args: ["pair", dataset, dataset, "--radius", "1arcsec", "--output", out, "--neighbors", "0"], says: "--neighbors"),
        AbsurdOption(args: ["pair", dataset, dataset, "--radius", "1arcsec", "--output", out, "--neighbors", "99999999999999"], says: "--neighbors"),
        AbsurdOption(args: ["pair", dataset, dataset, "--radius", "1arcsec", "--output", out, "--prefixes", "a"], says: "--prefixes"),
        AbsurdOption(args: ["split", dataset, "--fractions", "train=inf"], says: "--fractions"),
        AbsurdOption(args: ["split", dataset, "--fractions", "train=nan,val=1"], says: "--fractions"),
        AbsurdOption(args: ["split", dataset, "--fractions", "train=1e308,val=1e308"], says: "--fractions"),
        AbsurdOption(args: ["split", dataset, "--fractions", "train=0.5,val=0.5", "--seed", "99999999999999999999999"], says: "--seed"),
        AbsurdOption(args: ["show", dataset, "--grid", "0x0", "--png", out + ".png"], says: "--grid"),
        AbsurdOption(args: ["show", dataset, "--grid", "99999999x99999999", "--png", out + ".png"], says: "--grid"),
        AbsurdOption(args: ["show", dataset, "--grid", "8x", "--png", out + ".png"], says: "--grid"),
        AbsurdOption(args: ["show", dataset, "--object", "1", "--png", out + ".png", "--zoom", "99999999999"], says: "--zoom"),
        AbsurdOption(args: ["show", dataset, "--object", "1", "--png", out + ".png", "--stretch", "nan"], says: "--stretch"),
        AbsurdOption(args: ["alerts", "ingest", input, "--output", out, "--alerts-per-file", "0"], says: "--alerts-per-file"),
        AbsurdOption(args: ["alerts", "ingest", input, "--output", out, "--memory", "1e400"], says: "--memory"),
        AbsurdOption(args: ["project", "run", project, "--sources", "5..2"], says: "--sources"),
        AbsurdOption(args: ["project", "run", project, "--sources", "9223372036854775807"], says: "--sources"),
        AbsurdOption(args: ["project", "run", project, "--jobs", "0"], says: "--jobs"),
        AbsurdOption(args: ["project", "run", project, "--fetch-jobs", "0"], says: "--fetch-jobs"),
        AbsurdOption(args: ["fetch", "sdss-frames", "--catalog", input, "--dest", out, "--bands", "xyz"], says: "--bands"),
        AbsurdOption(args: ["fetch", "sdss-spectra", "--catalog", input, "--dest", out, "--per-host", "0"], says: "--per-host"),
        AbsurdOption(args: ["fetch", "ztf-alerts", "--from", "2019-13-01", "--to", "2019-06-02", "--dest", out], says: "--from"),
        AbsurdOption(args: ["fetch", "ztf-alerts", "--from", "2019-06-05", "--to", "2019-06-02", "--dest", out,
                            "--base", "http://127.0.0.1:9/"], says: "--from"),
    ]

    @Test(arguments: cases)
    func absurdValuesAreUsageErrors(_ c: AbsurdOption) throws {
        let f = try StopFixture.get()
        let dir = try TestSupport.temporaryDirectory("absurd").path
        let csv = dir + "/in.csv"
        try "id,ra,dec\n1,10.0,20.0\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let args = c.args.map { a -> String in
            if a == Self.input { return csv }
            if a == Self.catalog { return f.catalog }
            if a == Self.dataset { return (try? Self.madeDataSet.get()) ?? a }
            if a == Self.project { return dir + "/project.yaml" }
            return a.replacingOccurrences(of: Self.out, with: dir + "/out")
        }
        if c.args.contains(Self.dataset) { _ = try Self.madeDataSet.get() }
        if c.args.contains(Self.project) {
            try "name,ra,dec\nA,10,20\nB,11,21\nC,12,22\n".write(toFile: dir + "/sources.csv", atomically: true, encoding: .utf8)
            let made = try TestSupport.runProcess(TestSupport.executable, ["project", "init", "absurd", "--catalog", dir + "/sources.csv",
                                                                          "--output", dir + "/project.yaml", "--base", "http://127.0.0.1:9/lc"])
            #expect(made.status == 0, "project init: \(made.stderr)")
        }
        let r = try TestSupport.runProcess(TestSupport.executable, args)
        #expect(!r.signaled, "trapped (signal \(r.status)): \(r.stderr.suffix(400))")
        #expect(r.status == 2, "expected a usage error, got \(r.status): \(r.stderr.suffix(400))")
        #expect(r.stderr.contains(c.says), "the message should name \(c.says): \(r.stderr.suffix(400))")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/astropile_report.json"), "nothing written")
    }

    /// A YAML configuration is checked like the flags.
    @Test(arguments: ["jobs: 0", "memoryBytes: -5", "highestOrder: 40", "threshold: 0", "constantOrder: -1"])
    func absurdYAMLValuesAreUsageErrors(_ line: String) throws {
        let dir = try TestSupport.temporaryDirectory("absurd-yaml").path
        try "id,ra,dec\n1,10.0,20.0\n".write(toFile: dir + "/in.csv", atomically: true, encoding: .utf8)
        try "inputs: [\(dir)/in.csv]\noutput: \(dir)/out\n\(line)\n".write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let r = try TestSupport.runProcess(TestSupport.executable, ["import", "--config", dir + "/c.yaml", "--quiet"])
        #expect(!r.signaled && r.status == 2, "\(line): exit \(r.status) \(r.stderr)")
    }
}
