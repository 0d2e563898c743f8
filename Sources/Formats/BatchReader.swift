import Table

/// A source of record batches read from one file, in file order.
public protocol BatchReader: AnyObject {
    /// The columns every batch has.
    var schema: Schema { get }
    /// The next batch, or `nil` at the end of the file.
    func next() throws -> RecordBatch?
}
