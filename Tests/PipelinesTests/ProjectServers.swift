import Foundation
import TestSupport

/// The IRSA light-curve service stand-in (`Python/irsa_server.py`) on 127.0.0.1.
final class IRSAServer: @unchecked Sendable {
    let port: Int
    let log: String
    private let process: Process

    /// Serves `fixture` (or synthetic curves of `synthetic` epochs); `missing`/`garbage` are
    /// positions answered 404 or with bytes that are not a light curve.
    init(folder: URL, fixture: String? = nil, synthetic: Int? = nil, missing: [(Double, Double)] = [], garbage: [(Double, Double)] = []) throws {
        log = folder.appendingPathComponent("irsa-requests.log").path
        let rules = folder.appendingPathComponent("irsa-rules.json")
        let json = "{\"missing\": [\(missing.map { "[\($0.0), \($0.1)]" }.joined(separator: ", "))], \"garbage\": [\(garbage.map { "[\($0.0), \($0.1)]" }.joined(separator: ", "))]}"
        try json.write(to: rules, atomically: true, encoding: .utf8)
        var args = [TestSupport.root.appendingPathComponent("Tests/PipelinesTests/Python/irsa_server.py").path, "--rules", rules.path, "--log", log]
        if let fixture { args += ["--fixture", fixture] }
        if let synthetic { args += ["--synthetic", String(synthetic)] }
        (process, port) = try TestSupport.startServer(args[0], Array(args.dropFirst()))
    }

    deinit { stop() }

    var base: String { "http://127.0.0.1:\(port)/cgi-bin/ZTF/nph_light_curves" }

    /// The requests so far: "ra dec status" lines.
    func requests() -> [String] {
        (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
    }

    func stop() { TestSupport.stopServer(process) }
}

/// A PostgreSQL cluster of Debian's `postgresql` in a temporary folder, on 127.0.0.1 and a free
/// port, trusted for the user `astropile`, stopped and removed at the end. `initdb` refuses to
/// run as root, so as root the server runs as the `postgres` user the package creates.
final class PostgresCluster: @unchecked Sendable {
    let folder: URL
    let port: Int
    private let bin: String
    private let asUser: [String]

    init() throws {
        let fm = FileManager.default
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        guard let v = versions.first(where: { fm.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb") }) else {
            throw TestSupportError("no PostgreSQL server (/usr/lib/postgresql/*/bin/initdb): install Debian's postgresql (make setup does)")
        }
        bin = "/usr/lib/postgresql/\(v)/bin/"
        folder = URL(fileURLWithPath: "/tmp/astropile-pg-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        if getuid() == 0 {
            _ = try TestSupport.run("/bin/chown", ["postgres:postgres", folder.path])
            asUser = ["/usr/sbin/runuser", "-u", "postgres", "--"]
        } else {
            asUser = []
        }
        port = try Self.freePort()
        try run(bin + "initdb", ["-D", folder.path + "/data", "-U", "astropile", "-A", "trust", "--no-sync", "-E", "UTF8"])
        // The server would inherit every descriptor of pg_ctl's, Foundation's child monitor among
        // them, and `waitUntilExit` would never return: started through Python's subprocess,
        // which closes them in the child.
        let all = [TestSupport.python, "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))"]
            + asUser + [bin + "pg_ctl", "-D", folder.path + "/data", "-l", folder.path + "/server.log", "-w", "-t", "60", "-o",
                            "-c listen_addresses=127.0.0.1 -p \(port) -k \(folder.path) -c fsync=off -c max_connections=60", "start"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: all[0])
        p.arguments = Array(all.dropFirst())
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let log = (try? String(contentsOfFile: folder.path + "/server.log", encoding: .utf8)) ?? ""
            throw TestSupportError("pg_ctl start exited \(p.terminationStatus):\n\(log.suffix(2000))")
        }
    }

    private func run(_ program: String, _ args: [String]) throws {
        let all = asUser + [program] + args
        _ = try TestSupport.run(all[0], Array(all.dropFirst()))
    }

    /// Creates a database and gives its `postgres://` address.
    func database(_ name: String) throws -> String {
        _ = try TestSupport.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "astropile", "-d", "postgres",
                                                  "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)"])
        return "postgres://astropile@127.0.0.1:\(port)/\(name)"
    }

    deinit {
        try? run(bin + "pg_ctl", ["-D", folder.path + "/data", "-m", "immediate", "-w", "-t", "30", "stop"])
        try? FileManager.default.removeItem(at: folder)
    }

    static func freePort() throws -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
        }
        guard ok else { throw TestSupportError("no free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
