import Foundation
import Formats
import Testing
import TestSupport
@testable import Fetch

@Suite("Fetch sources: templates, SDSS, ZTF listings, lists")
struct FetchSourceTests {
    @Test("{column:format} fields format as Python's str.format does")
    func templateMatchesPython() throws {
        let cases: [(String, TemplateValue)] = [
            ("{v:06d}", .integer(1000)), ("{v:04d}", .integer(7)), ("{v:d}", .integer(-42)), ("{v:05d}", .integer(-42)),
            ("{v}", .integer(301)), ("{v:>6}", .integer(12)), ("{v:<6}|", .integer(12)), ("{v:^7}|", .text("ab")),
            ("{v:*>8s}", .text("r")), ("{v:.3f}", .real(2.71828)), ("{v:08.2f}", .real(-3.14159)), ("{v:x}", .integer(255)),
            ("{v:X}", .integer(255)), ("{v:s}", .text("301")), ("{v:.2s}", .text("abcdef")), ("{v}", .text("x y")),
            ("{{literal}}/{v:03d}", .integer(5)), ("{v:.0f}", .real(2.5)), ("{v:.1f}", .real(0.05)),
        ]
        var swift: [String] = []
        for (pattern, value) in cases {
            swift.append(try URLTemplate(pattern).render { _ in value }!)
        }
        let literals = cases.map { pattern, value -> String in
            switch value {
            case .integer(let i): return "(\(pyString(pattern)), \(i))"
            case .real(let d): return "(\(pyString(pattern)), \(d))"
            case .text(let s): return "(\(pyString(pattern)), \(pyString(s)))"
            }
        }
        let script = "import json\ncases=[\(literals.joined(separator: ","))]\nprint(json.dumps([p.format(v=v) for p, v in cases]))"
        let python = try JSONDecoder().decode([String].self, from: Data(try TestSupport.runPython(script).utf8))
        #expect(swift == python)
    }

    private func pyString(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "\\'") + "'" }

    @Test("Bad templates are refused with the reason", arguments: ["{run", "run}", "{run:06q}", "{}", "{a b}"])
    func badTemplates(pattern: String) {
        #expect(throws: FetchError.self) { try URLTemplate(pattern) }
    }

    @Test("SDSS frames for the real photoObj table: one frame per band, deduplicated")
    func sdssFramesFromPhotoObj() throws {
        let catalog = try TestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let r = try SDSSArchive.frames(catalog: catalog, bands: "ugriz").items()
        #expect(r.rows == 19)
        #expect(r.urls == 19 * 5)
        #expect(r.items.map(\.url) == ["u", "g", "r", "i", "z"].map {
            "https://data.sdss.org/sas/dr17/eboss/photoObj/frames/301/1000/1/frame-\($0)-001000-1-0100.fits.bz2"
        })
        #expect(r.items[2].path == "dr17/eboss/photoObj/frames/301/1000/1/frame-r-001000-1-0100.fits.bz2")
        // The real frame of the fixture has exactly that name.
        _ = try TestSupport.fixture("sdss/frame-r-001000-1-0100.fits.bz2")
        let gr = try SDSSArchive.frames(catalog: catalog, bands: "gr", base: "http://127.0.0.1:9/mirror/sas/").items()
        #expect(gr.items.map(\.path) == ["g", "r"].map { "dr17/eboss/photoObj/frames/301/1000/1/frame-\($0)-001000-1-0100.fits.bz2" })
        #expect(throws: FetchError.self) { try SDSSArchive.frames(catalog: catalog, bands: "ugrizy") }
    }

    @Test("SDSS spectra from a CSV: run2d from the column, else from the plate; nulls skipped; duplicates dropped")
    func sdssSpectra() throws {
        let dir = try TestSupport.temporaryDirectory("spectra")
        let csv = dir.appendingPathComponent("specobj.csv")
        try """
            plate,mjd,fiberid,ra
            266,51602,1,146.7
            266,51602,1,146.7
            3586,55181,12,10.0
            7,,3,1.0
            """.write(to: csv, atomically: true, encoding: .utf8)
        let r = try SDSSArchive.spectra(catalog: csv.path).items()
        #expect(r.items.map(\.url) == [
            "https://data.sdss.org/sas/dr17/sdss/spectro/redux/26/spectra/lite/0266/spec-0266-51602-0001.fits",
            "https://data.sdss.org/sas/dr17/eboss/spectro/redux/v5_13_2/spectra/lite/3586/spec-3586-55181-0012.fits",
        ])
        #expect(r.skippedRows == 1)
        let withRun2d = dir.appendingPathComponent("run2d.csv")
        try "PLATE,MJD,FIBERID,RUN2D\n266,51602,1,103\n".write(to: withRun2d, atomically: true, encoding: .utf8)
        #expect(try SDSSArchive.spectra(catalog: withRun2d.path).items().items.map(\.url) ==
                ["https://data.sdss.org/sas/dr17/sdss/spectro/redux/103/spectra/lite/0266/spec-0266-51602-0001.fits"])
        let missing = dir.appendingPathComponent("nofiber.csv")
        try "plate,mjd\n266,51602\n".write(to: missing, atomically: true, encoding: .utf8)
        #expect(throws: FetchError.self) { try SDSSArchive.spectra(catalog: missing.path).items() }
    }

    @Test("A user template over a Parquet catalog")
    func parquetTemplate() throws {
        let dir = try TestSupport.temporaryDirectory("template")
        let path = dir.appendingPathComponent("cat.parquet").path
        try TestSupport.runPython("""
            import pyarrow as pa, pyarrow.parquet as pq, sys
            pq.write_table(pa.table({'Tile': pa.array([5, 5, 17], pa.int32()), 'name': ['a', 'a', 'b'], 'x': [1.5, 1.5, 2.0]}), sys.argv[1])
            """, arguments: [path])
        let t = try URLTemplate("https://host/tiles/{tile:04d}/{name}_{x:.1f}.fits")
        let r = try CatalogTemplateSource(catalog: path, templates: [t]).items()
        #expect(r.items.map(\.url) == ["https://host/tiles/0005/a_1.5.fits", "https://host/tiles/0017/b_2.0.fits"])
        #expect(r.items.map(\.path) == ["tiles/0005/a_1.5.fits", "tiles/0017/b_2.0.fits"])
    }

    @Test("ZTF nights from an Apache listing and from one with byte sizes; date range and minimum size")
    func ztfListing() throws {
        let apache = """
            <table><tr><th><a href="?C=N;O=D">Name</a></th></tr>
            <tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/alerts/">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td></tr>
            <tr><td valign="top"><img src="/icons/compressed.gif" alt="[   ]"></td><td><a href="ztf_public_20190531.tar.gz">ztf_public_20190531.tar.gz</a></td><td align="right">2019-06-01 06:26  </td><td align="right">2.1G</td><td>&nbsp;</td></tr>
            <tr><td valign="top"><img src="/icons/compressed.gif" alt="[   ]"></td><td><a href="ztf_public_20190601.tar.gz">ztf_public_20190601.tar.gz</a></td><td align="right">2019-06-02 06:26  </td><td align="right">1.2G</td><td>&nbsp;</td></tr>
            <tr><td valign="top"><img src="/icons/compressed.gif" alt="[   ]"></td><td><a href="ztf_public_20190602.tar.gz">ztf_public_20190602.tar.gz</a></td><td align="right">2019-06-03 06:26  </td><td align="right"> 44 </td><td>&nbsp;</td></tr>
            <tr><td valign="top"><img src="/icons/compressed.gif" alt="[   ]"></td><td><a href="ztf_public_20190615.tar.gz">ztf_public_20190615.tar.gz</a></td><td align="right">2019-06-16 06:26  </td><td align="right">512M</td><td>&nbsp;</td></tr>
            <tr><td valign="top"><img src="/icons/compressed.gif" alt="[   ]"></td><td><a href="ztf_public_20190701.tar.gz">ztf_public_20190701.tar.gz</a></td><td align="right">2019-07-02 06:26  </td><td align="right">3.0G</td><td>&nbsp;</td></tr>
            </table>
            """
        let nights = ZTFAlertArchive.parseListing(apache)
        #expect(nights.map(\.date) == [20190531, 20190601, 20190602, 20190615, 20190701])
        #expect(nights[2].size == 44 && nights[2].sizeIsExact)
        #expect(nights[1].size == Int64(1.2 * 1_073_741_824) && !nights[1].sizeIsExact)
        let picked = ZTFAlertArchive.items(listing: nights, base: "https://ztf.example/alerts/public",
                                           from: 20190601, to: 20190630, minSize: 500_000_000)
        #expect(picked.map(\.url) == ["https://ztf.example/alerts/public/ztf_public_20190601.tar.gz",
                                      "https://ztf.example/alerts/public/ztf_public_20190615.tar.gz"])
        #expect(picked[0].approximateSize != nil && picked[0].size == nil)
        let nginx = """
            <html><body><h1>Index of /alerts/</h1><hr><pre><a href="../">../</a>
            <a href="ztf_public_20200101.tar.gz">ztf_public_20200101.tar.gz</a>                        02-Jan-2020 06:00          1234567890
            <a href="ztf_public_20200102.tar.gz">ztf_public_20200102.tar.gz</a>                        03-Jan-2020 06:00                  44
            </pre><hr></body></html>
            """
        let n2 = ZTFAlertArchive.parseListing(nginx)
        #expect(n2.map(\.size) == [1_234_567_890, 44])
        #expect(n2.allSatisfy { $0.sizeIsExact })
        #expect(ZTFAlertArchive.parseDate("2019-06-01") == 20190601)
        #expect(ZTFAlertArchive.parseDate("2019-13-01") == nil)
    }

    @Test("URL lists: comments, duplicates, unsafe paths, query strings")
    func urlLists() throws {
        let dir = try TestSupport.temporaryDirectory("lists")
        let list = dir.appendingPathComponent("urls.txt")
        try """
            # SDSS frames
            https://data.sdss.org/sas/dr17/a/f%201.fits

            https://data.sdss.org/sas/dr17/a/f%201.fits
            http://user:secret@host.example:8080/cutout?ra=10.5&dec=-3
            """.write(to: list, atomically: true, encoding: .utf8)
        let (items, count) = try URLListSource.items(lists: [list.path])
        #expect(count == 3)
        #expect(items.map(\.path) == ["sas/dr17/a/f 1.fits", "cutout_ra_10.5_dec_-3"])
        #expect(URLParts.redacted(items[1].url) == "http://host.example:8080/cutout?ra=10.5&dec=-3")
        #expect(throws: FetchError.self) { try URLPath.relativePath(for: "https://h/a/../../etc/passwd") }
        #expect(throws: FetchError.self) { try URLPath.relativePath(for: "https://h/a/%2e%2e/x") }
        #expect(throws: FetchError.self) { try URLPath.relativePath(for: "ftp://h/a") }
        let collide = dir.appendingPathComponent("collide.txt")
        try "https://a.example/x/f.fits\nhttps://b.example/x/f.fits\n".write(to: collide, atomically: true, encoding: .utf8)
        #expect(throws: FetchError.self) { try URLListSource.items(lists: [collide.path]) }
    }

    @Test("Checksum lists, netrc, Retry-After, Content-Range, redirects, digests")
    func smallParsers() throws {
        let dir = try TestSupport.temporaryDirectory("parsers")
        let sums = dir.appendingPathComponent("MD5SUMS")
        try """
            d41d8cd98f00b204e9800998ecf8427e  ./a/empty.fits
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 *b.fits
            """.write(to: sums, atomically: true, encoding: .utf8)
        let list = try ChecksumList(files: [sums.path])
        #expect(list.checksum(forPath: "a/empty.fits")?.algorithm == .md5)
        #expect(list.checksum(forPath: "deep/b.fits")?.algorithm == .sha256)
        let bad = dir.appendingPathComponent("BAD")
        try "xyz  a.fits\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect(throws: FetchError.self) { try ChecksumList(files: [bad.path]) }
        // Digests of "" and "abc" (RFC 1321 / FIPS 180-2 test vectors).
        let md5 = try Digest(.md5), sha = try Digest(.sha256)
        #expect(try md5.finish().hex == "d41d8cd98f00b204e9800998ecf8427e")
        try Array("abc".utf8).withUnsafeBytes { try sha.update($0) }
        #expect(try sha.finish().hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

        let netrc = """
            machine data.sdss.org login alice password s3cret
            default login anon password guest
            machine other.example
              login bob
              password pw
            """
        let store = CredentialStore(environment: [:], netrcText: netrc, sourceHosts: ["data.sdss.org"])
        #expect(store.credential(forHost: "data.sdss.org") == .basic(user: "alice", password: "s3cret"))
        #expect(store.credential(forHost: "other.example") == .basic(user: "bob", password: "pw"))
        #expect(store.credential(forHost: "x.example") == .basic(user: "anon", password: "guest"))
        #expect(!"\(store.credential(forHost: "data.sdss.org")!)".contains("s3cret"))
        let env = CredentialStore(environment: ["ASTROPILE_FETCH_TOKEN": "tok"], netrcText: nil, sourceHosts: ["a.example"])
        #expect(env.credential(forHost: "a.example") == .bearer("tok"))
        #expect(env.credential(forHost: "redirected.example") == nil)

        #expect(RetryPolicy.parseRetryAfter("7") == 7)
        let now = Date(timeIntervalSince1970: 784_111_777) // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryPolicy.parseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now: now) == 10)
        var rng = SplitMix64(seed: 1)
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: 1, maxDelay: 10)
        for attempt in 1...8 {
            let d = policy.delay(afterAttempt: attempt, retryAfter: nil, using: &rng)
            let ceiling = min(pow(2, Double(attempt - 1)), 10)
            #expect(d >= ceiling / 2 && d <= ceiling)
        }
        #expect(policy.delay(afterAttempt: 1, retryAfter: 500, using: &rng) == 10)

        #expect(Transfer.parseContentRange("bytes 100-199/1000")! == (100, 1000))
        #expect(Transfer.parseContentRange("bytes 100-199/*")!.total == nil)
        #expect(Transfer.resolve("/b/c", against: "http://h:1/a/x?q") == "http://h:1/b/c")
        #expect(Transfer.resolve("c.fits", against: "http://h/a/x.fits") == "http://h/a/c.fits")
        #expect(Transfer.resolve("https://m/x", against: "http://h/a") == "https://m/x")
    }
}
