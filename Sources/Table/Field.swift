/// A named, typed column (or child of a nested column) with Arrow key/value metadata.
public struct Field: Hashable, Sendable {
    /// Column name.
    public var name: String
    /// Logical type.
    public var type: DataType
    /// Whether the column may hold nulls.
    public var nullable: Bool
    /// Key/value metadata in insertion order (e.g. a FITS column's `TDIM` or `TUNIT`).
    public var metadata: [(key: String, value: String)]

    /// Creates a field.
    public init(_ name: String, _ type: DataType, nullable: Bool = true, metadata: [(key: String, value: String)] = []) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.metadata = metadata
    }

    /// The metadata value for `key`, if present.
    public func metadataValue(_ key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }

    public static func == (a: Field, b: Field) -> Bool {
        a.name == b.name && a.type == b.type && a.nullable == b.nullable
            && a.metadata.map(\.key) == b.metadata.map(\.key) && a.metadata.map(\.value) == b.metadata.map(\.value)
    }

    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(type)
        h.combine(nullable)
        for (k, v) in metadata { h.combine(k); h.combine(v) }
    }
}

/// The columns of a table, in order, plus table-level key/value metadata (e.g. `pandas`).
public struct Schema: Hashable, Sendable {
    /// Columns in order.
    public var fields: [Field]
    /// Table-level metadata in insertion order.
    public var metadata: [(key: String, value: String)]

    /// Creates a schema.
    public init(_ fields: [Field], metadata: [(key: String, value: String)] = []) {
        self.fields = fields
        self.metadata = metadata
    }

    /// Index of the first column named `name`.
    public func index(of name: String) -> Int? { fields.firstIndex { $0.name == name } }

    /// Column names in order.
    public var names: [String] { fields.map(\.name) }

    /// The metadata value for `key`, if present.
    public func metadataValue(_ key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }

    public static func == (a: Schema, b: Schema) -> Bool {
        a.fields == b.fields && a.metadata.map(\.key) == b.metadata.map(\.key)
            && a.metadata.map(\.value) == b.metadata.map(\.value)
    }

    public func hash(into h: inout Hasher) {
        h.combine(fields)
        for (k, v) in metadata { h.combine(k); h.combine(v) }
    }
}
