import Formats
/// One file to download: where from, where to (relative to the destination folder) and what is
/// known about it before the transfer.
public struct FetchItem: Sendable, Hashable, Codable {
    /// The URL (http or https).
    public var url: String
    /// The path under the destination folder (`/`-separated, no `..`).
    public var path: String
    /// The exact size in bytes, when a source knows it (a listing with byte sizes).
    public var size: Int64?
    /// An approximate size in bytes (a listing's `1.2G`), for plans and the free-space check only.
    public var approximateSize: Int64?
    /// The checksum the file must have (from a checksum list).
    public var checksum: Checksum?

    public init(url: String, path: String, size: Int64? = nil, approximateSize: Int64? = nil, checksum: Checksum? = nil) {
        self.url = url
        self.path = path
        self.size = size
        self.approximateSize = approximateSize
        self.checksum = checksum
    }

    /// The best size estimate known: exact, else approximate.
    public var estimatedSize: Int64? { size ?? approximateSize }
}

/// Collects a source's items: drops repeated URLs (keeping the first) and refuses two different
/// URLs that would land at the same path.
struct FetchItemCollector {
    private(set) var items: [FetchItem] = []
    private var seen = Set<String>()
    private var urlsByPath: [String: String] = [:]

    /// Adds `url` at `path()` unless it was seen; the path is computed only for new URLs.
    mutating func add(_ url: String, path: () throws -> String) throws {
        guard seen.insert(url).inserted else { return }
        let p = try path()
        if let other = urlsByPath.updateValue(url, forKey: p) {
            throw FetchError.pathCollision(path: p, first: URLParts.redacted(other), second: URLParts.redacted(url))
        }
        items.append(FetchItem(url: url, path: p))
    }
}

/// Maps URLs to safe relative paths: the URL's path, percent-decoded, with `..`, `.` and empty
/// segments refused; a query string becomes a `_`-joined suffix of the file name.
public enum URLPath {
    /// The relative path for `url`, dropping `stripPrefix` (a base URL's path) when it starts the path.
    public static func relativePath(for url: String, stripPrefix: String = "") throws -> String {
        guard let parts = URLParts(url) else { throw FetchError.input(URLParts.redacted(url), reason: "not an http(s) URL") }
        var path = parts.path
        let prefix = stripPrefix.hasSuffix("/") ? stripPrefix : stripPrefix + "/"
        if !stripPrefix.isEmpty, stripPrefix != "/", path.hasPrefix(prefix) { path.removeFirst(prefix.count - 1) }
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            let s = percentDecoded(String(raw))
            guard s != "..", s != ".", !s.contains("/"), !s.contains("\0") else {
                throw FetchError.input(URLParts.redacted(url), reason: "unsafe path segment '\(s)'")
            }
            segments.append(s)
        }
        guard !segments.isEmpty else { throw FetchError.input(URLParts.redacted(url), reason: "no file name in the URL path") }
        if let q = parts.query, !q.isEmpty {
            let safe = String(q.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
            segments[segments.count - 1] += "_" + safe
        }
        return segments.joined(separator: "/")
    }

    static func percentDecoded(_ s: String) -> String {
        guard s.contains("%") else { return s }
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let h = hex(b[i + 1]), let l = hex(b[i + 2]) {
                out.append(h << 4 | l); i += 3
            } else { out.append(b[i]); i += 1 }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// The pieces of an http(s) URL that fetch needs, split without Foundation's URL (which accepts
/// and rewrites things an archive path should not contain).
public struct URLParts: Sendable, Hashable {
    /// `http` or `https`.
    public let scheme: String
    /// Host name, lower-cased, without user info or port.
    public let host: String
    /// The port, when given.
    public let port: Int?
    /// The path, starting with `/` (`/` when empty).
    public let path: String
    /// The query string without `?`.
    public let query: String?
    /// Whether the URL carries `user:password@` (never printed; see ``redacted``).
    public let hasUserInfo: Bool

    /// Splits `url`; `nil` unless it is an absolute http(s) URL with a host.
    public init?(_ url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var rest = url[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var remainder = rest[authorityEnd...]
        hasUserInfo = authority.contains("@")
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var hostPart = authority
        var port: Int? = nil
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = p
            hostPart = authority[..<colon]
        }
        guard !hostPart.isEmpty else { return nil }
        var query: String? = nil
        if let q = remainder.firstIndex(of: "?") {
            query = String(remainder[remainder.index(after: q)...])
            remainder = remainder[..<q]
        }
        self.scheme = scheme
        self.host = hostPart.lowercased()
        self.port = port
        self.path = remainder.isEmpty ? "/" : String(remainder)
        self.query = query
    }

    /// `host` or `host:port`: the key for per-host limits and credentials.
    public var hostKey: String { port.map { "\(host):\($0)" } ?? host }

    /// The URL without user info, for messages, logs and the manifest. Text that is not a usable
    /// URL but has an `@` after `://` loses everything from there to its last `@` (a password
    /// with an unescaped `/` would otherwise end the host early and be printed).
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") ?? (URLParts(url) == nil ? rest.lastIndex(of: "@") : nil) else {
            return url
        }
        return String(url[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
    }
}
