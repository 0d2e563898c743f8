import Table

/// Settles one schema for all inputs of an import (DESIGN.md §5): the same type stays; integers
/// and floats unify to float64 (integers of different widths to int64); an all-null column takes
/// the other files' type; a column missing from some files becomes nullable (filled with nulls);
/// anything else is a conflict that names the files and columns.
enum SchemaUnifier {
    struct Conflict: Error, CustomStringConvertible {
        let column: String
        let first: (path: String, type: DataType)
        let second: (path: String, type: DataType)
        var description: String {
            "column '\(column)' is \(first.type) in \(first.path) but \(second.type) in \(second.path); " +
                "pass --schema FILE.parquet with the columns and types to use"
        }
    }

    /// Unifies `schemas` (one per file, in input order), keeping first-appearance column order.
    static func unify(_ schemas: [(path: String, schema: Schema)]) throws -> Schema {
        var order: [String] = []
        var types: [String: (type: DataType, path: String, nullable: Bool, metadata: [(key: String, value: String)])] = [:]
        var presence: [String: Int] = [:]
        for (path, schema) in schemas {
            for f in schema.fields {
                presence[f.name, default: 0] += 1
                guard let current = types[f.name] else {
                    order.append(f.name)
                    types[f.name] = (f.type, path, f.nullable, f.metadata)
                    continue
                }
                guard let merged = merge(current.type, f.type) else {
                    throw Conflict(column: f.name, first: (current.path, current.type), second: (path, f.type))
                }
                types[f.name] = (merged, current.type == .null ? path : current.path, current.nullable || f.nullable, current.metadata)
            }
        }
        let fields = order.map { name -> Field in
            let t = types[name]!
            let missingSomewhere = presence[name]! < schemas.count
            return Field(name, t.type == .null ? .null : t.type, nullable: t.nullable || missingSomewhere, metadata: t.metadata)
        }
        return Schema(fields)
    }

    /// The common type of `a` and `b`, or `nil` when they conflict.
    static func merge(_ a: DataType, _ b: DataType) -> DataType? {
        if a == b { return a }
        if a == .null { return b }
        if b == .null { return a }
        if a.isInteger && b.isInteger { return .int64 }
        if (a.isInteger || a.isFloatingPoint) && (b.isInteger || b.isFloatingPoint) { return .float64 }
        if (a == .string && b == .largeString) || (a == .largeString && b == .string) { return .largeString }
        return nil
    }
}
