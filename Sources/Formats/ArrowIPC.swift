import CArrowShim
import CArrowData
import Table

/// Writes record batches to an Arrow IPC file (the import's sorted spill runs).
/// Written under a temporary name; ``close()`` renames it (after an fsync when `durable`).
public final class IPCFileWriter {
    /// The final path.
    public let path: String
    /// Schema of every batch.
    public let schema: Schema
    /// Whether ``close()`` flushes the file to disk before renaming it.
    public let durable: Bool
    private var handle: OpaquePointer?
    private let tempPath: String

    /// Creates the file. Scratch files (spill runs) pass `durable: false`: they survive a killed
    /// process without an fsync, and their readers check them on resume. `directIO`: written
    /// with O_DIRECT, bypassing the page cache (ordinary I/O where the file system refuses it).
    public init(path: String, schema: Schema, durable: Bool = true, directIO: Bool = false) throws {
        self.path = path
        self.schema = schema
        self.durable = durable
        tempPath = AtomicFile.temporaryPath(for: path)
        var h: OpaquePointer? = nil
        try withExportedSchema(schema) { s in
            try shimCall(.io, path: path) { err in ap_ipc_writer_open(tempPath, s, directIO ? 1 : 0, &h, err) }
        }
        handle = h
    }

    deinit {
        if let handle {
            ap_ipc_writer_free(handle)
            AtomicFile.remove(tempPath)
        }
    }

    /// Appends a batch.
    public func write(_ batch: RecordBatch) throws {
        guard let handle else { throw FormatError(.invalidArgument, "write after close", path: path) }
        try withExportedBatch(batch) { a in
            try shimCall(.io, path: path) { err in ap_ipc_writer_write(handle, a, err) }
        }
    }

    /// Finishes, fsyncs and renames the file.
    public func close() throws {
        guard let h = handle else { return }
        handle = nil
        defer { ap_ipc_writer_free(h) }
        try shimCall(.io, path: path) { err in ap_ipc_writer_close(h, err) }
        try AtomicFile.commit(temporary: tempPath, to: path, durable: durable)
    }
}

/// A memory-mapped Arrow IPC file with random access to its batches.
public final class IPCFile: @unchecked Sendable {
    /// The file.
    public let path: String
    /// Schema of every batch.
    public let schema: Schema
    /// Number of batches.
    public let batchCount: Int
    private let handle: OpaquePointer

    /// Opens `path`. `directIO`: each batch read with O_DIRECT, not through the page cache
    /// (for a file read once, in order).
    public init(path: String, directIO: Bool = false) throws {
        self.path = path
        var h: OpaquePointer? = nil
        var n: CInt = 0
        schema = try importSchema { out in
            try shimCall(path: path) { err in ap_ipc_file_open(path, directIO ? 1 : 0, &h, out, &n, err) }
        }
        handle = h!
        batchCount = Int(n)
    }

    deinit { ap_ipc_file_free(handle) }

    /// Batch `index` (zero-copy from the mapping).
    public func batch(_ index: Int) throws -> RecordBatch {
        try importBatch(schema: schema) { out in
            try shimCall(path: path) { err in ap_ipc_file_read(handle, CInt(index), out, err) }
            return true
        }!
    }
}

/// Record batches held together as one chunked Arrow table (zero-copy), from which rows are
/// taken repeatedly — the reduce stage's k-way merge writes a leaf one row group at a time.
public final class ChunkedTable {
    /// Columns of the table.
    public let schema: Schema
    private let handle: OpaquePointer

    /// Holds `batches` (all of `schema`).
    public init(_ batches: [RecordBatch], schema: Schema) throws {
        self.schema = schema
        let arrays = UnsafeMutablePointer<ArrowArray>.allocate(capacity: max(batches.count, 1))
        for (i, b) in batches.enumerated() { ArrowCExport.export(b, to: arrays + i) }
        defer {
            for i in 0..<batches.count { carrow_release_array(arrays + i) }
            arrays.deallocate()
        }
        var h: OpaquePointer? = nil
        try withExportedSchema(schema) { s in
            try shimCall(.invalidArgument) { err in ap_table_make(s, arrays, CInt(batches.count), &h, err) }
        }
        handle = h!
    }

    deinit { ap_table_free(handle) }

    /// Rows at `indices` (positions in the concatenation of the batches), as one batch.
    public func take(_ indices: UnsafeBufferPointer<Int64>) throws -> RecordBatch {
        try importBatch(schema: schema) { out in
            try shimCall(.invalidArgument) { err in ap_table_take(handle, indices.baseAddress, Int64(indices.count), out, err) }
            return true
        }!
    }

    /// Rows at `indices` as one batch, where a negative index gives a row of nulls (every
    /// column of the result is then nullable).
    public func takeOrNull(_ indices: UnsafeBufferPointer<Int64>) throws -> RecordBatch {
        let nullable = Schema(schema.fields.map { var f = $0; f.nullable = true; return f }, metadata: schema.metadata)
        return try importBatch(schema: nullable) { out in
            try shimCall(.invalidArgument) { err in
                ap_table_take_or_null(handle, indices.baseAddress, Int64(indices.count), out, err)
            }
            return true
        }!
    }
}

/// Arrow compute kernels AstroPile uses (through the shim).
public enum ArrowCompute {
    /// Casts `batch` to `target`: columns are cast by name (e.g. int64 → float64); target
    /// columns missing from the batch become all-null.
    public static func cast(_ batch: RecordBatch, to target: Schema) throws -> RecordBatch {
        try withExportedSchema(batch.schema) { s in
            try withExportedBatch(batch) { a in
                try withExportedSchema(target) { t in
                    try importBatch(schema: target) { out in
                        try shimCall(.invalidArgument) { err in ap_cast_batch(s, a, t, out, err) }
                        return true
                    }!
                }
            }
        }
    }

    /// Arrow C++'s version.
    public static var arrowVersion: String { String(cString: ap_arrow_version()) }
}
