import Foundation

/// Hides the password of an address (a `--database` URL, a service's base URL) wherever it is
/// printed or stored: messages, reports, registry rows.
///
/// It needs no parse, so an address that does not parse is hidden too: the text between `://`
/// (or, without `//`, the scheme's `:`) and the address's last `@` is taken as the user
/// information (a `#`, `/`, `?` or `@` typed into a password stays inside it), its user name
/// (before the first `:`) is kept and the rest becomes `***`; the value of a `password=` query
/// parameter becomes `***` as well.
public enum URLRedaction {
    /// `url` with its password replaced by `***`: `postgres://user:***@host/db`.
    public static func redacted(_ url: String) -> String {
        var out = url
        var start: String.Index?
        if let r = url.range(of: "://") {
            start = r.upperBound
        } else if let colon = url.firstIndex(of: ":"), isScheme(url[..<colon]) {
            start = url.index(after: colon)
        }
        if let start, let at = url[start...].lastIndex(of: "@") {
            let info = String(url[start..<at])
            let shown: String
            if let colon = info.firstIndex(of: ":") { shown = String(info[..<colon]) + ":***" } else { shown = info }
            out = String(url[..<start]) + shown + String(url[at...])
        }
        guard let q = out.firstIndex(of: "?") else { return out }
        var parameters = out[out.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map(String.init)
        for k in parameters.indices where parameters[k].lowercased().hasPrefix("password=") {
            parameters[k] = String(parameters[k].prefix(9)) + "***"
        }
        return String(out[...q]) + parameters.joined(separator: "&")
    }

    /// Whether `text` is a URL scheme: an ASCII letter, then letters, digits, `+`, `-` or `.`.
    public static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
    }
}
