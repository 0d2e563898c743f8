import Foundation
import Formats
import TestSupport

/// The fault-injecting file server (`fetch_server.py`, Python's standard library) on 127.0.0.1,
/// started and stopped by a test.
final class FetchServer: @unchecked Sendable {
    let root: URL
    let port: Int
    let log: URL
    private let process: Process

    /// Serves `root`; `faults` is the rules JSON (see fetch_server.py), `chaos` e.g. `7:0.3`.
    init(root: URL, faults: String? = nil, chaos: String? = nil, ignoreRange: Bool = false) throws {
        self.root = root
        let work = root.deletingLastPathComponent()
        log = work.appendingPathComponent("requests-\(UUID().uuidString.prefix(6)).log")
        var args = [TestSupport.root.appendingPathComponent("Tests/FetchTests/fetch_server.py").path,
                    "--root", root.path, "--log", log.path]
        if let faults {
            let f = work.appendingPathComponent("faults-\(UUID().uuidString.prefix(6)).json")
            try faults.write(to: f, atomically: true, encoding: .utf8)
            args += ["--faults", f.path]
        }
        if let chaos { args += ["--chaos", chaos] }
        if ignoreRange { args.append("--ignore-range") }
        (process, port) = try TestSupport.startServer(args[0], Array(args.dropFirst()))
    }

    deinit { stop() }

    /// `http://127.0.0.1:<port>`.
    var base: String { "http://127.0.0.1:\(port)" }

    func stop() { TestSupport.stopServer(process) }

    /// The logged requests.
    struct Request: Decodable {
        let method: String
        let path: String
        let range: String?
        let status: Int
        let action: String
        let sent: Int
        let auth: Bool
        let ua: String?
    }

    func requests() throws -> [Request] {
        guard let data = FileManager.default.contents(atPath: log.path) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(Request.self, from: Data($0.utf8))
        }
    }
}

/// Helpers for fetch tests: file trees of random bytes, the CLI as a subprocess, comparisons.
enum FetchTestKit {
    static var executable: String { TestSupport.root.appendingPathComponent(".build/debug/astropile").path }

    /// Writes `count` bytes of deterministic noise to `url` (creating folders).
    static func writeNoise(_ url: URL, count: Int, seed: UInt64) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var rng = SplitMix64(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        var i = 0
        while i < count {
            var v = rng.next()
            for _ in 0..<8 where i < count { bytes[i] = UInt8(truncatingIfNeeded: v); v >>= 8; i += 1 }
        }
        try Data(bytes).write(to: url)
    }

    /// Writes noise files of `count` bytes at `paths` under `root` (seeds `seed`, `seed + 1`, …).
    static func writeNoise(_ root: URL, paths: [String], count: Int, seed: UInt64) throws {
        for (k, p) in paths.enumerated() { try writeNoise(root.appendingPathComponent(p), count: count, seed: seed + UInt64(k)) }
    }

    /// Writes the URL list of `paths` on `server`.
    static func writeList(_ paths: [String], server: FetchServer, to list: URL) throws {
        try paths.map { server.base + "/" + $0 }.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
    }

    /// Starts `astropile fetch …` without waiting (for kill and interrupt tests).
    static func startFetch(_ arguments: [String], stdout: Pipe? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = ["fetch"] + arguments
        p.standardOutput = stdout ?? FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Runs `astropile fetch …`.
    static func fetch(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestSupport.runStatus(executable, ["fetch"] + arguments, environment: environment)
    }

    /// Files under `folder` (relative paths), skipping the manifest.
    static func files(in folder: URL) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var out: [String] = []
        while let p = e.nextObject() as? String {
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: folder.appendingPathComponent(p).path, isDirectory: &isDir)
            if !isDir.boolValue, !p.hasPrefix(".astropile-fetch") { out.append(p) }
        }
        return out.sorted()
    }

    /// Bytes a `hold:N:FILE` fault sends before it holds the body: more than the 1 MiB the engine
    /// gathers before it writes to the `.part` file, so a held transfer's `.part` surely has bytes.
    static let heldBytes = 1_310_720

    /// The sizes of the `.part` files under `folder` (relative paths).
    static func partBytes(in folder: URL) -> [String: Int] {
        var out: [String: Int] = [:]
        for f in files(in: folder) where f.hasSuffix(".part") {
            let attributes = try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(f).path)
            out[f] = (attributes?[.size] as? Int) ?? 0
        }
        return out
    }

    /// Polls `condition` every 20 ms until it holds; false when it still does not after `seconds`
    /// (a bound on a hang only: the tests wait for what the run did, not for time to pass).
    static func waitUntil(seconds: Double = 120, _ condition: () -> Bool) -> Bool {
        let end = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            if ContinuousClock.now >= end { return false }
            usleep(20_000)
        }
        return true
    }

    /// True when both files exist with the same bytes.
    static func identical(_ a: URL, _ b: URL) -> Bool {
        guard let x = FileManager.default.contents(atPath: a.path), let y = FileManager.default.contents(atPath: b.path) else { return false }
        return x == y
    }
}
