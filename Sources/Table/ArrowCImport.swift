import CArrowData

/// Owns an imported C `ArrowArray` (moved into Swift-allocated storage) and calls its release
/// callback when the last buffer that points into it is gone.
final class ImportedArrowArray: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<ArrowArray>

    init(moving source: UnsafeMutablePointer<ArrowArray>) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: source.pointee)
        source.pointee.release = nil  // moved: the source no longer owns it
    }

    deinit {
        carrow_release_array(pointer)
        pointer.deallocate()
    }
}

/// Import of the Arrow C Data Interface into ``Schema``, ``Field`` and ``ArrayData``.
public enum ArrowCImport {
    /// Reads the fields of a struct `ArrowSchema` (a record batch's schema) without releasing it.
    public static func schema(from c: UnsafePointer<ArrowSchema>) throws -> Schema {
        let top = try field(from: c)
        guard case .structure(let fields) = top.type else {
            throw TableError(.invalidArray, "expected a struct schema for a record batch, got \(top.type)")
        }
        return Schema(fields, metadata: top.metadata)
    }

    /// Reads one field (recursively) without releasing it.
    public static func field(from c: UnsafePointer<ArrowSchema>) throws -> Field {
        let s = c.pointee
        guard s.release != nil else { throw TableError(.invalidArray, "released ArrowSchema") }
        let name = s.name.map { String(cString: $0) } ?? ""
        let format = String(cString: s.format)
        if s.dictionary != nil {
            throw TableError(.unsupportedType, "column '\(name)' is dictionary-encoded; AstroPile reads it decoded")
        }
        var children: [Field] = []
        for i in 0..<Int(s.n_children) {
            children.append(try field(from: s.children[i]!))
        }
        guard let type = DataType(formatString: format, children: children, flags: s.flags) else {
            throw TableError(.unsupportedType, "column '\(name)' has Arrow type '\(format)', which AstroPile does not support")
        }
        return Field(name, type, nullable: s.flags & Int64(ARROW_FLAG_NULLABLE) != 0, metadata: decodeMetadata(s.metadata))
    }

    /// Decodes C Data Interface metadata (int32 count, then length-prefixed key/value pairs).
    static func decodeMetadata(_ raw: UnsafePointer<CChar>?) -> [(key: String, value: String)] {
        guard let raw else { return [] }
        let p = UnsafeRawPointer(raw)
        var pos = 0
        func int32() -> Int { defer { pos += 4 }; return Int(p.loadUnaligned(fromByteOffset: pos, as: Int32.self)) }
        func bytes(_ n: Int) -> String {
            defer { pos += n }
            return String(decoding: UnsafeRawBufferPointer(start: p + pos, count: n), as: UTF8.self)
        }
        let n = int32()
        var out: [(key: String, value: String)] = []
        for _ in 0..<n {
            let k = bytes(int32())
            let v = bytes(int32())
            out.append((k, v))
        }
        return out
    }

    /// Moves a C struct array holding a record batch into Swift (zero-copy). The source struct is
    /// marked released; its producer's release callback runs when the batch's buffers are freed.
    public static func recordBatch(moving array: UnsafeMutablePointer<ArrowArray>, schema: Schema) throws -> RecordBatch {
        guard array.pointee.release != nil else { throw TableError(.invalidArray, "released ArrowArray") }
        let owner = ImportedArrowArray(moving: array)
        let top = try arrayData(owner.pointer, type: .structure(schema.fields), owner: owner)
        let columns = top.children.map { child -> ArrayData in
            top.offset == 0 ? child : ArrayData(type: child.type, length: child.length, nullCount: nil,
                                                 offset: child.offset + top.offset, buffers: child.buffers, children: child.children)
        }
        let length = top.length
        return RecordBatch(schema: schema, columns: columns.map { c in c.length == length ? c : c.slice(0..<length) }, length: length)
    }

    /// Moves a single C array of `type` into Swift (zero-copy).
    public static func arrayData(moving array: UnsafeMutablePointer<ArrowArray>, type: DataType) throws -> ArrayData {
        let owner = ImportedArrowArray(moving: array)
        return try arrayData(owner.pointer, type: type, owner: owner)
    }

    static func arrayData(_ c: UnsafePointer<ArrowArray>, type: DataType, owner: ImportedArrowArray) throws -> ArrayData {
        let a = c.pointee
        let length = Int(a.length), offset = Int(a.offset)
        guard Int(a.n_buffers) == type.bufferCount else {
            throw TableError(.invalidArray, "\(type) array has \(a.n_buffers) buffers, expected \(type.bufferCount)")
        }
        let end = offset + length
        var buffers: [Buffer?] = []
        func raw(_ i: Int) -> UnsafeRawPointer? { a.buffers[i] }
        func add(_ i: Int, bytes: Int) {
            if let p = raw(i) { buffers.append(Buffer(base: p, byteCount: bytes, owner: owner)) } else { buffers.append(nil) }
        }
        if type.bufferCount > 0 { add(0, bytes: (end + 7) / 8) }
        switch type {
        case .null:
            break
        case .bool:
            add(1, bytes: (end + 7) / 8)
        case .string, .binary:
            add(1, bytes: (end + 1) * 4)
            let last = raw(1).map { Int($0.load(fromByteOffset: end * 4, as: Int32.self)) } ?? 0
            add(2, bytes: last)
        case .largeString, .largeBinary:
            add(1, bytes: (end + 1) * 8)
            let last = raw(1).map { Int($0.load(fromByteOffset: end * 8, as: Int64.self)) } ?? 0
            add(2, bytes: last)
        case .list, .map:
            add(1, bytes: (end + 1) * 4)
        case .largeList:
            add(1, bytes: (end + 1) * 8)
        case .fixedSizeList, .structure:
            break  // validity only; children carry the values
        default:
            add(1, bytes: end * (type.byteWidth ?? 0))
        }
        let childTypes = type.children.map(\.type)
        guard Int(a.n_children) == childTypes.count else {
            throw TableError(.invalidArray, "\(type) array has \(a.n_children) children, expected \(childTypes.count)")
        }
        var children: [ArrayData] = []
        for (i, t) in childTypes.enumerated() {
            children.append(try arrayData(a.children[i]!, type: t, owner: owner))
        }
        return ArrayData(type: type, length: length, nullCount: a.null_count < 0 ? nil : Int(a.null_count),
                         offset: offset, buffers: buffers, children: children)
    }
}
