/// Builds one Arrow column value by value, nested types included (struct, list), for decoders
/// that produce rows one at a time (Avro alerts).
///
/// The layout is Arrow's: a validity bitmap (LSB first), values or 32-bit offsets plus bytes,
/// children for struct and list. A struct's null rows append nulls to its children, so every
/// child has the struct's length. ``finish()`` hands the column out and starts over, keeping
/// the memory it has grown to. Callers keep a batch's bytes far below 2 GiB (32-bit offsets).
public final class ArrayBuilder {
    /// The column's type.
    public let type: DataType
    /// Child builders: one per struct field, the element builder of a list.
    public let children: [ArrayBuilder]
    /// Rows appended since the last ``finish()``.
    public private(set) var length = 0

    private enum Kind { case fixed, bool, bytes, list, structure, null }
    private let kind: Kind
    private let width: Int
    private var validity: [UInt8] = []
    private var nullCount = 0
    /// Fixed-width values, bit-packed booleans, or string/binary bytes.
    private var values: [UInt8] = []
    /// Offsets of string/binary/list columns (one more than `length`).
    private var offsets: [Int32] = [0]

    /// A builder for `type`.
    /// - Throws: ``TableError`` for a type AstroPile does not build value by value.
    public init(_ type: DataType) throws {
        self.type = type
        switch type {
        case .null:
            (kind, width, children) = (.null, 0, [])
        case .bool:
            (kind, width, children) = (.bool, 0, [])
        case .string, .binary:
            (kind, width, children) = (.bytes, 0, [])
        case .list(let f):
            (kind, width, children) = (.list, 0, [try ArrayBuilder(f.type)])
        case .structure(let fs):
            (kind, width, children) = (.structure, 0, try fs.map { try ArrayBuilder($0.type) })
        default:
            guard let w = type.byteWidth, type.isInteger || type.isFloatingPoint else {
                throw TableError(.unsupportedType, "AstroPile does not build \(type) columns value by value")
            }
            (kind, width, children) = (.fixed, w, [])
        }
    }

    /// Bytes held (values, offsets, bitmaps, children), to cut batches by size.
    public var byteCount: Int {
        values.count + offsets.count * 4 + validity.count + children.reduce(0) { $0 + $1.byteCount }
    }

    @inline(__always)
    private func markValid(_ valid: Bool) {
        if length & 7 == 0 { validity.append(0) }
        if valid { validity[length >> 3] |= 1 << UInt8(length & 7) } else { nullCount += 1 }
        length += 1
    }

    /// Appends a fixed-width value (the column's type must have `T`'s width).
    @inline(__always)
    public func append<T: BitwiseCopyable>(_ value: T) {
        withUnsafeBytes(of: value) { values.append(contentsOf: $0) }
        markValid(true)
    }

    /// Appends a boolean.
    public func append(_ value: Bool) {
        if length & 7 == 0 { values.append(0) }
        if value { values[length >> 3] |= 1 << UInt8(length & 7) }
        markValid(true)
    }

    /// Appends a string or binary value.
    @inline(__always)
    public func append(bytes: UnsafeRawBufferPointer) {
        values.append(contentsOf: bytes)
        // invariant: callers cut batches far below 2 GiB (see the type's documentation).
        offsets.append(Int32(truncatingIfNeeded: values.count))
        markValid(true)
    }

    /// Ends a list row whose elements were appended to `children[0]`, or marks a struct row
    /// valid after its children got their values.
    public func appendValid() {
        if kind == .list { offsets.append(Int32(truncatingIfNeeded: children[0].length)) }
        markValid(true)
    }

    /// Appends a null (a struct appends nulls to its children).
    public func appendNull() {
        switch kind {
        case .fixed: values.append(contentsOf: repeatElement(0, count: width))
        case .bool: if length & 7 == 0 { values.append(0) }
        case .bytes: offsets.append(Int32(truncatingIfNeeded: values.count))
        case .list: offsets.append(Int32(truncatingIfNeeded: children[0].length))
        case .structure: for c in children { c.appendNull() }
        case .null: break
        }
        markValid(false)
    }

    /// Appends row `i` of `source`, a column of this builder's type (nested children copied
    /// value by value; offsets of sliced or imported columns honoured).
    /// - Precondition: `source.type` has this builder's layout (the same type up to the names
    ///   of list elements); callers check the schema once per batch.
    public func appendRow(from source: ArrayData, _ i: Int) {
        guard source.isValid(i) else { appendNull(); return }
        let j = source.offset + i
        // invariant: a valid row of a non-empty column has its value buffers (Arrow layout).
        switch kind {
        case .fixed:
            values.append(contentsOf: UnsafeRawBufferPointer(start: source.buffer1Base! + j * width, count: width))
            markValid(true)
        case .bool:
            let byte = source.buffer1Base!.load(fromByteOffset: j >> 3, as: UInt8.self)
            append(byte & (1 << UInt8(j & 7)) != 0)
        case .bytes:
            let o = source.buffer1Base!.assumingMemoryBound(to: Int32.self)
            let (start, end) = (Int(o[j]), Int(o[j + 1]))
            append(bytes: UnsafeRawBufferPointer(start: source.buffer2Base.map { $0 + start }, count: end - start))
        case .list:
            let o = source.buffer1Base!.assumingMemoryBound(to: Int32.self)
            let child = children[0], values = source.children[0]
            for k in Int(o[j])..<Int(o[j + 1]) { child.appendRow(from: values, k) }
            appendValid()
        case .structure:
            let sources = source.children
            for k in children.indices { children[k].appendRow(from: sources[k], j) }
            appendValid()
        case .null:
            appendNull()
        }
    }

    /// Appends many rows picked from several source columns of this builder's type, column by
    /// column: row `p` is row `rows[p]` (logical) of `sources[Int(source[p])]`. One pass per leaf
    /// column instead of one walk of the whole type per row — the merge and sort loops of the
    /// alert lake move rows this way.
    /// - Precondition: as ``appendRow(from:_:)``; `source` and `rows` have the same count.
    public func appendRows(from sources: [ArrayData], source: [Int32], rows: [Int]) {
        let n = rows.count
        guard n > 0 else { return }
        // Per source: its offset and buffer starts, read once (no retain per row).
        let offsets = sources.map(\.offset)
        let valid = sources.map(\.validityBase)
        let b1 = sources.map(\.buffer1Base)
        func isValid(_ p: Int) -> Bool {
            let s = Int(source[p])
            guard let v = valid[s] else { return sources[s].type != .null }
            let bit = offsets[s] + rows[p]
            return v.load(fromByteOffset: bit >> 3, as: UInt8.self) & (1 << UInt8(bit & 7)) != 0
        }
        // invariant: a valid row of a non-empty column has its value buffers (Arrow layout).
        switch kind {
        case .fixed:
            let w = width
            let start = values.count
            values.append(contentsOf: repeatElement(0, count: n * w))
            values.withUnsafeMutableBytes { out in
                for p in 0..<n where isValid(p) {
                    let s = Int(source[p])
                    (out.baseAddress! + start + p * w).copyMemory(from: b1[s]! + (offsets[s] + rows[p]) * w, byteCount: w)
                }
            }
            for p in 0..<n { markValid(isValid(p)) }
        case .bool:
            for p in 0..<n {
                let s = Int(source[p]), j = offsets[s] + rows[p]
                if isValid(p) { append(b1[s]!.load(fromByteOffset: j >> 3, as: UInt8.self) & (1 << UInt8(j & 7)) != 0) } else { appendNull() }
            }
        case .bytes:
            let b2 = sources.map(\.buffer2Base)
            for p in 0..<n {
                guard isValid(p) else { appendNull(); continue }
                let s = Int(source[p]), j = offsets[s] + rows[p]
                let o = b1[s]!.assumingMemoryBound(to: Int32.self)
                let (a, b) = (Int(o[j]), Int(o[j + 1]))
                append(bytes: UnsafeRawBufferPointer(start: b2[s].map { $0 + a }, count: b - a))
            }
        case .list:
            var childSource: [Int32] = [], childRows: [Int] = []
            let child = children[0]
            var total = child.length
            for p in 0..<n {
                if isValid(p) {
                    let s = Int(source[p]), j = offsets[s] + rows[p]
                    let o = b1[s]!.assumingMemoryBound(to: Int32.self)
                    for k in Int(o[j])..<Int(o[j + 1]) { childSource.append(source[p]); childRows.append(k) }
                    total += Int(o[j + 1] - o[j])
                    offsets_append(total)
                    markValid(true)
                } else {
                    offsets_append(total)
                    markValid(false)
                }
            }
            child.appendRows(from: sources.map { $0.children[0] }, source: childSource, rows: childRows)
        case .structure:
            var adjusted = [Int](repeating: 0, count: n)
            for p in 0..<n { adjusted[p] = offsets[Int(source[p])] + rows[p] }
            for (k, c) in children.enumerated() { c.appendRows(from: sources.map { $0.children[k] }, source: source, rows: adjusted) }
            for p in 0..<n { markValid(isValid(p)) }
        case .null:
            for _ in 0..<n { appendNull() }
        }
    }

    @inline(__always)
    private func offsets_append(_ v: Int) { offsets.append(Int32(truncatingIfNeeded: v)) }

    /// Drops every row from `rows` on (and what nested children hold for them), undoing a
    /// partly decoded row after a decode error. Children ahead of their parent (a row being
    /// built) are cut back too.
    public func truncate(to rows: Int) {
        if rows < length {
            switch kind {
            case .fixed: values.removeLast(values.count - rows * width)
            case .bool: values.removeLast(values.count - (rows + 7) / 8); Self.clearBits(&values, from: rows)
            case .bytes:
                offsets.removeLast(offsets.count - rows - 1)
                values.removeLast(values.count - Int(offsets[rows]))
            case .list: offsets.removeLast(offsets.count - rows - 1)
            case .structure, .null: break
            }
            validity.removeLast(validity.count - (rows + 7) / 8)
            Self.clearBits(&validity, from: rows)
            length = rows
            var nulls = 0
            for i in 0..<rows where validity[i >> 3] & (1 << UInt8(i & 7)) == 0 { nulls += 1 }
            nullCount = nulls
        }
        switch kind {
        case .list: children[0].truncate(to: Int(offsets[length]))
        case .structure: for c in children { c.truncate(to: length) }
        default: break
        }
    }

    private static func clearBits(_ bits: inout [UInt8], from bit: Int) {
        guard bit & 7 != 0, let last = bits.indices.last else { return }
        bits[last] &= UInt8((1 << (bit & 7)) - 1)
    }

    /// The column built so far; the builder starts over (keeping its capacity).
    public func finish() -> ArrayData {
        let bitmap: Buffer? = nullCount == 0 ? nil : Buffer(copying: validity)
        let data: ArrayData
        switch kind {
        case .fixed, .bool:
            data = ArrayData(type: type, length: length, nullCount: nullCount, buffers: [bitmap, Buffer(copying: values)])
        case .bytes:
            data = ArrayData(type: type, length: length, nullCount: nullCount,
                             buffers: [bitmap, Buffer(copying: offsets), Buffer(copying: values)])
        case .list:
            data = ArrayData(type: type, length: length, nullCount: nullCount, buffers: [bitmap, Buffer(copying: offsets)],
                             children: [children[0].finish()])
        case .structure:
            data = ArrayData(type: type, length: length, nullCount: nullCount, buffers: [bitmap], children: children.map { $0.finish() })
        case .null:
            data = ArrayData(type: .null, length: length, nullCount: length, buffers: [])
        }
        values.removeAll(keepingCapacity: true)
        validity.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
        length = 0
        nullCount = 0
        return data
    }
}
