/// Conversion between ``DataType`` and Arrow C Data Interface format strings.
extension DataType {
    /// The C Data Interface format string of this type (children are described separately).
    public var formatString: String {
        switch self {
        case .null: "n"
        case .bool: "b"
        case .int8: "c"
        case .uint8: "C"
        case .int16: "s"
        case .uint16: "S"
        case .int32: "i"
        case .uint32: "I"
        case .int64: "l"
        case .uint64: "L"
        case .float16: "e"
        case .float32: "f"
        case .float64: "g"
        case .binary: "z"
        case .largeBinary: "Z"
        case .string: "u"
        case .largeString: "U"
        case .fixedSizeBinary(let w): "w:\(w)"
        case .date32: "tdD"
        case .date64: "tdm"
        case .timestamp(let u, let tz): "ts\(u.rawValue):\(tz ?? "")"
        case .time(let u): "tt\(u.rawValue)"
        case .duration(let u): "tD\(u.rawValue)"
        case .decimal128(let p, let s): "d:\(p),\(s)"
        case .list: "+l"
        case .largeList: "+L"
        case .fixedSizeList(_, let n): "+w:\(n)"
        case .structure: "+s"
        case .map: "+m"
        }
    }

    /// Parses a format string; nested types take their already-parsed `children`.
    /// Returns `nil` for formats AstroPile does not model (dictionary, union, view types, …).
    public init?(formatString f: String, children: [Field], flags: Int64 = 0) {
        switch f {
        case "n": self = .null
        case "b": self = .bool
        case "c": self = .int8
        case "C": self = .uint8
        case "s": self = .int16
        case "S": self = .uint16
        case "i": self = .int32
        case "I": self = .uint32
        case "l": self = .int64
        case "L": self = .uint64
        case "e": self = .float16
        case "f": self = .float32
        case "g": self = .float64
        case "z": self = .binary
        case "Z": self = .largeBinary
        case "u": self = .string
        case "U": self = .largeString
        case "tdD": self = .date32
        case "tdm": self = .date64
        case "+l": guard children.count == 1 else { return nil }; self = .list(children[0])
        case "+L": guard children.count == 1 else { return nil }; self = .largeList(children[0])
        case "+s": self = .structure(children)
        case "+m": guard children.count == 1 else { return nil }; self = .map(children[0], keysSorted: flags & 4 != 0)
        default:
            if f.hasPrefix("w:"), let w = Int(f.dropFirst(2)) { self = .fixedSizeBinary(byteWidth: w); return }
            if f.hasPrefix("+w:"), let n = Int(f.dropFirst(3)), children.count == 1 { self = .fixedSizeList(children[0], size: n); return }
            if f.hasPrefix("d:") {
                let parts = f.dropFirst(2).split(separator: ",").compactMap { Int($0) }
                guard parts.count >= 2, parts.count == 2 || parts[2] == 128 else { return nil }
                self = .decimal128(precision: parts[0], scale: parts[1]); return
            }
            if f.count >= 3, f.hasPrefix("ts"), let unit = TimeUnit(rawValue: String(f[f.index(f.startIndex, offsetBy: 2)])) {
                let rest = f.dropFirst(3)
                guard rest.first == ":" else { return nil }
                let tz = String(rest.dropFirst())
                self = .timestamp(unit: unit, timeZone: tz.isEmpty ? nil : tz); return
            }
            if f.count == 3, f.hasPrefix("tt"), let unit = TimeUnit(rawValue: String(f.last!)) { self = .time(unit: unit); return }
            if f.count == 3, f.hasPrefix("tD"), let unit = TimeUnit(rawValue: String(f.last!)) { self = .duration(unit: unit); return }
            return nil
        }
    }
}
