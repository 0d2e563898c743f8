import CArrowShim
import CArrowData
import Table

/// Parquet compression codecs.
public enum ParquetCompression: String, Codable, Sendable {
    case none, snappy, zstd, gzip, lz4

    var code: CInt {
        switch self {
        case .none: 0
        case .snappy: 1
        case .zstd: 2
        case .gzip: 3
        case .lz4: 4
        }
    }
}

/// How Parquet files are written.
public struct ParquetWriteOptions: Codable, Sendable, Hashable {
    /// Compression codec (zstd by default).
    public var compression: ParquetCompression = .zstd
    /// Codec level, or `nil` for the codec's default.
    public var compressionLevel: Int? = nil
    /// Maximum rows per row group (fixed, so outputs are deterministic).
    public var rowGroupRows: Int = 131_072
    /// Whether to write column statistics (min/max/nulls), used by readers to skip row groups.
    public var statistics: Bool = true
    /// Whether to declare the row groups sorted by the first column (HATS leaves are sorted by
    /// `_healpix_29`, and hats-import declares it as Parquet `sorting_columns`).
    public var sortedByFirstColumn: Bool = false
    /// Creates default options.
    public init() {}
}

/// Writes record batches to one Parquet file through `parquet::arrow::FileWriter`.
///
/// Writes go to `<path>.tmp-<pid>`; ``close()`` flushes, fsyncs and renames onto `path`, so the
/// final path only ever holds a complete file.
public final class ParquetFileWriter {
    /// The final path.
    public let path: String
    /// The schema every batch must have.
    public let schema: Schema
    private var handle: OpaquePointer?
    private let tempPath: String

    /// Creates the file (under a temporary name until ``close()``).
    /// - Parameter directIO: write with O_DIRECT, bypassing the page cache (for large files
    ///   nobody reads soon; ordinary I/O where the file system refuses it).
    public init(path: String, schema: Schema, options: ParquetWriteOptions = ParquetWriteOptions(), directIO: Bool = false) throws {
        self.path = path
        self.schema = schema
        tempPath = AtomicFile.temporaryPath(for: path)
        var h: OpaquePointer? = nil
        var o = ap_parquet_write_options(compression: options.compression.code,
                                         compression_level: CInt(options.compressionLevel ?? 0),
                                         row_group_rows: Int64(options.rowGroupRows),
                                         write_statistics: options.statistics ? 1 : 0,
                                         sorted_by_first_column: options.sortedByFirstColumn ? 1 : 0,
                                         direct_io: directIO ? 1 : 0)
        try withExportedSchema(schema) { s in
            try shimCall(.io, path: path) { err in ap_parquet_writer_open(tempPath, s, &o, &h, err) }
        }
        handle = h
    }

    deinit {
        if let handle {
            ap_parquet_writer_free(handle)
            AtomicFile.remove(tempPath)
        }
    }

    /// Appends a batch (row groups are cut at the configured size).
    public func write(_ batch: RecordBatch) throws {
        guard let handle else { throw FormatError(.invalidArgument, "write after close", path: path) }
        try withExportedBatch(batch) { a in
            try shimCall(.io, path: path) { err in ap_parquet_writer_write(handle, a, err) }
        }
    }

    /// Finishes the file: footer, fsync, rename onto the final path. With `durable: false` the
    /// fsyncs are left out (the rename is still atomic for readers and a killed process): for a
    /// batch of files made durable together (``AtomicFile/flushAll()``) before they are recorded.
    public func close(durable: Bool = true) throws {
        guard let h = handle else { return }
        handle = nil
        defer { ap_parquet_writer_free(h) }
        do {
            try shimCall(.io, path: path) { err in ap_parquet_writer_close(h, err) }
            try AtomicFile.commit(temporary: tempPath, to: path, durable: durable)
        } catch {
            AtomicFile.remove(tempPath)
            throw error
        }
    }

    /// Writes one whole table in one call.
    public static func write(_ batches: [RecordBatch], schema: Schema, to path: String,
                             options: ParquetWriteOptions = ParquetWriteOptions(), durable: Bool = true) throws {
        let w = try ParquetFileWriter(path: path, schema: schema, options: options)
        for b in batches { try w.write(b) }
        try w.close(durable: durable)
    }

    /// Writes a dataset's `_metadata` (every leaf's row groups, paths relative to the dataset
    /// folder) and `_common_metadata` (schema only), atomically.
    public static func writeDatasetMetadata(leaves: [(path: String, relativePath: String)], schema: Schema,
                                            metadataPath: String, commonMetadataPath: String) throws {
        let tmpMeta = AtomicFile.temporaryPath(for: metadataPath)
        let tmpCommon = AtomicFile.temporaryPath(for: commonMetadataPath)
        let paths = leaves.map { strdup($0.path) }
        let rels = leaves.map { strdup($0.relativePath) }
        defer { paths.forEach { free($0) }; rels.forEach { free($0) } }
        try paths.withUnsafeBufferPointer { p in
            try rels.withUnsafeBufferPointer { r in
                try p.withMemoryRebound(to: UnsafePointer<CChar>?.self) { pp in
                    try r.withMemoryRebound(to: UnsafePointer<CChar>?.self) { rr in
                        try withExportedSchema(schema) { s in
                            try shimCall(.io, path: metadataPath) { err in
                                ap_parquet_write_dataset_metadata(pp.baseAddress, rr.baseAddress, CInt(leaves.count), s,
                                                                  tmpMeta, tmpCommon, err)
                            }
                        }
                    }
                }
            }
        }
        try AtomicFile.commit(temporary: tmpMeta, to: metadataPath)
        try AtomicFile.commit(temporary: tmpCommon, to: commonMetadataPath)
    }
}

#if canImport(Glibc)
import Glibc
#endif
