/// A batch of rows: one ``ArrayData`` per schema field, all of the same length.
public struct RecordBatch: Sendable {
    /// The columns' names, types and metadata.
    public let schema: Schema
    /// The columns, in schema order.
    public let columns: [ArrayData]
    /// Number of rows.
    public let length: Int

    /// Creates a batch; every column must have `length` elements.
    public init(schema: Schema, columns: [ArrayData], length: Int) {
        // invariant: batches are assembled by AstroPile from columns it made for the schema.
        precondition(schema.fields.count == columns.count, "schema has \(schema.fields.count) fields, batch \(columns.count) columns")
        precondition(columns.allSatisfy { $0.length == length }, "columns of unequal length")
        self.schema = schema
        self.columns = columns
        self.length = length
    }

    /// The column named `name`.
    public func column(_ name: String) -> ArrayData? {
        schema.index(of: name).map { columns[$0] }
    }

    /// A zero-copy view of rows `range`.
    public func slice(_ range: Range<Int>) -> RecordBatch {
        RecordBatch(schema: schema, columns: columns.map { $0.slice(range) }, length: range.count)
    }

    /// This batch with `column` inserted at `position`.
    public func inserting(_ field: Field, _ column: ArrayData, at position: Int) -> RecordBatch {
        var fields = schema.fields
        var cols = columns
        fields.insert(field, at: position)
        cols.insert(column, at: position)
        return RecordBatch(schema: Schema(fields, metadata: schema.metadata), columns: cols, length: length)
    }

    /// This batch with only the columns at `indices`, in that order.
    public func selecting(_ indices: [Int]) -> RecordBatch {
        RecordBatch(schema: Schema(indices.map { schema.fields[$0] }, metadata: schema.metadata),
                    columns: indices.map { columns[$0] }, length: length)
    }
}
