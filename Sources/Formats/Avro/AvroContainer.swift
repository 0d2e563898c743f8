import CZlib

/// Bounds-checked reading of Avro's binary encoding (zig-zag varints, little-endian floats,
/// length-prefixed bytes) from a byte buffer.
public struct AvroByteReader {
    /// The bytes.
    public let bytes: UnsafeRawBufferPointer
    /// Read position.
    public var position: Int

    public init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    /// Bytes left.
    @inline(__always) public var remaining: Int { bytes.count - position }

    /// An Avro `long` (or `int`): a zig-zag varint of at most 10 bytes.
    @inline(__always)
    public mutating func long() throws(AvroDecodeError) -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw .truncated }
            let b = bytes[position]
            position += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { break }
            shift += 7
            guard shift < 64 else { throw .badVarint }
        }
        return Int64(bitPattern: (result >> 1) ^ (0 &- (result & 1)))
    }

    /// A length (of bytes, a string or an array block) that must be ≥ 0 and fit what is left
    /// when `bounded`.
    @inline(__always)
    public mutating func length(bounded: Bool = true) throws(AvroDecodeError) -> Int {
        let n = try long()
        guard n >= 0 else { throw .negativeLength }
        guard !bounded || n <= Int64(remaining) else { throw .truncated }
        return Int(n)
    }

    /// `count` raw bytes.
    @inline(__always)
    public mutating func raw(_ count: Int) throws(AvroDecodeError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw .truncated }
        let r = UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
        position += count
        return r
    }

    /// Length-prefixed bytes (an Avro `bytes` or `string`).
    @inline(__always)
    public mutating func lengthPrefixed() throws(AvroDecodeError) -> UnsafeRawBufferPointer {
        try raw(try length())
    }

    @inline(__always)
    public mutating func float() throws(AvroDecodeError) -> Float {
        guard remaining >= 4 else { throw .truncated }
        let v = bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position += 4
        return Float(bitPattern: UInt32(littleEndian: v))
    }

    @inline(__always)
    public mutating func double() throws(AvroDecodeError) -> Double {
        guard remaining >= 8 else { throw .truncated }
        let v = bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return Double(bitPattern: UInt64(littleEndian: v))
    }

    @inline(__always)
    public mutating func boolean() throws(AvroDecodeError) -> Bool {
        guard position < bytes.count else { throw .truncated }
        let b = bytes[position]
        position += 1
        guard b <= 1 else { throw .badBoolean }
        return b == 1
    }
}

/// What is wrong with Avro bytes (decoded without allocation in the hot loop; turned into a
/// ``FormatError`` with the file and block by the caller).
public enum AvroDecodeError: Error, Sendable, CustomStringConvertible {
    case truncated, badVarint, negativeLength, badBoolean
    case badUnionBranch(Int64, branches: Int)
    case badEnumIndex(Int64, symbols: Int)
    case trailingBytes(Int)
    case badUTF8
    /// A count of items (an array block's, or a data block's datums), each taking at least
    /// `itemBytes`, that the bytes left cannot hold.
    case countPastData(UInt64, itemBytes: Int, bytesLeft: Int)
    /// More items that take no bytes (nulls, records without fields) than one file may hold:
    /// their count is not bounded by the file's size, so it is bounded by `limit`.
    case tooManyEmptyItems(UInt64, limit: Int)

    public var description: String {
        switch self {
        case .truncated: "the data ends inside a value"
        case .badVarint: "a variable-length integer runs past 10 bytes"
        case .negativeLength: "a length is negative"
        case .badBoolean: "a boolean byte is neither 0 nor 1"
        case .badUnionBranch(let b, let n): "union branch \(b) of a union of \(n)"
        case .badEnumIndex(let i, let n): "enum index \(i) of \(n) symbols"
        case .trailingBytes(let n): "\(n) bytes are left over after the block's datums"
        case .badUTF8: "a string is not valid UTF-8"
        case .countPastData(let n, let m, let left):
            "a count of \(n) items of at least \(m) byte\(m == 1 ? "" : "s") each is more than the \(left) bytes left can hold"
        case .tooManyEmptyItems(let n, let limit):
            "a count of \(n) items that take no bytes (nulls or records without fields) is past the \(limit) such items one file may hold"
        }
    }
}

/// An Avro object container file held in memory: header (magic, metadata, sync marker) and
/// data blocks, each checked against the sync marker.
///
/// Written by hand rather than with avro-c's file reader because that reader re-parses the
/// schema JSON of every file (≈1–1.4 ms for a ZTF alert schema, measured, against a budget of
/// a few hundred µs per alert); here the schema bytes are handed out so the caller can cache
/// the parsed schema by their hash.
public struct AvroContainer {
    /// Block compression.
    public enum Codec: String, Sendable { case null, deflate }

    /// The schema JSON bytes (`avro.schema`), a range of the file.
    public let schema: Range<Int>
    public let codec: Codec
    /// Offset of the first block.
    public let dataStart: Int
    private let sync: (UInt64, UInt64)

    /// Parses the header of `bytes`.
    /// - Throws: ``FormatError`` (`.corruptInput`) naming what is wrong; (`.unsupported`) for a
    ///   codec other than null and deflate.
    public init(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count >= 4, bytes[0] == 0x4f, bytes[1] == 0x62, bytes[2] == 0x6a, bytes[3] == 1 else {
            throw FormatError(.corruptInput, "not an Avro object container file (no 'Obj\\u{1}' magic)")
        }
        var r = AvroByteReader(bytes, position: 4)
        var schema: Range<Int>?
        var codec = Codec.null
        do {
            while true {
                let n = try r.long()
                if n == 0 { break }
                // A negative count is followed by the block's size in bytes; each entry takes at
                // least two bytes (the key's and the value's lengths).
                if n < 0 { _ = try r.long() }
                guard n.magnitude <= UInt64(r.remaining / 2) else {
                    throw AvroDecodeError.countPastData(n.magnitude, itemBytes: 2, bytesLeft: r.remaining)
                }
                for _ in 0..<n.magnitude {
                    let key = try r.lengthPrefixed()
                    let valueLength = try r.length()
                    let start = r.position
                    let value = try r.raw(valueLength)
                    if key.elementsEqual("avro.schema".utf8) { schema = start..<start + valueLength }
                    else if key.elementsEqual("avro.codec".utf8) {
                        let name = String(decoding: value, as: UTF8.self)
                        guard let c = Codec(rawValue: name) else {
                            throw FormatError(.unsupported, "Avro codec '\(name)' (AstroPile reads null and deflate)", location: "header")
                        }
                        codec = c
                    }
                }
            }
            guard r.remaining >= 16 else { throw AvroDecodeError.truncated }
        } catch let e as AvroDecodeError {
            throw FormatError(.corruptInput, "the Avro header is damaged: \(e)", location: "header")
        }
        guard let schema else { throw FormatError(.corruptInput, "the Avro header has no avro.schema", location: "header") }
        self.schema = schema
        self.codec = codec
        sync = (bytes.loadUnaligned(fromByteOffset: r.position, as: UInt64.self),
                bytes.loadUnaligned(fromByteOffset: r.position + 8, as: UInt64.self))
        dataStart = r.position + 16
    }

    /// The most bytes one deflate block may inflate to: 256 MiB, the size of the largest archive
    /// member the alert ingest reads (a ZTF alert file is about 100 KB). A block that inflates
    /// past it is refused before more memory is taken.
    public static let inflatedBlockLimit = 256 << 20

    /// Calls `body` with each block's datum count and (decompressed) datum bytes, in order.
    /// The count is as the file gives it (≥ 0, not checked against the bytes: how many datums
    /// the bytes can hold depends on the schema; ``AvroDatumDecoder/checkBlock(count:bytes:emptyItems:)``
    /// checks it).
    /// - Throws: ``FormatError`` (`.corruptInput`, location "block N") for a truncated block, a
    ///   sync marker that does not match the header's, or deflate data that does not inflate;
    ///   (`.unsupported`) for a block that inflates to more than `inflatedLimit` bytes.
    public func forEachBlock(_ bytes: UnsafeRawBufferPointer, inflatedLimit: Int = AvroContainer.inflatedBlockLimit,
                             _ body: (_ count: Int, _ datums: UnsafeRawBufferPointer, _ block: Int) throws -> Void) throws {
        var r = AvroByteReader(bytes, position: dataStart)
        var block = 0
        var inflated: [UInt8] = []
        while r.remaining > 0 {
            let count: Int, data: UnsafeRawBufferPointer
            do {
                count = try r.length(bounded: false)
                data = try r.lengthPrefixed()
                guard r.remaining >= 16 else { throw AvroDecodeError.truncated }
            } catch {
                throw FormatError(.corruptInput, "the block is truncated", location: "block \(block)")
            }
            let marker = (bytes.loadUnaligned(fromByteOffset: r.position, as: UInt64.self),
                          bytes.loadUnaligned(fromByteOffset: r.position + 8, as: UInt64.self))
            guard marker == sync else {
                throw FormatError(.corruptInput, "the sync marker after the block does not match the header's", location: "block \(block)")
            }
            r.position += 16
            switch codec {
            case .null:
                try body(count, data, block)
            case .deflate:
                try Self.inflateRaw(data, into: &inflated, limit: inflatedLimit, block: block)
                try inflated.withUnsafeBytes { try body(count, $0, block) }
            }
            block += 1
        }
    }

    /// Raw deflate (RFC 1951, Avro's `deflate` codec) with zlib, into at most `limit` bytes.
    static func inflateRaw(_ input: UnsafeRawBufferPointer, into out: inout [UInt8], limit: Int, block: Int) throws {
        guard let availableIn = UInt32(exactly: input.count) else {
            throw FormatError(.unsupported, "the block's \(input.count) compressed bytes are more than zlib takes at once", location: "block \(block)")
        }
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FormatError(.io, "zlib inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        out.removeAll(keepingCapacity: true)
        // Four times the input (at most 4 MiB) per call: usually one call, never a buffer sized by the file.
        var chunk = [UInt8](repeating: 0, count: max(1 << 16, min(input.count, 1 << 20) * 4))
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = availableIn
        while true {
            let status = chunk.withUnsafeMutableBufferPointer { c -> Int32 in
                stream.next_out = c.baseAddress
                // invariant: the chunk is at most 4 MiB.
                stream.avail_out = UInt32(c.count)
                return inflate(&stream, Z_NO_FLUSH)
            }
            let produced = chunk.count - Int(stream.avail_out)
            guard produced <= limit - out.count else {
                let size = limit % (1 << 20) == 0 ? "\(limit >> 20) MiB" : "\(limit) bytes"
                throw FormatError(.unsupported, "the block inflates to more than \(size), the most AstroPile inflates for one Avro block",
                                  location: "block \(block)")
            }
            out.append(contentsOf: chunk[0..<produced])
            if status == Z_STREAM_END { return }
            guard status == Z_OK, stream.avail_in > 0 || stream.avail_out == 0 else {
                let message = stream.msg.map { String(cString: $0) } ?? "the stream ends early"
                throw FormatError(.corruptInput, "deflate data does not inflate: \(message)", location: "block \(block)")
            }
        }
    }
}
