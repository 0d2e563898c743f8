import Foundation
import Formats
import Testing
import TestSupport
@testable import Fetch

/// End-to-end fetches through `astropile fetch` against the fault-injecting server on 127.0.0.1.
@Suite("Fetch against a faulty local archive")
struct FetchEngineTests {
    static let bands = ["u", "g", "r", "i", "z"]
    static func framePath(_ band: String) -> String { "dr17/eboss/photoObj/frames/301/1000/1/frame-\(band)-001000-1-0100.fits.bz2" }

    /// A fake SAS tree for the photoObj fixture: the real r frame, noise for u, g, i; no z frame.
    static func sdssTree(_ dir: URL) throws -> URL {
        let root = dir.appendingPathComponent("www")
        for (k, band) in ["u", "g", "i"].enumerated() {
            try FetchTestKit.writeNoise(root.appendingPathComponent("sas/" + framePath(band)), count: 300_000 + 250_000 * k, seed: UInt64(k + 1))
        }
        let r = root.appendingPathComponent("sas/" + framePath("r"))
        try FileManager.default.copyItem(atPath: try TestSupport.fixture("sdss/frame-r-001000-1-0100.fits.bz2"), toPath: r.path)
        return root
    }

    @Test("SDSS frames through drops, 5xx with Retry-After, 429, short bodies, an answer that never comes and an ignored Range; the 404 is reported once")
    func sdssFramesThroughFaults() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-sdss")
        let root = try Self.sdssTree(dir)
        // The r frame's second answer never comes (a gate file nobody makes): the 1 s read timeout
        // fires however loaded the machine, where a 3 s sleep left only a 2 s margin.
        let never = dir.appendingPathComponent("never").path
        let faults = """
            {"rules": [
              {"path": "/sas/\(Self.framePath("u"))", "actions": ["drop:100000", "status:503:retry-after=1", "short:5000"]},
              {"path": "/sas/\(Self.framePath("g"))", "actions": ["short:70000", "ignore-range", "status:429:retry-after=1"]},
              {"path": "/sas/\(Self.framePath("r"))", "actions": ["status:500", "gate:\(never)", "drop:0"]},
              {"path": "/sas/\(Self.framePath("i"))", "actions": ["trickle:400000", "status:502"]}
            ]}
            """
        let server = try FetchServer(root: root, faults: faults)
        defer { server.stop() }
        let catalog = try TestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let dest = dir.appendingPathComponent("data/sdss")

        // The plan sends HEAD requests only and writes nothing.
        let plan = try FetchTestKit.fetch(["plan", "sdss-frames", "--catalog", catalog, "--base", server.base + "/sas", "--dest", dest.path])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("19 rows → 95 URLs → 5 unique files"))
        #expect(plan.stdout.contains("to fetch: 5"))
        #expect(plan.stdout.contains("4 exact, 1 unknown"))
        #expect(plan.stdout.contains("HTTP 404"))
        #expect(!FileManager.default.fileExists(atPath: dest.path))
        #expect(try server.requests().allSatisfy { $0.method == "HEAD" })

        let args = ["sdss-frames", "--catalog", catalog, "--bands", "ugriz", "--base", server.base + "/sas", "--dest", dest.path,
                    "--jobs", "4", "--retry-wait", "0.05", "--timeout", "1"]
        let run = try FetchTestKit.fetch(args)
        #expect(run.status == 3, "exit \(run.status): \(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("fetched 4 files"))
        #expect(run.stdout.contains("missing: 1"))
        #expect(run.stdout.contains(Self.framePath("z") + ": HTTP 404"))
        for band in ["u", "g", "r", "i"] {
            #expect(FetchTestKit.identical(root.appendingPathComponent("sas/" + Self.framePath(band)), dest.appendingPathComponent(Self.framePath(band))), "band \(band)")
        }
        #expect(FetchTestKit.files(in: dest) == ["u", "g", "r", "i"].map { Self.framePath($0) }.sorted())

        let allGets = try server.requests().filter { $0.method == "GET" }
        func gets(_ band: String) -> [FetchServer.Request] { allGets.filter { $0.path.hasSuffix("frame-\(band)-001000-1-0100.fits.bz2") } }
        #expect(gets("z").count == 1, "a 404 is not retried")
        #expect(gets("u").map(\.action) == ["drop:100000", "status:503:retry-after=1", "short:5000", "ok"])
        // Resumed with Range after the drop and after the short body (TCP may lose some of what
        // the server sent before a reset, so the offsets are only known to grow).
        let uRanges = gets("u").dropFirst().map { Int($0.range?.dropFirst(6).dropLast() ?? "") ?? 0 }
        #expect(uRanges.count == 3 && uRanges[0] > 0 && uRanges[2] > uRanges[1])
        #expect(gets("u").last?.status == 206)
        #expect(gets("g")[1].range != nil && gets("g")[1].status == 200, "the server ignored Range and sent it all")
        // The answer that never came timed out and was retried (the server logs it only once its
        // gate gives up, 120 s later, if it is still running then).
        #expect(gets("r").map(\.action).filter { !$0.hasPrefix("gate") } == ["status:500", "drop:0", "ok"])
        #expect(allGets.allSatisfy { $0.ua?.hasPrefix("AstroPile/") == true })

        // The manifest: done with SHA-256, the missing one with its status.
        let entries = try FetchManifest(destination: dest.path, create: false).entries()
        #expect(entries.filter { $0.status == .done }.count == 4)
        #expect(entries.first { $0.path == Self.framePath("z") }?.status == .missing)
        let rSum = try FileDigest.compute(path: dest.appendingPathComponent(Self.framePath("r")).path, algorithms: [.sha256])[.sha256]
        #expect(entries.first { $0.path == Self.framePath("r") }?.checksum == rSum?.description)

        // A re-run touches the network only for what is not complete.
        let before = allGets.count
        let again = try FetchTestKit.fetch(args)
        #expect(again.status == 3)
        #expect(again.stdout.contains("skipped 4 already complete"))
        let later = try server.requests().filter { $0.method == "GET" }.dropFirst(before)
        #expect(later.map(\.path) == ["/sas/" + Self.framePath("z")])

        let status = try FetchTestKit.fetch(["status", dest.path])
        #expect(status.stdout.contains("done: 4"))
        #expect(status.stdout.contains("missing: 1"))
    }

    @Test("150 files under random faults on 35% of requests all end byte-identical")
    func chaos() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-chaos")
        let root = dir.appendingPathComponent("www")
        var rng = SplitMix64(seed: 42)
        var urls: [String] = []
        var paths: [String] = []
        for k in 0..<150 {
            let path = "survey/d\(k % 7)/f\(k).dat"
            try FetchTestKit.writeNoise(root.appendingPathComponent(path), count: 1 + Int(rng.next() % 400_000), seed: UInt64(k))
            paths.append(path)
        }
        let server = try FetchServer(root: root, chaos: "11:0.35")
        defer { server.stop() }
        for p in paths { urls.append(server.base + "/" + p) }
        let list = dir.appendingPathComponent("urls.txt")
        try urls.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        let dest = dir.appendingPathComponent("out")
        let run = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest.path, "--jobs", "8",
                                          "--retries", "15", "--retry-wait", "0.02", "--max-retry-wait", "1", "--timeout", "2"])
        #expect(run.status == 0, "exit \(run.status): \(run.stdout)\n\(run.stderr)")
        for p in paths {
            #expect(FetchTestKit.identical(root.appendingPathComponent(p), dest.appendingPathComponent(p)), "\(p)")
        }
        #expect(FetchTestKit.files(in: dest) == paths.sorted())
        let faulted = try server.requests().filter { $0.action != "ok" }
        #expect(faulted.count > 30, "the server injected faults")
    }

    @Test("After SIGKILL mid-run no partial file has a final name, and a re-run fetches only what is missing")
    func killAndResume() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-kill")
        let root = dir.appendingPathComponent("www")
        let paths = (0..<12).map { "frames/f\($0).fits" }
        try FetchTestKit.writeNoise(root, paths: paths, count: 1_500_000, seed: 100)
        // The first four files come at once; every later one sends its first 1.25 MiB and then
        // holds its body until the gate file exists, which it never does: the kill lands with
        // exactly four files complete and the next ones mid-body, however loaded the machine.
        let gate = dir.appendingPathComponent("gate").path
        let rules = paths.dropFirst(4).map { #"{"path": "/\#($0)", "actions": ["hold:\#(FetchTestKit.heldBytes):\#(gate)"]}"# }
        let slow = try FetchServer(root: root, faults: #"{"rules": [\#(rules.joined(separator: ", "))]}"#)
        let list = dir.appendingPathComponent("urls.txt")
        try FetchTestKit.writeList(paths, server: slow, to: list)
        let dest = dir.appendingPathComponent("out")
        let p = try FetchTestKit.startFetch(["urls", "--list", list.path, "--dest", dest.path, "--jobs", "4", "--quiet"])
        // Killed once the four are at their final paths and a held transfer has bytes in its .part.
        let midRun = FetchTestKit.waitUntil {
            FetchTestKit.files(in: dest).filter { !$0.hasSuffix(".part") }.count >= 4
                && FetchTestKit.partBytes(in: dest).values.contains { $0 > 0 }
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        slow.stop()
        #expect(midRun, "four files complete and a held transfer under way: \(FetchTestKit.files(in: dest))")
        let afterKill = FetchTestKit.files(in: dest)
        let complete = afterKill.filter { !$0.hasSuffix(".part") }
        #expect(complete == Array(paths.prefix(4)).sorted(), "killed mid-run: \(complete)")
        #expect(afterKill.contains { $0.hasSuffix(".part") }, "transfers were in flight")
        #expect(FetchTestKit.partBytes(in: dest).values.allSatisfy { $0 < 1_500_000 }, "the held bodies never arrived whole")
        for f in complete {
            #expect(FetchTestKit.identical(root.appendingPathComponent(f), dest.appendingPathComponent(f)), "final path \(f) holds a complete file")
        }

        let server = try FetchServer(root: root)
        defer { server.stop() }
        try FetchTestKit.writeList(paths, server: server, to: list)
        let run = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest.path, "--jobs", "4"])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("skipped \(complete.count) already complete"))
        for f in paths { #expect(FetchTestKit.identical(root.appendingPathComponent(f), dest.appendingPathComponent(f)), "\(f)") }
        #expect(FetchTestKit.files(in: dest) == paths.sorted())
        let requested = Set(try server.requests().map { String($0.path.dropFirst()) })
        #expect(requested.isDisjoint(with: complete), "complete files are not fetched again")
        #expect(try server.requests().contains { $0.status == 206 }, "partial files resume with Range")
    }

    @Test("Ctrl-C stops the run while its transfers are held open, records the partial files, and the next run resumes them")
    func interruptAndResume() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-int")
        let root = dir.appendingPathComponent("www")
        let paths = (0..<4).map { "x/f\($0).bin" }
        try FetchTestKit.writeNoise(root, paths: paths, count: 1_500_000, seed: 300)
        // Every body stops after its first 1.25 MiB until the gate file exists, which it never
        // does: the Ctrl-C lands with all four transfers mid-body, and the run can end only by
        // stopping on it (no body ever completes).
        let gate = dir.appendingPathComponent("gate").path
        let slow = try FetchServer(root: root, faults: #"{"rules": [{"glob": "/*", "actions": ["hold:\#(FetchTestKit.heldBytes):\#(gate)"]}]}"#)
        let list = dir.appendingPathComponent("urls.txt")
        try FetchTestKit.writeList(paths, server: slow, to: list)
        let dest = dir.appendingPathComponent("out")
        let out = Pipe()
        let p = try FetchTestKit.startFetch(["urls", "--list", list.path, "--dest", dest.path, "--quiet"], stdout: out)
        let inFlight = FetchTestKit.waitUntil {
            let parts = FetchTestKit.partBytes(in: dest)
            return parts.count == 4 && parts.values.allSatisfy { $0 > 0 }
        }
        #expect(inFlight, "four transfers with bytes in their .part files: \(FetchTestKit.partBytes(in: dest))")
        kill(p.processIdentifier, SIGINT)
        // The server would hold the bodies for 120 s: a run that waited for them instead of
        // stopping is still running after 60 s (the bound also keeps a hang from blocking the suite).
        let stopped = FetchTestKit.waitUntil(seconds: 60) { !p.isRunning }
        if !stopped { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        slow.stop()
        #expect(stopped, "still running 60 s after Ctrl-C, with its transfers held open")
        #expect(p.terminationStatus == 130, "Ctrl-C exits 130, as every command does: \(text)")
        #expect(text.contains("interrupted"))
        #expect(FetchTestKit.files(in: dest).allSatisfy { $0.hasSuffix(".part") })
        let entries = try FetchManifest(destination: dest.path, create: false).entries()
        #expect(entries.count == 4 && entries.allSatisfy { $0.status == .partial && $0.bytes > 0 && $0.etag != nil })

        let server = try FetchServer(root: root)
        defer { server.stop() }
        try FetchTestKit.writeList(paths, server: server, to: list)
        let run = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest.path])
        #expect(run.status == 0)
        for f in paths { #expect(FetchTestKit.identical(root.appendingPathComponent(f), dest.appendingPathComponent(f))) }
        #expect(try server.requests().allSatisfy { $0.status == 206 }, "every file resumed")
    }

    @Test("Checksum lists catch corrupt bodies; --verify finds damaged files, a plain re-run finds deleted ones")
    func checksumsAndVerify() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-sums")
        let root = dir.appendingPathComponent("www")
        let paths = (0..<6).map { "spec/s\($0).fits" }
        var md5: [String] = []
        for (k, p) in paths.enumerated() {
            try FetchTestKit.writeNoise(root.appendingPathComponent(p), count: 50_000 + 10_000 * k, seed: UInt64(7 + k))
            md5.append(try FileDigest.compute(path: root.appendingPathComponent(p).path, algorithms: [.md5])[.md5]!.hex)
        }
        let sums = dir.appendingPathComponent("MD5SUMS")
        let wrong = String(repeating: "0", count: 32)
        try zip(md5, paths).enumerated().map { k, e in "\(k == 5 ? wrong : e.0)  \(e.1.split(separator: "/").last!)" }
            .joined(separator: "\n").write(to: sums, atomically: true, encoding: .utf8)
        let server = try FetchServer(root: root, faults: #"{"rules": [{"path": "/spec/s2.fits", "actions": ["corrupt:1000"]}]}"#)
        defer { server.stop() }
        let list = dir.appendingPathComponent("urls.txt")
        try FetchTestKit.writeList(paths, server: server, to: list)
        let dest = dir.appendingPathComponent("out")
        let args = ["urls", "--list", list.path, "--dest", dest.path, "--checksums", sums.path, "--retries", "3", "--retry-wait", "0.01"]
        let run = try FetchTestKit.fetch(args)
        #expect(run.status == 3)
        #expect(run.stdout.contains("spec/s5.fits: gave up after 3 attempts: checksum mismatch"))
        #expect(!FileManager.default.fileExists(atPath: dest.appendingPathComponent("spec/s5.fits").path))
        #expect(!FileManager.default.fileExists(atPath: dest.appendingPathComponent("spec/s5.fits.part").path))
        for p in paths.prefix(5) { #expect(FetchTestKit.identical(root.appendingPathComponent(p), dest.appendingPathComponent(p)), "\(p)") }
        #expect(try server.requests().filter { $0.path == "/spec/s2.fits" }.count == 2, "the corrupt body was fetched again")

        // Delete one complete file and damage another (same size).
        try FileManager.default.removeItem(at: dest.appendingPathComponent("spec/s3.fits"))
        let damaged = dest.appendingPathComponent("spec/s4.fits")
        var bytes = try Data(contentsOf: damaged)
        bytes[100] ^= 0xFF
        try bytes.write(to: damaged)
        let noSums = ["urls", "--list", list.path, "--dest", dest.path]
        let plain = try FetchTestKit.fetch(noSums)
        #expect(plain.stdout.contains("1 found missing or damaged"))
        #expect(FetchTestKit.identical(root.appendingPathComponent("spec/s3.fits"), dest.appendingPathComponent("spec/s3.fits")))
        #expect(!FetchTestKit.identical(root.appendingPathComponent("spec/s4.fits"), damaged), "without --verify only sizes are checked")
        // The manifest keeps the list's checksums, so s5 still fails without --checksums.
        let verified = try FetchTestKit.fetch(noSums + ["--verify"])
        #expect(verified.status == 3, "\(verified.stdout)")
        #expect(verified.stdout.contains("spec/s5.fits: gave up after"))
        #expect(verified.stdout.contains("1 found missing or damaged"))
        #expect(FetchTestKit.identical(root.appendingPathComponent("spec/s4.fits"), damaged))
    }

    @Test("ZTF nights from the server's listing by date range and minimum size; a volume over the free space is refused")
    func ztfAlerts() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-ztf")
        let root = dir.appendingPathComponent("www")
        let nights = [("20190531", 150_000), ("20190601", 300_000), ("20190602", 44), ("20190615", 200_000), ("20190701", 100_000)]
        for (k, (night, size)) in nights.enumerated() {
            try FetchTestKit.writeNoise(root.appendingPathComponent("alerts/public/ztf_public_\(night).tar.gz"), count: size, seed: UInt64(k))
        }
        let server = try FetchServer(root: root)
        defer { server.stop() }
        let dest = dir.appendingPathComponent("ztf")
        let args = ["ztf-alerts", "--from", "2019-06-01", "--to", "2019-06-30", "--min-size", "1K",
                    "--base", server.base + "/alerts/public/", "--dest", dest.path]
        let plan = try FetchTestKit.fetch(["plan"] + args)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("5 nights listed → 2 selected"))
        #expect(plan.stdout.contains("2 as listed, rounded"))
        let refused = try FetchTestKit.fetch(args + ["--keep-free", "1000TB"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("--force"))
        #expect(FetchTestKit.files(in: dest).isEmpty)
        let run = try FetchTestKit.fetch(args)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(FetchTestKit.files(in: dest) == ["ztf_public_20190601.tar.gz", "ztf_public_20190615.tar.gz"])
        for f in FetchTestKit.files(in: dest) {
            #expect(FetchTestKit.identical(root.appendingPathComponent("alerts/public/" + f), dest.appendingPathComponent(f)))
        }
    }

    @Test("Credentials from .netrc or the environment reach the server and never the output or the manifest")
    func credentials() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-auth")
        let root = dir.appendingPathComponent("www")
        try FetchTestKit.writeNoise(root.appendingPathComponent("private/a.fits"), count: 10_000, seed: 3)
        let server = try FetchServer(root: root)
        defer { server.stop() }
        let list = dir.appendingPathComponent("urls.txt")
        try (server.base + "/private/a.fits\n" + server.base + "/private/missing.fits\n").write(to: list, atomically: true, encoding: .utf8)
        let netrc = dir.appendingPathComponent("netrc")
        try "machine 127.0.0.1 login astro password Pa55-w0rd-xyz\n".write(to: netrc, atomically: true, encoding: .utf8)
        let dest = dir.appendingPathComponent("out")
        let run = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest.path],
                                         environment: ["NETRC": netrc.path, "ASTROPILE_FETCH_TOKEN": ""])
        #expect(run.status == 3)
        #expect(try server.requests().allSatisfy(\.auth))
        let manifestBytes = try Data(contentsOf: dest.appendingPathComponent(FetchManifest.fileName))
        for text in [run.stdout, run.stderr, String(decoding: manifestBytes, as: UTF8.self)] {
            #expect(!text.contains("Pa55-w0rd-xyz"))
        }
        let dest2 = dir.appendingPathComponent("out2")
        let token = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest2.path],
                                           environment: ["NETRC": "/nonexistent", "ASTROPILE_FETCH_TOKEN": "T0ken-abc"])
        #expect(token.status == 3)
        #expect(!(token.stdout + token.stderr).contains("T0ken-abc"))
        #expect(FetchTestKit.identical(root.appendingPathComponent("private/a.fits"), dest2.appendingPathComponent("private/a.fits")))
    }

    @Test("Redirects are followed; credentials from the environment go to the source's host only; --bandwidth caps the rate")
    func redirectsAndBandwidth() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-redirect")
        let root = dir.appendingPathComponent("www")
        try FetchTestKit.writeNoise(root.appendingPathComponent("real/a.fits"), count: 600_000, seed: 1)
        try FetchTestKit.writeNoise(root.appendingPathComponent("real/b.fits"), count: 600_000, seed: 2)
        // The port is known only once the server runs, so the cross-host target is a second server.
        let other = try FetchServer(root: root)
        defer { other.stop() }
        let faults = """
            {"rules": [{"path": "/old/a.fits", "always": "redirect:/real/a.fits"},
                       {"path": "/old/b.fits", "always": "redirect:http://localhost:\(other.port)/real/b.fits"}]}
            """
        let server = try FetchServer(root: root, faults: faults)
        defer { server.stop() }
        let list = dir.appendingPathComponent("urls.txt")
        try "\(server.base)/old/a.fits\n\(server.base)/old/b.fits\n".write(to: list, atomically: true, encoding: .utf8)
        let dest = dir.appendingPathComponent("out")
        let started = ContinuousClock.now
        let run = try FetchTestKit.fetch(["urls", "--list", list.path, "--dest", dest.path, "--bandwidth", "400KB"],
                                         environment: ["ASTROPILE_FETCH_TOKEN": "secret-token", "NETRC": "/nonexistent"])
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(FetchTestKit.identical(root.appendingPathComponent("real/a.fits"), dest.appendingPathComponent("old/a.fits")))
        #expect(FetchTestKit.identical(root.appendingPathComponent("real/b.fits"), dest.appendingPathComponent("old/b.fits")))
        #expect(try server.requests().allSatisfy(\.auth), "the source's host gets the token")
        #expect(try other.requests().map(\.auth) == [false], "another host after a redirect does not")
        // 1.2 MB at 400 kB/s (400KB is 1000-based) with a bucket of one second's bytes, full at
        // the start: the last byte passes no sooner than (1.2 MB - 400 kB) / 400 kB/s = 2 s after
        // the limiter starts, whatever the load (load only makes a run slower). An uncapped
        // transfer of 1.2 MB on loopback takes a small fraction of that; no upper bound is asserted.
        let capped = Double(1_200_000 - 400_000) / 400_000
        #expect(seconds >= capped * 0.95, "bandwidth cap: \(seconds) s for what takes at least \(capped) s at 400 kB/s")
        #expect(run.stderr.contains("fetch: 2/2 files"), "the final progress line")
    }

    @Test("A full disk stops the run cleanly: only complete files at final paths (tmpfs in a user namespace)")
    func diskFull() throws {
        let dir = try TestSupport.temporaryDirectory("fetch-full")
        let root = dir.appendingPathComponent("www")
        let paths = (0..<6).map { "big/b\($0).bin" }
        var sums: [String: String] = [:]
        for (k, p) in paths.enumerated() {
            try FetchTestKit.writeNoise(root.appendingPathComponent(p), count: 300_000, seed: UInt64(50 + k))
            sums[p] = try FileDigest.compute(path: root.appendingPathComponent(p).path, algorithms: [.sha256])[.sha256]!.hex
        }
        // Slow enough that all six transfers are under way before the disk fills.
        let server = try FetchServer(root: root, faults: #"{"rules": [{"glob": "/*", "actions": ["trickle:1000000"]}]}"#)
        defer { server.stop() }
        let list = dir.appendingPathComponent("urls.txt")
        try FetchTestKit.writeList(paths, server: server, to: list)
        let mount = dir.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        let script = """
            mount -t tmpfs -o size=1m tmpfs "$1" || exit 90
            "$2" fetch urls --list "$3" --dest "$1/out" --jobs 6 --keep-free 0 --quiet
            echo "EXIT $?"
            cd "$1/out" && find . -type f ! -name '.astropile-fetch*' -exec sha256sum {} +
            """
        let r = try TestSupport.runStatus("/usr/bin/unshare", ["-rm", "sh", "-c", script, "sh", mount.path, FetchTestKit.executable, list.path])
        #expect(r.status == 0, "unshare/tmpfs: \(r.stderr)")
        #expect(r.stdout.contains("EXIT 1"), "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("disk") && r.stdout.contains("full"))
        var finals = 0, parts = 0
        for line in r.stdout.split(separator: "\n") where line.count > 66 && !line.hasPrefix("EXIT") && !line.hasPrefix("fetched") {
            let hex = String(line.prefix(64))
            let name = String(line.dropFirst(66).dropFirst(2))
            if name.hasSuffix(".part") { parts += 1; continue }
            guard line.dropFirst(64).hasPrefix("  ./") else { continue }
            finals += 1
            #expect(sums[name] == hex, "final path \(name) holds the complete file")
        }
        #expect(finals < 6)
        #expect(parts + finals > 0)
    }
}
