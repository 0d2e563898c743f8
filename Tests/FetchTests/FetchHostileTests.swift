import Foundation
import Formats
import Testing
import TestSupport
@testable import Fetch

/// Hostile inputs to `astropile fetch`: URLs that name fetch's own files or each other's, two runs
/// in one folder, passwords in URLs, a server announcing a petabyte.
@Suite("Fetch against hostile lists and servers")
struct FetchHostileTests {
    /// The manifest's three files (database, WAL, shared memory) as bytes, for secret searches.
    static func manifestBytes(_ dest: URL) -> [Data] {
        ["", "-wal", "-shm"].compactMap { FileManager.default.contents(atPath: dest.appendingPathComponent(FetchManifest.fileName + $0).path) }
    }

    static func contains(_ data: Data, _ text: String) -> Bool { data.range(of: Data(text.utf8)) != nil }

    static func entry(_ path: String, _ status: FetchStatus, bytes: Int64 = 0) -> ManifestEntry {
        ManifestEntry(path: path, url: "https://h/" + path, status: status, bytes: bytes, expectedBytes: nil, approximateBytes: nil,
                      checksum: nil, expectedChecksum: nil, etag: nil, lastModified: nil, attempts: 0, httpStatus: nil,
                      lastError: nil, createdAt: "", updatedAt: "", completedAt: nil)
    }

    static func refusedPaths(_ paths: [String], recorded: [ManifestEntry] = []) -> [String] {
        DestinationLayout.check(paths.map { FetchItem(url: "https://h/" + $0, path: $0) }, recorded: recorded).refused.map(\.path)
    }

    @Test("Fetch's own names, X beside X.part and a/b beside a/b/c: the later (or the one not on disk) is refused")
    func layoutCheck() {
        #expect(Self.refusedPaths([".astropile-fetch.sqlite", ".astropile-fetch.sqlite-wal", ".ASTROPILE-FETCH.SQLITE-shm",
                                   ".astropile-fetch.lock", ".astropile-fetch.sqlite/x", "a/.astropile-fetch.sqlite", "ok"])
                == [".astropile-fetch.sqlite", ".astropile-fetch.sqlite-wal", ".ASTROPILE-FETCH.SQLITE-shm",
                    ".astropile-fetch.lock", ".astropile-fetch.sqlite/x"])
        #expect(Self.refusedPaths(["x", "x.part"]) == ["x.part"])
        #expect(Self.refusedPaths(["x.part", "x"]) == ["x"])
        #expect(Self.refusedPaths(["x", "x.part.part"]).isEmpty, "x.part.part is the part of x.part, which is not listed")
        #expect(Self.refusedPaths(["a/b", "a/b/c"]) == ["a/b/c"])
        #expect(Self.refusedPaths(["a/b/c", "a/b"]) == ["a/b"])
        #expect(Self.refusedPaths(["a/b/c", "a/b.part"]) == [])
        #expect(Self.refusedPaths(["a/b.part/c", "a/b"]) == ["a/b"], "a/b's part would be a folder")
        #expect(Self.refusedPaths(["a/b", "a/b.part/c"]) == ["a/b.part/c"])
        #expect(Self.refusedPaths(["d", "d"]) == ["d"])
        // Files on disk (done, or with .part bytes) keep their names, in this run or not.
        #expect(Self.refusedPaths(["r"], recorded: [Self.entry("r.part", .done, bytes: 10)]) == ["r"])
        #expect(Self.refusedPaths(["s"], recorded: [Self.entry("s.part", .pending)]).isEmpty, "nothing of s.part is on disk")
        #expect(Self.refusedPaths(["t.part", "t"], recorded: [Self.entry("t", .done, bytes: 5)]) == ["t.part"])
        #expect(Self.refusedPaths(["u/v"], recorded: [Self.entry("u", .failed, bytes: 3)]) == ["u/v"], "u has a .part with bytes")
        let reasons = DestinationLayout.check([FetchItem(url: "https://h/x", path: "x"), FetchItem(url: "https://h/x.part", path: "x.part")],
                                              recorded: []).refused.map(\.reason)
        #expect(reasons == ["refused: x.part is where x is written during its transfer (fetch them into separate --dest folders)"])
    }

    @Test("URLs naming the manifest, its WAL, the lock, another's .part or another's folder are refused; the rest is fetched, the manifest intact")
    func clashingNames() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-names")
        let root = dir.appendingPathComponent("www")
        let served = [".astropile-fetch.sqlite", ".astropile-fetch.sqlite-wal", ".astropile-fetch.sqlite-shm", "x/a.fits", "x/a.fits.part",
                      "real/b", "d/b/c", "y/c.fits.part", "y/c.fits", "ok.fits", "sub/.astropile-fetch.sqlite"]
        try FetchTestKit.writeNoise(root, paths: served, count: 20_000, seed: 900)
        // d/b is a file (redirected to real/b) and d/b/c one beneath it.
        let server = try FetchServer(root: root, faults: #"{"rules": [{"path": "/d/b", "always": "redirect:/real/b"}]}"#)
        defer { server.stop() }
        let listed = [".astropile-fetch.sqlite", ".astropile-fetch.sqlite-wal", ".astropile-fetch.sqlite-shm", ".Astropile-Fetch.lock",
                      "x/a.fits", "x/a.fits.part", "d/b", "d/b/c", "y/c.fits.part", "y/c.fits", "ok.fits", "sub/.astropile-fetch.sqlite"]
        let list = dir.appendingPathComponent("urls.txt")
        try FetchTestKit.writeList(listed, server: server, to: list)
        let dest = dir.appendingPathComponent("out")
        let args = ["urls", "--list", list.path, "--dest", dest.path, "--retry-wait", "0.05"]
        let run = try FetchTestKit.fetch(args)
        #expect(run.status == 3, "exit \(run.status): \(run.stdout)\n\(run.stderr)")
        let refused = [".astropile-fetch.sqlite", ".astropile-fetch.sqlite-wal", ".astropile-fetch.sqlite-shm", ".Astropile-Fetch.lock",
                       "x/a.fits.part", "d/b/c", "y/c.fits"]
        let fetched = ["x/a.fits", "d/b", "y/c.fits.part", "ok.fits", "sub/.astropile-fetch.sqlite"]
        #expect(run.stdout.contains("fetched 5 files"))
        #expect(run.stdout.contains("failed: 7"))
        for p in refused { #expect(run.stdout.contains("  \(p): refused: "), "\(p) is listed as refused") }
        #expect(run.stdout.contains(".astropile-fetch.sqlite: refused: the name .astropile-fetch.sqlite is reserved"))
        #expect(run.stdout.contains("x/a.fits.part: refused: x/a.fits.part is where x/a.fits is written during its transfer"))
        #expect(run.stdout.contains("y/c.fits: refused: its transfer would be written to y/c.fits.part"))
        #expect(run.stdout.contains("d/b/c: refused: it needs d/b to be a folder"))
        for p in fetched {
            let source = root.appendingPathComponent(p == "d/b" ? "real/b" : p)
            #expect(FetchTestKit.identical(source, dest.appendingPathComponent(p)), "\(p)")
        }
        #expect(FetchTestKit.files(in: dest) == fetched.sorted())
        // No refused file was asked for, and the manifest is still the manifest.
        let asked = Set(try server.requests().map { String($0.path.dropFirst()) })
        #expect(asked.isDisjoint(with: refused))
        let entries = try FetchManifest(destination: dest.path, create: false).entries()
        #expect(entries.map(\.path).sorted() == fetched.sorted())
        #expect(entries.allSatisfy { $0.status == .done })

        let again = try FetchTestKit.fetch(args)
        #expect(again.status == 3)
        #expect(again.stdout.contains("skipped 5 already complete"))
        #expect(again.stdout.contains("failed: 7"))
        for p in fetched { #expect(FetchTestKit.identical(root.appendingPathComponent(p == "d/b" ? "real/b" : p), dest.appendingPathComponent(p))) }
    }

    @Test("X.part fetched in one run, X listed in the next: X is refused and X.part keeps its bytes")
    func partNameAcrossRuns() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-partrun")
        let root = dir.appendingPathComponent("www")
        try FetchTestKit.writeNoise(root, paths: ["f/s.fits", "f/s.fits.part"], count: 50_000, seed: 40)
        let server = try FetchServer(root: root)
        defer { server.stop() }
        let list = dir.appendingPathComponent("urls.txt")
        let dest = dir.appendingPathComponent("out")
        try FetchTestKit.writeList(["f/s.fits.part"], server: server, to: list)
        let first = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest.path])
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        try FetchTestKit.writeList(["f/s.fits"], server: server, to: list)
        let second = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest.path])
        #expect(second.status == 3, "\(second.stdout)\n\(second.stderr)")
        #expect(second.stdout.contains("f/s.fits: refused: its transfer would be written to f/s.fits.part"))
        #expect(FetchTestKit.identical(root.appendingPathComponent("f/s.fits.part"), dest.appendingPathComponent("f/s.fits.part")))
        #expect(!FileManager.default.fileExists(atPath: dest.appendingPathComponent("f/s.fits").path))
        #expect(try server.requests().map(\.path) == ["/f/s.fits.part"], "the refused file was not asked for")
    }

    @Test("The destination lock: one exclusive holder (its pid in the message), or any number sharing it")
    func lockModes() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-lock")
        func busyText(shared: Bool) -> String? {
            do { _ = try DestinationLock(folder: dir.path, shared: shared); return nil } catch { return "\(error)" }
        }
        let first = try DestinationLock(folder: dir.path, shared: false)
        let lockFile = dir.appendingPathComponent(DestinationLock.fileName).path
        #expect(FileManager.default.contents(atPath: lockFile).map { String(decoding: $0, as: UTF8.self) } == "\(getpid())\n")
        #expect(busyText(shared: false) == "another astropile fetch (pid \(getpid())) is running in \(dir.path): wait for it to finish, or fetch into another --dest")
        #expect(busyText(shared: true) != nil, "a sharing run does not start beside an exclusive one")
        first.release()
        #expect(FileManager.default.contents(atPath: lockFile)?.isEmpty == true, "the pid is cleared on release")
        let a = try DestinationLock(folder: dir.path, shared: true)
        let b = try DestinationLock(folder: dir.path, shared: true)
        #expect(busyText(shared: false) == "another astropile fetch is running in \(dir.path): wait for it to finish, or fetch into another --dest")
        a.release()
        b.release()
        #expect(busyText(shared: false) == nil)
    }

    @Test("A second fetch into a --dest where one is running refuses to start (exit 1, pid named); the first finishes intact")
    func twoRunsOneFolder() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-tworuns")
        let root = dir.appendingPathComponent("www")
        let paths = (0..<3).map { "t/f\($0).fits" }
        try FetchTestKit.writeNoise(root, paths: paths, count: 400_000, seed: 70)
        // The first file's response waits for the gate file: the first run holds the folder
        // for as long as the test needs (no sleep to guess).
        let gate = dir.appendingPathComponent("gate").path
        let server = try FetchServer(root: root, faults: #"{"rules": [{"path": "/t/f0.fits", "always": "gate:\#(gate)"}]}"#)
        defer { server.stop() }
        let list = dir.appendingPathComponent("urls.txt")
        try FetchTestKit.writeList(paths, server: server, to: list)
        let dest = dir.appendingPathComponent("out")
        let args = ["urls", "--list", list.path, "--dest", dest.path, "--jobs", "1", "--quiet"]
        let p = try FetchTestKit.startFetch(args)
        // The lock's holder writes its pid once it holds it.
        let lockFile = dest.appendingPathComponent(".astropile-fetch.lock").path
        let deadline = Date().addingTimeInterval(60)
        while (try? String(contentsOfFile: lockFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) != "\(p.processIdentifier)",
              Date() < deadline { usleep(20_000) }
        let second = try FetchTestKit.fetch(args)
        FileManager.default.createFile(atPath: gate, contents: Data())
        p.waitUntilExit()
        #expect(second.status == 1, "exit \(second.status): \(second.stdout)\n\(second.stderr)")
        #expect(second.stderr.contains("another astropile fetch (pid \(p.processIdentifier)) is running in \(dest.path)"), "\(second.stderr)")
        #expect(p.terminationStatus == 0)
        for f in paths { #expect(FetchTestKit.identical(root.appendingPathComponent(f), dest.appendingPathComponent(f)), "\(f)") }
        #expect(FetchTestKit.files(in: dest) == paths.sorted())
        let gets = try server.requests().filter { $0.method == "GET" }.map(\.path)
        #expect(gets.sorted() == paths.map { "/" + $0 }.sorted(), "the second run asked for nothing")
        // Once the first has finished, the folder is free again.
        let third = try FetchTestKit.fetch(args)
        #expect(third.status == 0)
        #expect(third.stdout.contains("skipped 3 already complete"))
    }

    @Test("user:password@ in a URL goes as HTTP basic; 401 is unauthorized, 403 forbidden; the password is never printed or stored")
    func credentialsInURLs() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-userinfo")
        let root = dir.appendingPathComponent("www")
        try FetchTestKit.writeNoise(root, paths: ["private/a.fits", "private/b.fits", "closed/c.fits"], count: 30_000, seed: 11)
        let secret = "Pa55-w0rd-xyz", wrong = "Wr0ng-pass-qq"
        let server = try FetchServer(root: root, faults: """
            {"rules": [{"glob": "/private/*", "always": "auth:astro:\(secret)"},
                       {"path": "/closed/c.fits", "always": "status:403"}]}
            """)
        defer { server.stop() }
        let hostPort = "127.0.0.1:\(server.port)"
        let list = dir.appendingPathComponent("urls.txt")
        try """
            http://astro:\(secret)@\(hostPort)/private/a.fits
            http://astro:\(wrong)@\(hostPort)/private/b.fits
            http://\(hostPort)/closed/c.fits
            """.write(to: list, atomically: true, encoding: .utf8)
        let dest = dir.appendingPathComponent("out")
        let env = ["NETRC": "/nonexistent", "ASTROPILE_FETCH_TOKEN": ""]
        let plan = try FetchTestKit.fetch(["plan", "urls", "--list", list.path, "--dest", dest.path], environment: env)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("private/b.fits: HTTP 401"))
        #expect(plan.stdout.contains("1 exact"), "the HEAD with the right password got the size")
        let run = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest.path], environment: env)
        #expect(run.status == 3, "exit \(run.status): \(run.stdout)\n\(run.stderr)")
        #expect(FetchTestKit.identical(root.appendingPathComponent("private/a.fits"), dest.appendingPathComponent("private/a.fits")))
        #expect(run.stdout.contains("unauthorized: 1\n  private/b.fits: HTTP 401: unauthorized (credentials missing or refused)"))
        #expect(run.stdout.contains("forbidden: 1\n  closed/c.fits: HTTP 403: forbidden"))
        let gets = try server.requests().filter { $0.method == "GET" }
        #expect(gets.first { $0.path == "/private/a.fits" }.map { $0.auth && $0.status == 200 } == true)
        #expect(gets.first { $0.path == "/private/b.fits" }.map { $0.auth && $0.status == 401 } == true, "the wrong password was sent, and refused")
        let entries = try FetchManifest(destination: dest.path, create: false).entries()
        #expect(entries.first { $0.path == "private/b.fits" }?.status == .unauthorized)
        #expect(entries.first { $0.path == "closed/c.fits" }?.status == .forbidden)
        #expect(entries.allSatisfy { !$0.url.contains("@") && !$0.url.contains("astro") })
        let status = try FetchTestKit.fetch(["status", dest.path])
        #expect(status.stdout.contains("unauthorized: 1"))
        for text in [plan.stdout, plan.stderr, run.stdout, run.stderr, status.stdout, status.stderr] {
            #expect(!text.contains(secret) && !text.contains(wrong))
        }
        for data in Self.manifestBytes(dest) { #expect(!Self.contains(data, secret) && !Self.contains(data, wrong)) }
        #expect(!Self.manifestBytes(dest).isEmpty)
    }

    @Test("Template, path and malformed-URL errors print URLs without their user info")
    func secretsInErrors() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-secret-errors")
        let dest = dir.appendingPathComponent("out").path
        let catalog = dir.appendingPathComponent("cat.csv")
        try "name\na\n".write(to: catalog, atomically: true, encoding: .utf8)
        let template = try FetchTestKit.fetch(["urls", "--catalog", catalog.path, "--template", "http://astro:Tmpl-Secret1@127.0.0.1:9/{name", "--dest", dest])
        #expect(template.status == 2, "\(template.stderr)")
        #expect(template.stderr.contains("URL template 'http://127.0.0.1:9/{name'"), "\(template.stderr)")
        let braced = try FetchTestKit.fetch(["urls", "--catalog", catalog.path, "--template", "http://astro:Pa{55 Br4ce}@127.0.0.1:9/{name}", "--dest", dest])
        #expect(braced.status == 2, "\(braced.stderr)")
        #expect(braced.stderr.contains("user info"), "\(braced.stderr)")
        let list = dir.appendingPathComponent("urls.txt")
        try "http://astro:Path-Secret2@127.0.0.1:9/a/../b.fits\n".write(to: list, atomically: true, encoding: .utf8)
        let path = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest])
        #expect(path.status == 1, "\(path.stderr)")
        #expect(path.stderr.contains("http://127.0.0.1:9/a/../b.fits") && path.stderr.contains("unsafe path segment"), "\(path.stderr)")
        try "http://astro:pa/ss-Secret3@127.0.0.1:9/x.fits\n".write(to: list, atomically: true, encoding: .utf8)
        let malformed = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest])
        #expect(malformed.status == 1, "\(malformed.stderr)")
        #expect(malformed.stderr.contains("is not an http(s) URL"), "\(malformed.stderr)")
        for (text, secret) in [(template, "Tmpl-Secret1"), (braced, "Br4ce"), (path, "Path-Secret2"), (malformed, "Secret3")] {
            #expect(!(text.stdout + text.stderr).contains(secret), "\(text.stderr)")
        }
        // The helpers themselves.
        #expect(URLParts.redacted("https://u:p@h.example/x@y") == "https://h.example/x@y")
        #expect(URLParts.redacted("https://h.example/a@b.fits") == "https://h.example/a@b.fits")
        #expect(URLParts.redacted("https://u:p/q@h.example/x") == "https://h.example/x")
        #expect(URLParts.userInfoCredential("https://a%40b:p%3Aw@h/x") == .basic(user: "a@b", password: "p:w"))
        #expect(URLParts.userInfoCredential("https://tok@h/x") == .basic(user: "tok", password: ""))
        #expect(URLParts.userInfoCredential("https://h/x@y") == nil)
        #expect(!"\(FetchError.template("https://u:S3cr3t@h/{x", reason: "r"))".contains("S3cr3t"))
        #expect(!"\(FetchError.listing(url: "https://u:S3cr3t@h/", reason: "r"))".contains("S3cr3t"))
    }

    @Test("A response announcing 1 PiB fails that file alone (exit 3), records no size, and re-runs still start")
    func petabyteAnnounced() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-huge")
        let root = dir.appendingPathComponent("www")
        let small = ["s/f1.fits", "s/f2.fits"]
        try FetchTestKit.writeNoise(root, paths: small + ["big.bin"], count: 40_000, seed: 5)
        let server = try FetchServer(root: root, faults: #"{"rules": [{"path": "/big.bin", "always": "announce:1125899906842624"}]}"#)
        defer { server.stop() }
        let list = dir.appendingPathComponent("urls.txt")
        try FetchTestKit.writeList(["big.bin"] + small, server: server, to: list)
        let dest = dir.appendingPathComponent("out")
        let args = ["urls", "--list", list.path, "--dest", dest.path, "--retry-wait", "0.05"]
        let plan = try FetchTestKit.fetch(["plan"] + args)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("larger than the free space (each will fail; the rest is fetched): 1\n  big.bin: 1.00 PiB"), "\(plan.stdout)")
        #expect(plan.stdout.contains("— fits"), "\(plan.stdout)")

        let reason = "big.bin: announced 1.00 PiB, more than the free space on \(dest.path)"
        let run = try FetchTestKit.fetch(args)
        #expect(run.status == 3, "exit \(run.status): \(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("fetched 2 files"))
        #expect(run.stdout.contains(reason), "\(run.stdout)")
        #expect(!run.stdout.contains("stopped"))
        for f in small { #expect(FetchTestKit.identical(root.appendingPathComponent(f), dest.appendingPathComponent(f)), "\(f)") }
        #expect(FetchTestKit.files(in: dest) == small.sorted())
        let big = try FetchManifest(destination: dest.path, create: false).entries().first { $0.path == "big.bin" }
        #expect(big?.status == .failed)
        #expect(big != nil && big?.expectedBytes == nil, "the announced size is not recorded")

        let again = try FetchTestKit.fetch(args)
        #expect(again.status == 3, "exit \(again.status): \(again.stdout)\n\(again.stderr)")
        #expect(again.stdout.contains("skipped 2 already complete") && again.stdout.contains(reason))

        // A manifest that did record such a size (an earlier version wrote it) does not make every
        // re-run refuse to start either.
        try TestSupport.runPython("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("UPDATE file SET expected_bytes = 1125899906842624, status = 'partial' WHERE path = 'big.bin'")
            db.commit()
            """, arguments: [dest.appendingPathComponent(FetchManifest.fileName).path])
        let recorded = try FetchTestKit.fetch(args)
        #expect(recorded.status == 3, "exit \(recorded.status): \(recorded.stdout)\n\(recorded.stderr)")
        #expect(!recorded.stderr.contains("planned volume"), "\(recorded.stderr)")
        #expect(recorded.stdout.contains(reason))
        let gets = try server.requests().filter { $0.method == "GET" && $0.path == "/big.bin" }
        #expect(gets.count == 3, "one request per run: an answer that cannot fit is not retried")
    }
}
