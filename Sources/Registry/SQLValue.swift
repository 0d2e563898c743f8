/// A value bound to, or read from, a registry statement: the four kinds both SQLite and
/// PostgreSQL store for the registry (integers are `BIGINT`, reals `DOUBLE PRECISION`).
public enum SQLValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case int(Int64)
    case double(Double)
    case text(String)

    /// The value as an integer, when it is one.
    public var int: Int64? {
        switch self {
        case .int(let v): v
        // invariant: integral and under 9e18 when converted.
        case .double(let d) where d == d.rounded() && abs(d) < 9e18: Int64(d)
        default: nil
        }
    }

    /// The value as a real number, when it is a number.
    public var double: Double? {
        switch self {
        case .double(let d): d
        case .int(let v): Double(v)
        default: nil
        }
    }

    /// The value as text, when it is text.
    public var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    public var isNull: Bool { self == .null }

    public var description: String {
        switch self {
        case .null: "NULL"
        case .int(let v): "\(v)"
        case .double(let d): "\(d)"
        case .text(let s): "'\(s)'"
        }
    }
}

/// Literals for the common cases, so call sites read `[.int(id), "done"]`.
extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension SQLValue {
    /// `.text(s)` or `.null`.
    public static func text(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    /// `.int(Int64(v))`.
    public static func int(_ v: Int) -> SQLValue { .int(Int64(v)) }
}

/// One result row: its values by column position and by (lower-case) column name.
public struct SQLRow: Sendable {
    public let names: [String]
    public let values: [SQLValue]

    public init(names: [String], values: [SQLValue]) {
        self.names = names.map { $0.lowercased() }
        self.values = values
    }

    /// The value of column `name` (`.null` when there is no such column).
    public subscript(_ name: String) -> SQLValue {
        guard let i = names.firstIndex(of: name.lowercased()) else { return .null }
        return values[i]
    }

    /// The value at position `i` (`.null` out of range).
    public subscript(_ i: Int) -> SQLValue { values.indices.contains(i) ? values[i] : .null }
}
