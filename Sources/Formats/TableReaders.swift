import Table

/// The table formats AstroPile reads: which reader opens which file is decided here, once, for
/// the import, fetch's catalogs and every later pipeline.
public enum InputFormat: String, Codable, Sendable, CaseIterable {
    /// Delimited text (`.csv`, `.tsv`, `.txt`, optionally `.gz`/`.bz2`), through Arrow's CSV reader.
    case csv
    /// Parquet (`.parquet`, `.pq`), through Arrow's Parquet reader.
    case parquet
    /// A FITS binary table (`.fits`, `.fit`, `.fts`, optionally `.gz`/`.bz2`), through cfitsio.
    case fits

    /// The format a file name says (`.csv`, `.csv.gz`, `.parquet`, `.fits`, `.fits.gz`, `.fit`…),
    /// or `nil` when it says none.
    public static func detect(_ path: String) -> InputFormat? {
        var name = path.lowercased()
        for suffix in [".gz", ".bz2"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        if name.hasSuffix(".csv") || name.hasSuffix(".txt") || name.hasSuffix(".tsv") { return .csv }
        if name.hasSuffix(".parquet") || name.hasSuffix(".pq") { return .parquet }
        if name.hasSuffix(".fits") || name.hasSuffix(".fit") || name.hasSuffix(".fts") { return .fits }
        return nil
    }
}

/// How to read a table file, for every format at once (each reader uses its part).
public struct TableReadOptions: Sendable {
    /// CSV parsing.
    public var csv = CSVOptions()
    /// CSV column types forced by name (others are inferred).
    public var csvTypes: Schema? = nil
    /// The FITS HDU holding the table.
    public var hdu: FITSHDUSelector = .firstTable
    /// Rows per batch (Parquet, FITS; CSV batches follow its block size).
    public var batchRows = 65_536

    /// Default options.
    public init() {}
}

/// Opens the reader for a table file.
public enum TableReaders {
    /// The format of `path`: `declared` when given, else from its name.
    /// - Throws: ``FormatError`` (`unsupported`) naming the file when its name says no format.
    public static func format(of path: String, declared: InputFormat? = nil) throws -> InputFormat {
        if let declared { return declared }
        guard let f = InputFormat.detect(path) else {
            throw FormatError(.unsupported, "cannot tell the format from the name; expected .csv, .parquet or .fits (optionally .gz/.bz2), or pass --format csv|parquet|fits", path: path)
        }
        return f
    }

    /// The names of `available` that `wanted` asks for, in `wanted` order: an exact match, else
    /// the one name equal but for case; names with neither are left out.
    public static func matching(_ wanted: [String], in available: [String]) -> [String] {
        let exact = Set(available)
        var seen = Set<String>()
        return wanted.compactMap { name -> String? in
            if exact.contains(name) { return name }
            let folded = available.filter { $0.lowercased() == name.lowercased() }
            return folded.count == 1 ? folded[0] : nil
        }.filter { seen.insert($0).inserted }
    }

    /// A streaming reader of `path` as `format`.
    ///
    /// `columns` selects columns by name where the reader can skip the others (Parquet and FITS
    /// read only those the file has, matched as ``matching(_:in:)`` does; CSV parses every column): a
    /// hint, so callers still select by name. Errors are ``FormatError``s naming the file.
    public static func open(_ path: String, format: InputFormat, options: TableReadOptions = TableReadOptions(),
                            columns: [String]? = nil) throws -> any BatchReader {
        switch format {
        case .csv:
            return try CSVFileReader(path: path, options: options.csv, types: options.csvTypes)
        case .parquet:
            var names: [String]? = nil
            if let columns { names = matching(columns, in: try ParquetFileReader.info(path: path).schema.names) }
            return try ParquetFileReader(path: path, columns: names, batchRows: options.batchRows)
        case .fits:
            return try FITSTableReader(path: path, hdu: options.hdu, columns: columns, skippingMissing: true,
                                       batchRows: options.batchRows)
        }
    }
}
