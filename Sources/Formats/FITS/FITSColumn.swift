import Table

/// One column of a binary table as its header declares it (`TTYPEn`, `TFORMn`, `TDIMn`,
/// `TUNITn`, `TSCALn`, `TZEROn`, `TNULLn`), with where it sits in a row.
public struct FITSColumn: Hashable, Sendable {
    /// What one stored element is: the data-type letter of `TFORMn`.
    public enum ElementType: String, Hashable, Sendable {
        case logical = "L", bit = "X", uint8 = "B", int16 = "I", int32 = "J", int64 = "K"
        case float32 = "E", float64 = "D", complex64 = "C", complex128 = "M", character = "A"

        /// Bytes per element (bits are counted separately: a row's bits are packed, 8 per byte).
        var byteSize: Int {
            switch self {
            case .logical, .bit, .uint8, .character: 1
            case .int16: 2
            case .int32, .float32: 4
            case .int64, .float64, .complex64: 8
            case .complex128: 16
            }
        }

        /// True for B, I, J, K (the types `TNULLn` and the unsigned conventions apply to).
        var isInteger: Bool { self == .uint8 || self == .int16 || self == .int32 || self == .int64 }
    }

    /// Where the values are: in the row, or in the heap behind a `P` (32-bit) or `Q` (64-bit)
    /// array descriptor.
    public enum Storage: Hashable, Sendable {
        case fixed
        case variableP
        case variableQ
    }

    /// How stored values become the values AstroPile returns.
    public enum Scaling: Hashable, Sendable {
        /// Stored values are the values.
        case none
        /// `TSCAL = 1` and `TZERO` = 32768 / 2147483648 / 9223372036854775808 on I / J / K: the
        /// unsigned-integer convention, read as uint16 / uint32 / uint64 (as astropy does).
        case unsigned
        /// `value = stored × scale + zero`, in float64 (as astropy does for any other scaling).
        case linear(scale: Double, zero: Double)
    }

    /// One-based column number in the table.
    public let number: Int
    /// `TTYPEn` (or `col<n>` when it is missing).
    public let name: String
    /// `TFORMn` as written.
    public let format: String
    /// The element type.
    public let elementType: ElementType
    /// Elements per row (`r` of `rT`; characters for `A`, bits for `X`); for variable-length
    /// columns, 1 (the descriptor), or 0.
    public let repeatCount: Int
    /// Fixed or variable-length.
    public let storage: Storage
    /// `TDIMn` parsed, in FITS order (fastest-varying axis first), when present and consistent
    /// with the repeat count.
    public let dimensions: [Int]?
    /// `TUNITn`.
    public let unit: String?
    /// `TSCALn` / `TZEROn` as applied.
    public let scaling: Scaling
    /// `TNULLn` (integer columns only): stored values equal to it read as null.
    public let null: Int64?
    /// Offset of the column's first byte in a row.
    public let byteOffset: Int
    /// Bytes the column takes in a row.
    public let byteWidth: Int

    /// True for `P` and `Q` columns.
    public var isVariableLength: Bool { storage != .fixed }
}

extension FITSColumn {
    /// The largest repeat count a `TFORMn` may give.
    static let maximumRepeatCount = 1 << 40

    /// Parses a binary-table `TFORMn` value: repeat count, element type and storage, plus the
    /// `w` of `rAw` when present.
    static func parseFormat(_ text: String) -> (repeatCount: Int, type: ElementType, storage: Storage, width: Int?)? {
        let chars = Array(text.fitsBlanksRemoved().uppercased())
        var i = 0
        var digits = ""
        while i < chars.count, chars[i].isASCII, chars[i].isNumber { digits.append(chars[i]); i += 1 }
        guard i < chars.count else { return nil }
        let repeatCount = digits.isEmpty ? 1 : Int(digits)
        // A repeat count past 2^40 cannot describe a real row (and its width would overflow).
        guard let repeatCount, repeatCount <= Self.maximumRepeatCount else { return nil }
        var storage = Storage.fixed
        if chars[i] == "P" || chars[i] == "Q" {
            storage = chars[i] == "P" ? .variableP : .variableQ
            i += 1
            guard i < chars.count, repeatCount <= 1 else { return nil }
        }
        guard let type = ElementType(rawValue: String(chars[i])) else { return nil }
        i += 1
        var width: Int? = nil
        if storage == .fixed && type == .character && i < chars.count {
            let rest = String(chars[i...]).fitsBlanksRemoved()
            if let w = Int(rest), w > 0 { width = w }
        }
        return (repeatCount, type, storage, width)
    }

    /// Parses `TDIMn` such as `( 15, 5)`.
    static func parseDimensions(_ text: String) -> [Int]? {
        let t = text.fitsBlanksRemoved()
        guard t.hasPrefix("("), t.hasSuffix(")") else { return nil }
        let inner = t.dropFirst().dropLast()
        var dims: [Int] = []
        for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
            guard let d = Int(String(part).fitsBlanksRemoved()), d >= 0, d <= maximumRepeatCount else { return nil }
            dims.append(d)
        }
        // The product must fit too (it is compared with the repeat count).
        var product = 1
        for d in dims {
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maximumRepeatCount else { return nil }
            product = p
        }
        return dims.isEmpty ? nil : dims
    }

    /// A header number (`TSCALn`, `TZEROn`): its value, and its exact digits when it is an
    /// integer (so 9223372036854775808 is recognised exactly, as astropy does).
    static func parseNumber(_ text: String) -> (value: Double, integerDigits: String?)? {
        let t = text.fitsBlanksRemoved()
        var digits = Substring(t)
        var negative = false
        if digits.first == "+" || digits.first == "-" { negative = digits.first == "-"; digits = digits.dropFirst() }
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            while digits.count > 1, digits.first == "0" { digits = digits.dropFirst() }
            guard let value = Double(t) else { return nil }
            return (value, (negative ? "-" : "") + digits)
        }
        let normalized = t.uppercased().replacingDExponent()
        guard let value = Double(normalized) else { return nil }
        return (value, nil)
    }

    /// The scaling a column with these keywords gets, following astropy: the unsigned
    /// convention for I/J/K with `TSCAL = 1`, float64 for any other non-trivial scaling.
    static func scaling(type: ElementType, scale: (value: Double, integerDigits: String?)?,
                        zero: (value: Double, integerDigits: String?)?) -> Scaling {
        let s = scale?.value ?? 1
        let z = zero?.value ?? 0
        guard s != 1 || z != 0 else { return .none }
        switch type {
        case .logical, .bit, .character: return .none
        default: break
        }
        if s == 1, let zero {
            let unsignedOffset: (digits: String, value: Double)? = switch type {
            case .int16: ("32768", 32768)
            case .int32: ("2147483648", 2_147_483_648)
            case .int64: ("9223372036854775808", 9_223_372_036_854_775_808)
            default: nil
            }
            if let unsignedOffset {
                let matches = zero.integerDigits.map { $0 == unsignedOffset.digits } ?? (zero.value == unsignedOffset.value)
                if matches { return .unsigned }
            }
        }
        return .linear(scale: s, zero: z)
    }

    /// Bytes a column of this form takes in a row.
    static func rowWidth(repeatCount: Int, type: ElementType, storage: Storage) -> Int {
        switch storage {
        case .variableP: return repeatCount == 0 ? 0 : 8
        case .variableQ: return repeatCount == 0 ? 0 : 16
        case .fixed: return type == .bit ? (repeatCount + 7) / 8 : repeatCount * type.byteSize
        }
    }
}

extension String {
    /// FITS allows `D` as the exponent letter of double-precision numbers.
    fileprivate func replacingDExponent() -> String {
        String(map { $0 == "D" ? "E" : $0 })
    }
}

// MARK: - Arrow types

extension FITSColumn {
    /// Number of strings per row of an `A` column and the width of each: `TDIM = (w, d2, …)`
    /// splits a row's characters into `d2 × …` strings of `w` characters (as astropy does),
    /// `rAw` into `r / w` strings.
    var stringLayout: (count: Int, width: Int, shape: [Int]?) {
        if let dims = dimensions, dims.count >= 2 {
            return (dims.dropFirst().reduce(1, *), dims[0], Array(dims.dropFirst()))
        }
        return (1, repeatCount, nil)
    }

    /// True when each row holds an array (a `fixed_size_list`): `X` always (astropy reads bits
    /// as a boolean array), strings with a multi-axis `TDIM`, other types when the repeat count
    /// is not 1 or a `TDIM` is given.
    var isArray: Bool {
        guard storage == .fixed else { return false }
        switch elementType {
        case .bit: return true
        case .character: return stringLayout.count > 1 || (dimensions?.count ?? 0) >= 2
        default: return repeatCount != 1 || dimensions != nil
        }
    }

    /// Values per row of an array column.
    var valuesPerRow: Int {
        switch elementType {
        case .character: stringLayout.count
        default: repeatCount
        }
    }

    /// The Arrow type of one element.
    var elementDataType: DataType {
        switch elementType {
        case .logical, .bit: return .bool
        case .character: return .string
        case .complex64: return .fixedSizeList(Field("item", .float32), size: 2)
        case .complex128: return .fixedSizeList(Field("item", .float64), size: 2)
        case .float32: if case .linear = scaling { return .float64 } else { return .float32 }
        case .float64: return .float64
        case .uint8, .int16, .int32, .int64:
            switch scaling {
            case .linear: return .float64
            case .unsigned:
                return elementType == .int16 ? .uint16 : elementType == .int32 ? .uint32 : elementType == .int64 ? .uint64 : .uint8
            case .none:
                return elementType == .uint8 ? .uint8 : elementType == .int16 ? .int16 : elementType == .int32 ? .int32 : .int64
            }
        }
    }

    /// The column's Arrow type: the element type, a `fixed_size_list` of it for arrays, a
    /// `list` of it for variable-length arrays (`PA`/`QA` read as one string per row).
    public var dataType: DataType {
        if isVariableLength {
            return elementType == .character ? .string : .list(Field("item", elementDataType))
        }
        return isArray ? .fixedSizeList(Field("item", elementDataType), size: valuesPerRow) : elementDataType
    }

    /// The array shape as numpy (astropy) reports it, slowest axis first; `nil` for scalars.
    public var shape: [Int]? {
        guard isArray else { return nil }
        if elementType == .character { return stringLayout.shape.map { Array($0.reversed()) } ?? [valuesPerRow] }
        return dimensions.map { Array($0.reversed()) } ?? [repeatCount]
    }

    /// The Arrow field: name, type, and metadata `unit` (TUNIT), `TDIM` (FITS order, e.g.
    /// `(15,5)`) and `shape` (numpy order, e.g. `5,15`) for array columns.
    public var field: Field {
        var metadata: [(key: String, value: String)] = []
        if let unit, !unit.isEmpty { metadata.append(("unit", unit)) }
        if let shape {
            let fitsOrder: [Int] = elementType == .character ? (dimensions ?? [repeatCount]) : shape.reversed()
            metadata.append(("TDIM", "(" + fitsOrder.map(String.init).joined(separator: ",") + ")"))
            metadata.append(("shape", shape.map(String.init).joined(separator: ",")))
        }
        return Field(name, dataType, nullable: true, metadata: metadata)
    }
}
