import CArrowShim
import CArrowData
import Table

/// Streams a Parquet file in record batches through Arrow C++ (`parquet::arrow::FileReader`).
///
/// A pandas index stored as `__index_level_0__` (an unnamed index) is dropped; a named index
/// (listed in the `pandas` metadata's `index_columns`) stays an ordinary column, as hats-import does.
public final class ParquetFileReader: BatchReader {
    /// The file read.
    public let path: String
    /// Columns of every batch (after dropping an unnamed pandas index).
    public let schema: Schema
    /// Rows in the file, from its footer.
    public let rowCount: Int
    private let handle: OpaquePointer
    private let rawSchema: Schema
    private let keep: [Int]?

    /// Opens `path`, optionally reading only `columns` (top-level names), in batches of `batchRows`.
    public init(path: String, columns: [String]? = nil, batchRows: Int = 65_536) throws {
        self.path = path
        var handle: OpaquePointer? = nil
        var rows: Int64 = 0
        let names = columns ?? []
        var cStrings = names.map { strdup($0) }  // var: withUnsafeMutableBufferPointer
        defer { cStrings.forEach { free($0) } }
        let raw = try importSchema { schemaOut in
            try cStrings.withUnsafeMutableBufferPointer { buf in
                try buf.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buf.count, 1)) { p in
                    try shimCall(path: path) { err in
                        ap_parquet_reader_open(path, names.isEmpty ? nil : p, CInt(names.count), Int64(batchRows),
                                               &handle, schemaOut, &rows, err)
                    }
                }
            }
        }
        self.handle = handle!
        self.rawSchema = raw
        self.rowCount = Int(rows)
        if let drop = raw.index(of: "__index_level_0__") {
            keep = raw.fields.indices.filter { $0 != drop }
            schema = Schema(keep!.map { raw.fields[$0] }, metadata: raw.metadata)
        } else {
            keep = nil
            schema = raw
        }
    }

    deinit { ap_reader_free(handle) }

    /// The next batch, or `nil` at the end.
    public func next() throws -> RecordBatch? {
        let batch = try importBatch(schema: rawSchema) { out in
            var end: CInt = 0
            try shimCall(path: path) { err in ap_reader_next(handle, out, &end, err) }
            return end == 0
        }
        guard let batch else { return nil }
        return keep.map { batch.selecting($0) } ?? batch
    }

    /// Reads a Parquet file's footer: rows, row groups and schema.
    public static func info(path: String) throws -> (rows: Int, rowGroups: Int, schema: Schema) {
        var rows: Int64 = 0
        var groups: CInt = 0
        let schema = try importSchema { out in
            try shimCall(path: path) { err in ap_parquet_file_info(path, &rows, &groups, out, err) }
        }
        return (Int(rows), Int(groups), schema)
    }
}

#if canImport(Glibc)
import Glibc
#endif
