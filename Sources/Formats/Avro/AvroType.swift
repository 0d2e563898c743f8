import CAvro

/// An Avro schema as a tree (named types resolved in place).
///
/// Parsed by avro-c (``parse(json:)``): its parser validates names, namespaces and references.
/// Datums are then decoded by AstroPile's own ``AvroDatumDecoder`` — see there for why.
public indirect enum AvroType: Hashable, Sendable, CustomStringConvertible {
    case null, boolean, int, long, float, double, bytes, string
    case record(name: String, fields: [AvroField])
    case enumeration(name: String, symbols: [String])
    case array(AvroType)
    case map(AvroType)
    case fixed(name: String, size: Int)
    case union([AvroType])

    /// Avro's name for the type (`record` types by their name).
    public var description: String {
        switch self {
        case .null: "null"
        case .boolean: "boolean"
        case .int: "int"
        case .long: "long"
        case .float: "float"
        case .double: "double"
        case .bytes: "bytes"
        case .string: "string"
        case .record(let name, _): "record \(name)"
        case .enumeration(let name, _): "enum \(name)"
        case .array(let t): "array<\(t)>"
        case .map(let t): "map<\(t)>"
        case .fixed(let name, let size): "fixed \(name)[\(size)]"
        case .union(let ts): "[" + ts.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// Parses a schema's JSON text with avro-c.
    /// - Throws: ``FormatError`` (`.corruptInput`) with avro-c's message for text that is not a
    ///   valid schema, (`.unsupported`) for a recursive schema.
    public static func parse(json: UnsafeRawBufferPointer) throws -> AvroType {
        guard let base = json.baseAddress?.assumingMemoryBound(to: CChar.self), json.count > 0 else {
            throw FormatError(.corruptInput, "the Avro schema is empty")
        }
        var schema: avro_schema_t?
        guard avro_schema_from_json_length(base, json.count, &schema) == 0, let schema else {
            throw FormatError(.corruptInput, "the Avro schema does not parse: " + String(cString: avro_strerror()))
        }
        defer { avro_schema_decref(schema) }
        var path: [String] = []
        return try convert(schema, path: &path)
    }

    private static func convert(_ s: avro_schema_t, path: inout [String]) throws -> AvroType {
        switch avro_type_t(rawValue: UInt32(ap_avro_type(s))) {
        case AVRO_NULL: return .null
        case AVRO_BOOLEAN: return .boolean
        case AVRO_INT32: return .int
        case AVRO_INT64: return .long
        case AVRO_FLOAT: return .float
        case AVRO_DOUBLE: return .double
        case AVRO_BYTES: return .bytes
        case AVRO_STRING: return .string
        case AVRO_RECORD:
            let name = String(cString: avro_schema_name(s))
            guard !path.contains(name) else {
                throw FormatError(.unsupported, "the Avro schema is recursive (record \(name) contains itself)")
            }
            path.append(name)
            defer { path.removeLast() }
            var fields: [AvroField] = []
            for i in 0..<avro_schema_record_size(s) {
                guard let fname = avro_schema_record_field_name(s, Int32(i)),
                      let ftype = avro_schema_record_field_get_by_index(s, Int32(i)) else {
                    throw FormatError(.corruptInput, "record \(name) field \(i) has no name or type")
                }
                fields.append(AvroField(name: String(cString: fname), type: try convert(ftype, path: &path)))
            }
            return .record(name: name, fields: fields)
        case AVRO_ENUM:
            let n = avro_schema_enum_number_of_symbols(s)
            let symbols = (0..<max(n, 0)).map { avro_schema_enum_get(s, $0).map { String(cString: $0) } ?? "" }
            return .enumeration(name: String(cString: avro_schema_name(s)), symbols: symbols)
        case AVRO_FIXED:
            return .fixed(name: String(cString: avro_schema_name(s)), size: Int(avro_schema_fixed_size(s)))
        case AVRO_MAP:
            guard let v = avro_schema_map_values(s) else { throw FormatError(.corruptInput, "an Avro map has no value type") }
            return .map(try convert(v, path: &path))
        case AVRO_ARRAY:
            guard let v = avro_schema_array_items(s) else { throw FormatError(.corruptInput, "an Avro array has no item type") }
            return .array(try convert(v, path: &path))
        case AVRO_UNION:
            return .union(try (0..<avro_schema_union_size(s)).map { i in
                guard let b = avro_schema_union_branch(s, Int32(i)) else { throw FormatError(.corruptInput, "an Avro union branch is missing") }
                return try convert(b, path: &path)
            })
        case AVRO_LINK:
            guard let target = avro_schema_link_target(s) else { throw FormatError(.corruptInput, "an Avro named reference has no target") }
            return try convert(target, path: &path)
        default:
            throw FormatError(.unsupported, "an Avro schema node of unknown kind \(ap_avro_type(s))")
        }
    }
}

/// A field of an Avro record.
public struct AvroField: Hashable, Sendable {
    public var name: String
    public var type: AvroType
    public init(name: String, type: AvroType) {
        self.name = name
        self.type = type
    }
}
