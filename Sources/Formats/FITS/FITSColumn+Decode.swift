import Table

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Conversion of stored (big-endian) FITS values into Arrow arrays. Every conversion runs over a
// whole batch at once: the column's bytes are gathered out of the rows into one contiguous
// buffer, then byte-swapped (and unsigned-flipped or scaled) in one pass over that buffer.

/// An Arrow bitmap (LSB first) being filled.
struct FITSBitmapBuilder {
    let memory: OwnedMemory
    private let bits: UnsafeMutablePointer<UInt8>

    init(count: Int) {
        memory = OwnedMemory(byteCount: (count + 7) / 8)
        bits = memory.pointer.assumingMemoryBound(to: UInt8.self)
    }

    @inline(__always) func set(_ i: Int) { bits[i &>> 3] |= 1 &<< UInt8(truncatingIfNeeded: i & 7) }

    var buffer: Buffer { Buffer(memory) }
}

extension FITSColumn {
    /// Copies `width` bytes at `offset` of each of `rows` rows (`stride` bytes apart) into one
    /// contiguous buffer.
    static func gather(_ raw: UnsafeRawPointer, rows: Int, stride: Int, offset: Int, width: Int) -> OwnedMemory {
        let memory = OwnedMemory(byteCount: rows * width)
        let dst = memory.pointer
        let src = raw + offset
        if width == stride {
            if rows * width > 0 { dst.copyMemory(from: src, byteCount: rows * width) }
            return memory
        }
        switch width {
        case 0: break
        case 1:
            let d = dst.assumingMemoryBound(to: UInt8.self)
            for r in 0..<rows { d[r] = src.load(fromByteOffset: r * stride, as: UInt8.self) }
        case 2:
            for r in 0..<rows { dst.storeBytes(of: src.loadUnaligned(fromByteOffset: r * stride, as: UInt16.self), toByteOffset: r * 2, as: UInt16.self) }
        case 4:
            for r in 0..<rows { dst.storeBytes(of: src.loadUnaligned(fromByteOffset: r * stride, as: UInt32.self), toByteOffset: r * 4, as: UInt32.self) }
        case 8:
            for r in 0..<rows { dst.storeBytes(of: src.loadUnaligned(fromByteOffset: r * stride, as: UInt64.self), toByteOffset: r * 8, as: UInt64.self) }
        default:
            for r in 0..<rows { (dst + r * width).copyMemory(from: src + r * stride, byteCount: width) }
        }
        return memory
    }

    /// Converts `count` stored elements held big-endian in `memory` (modified in place) into an
    /// Arrow array of ``elementDataType``. Not for `X` and `A` columns.
    func decodeElements(_ memory: OwnedMemory, count: Int) -> ArrayData {
        switch elementType {
        case .logical: return Self.decodeLogical(memory.pointer, count: count)
        case .uint8: return decodeInteger(memory, count: count, as: UInt8.self)
        case .int16: return decodeInteger(memory, count: count, as: Int16.self)
        case .int32: return decodeInteger(memory, count: count, as: Int32.self)
        case .int64: return decodeInteger(memory, count: count, as: Int64.self)
        case .float32:
            let bits = Self.swapInPlace(memory, count: count, as: UInt32.self)
            if case .linear(let scale, let zero) = scaling {
                let floats = UnsafeRawPointer(bits).assumingMemoryBound(to: Float.self)
                return Self.scaled(count: count, scale: scale, zero: zero, validity: nil, nullCount: 0) { Double(floats[$0]) }
            }
            return ArrayData(type: .float32, length: count, nullCount: 0,
                             buffers: [nil, Buffer(base: memory.pointer, byteCount: count * 4, owner: memory)])
        case .float64:
            let bits = Self.swapInPlace(memory, count: count, as: UInt64.self)
            if case .linear(let scale, let zero) = scaling {
                let values = UnsafeMutableRawPointer(bits).assumingMemoryBound(to: Double.self)
                for i in 0..<count { values[i] = values[i] * scale + zero }
            }
            return ArrayData(type: .float64, length: count, nullCount: 0,
                             buffers: [nil, Buffer(base: memory.pointer, byteCount: count * 8, owner: memory)])
        case .complex64, .complex128:
            let single = elementType == .complex64
            if single { Self.swapInPlace(memory, count: 2 * count, as: UInt32.self) } else { Self.swapInPlace(memory, count: 2 * count, as: UInt64.self) }
            let parts = ArrayData(type: single ? .float32 : .float64, length: 2 * count, nullCount: 0,
                                  buffers: [nil, Buffer(base: memory.pointer, byteCount: count * elementType.byteSize, owner: memory)])
            return ArrayData(type: elementDataType, length: count, nullCount: 0, buffers: [nil], children: [parts])
        case .bit, .character:
            // invariant: bit and character columns are decoded by their own paths; this switch never sees them.
            preconditionFailure("decodeElements(_:count:) does not handle \(elementType) columns")
        }
    }

    /// Big-endian → native in place over the whole buffer.
    @discardableResult
    static func swapInPlace<T: FixedWidthInteger>(_ memory: OwnedMemory, count: Int, as: T.Type) -> UnsafeMutablePointer<T> {
        let values = memory.pointer.bindMemory(to: T.self, capacity: max(count, 0))
        if T.bitWidth > 8 {
            let buffer = UnsafeMutableBufferPointer(start: values, count: count)
            for i in buffer.indices { buffer[i] = T(bigEndian: buffer[i]) }
        }
        return values
    }

    /// Integers: swap, `TNULL` → validity, then the unsigned flip or float64 scaling.
    private func decodeInteger<T: FixedWidthInteger>(_ memory: OwnedMemory, count: Int, as type: T.Type) -> ArrayData {
        let values = Self.swapInPlace(memory, count: count, as: T.self)
        var validity: Buffer? = nil
        var nullCount = 0
        if let null, let marker = T(exactly: null) {
            var firstNull: Int? = nil
            for i in 0..<count where values[i] == marker { firstNull = i; break }
            if let firstNull {
                let bitmap = FITSBitmapBuilder(count: count)
                for i in 0..<firstNull { bitmap.set(i) }
                for i in firstNull..<count {
                    if values[i] != marker { bitmap.set(i) } else { nullCount += 1 }
                }
                validity = bitmap.buffer
            }
        }
        switch scaling {
        case .none:
            return ArrayData(type: elementDataType, length: count, nullCount: nullCount,
                             buffers: [validity, Buffer(base: memory.pointer, byteCount: count * MemoryLayout<T>.size, owner: memory)])
        case .unsigned:
            // Adding TZERO = 2^(bits-1) to the signed stored value is flipping its sign bit.
            let flip = T(truncatingIfNeeded: 1 as UInt64 &<< UInt64(T.bitWidth - 1))
            for i in 0..<count { values[i] ^= flip }
            return ArrayData(type: elementDataType, length: count, nullCount: nullCount,
                             buffers: [validity, Buffer(base: memory.pointer, byteCount: count * MemoryLayout<T>.size, owner: memory)])
        case .linear(let scale, let zero):
            return Self.scaled(count: count, scale: scale, zero: zero, validity: validity, nullCount: nullCount) { Double(values[$0]) }
        }
    }

    /// `stored × scale + zero` in float64, as astropy computes it.
    @inline(__always)
    private static func scaled(count: Int, scale: Double, zero: Double, validity: Buffer?, nullCount: Int,
                               _ stored: (Int) -> Double) -> ArrayData {
        let out = OwnedMemory(byteCount: count * 8)
        let d = out.pointer.bindMemory(to: Double.self, capacity: max(count, 0))
        for i in 0..<count { d[i] = stored(i) * scale + zero }
        return ArrayData(type: .float64, length: count, nullCount: nullCount, buffers: [validity, Buffer(out)])
    }

    /// `L`: 'T' is true, 'F' (or anything else) false, 0 null (undefined).
    static func decodeLogical(_ bytes: UnsafeRawPointer, count: Int) -> ArrayData {
        let b = bytes.assumingMemoryBound(to: UInt8.self)
        let values = FITSBitmapBuilder(count: count)
        var nullCount = 0
        for i in 0..<count {
            if b[i] == UInt8(ascii: "T") { values.set(i) } else if b[i] == 0 { nullCount += 1 }
        }
        var validity: Buffer? = nil
        if nullCount > 0 {
            let valid = FITSBitmapBuilder(count: count)
            for i in 0..<count where b[i] != 0 { valid.set(i) }
            validity = valid.buffer
        }
        return ArrayData(type: .bool, length: count, nullCount: nullCount, buffers: [validity, values.buffer])
    }

    /// `X`: `bits` bits per slice, most significant bit first, slice `i` starting at byte
    /// `start(i)`; all bits of all slices become one bool array.
    static func decodeBits(_ base: UnsafeRawPointer, slices: Int, bits: (Int) -> Int, start: (Int) -> Int, total: Int) -> ArrayData {
        let values = FITSBitmapBuilder(count: total)
        let b = base.assumingMemoryBound(to: UInt8.self)
        var out = 0
        for s in 0..<slices {
            let p = b + start(s)
            let n = bits(s)
            for j in 0..<n {
                if p[j &>> 3] & (0x80 &>> UInt8(truncatingIfNeeded: j & 7)) != 0 { values.set(out + j) }
            }
            out += n
        }
        return ArrayData(type: .bool, length: total, nullCount: 0, buffers: [nil, values.buffer])
    }
}

/// Builds a UTF-8 string column from fixed-width FITS character fields: each value ends at its
/// first NUL and loses its trailing blanks (as astropy reads them); leading blanks stay.
struct FITSStringBuilder {
    private let offsets: OwnedMemory
    private let data: OwnedMemory
    private let offsetValues: UnsafeMutablePointer<Int32>
    private var used = 0
    private var index = 0
    private var highBits: UInt8 = 0

    /// Room for `count` strings of at most `capacity` bytes in all.
    init(count: Int, capacity: Int) {
        offsets = OwnedMemory(byteCount: (count + 1) * 4)
        data = OwnedMemory(byteCount: capacity)
        offsetValues = offsets.pointer.bindMemory(to: Int32.self, capacity: count + 1)
    }

    /// Appends the field of `width` bytes at `field`.
    @inline(__always)
    mutating func append(_ field: UnsafeRawPointer, width: Int) {
        var length = width
        if width > 0, let nul = memchr(field, 0, width) {
            length = UnsafeRawPointer(nul) - field
        }
        let bytes = field.assumingMemoryBound(to: UInt8.self)
        while length > 0, bytes[length - 1] == 0x20 { length -= 1 }
        if length > 0 {
            (data.pointer + used).copyMemory(from: field, byteCount: length)
            for i in 0..<length { highBits |= bytes[i] }
        }
        used += length
        index += 1
        offsetValues[index] = Int32(used)
    }

    /// The finished `.string` array. Bytes that are not valid UTF-8 (FITS strings are ASCII)
    /// are replaced by U+FFFD.
    func finish() -> ArrayData {
        guard highBits & 0x80 != 0 else {
            return ArrayData(type: .string, length: index, nullCount: 0,
                             buffers: [nil, Buffer(offsets), Buffer(base: data.pointer, byteCount: used, owner: data)])
        }
        var strings: [String?] = []
        strings.reserveCapacity(index)
        for i in 0..<index {
            let start = Int(offsetValues[i]), end = Int(offsetValues[i + 1])
            strings.append(String(decoding: UnsafeRawBufferPointer(start: data.pointer + start, count: end - start), as: UTF8.self))
        }
        return ArrayData.strings(strings)
    }
}
