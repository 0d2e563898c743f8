/// The logical type of a column, in the Arrow type system (nested types included).
///
/// AstroPile models only what survey data needs; the Arrow C Data Interface format string of each
/// case is given by ``DataType/formatString``.
public indirect enum DataType: Hashable, Sendable {
    case null
    case bool
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case float16, float32, float64
    /// UTF-8 string with 32-bit offsets.
    case string
    /// UTF-8 string with 64-bit offsets.
    case largeString
    /// Bytes with 32-bit offsets.
    case binary
    /// Bytes with 64-bit offsets.
    case largeBinary
    /// Bytes of a fixed width per value.
    case fixedSizeBinary(byteWidth: Int)
    /// Days since 1970-01-01 (int32).
    case date32
    /// Milliseconds since 1970-01-01 (int64).
    case date64
    /// Time since the epoch in `unit`, with an optional time zone name.
    case timestamp(unit: TimeUnit, timeZone: String?)
    /// Time of day (int32 for seconds/milliseconds, int64 for micro/nanoseconds).
    case time(unit: TimeUnit)
    /// Elapsed time (int64) in `unit`.
    case duration(unit: TimeUnit)
    /// 128-bit decimal with `precision` digits, `scale` of them after the point.
    case decimal128(precision: Int, scale: Int)
    /// Variable-length list with 32-bit offsets.
    case list(Field)
    /// Variable-length list with 64-bit offsets.
    case largeList(Field)
    /// A list of exactly `size` values per row (flat, row-major for multidimensional FITS columns).
    case fixedSizeList(Field, size: Int)
    /// A record of named child fields.
    case structure([Field])
    /// A map (list of key/value structs); `keysSorted` as in Arrow.
    case map(Field, keysSorted: Bool)

    /// The unit of a time-like type.
    public enum TimeUnit: String, Hashable, Sendable, Codable {
        case second = "s", millisecond = "m", microsecond = "u", nanosecond = "n"
    }

    /// Width in bytes of one value of a fixed-width primitive type, or `nil` for bit-packed,
    /// variable-length and nested types.
    public var byteWidth: Int? {
        switch self {
        case .int8, .uint8: 1
        case .int16, .uint16, .float16: 2
        case .int32, .uint32, .float32, .date32: 4
        case .int64, .uint64, .float64, .date64, .timestamp, .duration: 8
        case .time(let unit): (unit == .second || unit == .millisecond) ? 4 : 8
        case .decimal128: 16
        case .fixedSizeBinary(let w): w
        default: nil
        }
    }

    /// True for the integer types (signed and unsigned).
    public var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: true
        default: false
        }
    }

    /// True for the floating point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .float32, .float64: true
        default: false
        }
    }

    /// The number of buffers of this type's layout in the Arrow C Data Interface
    /// (validity included; the null type has none).
    public var bufferCount: Int {
        switch self {
        case .null: 0
        case .string, .largeString, .binary, .largeBinary: 3
        case .fixedSizeList, .structure: 1
        default: 2
        }
    }

    /// Child fields of nested types (empty otherwise).
    public var children: [Field] {
        switch self {
        case .list(let f), .largeList(let f), .fixedSizeList(let f, _), .map(let f, _): [f]
        case .structure(let fs): fs
        default: []
        }
    }
}

extension DataType: CustomStringConvertible {
    /// A short, Arrow-like rendering such as `list<struct<a: int64>>`.
    public var description: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .uint8: "uint8"
        case .uint16: "uint16"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .float16: "halffloat"
        case .float32: "float"
        case .float64: "double"
        case .string: "string"
        case .largeString: "large_string"
        case .binary: "binary"
        case .largeBinary: "large_binary"
        case .fixedSizeBinary(let w): "fixed_size_binary[\(w)]"
        case .date32: "date32"
        case .date64: "date64"
        case .timestamp(let u, let tz): "timestamp[\(u.rawValue)\(tz.map { ", tz=\($0)" } ?? "")]"
        case .time(let u): "time[\(u.rawValue)]"
        case .duration(let u): "duration[\(u.rawValue)]"
        case .decimal128(let p, let s): "decimal128(\(p), \(s))"
        case .list(let f): "list<\(f.type)>"
        case .largeList(let f): "large_list<\(f.type)>"
        case .fixedSizeList(let f, let n): "fixed_size_list<\(f.type)>[\(n)]"
        case .structure(let fs): "struct<\(fs.map { "\($0.name): \($0.type)" }.joined(separator: ", "))>"
        case .map(let f, _): "map<\(f.type)>"
        }
    }
}
