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
            return a.replacingOccurrences(of: Self.out, with: dir + "/out")
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
