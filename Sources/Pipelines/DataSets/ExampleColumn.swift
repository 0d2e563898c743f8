import Formats
import Table

/// The element type of a column of examples (what HDF5 and Arrow store it as).
public enum ExampleKind: String, Codable, Sendable, Hashable {
    case float32, float64, int64, int32, int16, uint8, bool, string

    /// The kind a column of Arrow type `type` is read as (`nil`: not stored in data sets);
    /// narrow unsigned integers widen to the next signed one.
    init?(_ type: DataType) {
        switch type {
        case .float32: self = .float32
        case .float64: self = .float64
        case .int64, .uint32, .uint64: self = .int64
        case .int32, .uint16: self = .int32
        case .int16, .int8: self = .int16
        case .uint8: self = .uint8
        case .bool: self = .bool
        case .string, .largeString: self = .string
        default: return nil
        }
    }

    /// The kind an HDF5 dataset of `type` is read as.
    init(_ type: HDF5ElementType) {
        switch type {
        case .float32: self = .float32
        case .float64: self = .float64
        case .int64: self = .int64
        case .int32: self = .int32
        case .int16, .int8: self = .int16
        case .uint8: self = .uint8
        case .bool: self = .bool
        case .fixedString: self = .string
        }
    }

    /// The Arrow type HATS leaves store it as.
    var arrowType: DataType {
        switch self {
        case .float32: .float32
        case .float64: .float64
        case .int64: .int64
        case .int32: .int32
        case .int16: .int16
        case .uint8: .uint8
        case .bool: .bool
        case .string: .string
        }
    }
}

/// The values of one column of examples, row-major: `rows × rowElements` elements.
public enum ExampleValues: Sendable {
    case float32([Float])
    case float64([Double])
    case int64([Int64])
    case int32([Int32])
    case int16([Int16])
    case uint8([UInt8])
    case bool([Bool])
    case string([String])

    /// Elements held.
    public var count: Int {
        switch self {
        case .float32(let v): v.count
        case .float64(let v): v.count
        case .int64(let v): v.count
        case .int32(let v): v.count
        case .int16(let v): v.count
        case .uint8(let v): v.count
        case .bool(let v): v.count
        case .string(let v): v.count
        }
    }

    /// Bytes per element as stored (strings: 1, a lower bound).
    var elementSize: Int {
        switch kind {
        case .float32, .int32: 4
        case .float64, .int64: 8
        case .int16: 2
        case .uint8, .bool, .string: 1
        }
    }

    /// The element type.
    public var kind: ExampleKind {
        switch self {
        case .float32: .float32
        case .float64: .float64
        case .int64: .int64
        case .int32: .int32
        case .int16: .int16
        case .uint8: .uint8
        case .bool: .bool
        case .string: .string
        }
    }

    /// No values of `kind`.
    public static func empty(_ kind: ExampleKind) -> ExampleValues {
        switch kind {
        case .float32: .float32([])
        case .float64: .float64([])
        case .int64: .int64([])
        case .int32: .int32([])
        case .int16: .int16([])
        case .uint8: .uint8([])
        case .bool: .bool([])
        case .string: .string([])
        }
    }

    /// Rows `rows` (each `k` elements), in that order; rows may repeat.
    public func selecting(rows: [Int], rowElements k: Int) -> ExampleValues {
        func pick<T>(_ v: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(rows.count * k)
            for r in rows { out.append(contentsOf: v[(r * k)..<((r + 1) * k)]) }
            return out
        }
        switch self {
        case .float32(let v): return .float32(pick(v))
        case .float64(let v): return .float64(pick(v))
        case .int64(let v): return .int64(pick(v))
        case .int32(let v): return .int32(pick(v))
        case .int16(let v): return .int16(pick(v))
        case .uint8(let v): return .uint8(pick(v))
        case .bool(let v): return .bool(pick(v))
        case .string(let v): return .string(pick(v))
        }
    }

    /// `parts` joined end to end; `nil` when they are not all of one kind.
    public static func concatenated(_ parts: [ExampleValues]) -> ExampleValues? {
        guard let first = parts.first else { return nil }
        func join<T>(_ get: (ExampleValues) -> [T]?) -> [T]? {
            var out: [T] = []
            for p in parts {
                guard let v = get(p) else { return nil }
                out.append(contentsOf: v)
            }
            return out
        }
        switch first {
        case .float32: return join { if case .float32(let v) = $0 { v } else { nil } }.map(ExampleValues.float32)
        case .float64: return join { if case .float64(let v) = $0 { v } else { nil } }.map(ExampleValues.float64)
        case .int64: return join { if case .int64(let v) = $0 { v } else { nil } }.map(ExampleValues.int64)
        case .int32: return join { if case .int32(let v) = $0 { v } else { nil } }.map(ExampleValues.int32)
        case .int16: return join { if case .int16(let v) = $0 { v } else { nil } }.map(ExampleValues.int16)
        case .uint8: return join { if case .uint8(let v) = $0 { v } else { nil } }.map(ExampleValues.uint8)
        case .bool: return join { if case .bool(let v) = $0 { v } else { nil } }.map(ExampleValues.bool)
        case .string: return join { if case .string(let v) = $0 { v } else { nil } }.map(ExampleValues.string)
        }
    }

    /// The element at `i` as text (ids, `info`).
    public func text(at i: Int) -> String {
        switch self {
        case .float32(let v): String(v[i])
        case .float64(let v): String(v[i])
        case .int64(let v): String(v[i])
        case .int32(let v): String(v[i])
        case .int16(let v): String(v[i])
        case .uint8(let v): String(v[i])
        case .bool(let v): String(v[i])
        case .string(let v): v[i]
        }
    }

    /// The values as doubles (numbers only).
    public var doubles: [Double]? {
        switch self {
        case .float32(let v): v.map(Double.init)
        case .float64(let v): v
        case .int64(let v): v.map(Double.init)
        case .int32(let v): v.map(Double.init)
        case .int16(let v): v.map(Double.init)
        case .uint8(let v): v.map(Double.init)
        case .bool, .string: nil
        }
    }
}

/// One column of a data set's examples: a name, the shape of one row (`[]` for a scalar, `[L]`
/// for a spectrum, `[B, H, W]` for an image), the values, and the unit and description stored
/// as the HDF5 dataset's `units` / `description` attributes (the field's `unit` metadata in
/// HATS).
public struct ExampleColumn: Sendable {
    public var name: String
    public var rowShape: [Int]
    public var values: ExampleValues
    public var units: String?
    public var description: String?

    public init(_ name: String, _ values: ExampleValues, rowShape: [Int] = [], units: String? = nil, description: String? = nil) {
        self.name = name
        self.values = values
        self.rowShape = rowShape
        self.units = units
        self.description = description
    }

    /// Elements per row.
    public var rowElements: Int { rowShape.reduce(1, *) }

    /// Rows held.
    public var rows: Int { rowElements == 0 ? 0 : values.count / rowElements }

    /// Rows `rows` of this column, in that order.
    public func selecting(_ rows: [Int]) -> ExampleColumn {
        var c = self
        c.values = values.selecting(rows: rows, rowElements: rowElements)
        return c
    }

    /// The same column under another name.
    public func renamed(_ name: String) -> ExampleColumn {
        var c = self
        c.name = name
        return c
    }

    /// Columns of several groups of rows joined (each group holds the same columns in the same
    /// order). Throws when a column's kind or row shape differs between groups.
    public static func concatenated(_ groups: [[ExampleColumn]], context: String) throws -> [ExampleColumn] {
        guard let first = groups.first else { return [] }
        return try first.enumerated().map { k, column in
            let parts = groups.map { $0.count > k ? $0[k] : column }
            guard parts.allSatisfy({ $0.name == column.name && $0.rowShape == column.rowShape }),
                  let values = ExampleValues.concatenated(parts.map(\.values)) else {
                throw FormatError(.corruptInput, "column \(column.name) differs in type or shape between files", path: context)
            }
            var c = column
            c.values = values
            return c
        }
    }
}

extension ExampleValues {
    /// The non-null values of a scalar Arrow column (one of the kinds above), or `nil` for a
    /// type a data set does not store (nested, temporal, …). Nulls become NaN for floats, 0
    /// for integers, false for booleans and "" for strings.
    public static func from(_ c: ArrayData) -> ExampleValues? {
        let n = c.length
        func numbers<T: BitwiseCopyable>(_ t: T.Type, zero: T) -> [T] {
            let v = c.values(t)
            return (0..<n).map { c.isValid($0) ? v[$0] : zero }
        }
        switch c.type {
        case .float32: return .float32(numbers(Float.self, zero: .nan))
        case .float64: return .float64(numbers(Double.self, zero: .nan))
        case .int64: return .int64(numbers(Int64.self, zero: 0))
        case .int32: return .int32(numbers(Int32.self, zero: 0))
        case .int16: return .int16(numbers(Int16.self, zero: 0))
        case .uint8: return .uint8(numbers(UInt8.self, zero: 0))
        case .int8: return .int16(numbers(Int8.self, zero: 0).map(Int16.init))
        case .uint16: return .int32(numbers(UInt16.self, zero: 0).map(Int32.init))
        case .uint32: return .int64(numbers(UInt32.self, zero: 0).map(Int64.init))
        case .uint64: return .int64(numbers(UInt64.self, zero: 0).map { Int64(truncatingIfNeeded: $0) })
        case .bool:
            guard c.buffers.count >= 2, let base = c.buffers[1]?.base else { return .bool([Bool](repeating: false, count: n)) }
            let bytes = base.assumingMemoryBound(to: UInt8.self)
            return .bool((0..<n).map { i in
                let bit = c.offset + i
                return c.isValid(i) && bytes[bit >> 3] & (1 << UInt8(bit & 7)) != 0
            })
        case .string, .largeString:
            return .string((0..<n).map { c.string(at: $0) ?? "" })
        default:
            return nil
        }
    }

    /// Values of a column: scalar Arrow columns, and fixed-size lists of them (row shape `[k]`,
    /// or the field's `shape` metadata).
    static func from(_ c: ArrayData, field: Field) -> (values: ExampleValues, rowShape: [Int])? {
        if case .fixedSizeList(_, let k) = c.type, let child = c.children.first {
            // A list column whose child is shorter than its rows need is damaged: not a column.
            guard k >= 0, (c.offset + c.length) * k <= child.length else { return nil }
            let slice = child.slice((c.offset * k)..<((c.offset + c.length) * k))
            guard let v = from(slice) else { return nil }
            let shape = field.metadata.first { $0.key == "shape" }
                .map { $0.value.split(separator: ",").compactMap { Int($0) } } ?? [k]
            return (v, shape.reduce(1, *) == k ? shape : [k])
        }
        return from(c).map { ($0, []) }
    }
}

extension ExampleColumn {
    /// 1-D array rows padded to `length` elements, with the data set padding conventions:
    /// `*_flux` and `*_lsf_sigma` repeat their last value, `*_ivar` and integers get 0, `*_mask`
    /// true (bad), other floats NaN, strings "". Columns already `length` long come back as
    /// they are; `nil` when the column is not 1-D or longer than `length`.
    public func padded(to length: Int) -> ExampleColumn? {
        guard rowShape.count == 1, let have = rowShape.first, have <= length else { return nil }
        guard have < length else { return self }
        let n = rows, pad = length - have
        let edge = name.hasSuffix("_flux") || name.hasSuffix("_lsf_sigma")
        let zero = name.hasSuffix("_ivar")
        func padRows<T>(_ v: [T], fill: (ArraySlice<T>) -> T) -> [T] {
            var out: [T] = []
            out.reserveCapacity(n * length)
            for r in 0..<n {
                let row = v[(r * have)..<((r + 1) * have)]
                out.append(contentsOf: row)
                out.append(contentsOf: repeatElement(fill(row), count: pad))
            }
            return out
        }
        var c = self
        c.rowShape = [length]
        switch values {
        case .float32(let v): c.values = .float32(padRows(v) { edge ? ($0.last ?? .nan) : (zero ? 0 : .nan) })
        case .float64(let v): c.values = .float64(padRows(v) { edge ? ($0.last ?? .nan) : (zero ? 0 : .nan) })
        case .int64(let v): c.values = .int64(padRows(v) { _ in 0 })
        case .int32(let v): c.values = .int32(padRows(v) { _ in 0 })
        case .int16(let v): c.values = .int16(padRows(v) { _ in 0 })
        case .uint8(let v): c.values = .uint8(padRows(v) { _ in 0 })
        case .bool(let v): c.values = .bool(padRows(v) { _ in name.hasSuffix("_mask") })
        case .string(let v): c.values = .string(padRows(v) { _ in "" })
        }
        return c
    }
}
