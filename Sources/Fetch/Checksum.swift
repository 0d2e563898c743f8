import Foundation
import Formats

/// Checksums from `md5sum`/`sha256sum`-style list files (`<hex>  <name>`, `*name` for binary mode,
/// `#` comments), looked up by the file's path under the destination or by its file name.
public struct ChecksumList: Sendable {
    private var byPath: [String: Checksum] = [:]
    private var byName: [String: Checksum] = [:]

    /// Number of entries.
    public var count: Int { byPath.count }

    /// An empty list.
    public init() {}

    /// Parses list files; a malformed line is an error naming the file and line.
    public init(files: [String]) throws {
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw FetchError.input(file, reason: "cannot read the checksum list")
            }
            for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let t = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if t.isEmpty || t.hasPrefix("#") { continue }
                guard let space = t.firstIndex(where: { $0 == " " || $0 == "\t" }),
                      let sum = Checksum(String(t[..<space])) else {
                    throw FetchError.input("\(file) line \(n + 1)", reason: "expected '<md5 or sha256 hex>  <file name>'")
                }
                var name = t[space...].trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("*") { name.removeFirst() }
                while name.hasPrefix("./") { name.removeFirst(2) }
                byPath[name] = sum
                byName[String(name.split(separator: "/").last ?? Substring(name))] = sum
            }
        }
    }

    /// The checksum for a file at `path` (relative to the destination), by path then by file name.
    public func checksum(forPath path: String) -> Checksum? {
        if let c = byPath[path] { return c }
        return byName[String(path.split(separator: "/").last ?? Substring(path))]
    }
}
