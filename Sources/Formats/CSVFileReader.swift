import CArrowShim
import CArrowData
import Table

#if canImport(Glibc)
import Glibc
#endif

/// Options for reading CSV (and other delimited text) files.
public struct CSVOptions: Codable, Sendable, Hashable {
    /// Field delimiter (one byte).
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// Whether the first line holds column names.
    public var hasHeader: Bool = true
    /// Column names to use instead of (or, without a header, in place of) the header.
    public var columnNames: [String]? = nil
    /// Block size in bytes for parsing and type inference (1 byte to ``maximumBlockSize``): no
    /// line may be longer.
    public var blockSize: Int = 16 << 20
    /// The largest block size (1 GiB; Arrow's is a 32-bit size).
    public static let maximumBlockSize = 1 << 30
    /// Creates default options.
    public init() {}
}

/// The compression of an input file, from its name.
public enum Compression: String, Codable, Sendable {
    case none, gzip, bzip2

    /// Detects `.gz` / `.bz2` suffixes.
    public init(path: String) {
        if path.hasSuffix(".gz") { self = .gzip } else if path.hasSuffix(".bz2") { self = .bzip2 } else { self = .none }
    }
}

/// A CSV row that was skipped because it had the wrong number of fields.
public struct InvalidCSVRow: Sendable, Codable, Hashable {
    /// One-based line number in the file (the header counts).
    public let line: Int
    /// Fields expected.
    public let expected: Int
    /// Fields found.
    public let actual: Int
    /// The row's text.
    public let text: String
}

/// Streams a CSV file (optionally `.gz`/`.bz2`) in record batches through Arrow's CSV reader.
/// Rows with a wrong number of fields are skipped and listed in ``invalidRows``.
public final class CSVFileReader: BatchReader {
    /// The file read.
    public let path: String
    /// Columns of every batch.
    public let schema: Schema
    private let handle: OpaquePointer
    private let blockSize: Int

    /// Opens `path`. `types` forces column types by name (others are inferred from the first
    /// block); `columns`, when given, are the only columns decoded (in that order; each must be
    /// in the file) — the others are not parsed into values nor their types inferred.
    /// - Throws: ``FormatError`` naming the file; for a line longer than the block size, one that
    ///   says so (``isLineLongerThanBlock(_:)``).
    public init(path: String, options: CSVOptions = CSVOptions(), types: Schema? = nil, columns: [String]? = nil) throws {
        self.path = path
        guard (1...CSVOptions.maximumBlockSize).contains(options.blockSize) else {
            throw FormatError(.invalidArgument, "the CSV block size must be between 1 byte and 1 GiB, got \(options.blockSize) bytes", path: path)
        }
        blockSize = options.blockSize
        var handle: OpaquePointer? = nil
        let names = options.columnNames ?? []
        let cStrings = names.map { strdup($0) }
        let cIncluded = (columns ?? []).map { strdup($0) }
        defer { cStrings.forEach { free($0) }; cIncluded.forEach { free($0) } }
        let typeSchema = types.map { s -> UnsafeMutablePointer<ArrowSchema> in
            let c = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
            ArrowCExport.export(s, to: c)
            return c
        }
        defer {
            if let typeSchema { carrow_release_schema(typeSchema); typeSchema.deallocate() }
        }
        let compression: CInt = switch Compression(path: path) {
        case .none: 0
        case .gzip: 1
        case .bzip2: 2
        }
        do {
            schema = try importSchema { schemaOut in
                try cStrings.withUnsafeBufferPointer { buf in
                    try buf.withMemoryRebound(to: UnsafePointer<CChar>?.self) { p in
                        try cIncluded.withUnsafeBufferPointer { included in
                            try included.withMemoryRebound(to: UnsafePointer<CChar>?.self) { q in
                                var o = ap_csv_options(
                                    delimiter: CChar(bitPattern: options.delimiter),
                                    has_header: options.hasHeader ? 1 : 0,
                                    column_names: names.isEmpty ? nil : p.baseAddress,
                                    n_column_names: CInt(names.count),
                                    column_types: typeSchema,
                                    compression: compression,
                                    block_size: Int64(options.blockSize),
                                    skip_invalid_rows: 1,
                                    include_columns: cIncluded.isEmpty ? nil : q.baseAddress,
                                    n_include_columns: CInt(cIncluded.count))
                                try shimCall(path: path) { err in ap_csv_reader_open(path, &o, &handle, schemaOut, err) }
                            }
                        }
                    }
                }
            }
        } catch let error as FormatError {
            throw Self.explained(error, blockSize: options.blockSize)
        }
        self.handle = handle!
    }

    deinit { ap_reader_free(handle) }

    /// The next batch, or `nil` at the end.
    /// - Throws: ``FormatError`` naming the file; for a line longer than the block size, one that
    ///   says so (``isLineLongerThanBlock(_:)``).
    public func next() throws -> RecordBatch? {
        do {
            return try importBatch(schema: schema) { out in
                var end: CInt = 0
                try shimCall(path: path) { err in ap_reader_next(handle, out, &end, err) }
                return end == 0
            }
        } catch let error as FormatError {
            throw Self.explained(error, blockSize: blockSize)
        }
    }

    /// How Arrow's chunker says a line does not fit in one block (`csv::Chunker`: "straddling
    /// object straddles two block boundaries (try to increase block size?)").
    private static let arrowStraddling = "straddling object straddles two block boundaries"
    /// How this reader says it instead.
    private static let longerThanBlock = "a line is longer than the CSV block size"

    /// Whether `error` is this reader's report of a line longer than the block size: the same
    /// file may read with a larger ``CSVOptions/blockSize``.
    public static func isLineLongerThanBlock(_ error: any Error) -> Bool {
        (error as? FormatError)?.message.hasPrefix(longerThanBlock) ?? false
    }

    /// Arrow's error, or for a line longer than the block one that says so and how to raise it.
    private static func explained(_ error: FormatError, blockSize: Int) -> FormatError {
        guard error.message.contains(arrowStraddling) else { return error }
        let size = blockSize % (1 << 20) == 0 ? "\(blockSize >> 20) MiB" : "\(blockSize) bytes"
        return FormatError(.corruptInput, "\(longerThanBlock) (\(size)); raise it with --csv-block-size (at most 1GiB, "
                           + "e.g. --csv-block-size 64MiB) or csv.blockSize in the YAML", path: error.path, location: error.location)
    }

    /// Rows skipped so far for having the wrong number of fields.
    public var invalidRows: [InvalidCSVRow] {
        (0..<ap_reader_invalid_count(handle)).map { i in
            var line: Int64 = 0
            var expected: Int32 = 0
            var actual: Int32 = 0
            var text: UnsafeMutablePointer<CChar>? = nil
            ap_reader_invalid_row(handle, i, &line, &expected, &actual, &text)
            defer { ap_string_free(text) }
            return InvalidCSVRow(line: Int(line), expected: Int(expected), actual: Int(actual),
                                 text: text.map { String(cString: $0) } ?? "")
        }
    }
}
