import CArrowShim
import CArrowData
import Table

/// Writes record batches as CSV (a header line, then rows) through Arrow's CSV writer, to a file
/// (under a temporary name, renamed by ``close()``) or to standard output.
public final class CSVFileWriter {
    /// The final path, or `nil` for standard output.
    public let path: String?
    /// Schema of every batch.
    public let schema: Schema
    private var handle: OpaquePointer?
    private let tempPath: String?

    /// Opens a writer on `path` (`nil`: standard output).
    public init(path: String?, schema: Schema) throws {
        self.path = path
        self.schema = schema
        tempPath = path.map { AtomicFile.temporaryPath(for: $0) }
        var h: OpaquePointer? = nil
        try withExportedSchema(schema) { s in
            try shimCall(.io, path: path ?? "<stdout>") { err in ap_csv_writer_open(tempPath, s, &h, err) }
        }
        handle = h
    }

    deinit {
        if let handle {
            ap_csv_writer_free(handle)
            if let tempPath { AtomicFile.remove(tempPath) }
        }
    }

    /// Appends a batch's rows.
    public func write(_ batch: RecordBatch) throws {
        guard let handle else { throw FormatError(.invalidArgument, "write after close", path: path ?? "<stdout>") }
        try withExportedBatch(batch) { a in
            try shimCall(.io, path: path ?? "<stdout>") { err in ap_csv_writer_write(handle, a, err) }
        }
    }

    /// Finishes the output (and, for a file, fsyncs and renames it onto its path).
    public func close() throws {
        guard let h = handle else { return }
        handle = nil
        defer { ap_csv_writer_free(h) }
        try shimCall(.io, path: path ?? "<stdout>") { err in ap_csv_writer_close(h, err) }
        if let tempPath, let path { try AtomicFile.commit(temporary: tempPath, to: path) }
    }
}
