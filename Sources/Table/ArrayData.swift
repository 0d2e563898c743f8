/// One column (or child) of values in Arrow layout: buffers and children exactly as the Arrow
/// columnar format defines them for ``type``.
///
/// Buffer order is the C Data Interface's: validity bitmap first (absent when there are no
/// nulls), then offsets and/or values. `offset` is in elements and applies to every buffer.
public final class ArrayData: @unchecked Sendable {
    /// Logical type.
    public let type: DataType
    /// Number of elements.
    public let length: Int
    /// Number of nulls, or `nil` when not yet computed.
    public let nullCount: Int?
    /// Element offset into the buffers.
    public let offset: Int
    /// Buffers in C Data Interface order; `nil` where a buffer is absent (e.g. no validity bitmap).
    public let buffers: [Buffer?]
    /// Children of nested types.
    public let children: [ArrayData]
    /// The validity bitmap's start (nil when there is none), cached so hot loops read it
    /// without copying a ``Buffer`` (and retaining its owner) per element.
    public let validityBase: UnsafeRawPointer?
    /// The second buffer's start: values of fixed-width types, offsets of strings and lists.
    public let buffer1Base: UnsafeRawPointer?
    /// The third buffer's start: the bytes of strings and binaries.
    public let buffer2Base: UnsafeRawPointer?

    /// Creates array data; `buffers.count` must equal `type.bufferCount`.
    public init(type: DataType, length: Int, nullCount: Int?, offset: Int = 0, buffers: [Buffer?], children: [ArrayData] = []) {
        // invariant: callers switch on the column's type before reading values; buffers come from Arrow's validated C data or AstroPile's own builders.
        precondition(buffers.count == type.bufferCount, "\(type) needs \(type.bufferCount) buffers, got \(buffers.count)")
        self.type = type
        self.length = length
        self.nullCount = nullCount
        self.offset = offset
        self.buffers = buffers
        self.children = children
        validityBase = buffers.first.flatMap { $0?.base }
        buffer1Base = buffers.count > 1 ? buffers[1]?.base : nil
        buffer2Base = buffers.count > 2 ? buffers[2]?.base : nil
    }

    /// True when element `i` is valid (not null).
    @inlinable
    public func isValid(_ i: Int) -> Bool {
        guard let base = validityBase else {
            return type != .null
        }
        let bit = offset + i
        return base.load(fromByteOffset: bit >> 3, as: UInt8.self) & (1 << UInt8(bit & 7)) != 0
    }

    /// The values of a fixed-width column as `T`, offset applied (`length` elements).
    public func values<T>(_: T.Type) -> UnsafeBufferPointer<T> {
        // invariant: callers switch on the column's type before reading values; buffers come from Arrow's validated C data or AstroPile's own builders.
        precondition(buffers.count >= 2, "values(_:) needs a fixed-width type, not \(type)")
        guard let b = buffers[1], let base = b.base else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: T.self) + offset, count: length)
    }

    /// A zero-copy view of elements `range`.
    public func slice(_ range: Range<Int>) -> ArrayData {
        // invariant: callers switch on the column's type before reading values; buffers come from Arrow's validated C data or AstroPile's own builders.
        precondition(range.lowerBound >= 0 && range.upperBound <= length)
        return ArrayData(type: type, length: range.count, nullCount: nullCount == 0 ? 0 : nil,
                         offset: offset + range.lowerBound, buffers: buffers, children: children)
    }

    /// Converts a numeric column to `Double` values (`nil` for null elements is reported through
    /// `valid`), widening float32/integers. Returns `nil` for non-numeric types.
    public func doubles() -> (values: [Double], valid: [Bool]?)? {
        var out = [Double](repeating: 0, count: length)
        func fill<T>(_ t: T.Type, _ convert: (T) -> Double) {
            let src = values(t)
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<length { dst[i] = convert(src[i]) }
            }
        }
        switch type {
        case .float64: fill(Double.self) { $0 }
        case .float32: fill(Float.self) { Double($0) }
        case .int8: fill(Int8.self) { Double($0) }
        case .int16: fill(Int16.self) { Double($0) }
        case .int32: fill(Int32.self) { Double($0) }
        case .int64: fill(Int64.self) { Double($0) }
        case .uint8: fill(UInt8.self) { Double($0) }
        case .uint16: fill(UInt16.self) { Double($0) }
        case .uint32: fill(UInt32.self) { Double($0) }
        case .uint64: fill(UInt64.self) { Double($0) }
        default: return nil
        }
        var valid: [Bool]? = nil
        if nullCount != 0, buffers[0] != nil {
            valid = (0..<length).map { isValid($0) }
        }
        return (out, valid)
    }
}

extension ArrayData {
    /// A non-null fixed-width column from `values`.
    public static func primitive<T: BitwiseCopyable>(_ type: DataType, _ values: [T]) -> ArrayData {
        // invariant: callers switch on the column's type before reading values; buffers come from Arrow's validated C data or AstroPile's own builders.
        precondition(type.byteWidth == MemoryLayout<T>.stride, "\(T.self) does not match \(type)")
        return ArrayData(type: type, length: values.count, nullCount: 0, buffers: [nil, Buffer(copying: values)])
    }

    /// A validity bitmap from booleans (LSB first), or `nil` when all are valid.
    public static func validityBitmap(_ valid: [Bool]) -> (buffer: Buffer?, nullCount: Int) {
        let nulls = valid.reduce(0) { $0 + ($1 ? 0 : 1) }
        guard nulls > 0 else { return (nil, 0) }
        let memory = OwnedMemory(byteCount: (valid.count + 7) / 8)
        let bits = memory.typed(UInt8.self)
        for (i, v) in valid.enumerated() where v { bits[i >> 3] |= 1 << UInt8(i & 7) }
        return (Buffer(memory), nulls)
    }

    /// A non-null, bit-packed boolean column (LSB first) from Swift booleans.
    public static func booleans(_ values: [Bool]) -> ArrayData {
        var bits = [UInt8](repeating: 0, count: (values.count + 7) / 8)
        for (i, v) in values.enumerated() where v { bits[i >> 3] |= 1 << UInt8(i & 7) }
        return ArrayData(type: .bool, length: values.count, nullCount: 0, buffers: [nil, Buffer(copying: bits)])
    }

    /// A string column from Swift strings (`nil` for nulls). For small columns and tests; readers
    /// build offsets and bytes directly.
    public static func strings(_ values: [String?]) -> ArrayData {
        var offsets: [Int32] = [0]
        var data: [UInt8] = []
        for v in values {
            if let v { data.append(contentsOf: v.utf8) }
            offsets.append(Int32(data.count))
        }
        let (validity, nulls) = validityBitmap(values.map { $0 != nil })
        return ArrayData(type: .string, length: values.count, nullCount: nulls,
                         buffers: [validity, Buffer(copying: offsets), Buffer(copying: data)])
    }

    /// The string at `i` of a `.string`/`.largeString`/`.binary` column (`nil` if null).
    public func string(at i: Int) -> String? {
        guard isValid(i) else { return nil }
        let (start, end): (Int, Int)
        switch type {
        case .string, .binary:
            let o = buffers[1]!.base!.assumingMemoryBound(to: Int32.self)
            (start, end) = (Int(o[offset + i]), Int(o[offset + i + 1]))
        case .largeString, .largeBinary:
            let o = buffers[1]!.base!.assumingMemoryBound(to: Int64.self)
            (start, end) = (Int(o[offset + i]), Int(o[offset + i + 1]))
        default:
            // invariant: callers switch on the column's type before reading values; buffers come from Arrow's validated C data or AstroPile's own builders.
            preconditionFailure("string(at:) on \(type)")
        }
        guard end > start, let data = buffers[2]?.base else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data + start, count: end - start), as: UTF8.self)
    }
}
