import Foundation
import Formats

/// A URL pattern with `{column}` and `{column:format}` fields, filled from catalog rows.
///
/// The format is the part of Python's format mini-language that archive paths use:
/// `[[fill]align][0][width][.precision][type]` with type `d` (integer), `f` (fixed-point),
/// `x`/`X` (hex), `s` (string) or none. `{run:06d}` pads the run number to six digits, `{{` and `}}`
/// are literal braces. Field names match catalog columns case-insensitively.
public struct URLTemplate: Sendable, Hashable {
    /// One piece of the pattern.
    public enum Part: Sendable, Hashable {
        case literal(String)
        case field(name: String, spec: FormatSpec)
    }

    /// The pattern as written.
    public let pattern: String
    /// Literals and fields in order.
    public let parts: [Part]

    /// The field names, in order of first use.
    public var fieldNames: [String] {
        var seen = Set<String>(), out: [String] = []
        for case .field(let name, _) in parts where seen.insert(name.lowercased()).inserted { out.append(name) }
        return out
    }

    /// Parses `pattern`; throws ``FetchError/template(_:reason:)`` on unbalanced braces or a bad format.
    public init(_ pattern: String) throws {
        self.pattern = pattern
        var parts: [Part] = []
        var literal: [UInt8] = []
        let bytes = Array(pattern.utf8)
        // A reason never quotes the URL's user info (a password with a brace in it would be).
        let removed = pattern.utf8.count - URLParts.redacted(pattern).utf8.count
        let userInfoEnd = removed == 0 ? 0 : removed + (pattern.range(of: "://").map { pattern.utf8.distance(from: pattern.startIndex, to: $0.upperBound) } ?? 0)
        func refused(_ reason: String, at position: Int) -> FetchError {
            .template(pattern, reason: position < userInfoEnd ? "a brace in the URL's user info that is not a {field} (write '{{' or '}}' for a literal one)" : reason)
        }
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "{") {
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{") { literal.append(c); i += 2; continue }
                guard let close = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "}")) else {
                    throw refused("'{' without a closing '}'", at: i)
                }
                let body = String(decoding: bytes[(i + 1)..<close], as: UTF8.self)
                let (name, specText) = body.firstIndex(of: ":").map { (String(body[..<$0]), String(body[body.index(after: $0)...])) } ?? (body, "")
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw refused("bad field name '\(name)'", at: i)
                }
                guard let spec = FormatSpec(specText) else {
                    throw refused("bad format '\(specText)' for {\(name)}", at: i)
                }
                if !literal.isEmpty { parts.append(.literal(String(decoding: literal, as: UTF8.self))); literal.removeAll() }
                parts.append(.field(name: name, spec: spec))
                i = close + 1
            } else if c == UInt8(ascii: "}") {
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "}") else {
                    throw refused("single '}' (write '}}' for a literal brace)", at: i)
                }
                literal.append(c); i += 2
            } else {
                literal.append(c); i += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(String(decoding: literal, as: UTF8.self))) }
        self.parts = parts
    }

    /// Fills the fields from `value(name)`; `nil` when a value is missing (a null in the catalog).
    /// Throws when a value cannot take its format (text for `d`).
    public func render(_ value: (String) -> TemplateValue?) throws -> String? {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .field(let name, let spec):
                guard let v = value(name) else { return nil }
                guard let text = spec.format(v) else {
                    // The value is not quoted when the URL has user info: it may be the password.
                    let shown = URLParts.redacted(pattern) == pattern ? "value \(v)" : "the value"
                    throw FetchError.template(pattern, reason: "\(shown) of {\(name)} cannot be formatted as '\(spec.text)'")
                }
                out += text
            }
        }
        return out
    }
}

/// A value that fills a template field.
public enum TemplateValue: Sendable, Hashable, CustomStringConvertible {
    case integer(Int64)
    case real(Double)
    case text(String)

    public var description: String {
        switch self {
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .text(let s): return "'\(s)'"
        }
    }
}

/// A parsed format spec (`06d`, `>8s`, `.3f`, `x`).
public struct FormatSpec: Sendable, Hashable {
    /// The spec as written.
    public let text: String
    var fill: Character = " "
    var align: Character? = nil
    var zeroPad = false
    var width = 0
    var precision: Int? = nil
    var type: Character? = nil

    /// The largest width or precision a spec may give.
    static let maximumWidth = 1024

    init?(_ text: String) {
        self.text = text
        var s = Substring(text)
        let aligns: Set<Character> = ["<", ">", "^"]
        if s.count >= 2, aligns.contains(s[s.index(after: s.startIndex)]) {
            fill = s.first!; align = s[s.index(after: s.startIndex)]; s = s.dropFirst(2)
        } else if let f = s.first, aligns.contains(f) {
            align = f; s = s.dropFirst()
        }
        if s.first == "0" { zeroPad = true; s = s.dropFirst() }
        let w = s.prefix { $0.isASCII && $0.isNumber }
        // Widths and precisions past ``maximumWidth`` are refused (`Int(_:)` of 20 digits would
        // not fit, and a huge width would pad every URL with gigabytes).
        if !w.isEmpty {
            guard let value = Int(w), value <= Self.maximumWidth else { return nil }
            width = value
            s = s.dropFirst(w.count)
        }
        if s.first == "." {
            s = s.dropFirst()
            let p = s.prefix { $0.isASCII && $0.isNumber }
            guard !p.isEmpty, let value = Int(p), value <= Self.maximumWidth else { return nil }
            precision = value
            s = s.dropFirst(p.count)
        }
        if let t = s.first {
            guard ["d", "f", "x", "X", "s"].contains(t), s.count == 1 else { return nil }
            type = t
        }
    }

    /// The formatted value, or `nil` when the value does not fit the type.
    func format(_ value: TemplateValue) -> String? {
        var body: String
        var numeric = true
        switch (type, value) {
        case ("d", .integer(let v)), (nil, .integer(let v)): body = String(v)
        case ("d", .real(let v)):
            guard v == v.rounded(), abs(v) < 9e18 else { return nil }
            body = String(Int64(v))
        case ("x", .integer(let v)): body = String(v, radix: 16)
        case ("X", .integer(let v)): body = String(v, radix: 16, uppercase: true)
        case ("f", .integer(let v)): body = Self.fixed(Double(v), precision ?? 6)
        case ("f", .real(let v)): body = Self.fixed(v, precision ?? 6)
        case (nil, .real(let v)): body = precision.map { Self.fixed(v, $0) } ?? Self.shortest(v)
        case ("s", .text(let s)), (nil, .text(let s)):
            body = precision.map { String(s.prefix($0)) } ?? s
            numeric = false
        case ("s", .integer(let v)): body = String(v); numeric = false
        default: return nil
        }
        let pad = width - body.count
        guard pad > 0 else { return body }
        if zeroPad && numeric && align == nil {
            let negative = body.hasPrefix("-")
            let digits = negative ? String(body.dropFirst()) : body
            return (negative ? "-" : "") + String(repeating: "0", count: pad) + digits
        }
        let filler = String(repeating: zeroPad && align == nil ? "0" : String(fill), count: pad)
        switch align ?? (numeric ? ">" : "<") {
        case "<": return body + filler
        case "^":
            let left = pad / 2
            return String(filler.prefix(left)) + body + String(filler.prefix(pad - left))
        default: return filler + body
        }
    }

    /// Fixed-point text with `digits` decimals, correctly rounded from the binary value as C's
    /// `%.*f` (and Python's format) do: `2.5` → `2`, `0.05` → `0.1` at one digit.
    public static func fixed(_ v: Double, _ digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        let n = withVaList([Int32(min(max(digits, 0), 100)), v]) { vsnprintf(&buffer, buffer.count, "%.*f", $0) }
        guard n > 0, n < buffer.count else { return String(v) }
        return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Integral reals print without a decimal point (catalog integers often arrive as floats).
    static func shortest(_ v: Double) -> String {
        // invariant: integral and under 1e15 when converted.
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
