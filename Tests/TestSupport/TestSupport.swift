import Foundation

/// Paths and helpers shared by the test targets: the package root, the project venv's Python,
/// the shared fixtures, per-test temporary folders.
public enum TestSupport {
    /// The package root (three levels above this file).
    public static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `fixtures/` in the package root (real data from public projects; provenance in its README).
    /// Tests fail (not skip) when a fixture is missing.
    public static var fixtures: URL { root.appendingPathComponent("fixtures") }

    /// A fixture's path, failing loudly when it does not exist.
    public static func fixture(_ relative: String) throws -> String {
        let p = fixtures.appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: p) else {
            throw TestSupportError("missing fixture \(p) (the repository's fixtures/ folder: see fixtures/README.md)")
        }
        return p
    }

    /// The start of a Python script that writes Avro files byte by byte (`import sys, zlib`;
    /// `long(v)`: a zig-zag varint, `string(b)`: length-prefixed bytes), for tests that make
    /// hostile Avro inputs.
    public static let avroPythonPrelude = """
        import sys, zlib
        def long(v):
            u = 2 * v if v >= 0 else -2 * v - 1
            out = bytearray()
            while u >= 0x80:
                out.append((u & 0x7f) | 0x80)
                u >>= 7
            out.append(u)
            return bytes(out)
        def string(b):
            return long(len(b)) + b

        """

    /// The project venv's python (`.venv/bin/python`, made by `make setup`).
    public static var python: String { root.appendingPathComponent(".venv/bin/python").path }

    /// The debug build of the `astropile` executable (`swift build --build-tests` makes it).
    public static var executable: String { root.appendingPathComponent(".build/debug/astropile").path }

    /// Every regular file under `root`'s `dataset/` folder (path relative to it → bytes).
    public static func leafBytes(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let base = root + "/dataset"
        guard let e = FileManager.default.enumerator(atPath: base) else { throw TestSupportError("no dataset folder in \(root)") }
        while let item = e.nextObject() as? String {
            if item.hasSuffix(".parquet") { out[item] = FileManager.default.contents(atPath: base + "/" + item) }
        }
        return out
    }

    /// A fresh temporary folder for one test.
    public static func temporaryDirectory(_ name: String = "test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("astropile-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a Python script with the venv's interpreter; returns stdout, throws with stderr on failure.
    @discardableResult
    public static func runPython(_ script: String, arguments: [String] = []) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestSupportError("no venv python at \(python): run `make setup`")
        }
        return try run(python, ["-c", script] + arguments)
    }

    /// Runs a program; returns stdout, throws with stderr when it exits non-zero.
    @discardableResult
    public static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
        let result = try runStatus(program, arguments, environment: environment)
        guard result.status == 0 else {
            throw TestSupportError("\(program) \(arguments.prefix(3).joined(separator: " ")) exited \(result.status):\n\(result.stderr)\n\(result.stdout.suffix(2000))")
        }
        return result.stdout
    }

    /// How a program ended: its exit status, or the signal that killed it, and its output.
    public struct Finished: Sendable {
        /// The exit status, or the signal number when `signaled`.
        public var status: Int32
        /// Whether a signal ended it (a trap is SIGILL or SIGTRAP, a kill SIGKILL).
        public var signaled: Bool
        public var stdout: String
        public var stderr: String
    }

    /// Runs a program and says how it ended (exit status or signal) and what it printed.
    public static func runProcess(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Finished {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let outData = ReadBuffer(out.fileHandleForReading)
        let errData = ReadBuffer(err.fileHandleForReading)
        p.waitUntilExit()
        return Finished(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal,
                        stdout: outData.text(), stderr: errData.text())
    }

    /// Runs a program and returns its exit status (the signal number if a signal ended it) and output.
    public static func runStatus(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let r = try runProcess(program, arguments, environment: environment)
        return (r.status, r.stdout, r.stderr)
    }
}

extension TestSupport {
    /// Starts a loopback server script of the venv's Python that prints "PORT <n>" first; returns
    /// the process and the port.
    public static func startServer(_ script: String, _ arguments: [String]) throws -> (process: Process, port: Int) {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestSupportError("no venv python at \(python): run `make setup`")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [script] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        try p.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let n = Int(text.dropFirst(5)) else {
            p.terminate()
            throw TestSupportError("\((script as NSString).lastPathComponent) did not start: '\(text)'")
        }
        return (p, n)
    }

    /// Stops a server: SIGTERM, then SIGKILL after 2 s (a SIGTERM the test thread's signal mask
    /// blocked in the child).
    public static func stopServer(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<100 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Drains a pipe on a background thread so a chatty child never blocks.
final class ReadBuffer: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    init(_ handle: FileHandle) {
        DispatchQueue.global().async {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }
    }
    func text() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A failure in test set-up (missing fixture or tool): always fails the test.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A small deterministic generator (SplitMix64), so tests need no seeds from the system.
public struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A uniform value in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
