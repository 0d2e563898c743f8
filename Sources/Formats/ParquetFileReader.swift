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

    /// Opens `path`, optionally reading only `columns` (top-level names) and only the row groups
    /// `rowGroups` (positions, read in the order given), in batches of `batchRows`.
    /// ``rowCount`` is then the number of rows those row groups hold.
    public init(path: String, columns: [String]? = nil, rowGroups: [Int]? = nil, batchRows: Int = 65_536) throws {
        self.path = path
        var handle: OpaquePointer? = nil
        var rows: Int64 = 0
        let names = columns ?? []
        var cStrings = names.map { strdup($0) }  // var: withUnsafeMutableBufferPointer
        defer { cStrings.forEach { free($0) } }
        let groups = (rowGroups ?? []).map { CInt($0) }
        let raw = try importSchema { schemaOut in
            try cStrings.withUnsafeMutableBufferPointer { buf in
                try buf.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buf.count, 1)) { p in
                    try groups.withUnsafeBufferPointer { g in
                        try shimCall(path: path) { err in
                            ap_parquet_reader_open(path, names.isEmpty ? nil : p, CInt(names.count),
                                                   rowGroups == nil ? nil : (g.baseAddress ?? UnsafePointer(bitPattern: 1)),
                                                   CInt(groups.count), Int64(batchRows), &handle, schemaOut, &rows, err)  // invariant: a file's own column and row-group counts (32-bit in Parquet)
                        }
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

    /// Minimum and maximum of one numeric column in each row group, from the footer's statistics.
    public enum ColumnStatistics: Sendable {
        /// An integer column: closed ranges per row group.
        case integer([ClosedRange<Int64>])
        /// A floating-point column: closed ranges per row group.
        case floatingPoint([ClosedRange<Double>])
        /// Another type, or a row group without statistics.
        case unavailable
    }

    /// Per-row-group statistics of `column` and the row count of each group.
    public static func rowGroupStatistics(path: String, column: String) throws -> (stats: ColumnStatistics, rows: [Int]) {
        var capacity = 64
        while true {
            var mins = [Int64](repeating: 0, count: capacity), maxs = mins, rows = mins
            var n: CInt = 0, kind: CInt = 2
            try shimCall(path: path) { err in
                ap_parquet_row_group_stats(path, column, CInt(capacity), &n, &kind, &mins, &maxs, &rows, err)
            }
            if Int(n) > capacity { capacity = Int(n); continue }
            let count = Int(n)
            let rowCounts = rows.prefix(count).map { Int($0) }
            switch kind {
            case 0: return (.integer((0..<count).map { mins[$0]...maxs[$0] }), rowCounts)
            case 1:
                let ranges = (0..<count).map {
                    Double(bitPattern: UInt64(bitPattern: mins[$0]))...Double(bitPattern: UInt64(bitPattern: maxs[$0]))
                }
                return (.floatingPoint(ranges), rowCounts)
            default: return (.unavailable, rowCounts)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
