import Table

/// Decodes Avro datums written with one writer schema straight into Arrow column builders of a
/// target (reader) schema, matching record fields by name.
///
/// Why not avro-c's datum reader: decoding one ZTF alert into avro-c's generic value took
/// 176–222 µs (measured on the fixture alerts, `avro_value_read` alone, before copying a single
/// value into Arrow), most of the per-alert budget the alert lake has within 2× of gzip
/// decompression. Reading the bytes into the builders directly costs a fraction of that. avro-c
/// still parses every schema (``AvroType/parse(json:)``). Its schema resolution is not used
/// either: it does not apply defaults and crashes on ZTF schema pairs; the mapping here is
/// by name, with target fields the writer lacks appended as nulls.
///
/// Compiling checks every writer field against the target: a field the target lacks, or whose
/// type differs (no silent promotion — Avro floats stay float32), is an error naming the field
/// path and both types. Decoding is bounds-checked; a datum that fails leaves the builders as
/// they were before it.
///
/// Every count read from the data is bounded before it is acted on: items that take at least one
/// byte cannot outnumber the bytes left; items that take none (nulls, records without fields),
/// whose count the bytes do not bound, are charged to a budget the caller gives per file
/// (``emptyItemLimit``).
public final class AvroDatumDecoder {
    /// The builder of the target schema's columns (a struct whose children are the columns).
    public let root: ArrayBuilder
    /// The target schema.
    public let schema: Schema
    private let program: Node

    /// Compiles the decoding of `writer` (a record) into `schema`.
    /// - Throws: ``FormatError`` (`.unsupported`) naming the field for a writer field the target
    ///   lacks or has with another type.
    public init(writer: AvroType, into schema: Schema) throws {
        self.schema = schema
        root = try ArrayBuilder(.structure(schema.fields))
        guard case .record = writer else {
            throw FormatError(.unsupported, "the Avro schema is a \(writer), not a record")
        }
        program = try Self.compile(writer, target: .structure(schema.fields), builder: root, path: "")
    }

    /// The most items that take no bytes (nulls, records without fields — rows or array items)
    /// one file may decode: 65536. Their count is not bounded by the file's size (2^62 nulls
    /// take a 9-byte count), so it is bounded here; ZTF alerts have none.
    public static let emptyItemLimit = 1 << 16

    /// The fewest bytes one datum of the writer schema takes (0 for a record whose fields can
    /// all be empty: nulls, records without fields).
    public var minimumDatumBytes: Int { program.minBytes }

    /// Checks a block's datum count against the block's bytes before any datum is decoded:
    /// datums of at least one byte cannot outnumber the bytes; datums of none are charged to
    /// `emptyItems` (start it at ``emptyItemLimit`` per file).
    /// - Throws: ``AvroDecodeError/countPastData(_:itemBytes:bytesLeft:)`` or
    ///   ``AvroDecodeError/tooManyEmptyItems(_:limit:)``.
    public func checkBlock(count: Int, bytes: Int, emptyItems: inout Int) throws(AvroDecodeError) {
        _ = try Self.bounded(UInt64(count.magnitude), itemBytes: program.minBytes, remaining: bytes, empty: &emptyItems)
    }

    /// Decodes one datum from `reader` and appends it as a row. Array items that take no bytes
    /// are charged to `emptyItems` (see ``checkBlock(count:bytes:emptyItems:)``).
    /// - Throws: ``AvroDecodeError``; the builders are then as before the call.
    public func decodeRow(_ reader: inout AvroByteReader, emptyItems: inout Int) throws(AvroDecodeError) {
        let rows = root.length
        do {
            try Self.decode(program, &reader, &emptyItems)
        } catch {
            root.truncate(to: rows)
            throw error
        }
    }

    /// Rows appended since the last ``finishBatch()``.
    public var rows: Int { root.length }

    /// Bytes held by the builders.
    public var byteCount: Int { root.byteCount }

    /// The rows decoded so far as a batch; the builders start over.
    public func finishBatch() -> RecordBatch {
        let n = root.length
        let data = root.finish()
        return RecordBatch(schema: schema, columns: data.children, length: n)
    }

    // MARK: - Program

    private final class Node {
        enum Op {
            case null, boolean, int, long, float, double, string, bytes
            case enumeration([[UInt8]])
            case record
            case array
            case union
        }
        let op: Op
        let builder: ArrayBuilder
        /// Record: one node per writer field, in writer order.
        var fields: [Node] = []
        /// Record: target children the writer lacks.
        var missing: [ArrayBuilder] = []
        /// Array: the item node.
        var item: Node?
        /// Union: per writer branch, the node, or nil for the null branch.
        var branches: [Node?] = []
        /// The fewest bytes a value takes: 0 for null and for a record of such fields, else at
        /// least the one byte of a varint (or 4 and 8 for float and double).
        var minBytes: Int

        init(_ op: Op, _ builder: ArrayBuilder, minBytes: Int) {
            self.op = op
            self.builder = builder
            self.minBytes = minBytes
        }
    }

    private static func conflict(_ path: String, _ writer: AvroType, _ target: DataType) -> FormatError {
        FormatError(.unsupported, "field \(path.isEmpty ? "(root)" : path) is \(writer) in the file and \(target) in the lake schema")
    }

    private static func compile(_ writer: AvroType, target: DataType, builder: ArrayBuilder, path: String) throws -> Node {
        switch (writer, target) {
        case (.null, _): return Node(.null, builder, minBytes: 0)
        case (.boolean, .bool): return Node(.boolean, builder, minBytes: 1)
        case (.int, .int32): return Node(.int, builder, minBytes: 1)
        case (.long, .int64): return Node(.long, builder, minBytes: 1)
        case (.float, .float32): return Node(.float, builder, minBytes: 4)
        case (.double, .float64): return Node(.double, builder, minBytes: 8)
        case (.string, .string): return Node(.string, builder, minBytes: 1)
        case (.bytes, .binary): return Node(.bytes, builder, minBytes: 1)
        case (.enumeration(_, let symbols), .string): return Node(.enumeration(symbols.map { Array($0.utf8) }), builder, minBytes: 1)
        case (.array(let item), .list(let element)):
            // At least the final zero count.
            let n = Node(.array, builder, minBytes: 1)
            n.item = try compile(item, target: element.type, builder: builder.children[0], path: path + "[]")
            return n
        case (.record(_, let fields), .structure(let targets)):
            let n = Node(.record, builder, minBytes: 0)
            var used = Set<Int>()
            for f in fields {
                let p = path.isEmpty ? f.name : path + "." + f.name
                guard let k = targets.firstIndex(where: { $0.name == f.name }) else {
                    throw FormatError(.unsupported, "field \(p) (\(f.type)) is not in the lake schema")
                }
                used.insert(k)
                n.fields.append(try compile(f.type, target: targets[k].type, builder: builder.children[k], path: p))
            }
            n.missing = targets.indices.filter { !used.contains($0) }.map { builder.children[$0] }
            n.minBytes = n.fields.reduce(0) { $0 + $1.minBytes }
            return n
        case (.union(let branches), _):
            // At least the branch index.
            let n = Node(.union, builder, minBytes: 1)
            n.branches = try branches.map { b -> Node? in
                if case .null = b { return nil }
                return try compile(b, target: target, builder: builder, path: path)
            }
            return n
        default:
            throw conflict(path, writer, target)
        }
    }

    /// `count` items of `itemBytes` bytes or more each, as an `Int`, when the `remaining` bytes can
    /// hold them; items of no bytes are taken from `empty`.
    @inline(__always)
    private static func bounded(_ count: UInt64, itemBytes: Int, remaining: Int, empty: inout Int) throws(AvroDecodeError) -> Int {
        if itemBytes > 0 {
            guard count <= UInt64(max(0, remaining) / itemBytes) else {
                throw .countPastData(count, itemBytes: itemBytes, bytesLeft: remaining)
            }
        } else {
            guard count <= UInt64(max(0, empty)) else { throw .tooManyEmptyItems(count, limit: emptyItemLimit) }
            empty -= Int(count)
        }
        // invariant: count is at most an Int here (the bytes left, or the budget).
        return Int(count)
    }

    private static func decode(_ n: Node, _ r: inout AvroByteReader, _ empty: inout Int) throws(AvroDecodeError) {
        switch n.op {
        case .long:
            n.builder.append(try r.long())
        case .double:
            n.builder.append(try r.double())
        case .float:
            n.builder.append(try r.float())
        case .int:
            let v = try r.long()
            guard let i = Int32(exactly: v) else { throw .badVarint }
            n.builder.append(i)
        case .union:
            let b = try r.long()
            guard b >= 0, b < Int64(n.branches.count) else { throw .badUnionBranch(b, branches: n.branches.count) }
            if let node = n.branches[Int(b)] { try decode(node, &r, &empty) } else { n.builder.appendNull() }
        case .string:
            let s = try r.lengthPrefixed()
            guard isUTF8(s) else { throw .badUTF8 }
            n.builder.append(bytes: s)
        case .bytes:
            n.builder.append(bytes: try r.lengthPrefixed())
        case .boolean:
            n.builder.append(try r.boolean())
        case .record:
            for f in n.fields { try decode(f, &r, &empty) }
            for m in n.missing { m.appendNull() }
            n.builder.appendValid()
        case .array:
            // invariant: compile gives every array node its item.
            let item = n.item!
            while true {
                let count = try r.long()
                if count == 0 { break }
                // A negative count is followed by the block's size in bytes.
                if count < 0 { _ = try r.long() }
                let items = try bounded(count.magnitude, itemBytes: item.minBytes, remaining: r.remaining, empty: &empty)
                for _ in 0..<items { try decode(item, &r, &empty) }
            }
            n.builder.appendValid()
        case .enumeration(let symbols):
            let i = try r.long()
            guard i >= 0, i < Int64(symbols.count) else { throw .badEnumIndex(i, symbols: symbols.count) }
            symbols[Int(i)].withUnsafeBytes { n.builder.append(bytes: $0) }
        case .null:
            n.builder.appendNull()
        }
    }

    @inline(__always)
    private static func isUTF8(_ s: UnsafeRawBufferPointer) -> Bool {
        for b in s where b >= 0x80 { return String(validating: s, as: UTF8.self) != nil }
        return true
    }
}

extension AvroType {
    /// The Arrow type of this Avro type: records as structs (every field nullable), arrays as
    /// lists (element field `element`, as Parquet names it), unions of null and one type as that
    /// type, enums as strings, bytes as binary; floats stay float32.
    /// - Throws: ``FormatError`` (`.unsupported`) for maps, fixed and unions of several types.
    public func arrowType() throws -> DataType {
        switch self {
        case .null: return .null
        case .boolean: return .bool
        case .int: return .int32
        case .long: return .int64
        case .float: return .float32
        case .double: return .float64
        case .bytes: return .binary
        case .string, .enumeration: return .string
        case .record(_, let fields): return .structure(try fields.map { Field($0.name, try $0.type.arrowType()) })
        case .array(let t): return .list(Field("element", try t.arrowType()))
        case .union(let ts):
            let values = ts.filter { if case .null = $0 { false } else { true } }
            guard values.count == 1 else { throw FormatError(.unsupported, "the union \(self) has more than one non-null type") }
            return try values[0].arrowType()
        case .map, .fixed: throw FormatError(.unsupported, "Avro \(self) has no lake column type")
        }
    }
}
