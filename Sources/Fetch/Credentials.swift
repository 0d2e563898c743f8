import Foundation
import Formats

/// Credentials for an archive: HTTP basic (user, password) or a bearer token. Their text never
/// appears in messages, logs or the manifest (`description` is redacted).
public enum Credential: Sendable, Hashable, CustomStringConvertible {
    case basic(user: String, password: String)
    case bearer(String)

    /// The `Authorization` header value.
    var headerValue: String {
        switch self {
        case .basic(let u, let p): return "Basic " + Data("\(u):\(p)".utf8).base64EncodedString()
        case .bearer(let t): return "Bearer " + t
        }
    }

    public var description: String {
        switch self {
        case .basic: return "basic credentials (redacted)"
        case .bearer: return "bearer token (redacted)"
        }
    }
}

/// Where credentials come from, in order: the environment (`ASTROPILE_FETCH_TOKEN` for a bearer
/// token, or `ASTROPILE_FETCH_USER` + `ASTROPILE_FETCH_PASSWORD`; they apply to the source's own
/// hosts), then `~/.netrc` (or the file `$NETRC` names) by host, then its `default` entry.
public struct CredentialStore: Sendable {
    private var environmentCredential: Credential?
    private var environmentHosts: Set<String>
    private var netrc: [String: Credential]
    private var netrcDefault: Credential?

    /// No credentials at all.
    public static let none = CredentialStore(environment: [:], netrcText: nil, sourceHosts: [])

    /// Reads the process environment and the netrc file; `sourceHosts` are the hosts of the
    /// source's URLs (the environment credentials are sent to those only, never after a redirect
    /// to another host).
    public static func load(sourceHosts: Set<String>) -> CredentialStore {
        let env = ProcessInfo.processInfo.environment
        let path = env["NETRC"] ?? (env["HOME"].map { $0 + "/.netrc" } ?? "")
        let text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
        return CredentialStore(environment: env, netrcText: text, sourceHosts: sourceHosts)
    }

    /// A store from explicit environment values and netrc text (tests).
    public init(environment: [String: String], netrcText: String?, sourceHosts: Set<String>) {
        if let token = environment["ASTROPILE_FETCH_TOKEN"], !token.isEmpty {
            environmentCredential = .bearer(token)
        } else if let user = environment["ASTROPILE_FETCH_USER"], let password = environment["ASTROPILE_FETCH_PASSWORD"] {
            environmentCredential = .basic(user: user, password: password)
        } else {
            environmentCredential = nil
        }
        environmentHosts = sourceHosts
        (netrc, netrcDefault) = Self.parseNetrc(netrcText ?? "")
    }

    /// The credential for `host` (lower-case, without port), if any.
    public func credential(forHost host: String) -> Credential? {
        if let c = environmentCredential, environmentHosts.contains(host) { return c }
        return netrc[host] ?? netrcDefault
    }

    /// Parses netrc tokens: `machine H login U password P`, `default login U password P`
    /// (`macdef` bodies skipped; `account` ignored).
    static func parseNetrc(_ text: String) -> ([String: Credential], Credential?) {
        var entries: [String: Credential] = [:]
        var fallback: Credential?
        var tokens: [String] = []
        var skipMacro = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if skipMacro { if line.trimmingCharacters(in: .whitespaces).isEmpty { skipMacro = false }; continue }
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { continue }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if let m = words.firstIndex(of: "macdef") { tokens += words[..<m]; skipMacro = true; continue }
            tokens += words
        }
        var i = 0
        while i < tokens.count {
            let isDefault = tokens[i] == "default"
            guard tokens[i] == "machine" || isDefault else { i += 1; continue }
            var host: String? = nil
            i += 1
            if !isDefault, i < tokens.count { host = tokens[i].lowercased(); i += 1 }
            var login: String?, password: String?
            while i < tokens.count, tokens[i] != "machine", tokens[i] != "default" {
                let key = tokens[i]
                let value = i + 1 < tokens.count ? tokens[i + 1] : nil
                if key == "login" { login = value } else if key == "password" { password = value }
                i += value == nil ? 1 : 2
            }
            guard let login, let password else { continue }
            let c = Credential.basic(user: login, password: password)
            if let host { entries[host] = entries[host] ?? c } else if fallback == nil { fallback = c }
        }
        return (entries, fallback)
    }
}

extension URLParts {
    /// The credential a URL carries as `user:password@` (percent-decoded; a user without a
    /// password has an empty one), or `nil`. Fetch sends it as HTTP basic to the URL's own host
    /// and port only, and never puts it in the request line.
    static func userInfoCredential(_ url: String) -> Credential? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return nil }
        let info = rest[..<at]
        guard let colon = info.firstIndex(of: ":") else { return .basic(user: URLPath.percentDecoded(String(info)), password: "") }
        return .basic(user: URLPath.percentDecoded(String(info[..<colon])),
                      password: URLPath.percentDecoded(String(info[info.index(after: colon)...])))
    }
}
