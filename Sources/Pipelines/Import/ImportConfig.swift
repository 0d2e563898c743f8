import Foundation
import Formats
import RunEngine
import Sky
import Table
import Yams

/// Everything that defines an import, from a YAML file (`--config`) and/or CLI flags.
/// Its canonical hash (``configHash``) identifies a run for resuming.
public struct ImportConfig: Codable, Sendable, Hashable {
    /// Input files or glob patterns (`*`, `?`, `[…]` in the file name part).
    public var inputs: [String]
    /// The catalog folder to write.
    public var output: String
    /// Input format; `nil` detects it from each file name.
    public var format: InputFormat?
    /// Right-ascension column (degrees), or a path to a struct's child (`candidate.ra`), which the
    /// catalog then holds as a top-level column named by its last component (``raName``): lsdb
    /// and hats find the coordinates by a top-level name (`hats_col_ra`).
    public var ra: String = "ra"
    /// Declination column (degrees), or a struct child's path, as ``ra``.
    public var dec: String = "dec"
    /// Columns to keep (all when `nil`); ra/dec are always kept.
    public var columns: [String]?
    /// The catalog's name (`obs_collection`); defaults to the output folder's name.
    public var catalogName: String?
    /// HATS `dataproduct_type`.
    public var catalogType: String = "object"
    /// Deepest partition order.
    public var highestOrder: Int = 10
    /// Shallowest partition order.
    public var lowestOrder: Int = 0
    /// Maximum rows per partition.
    public var threshold: Int64 = 1_000_000
    /// Partition at exactly this order, with no threshold.
    public var constantOrder: Int?
    /// Merge empty siblings into their parent (hats-import's `drop_empty_siblings`, default true).
    public var dropEmptySiblings: Bool = true
    /// FITS HDU to read (the first binary table by default).
    public var hdu: FITSHDUSelector?
    /// CSV parsing options.
    public var csv: CSVOptions = CSVOptions()
    /// A Parquet file whose schema gives the columns and types to use (resolves schema conflicts).
    public var schemaFile: String?
    /// Column types forced by name (`int64`, `float64`, `string`, …), for CSV parsing and for
    /// settling the schema across files.
    public var columnTypes: [String: ColumnType]?
    /// Parallel workers (default: the number of cores).
    public var jobs: Int?
    /// Memory budget in bytes (default 1 GiB).
    public var memoryBytes: Int64 = 1 << 30
    /// A folder to hold the work folder (resume state and spill files) instead of the output's
    /// parent (default: `<output>.astropile-work` beside the output).
    public var tmp: String?
    /// Parquet options for the leaves.
    public var parquet: ParquetWriteOptions = ParquetWriteOptions()
    /// Rows per batch read from an input (default 65,536); smaller for very wide rows (alerts
    /// with image cutouts are ~70 KB each).
    public var batchRows: Int?

    /// The catalog's ra column: ``ra``, or the last component of a struct path.
    public var raName: String { Self.leaf(ra) }
    /// The catalog's dec column.
    public var decName: String { Self.leaf(dec) }
    static func leaf(_ path: String) -> String { path.split(separator: ".").last.map(String.init) ?? path }

    /// A configuration with defaults for everything but inputs and output.
    public init(inputs: [String], output: String) {
        self.inputs = inputs
        self.output = output
    }

    private enum CodingKeys: String, CodingKey {
        case inputs, output, format, ra, dec, columns, catalogName, catalogType, highestOrder, lowestOrder, threshold,
             constantOrder, dropEmptySiblings, hdu, csv, schemaFile, columnTypes, jobs, memoryBytes, tmp, parquet, batchRows
    }

    /// Decodes a configuration; absent keys take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var s = ImportConfig(inputs: try c.decode([String].self, forKey: .inputs), output: try c.decode(String.self, forKey: .output))
        s.format = try c.decodeIfPresent(InputFormat.self, forKey: .format)
        s.ra = try c.decodeIfPresent(String.self, forKey: .ra) ?? s.ra
        s.dec = try c.decodeIfPresent(String.self, forKey: .dec) ?? s.dec
        s.columns = try c.decodeIfPresent([String].self, forKey: .columns)
        s.catalogName = try c.decodeIfPresent(String.self, forKey: .catalogName)
        s.catalogType = try c.decodeIfPresent(String.self, forKey: .catalogType) ?? s.catalogType
        s.highestOrder = try c.decodeIfPresent(Int.self, forKey: .highestOrder) ?? s.highestOrder
        s.lowestOrder = try c.decodeIfPresent(Int.self, forKey: .lowestOrder) ?? s.lowestOrder
        s.threshold = try c.decodeIfPresent(Int64.self, forKey: .threshold) ?? s.threshold
        s.constantOrder = try c.decodeIfPresent(Int.self, forKey: .constantOrder)
        s.dropEmptySiblings = try c.decodeIfPresent(Bool.self, forKey: .dropEmptySiblings) ?? s.dropEmptySiblings
        s.hdu = try c.decodeIfPresent(FITSHDUSelector.self, forKey: .hdu)
        s.csv = try c.decodeIfPresent(CSVOptions.self, forKey: .csv) ?? s.csv
        s.schemaFile = try c.decodeIfPresent(String.self, forKey: .schemaFile)
        s.columnTypes = try c.decodeIfPresent([String: ColumnType].self, forKey: .columnTypes)
        s.jobs = try c.decodeIfPresent(Int.self, forKey: .jobs)
        s.memoryBytes = try c.decodeIfPresent(Int64.self, forKey: .memoryBytes) ?? s.memoryBytes
        s.batchRows = try c.decodeIfPresent(Int.self, forKey: .batchRows)
        s.tmp = try c.decodeIfPresent(String.self, forKey: .tmp)
        s.parquet = try c.decodeIfPresent(ParquetWriteOptions.self, forKey: .parquet) ?? s.parquet
        self = s
    }

    /// Loads a YAML configuration file.
    public static func load(yaml path: String) throws -> ImportConfig {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        do {
            return try YAMLDecoder().decode(ImportConfig.self, from: text)
        } catch {
            throw RunError.configuration("\(path): \(error)")
        }
    }

    /// The partitioning settings.
    public var alignment: AlignmentConfig {
        AlignmentConfig(highestOrder: highestOrder, lowestOrder: lowestOrder, threshold: threshold,
                        dropEmptySiblings: dropEmptySiblings, constantOrder: constantOrder)
    }

    /// The histogram (mapping) order: the constant order, or the highest order.
    public var mappingOrder: Int { constantOrder ?? highestOrder }

    /// Worker count in effect.
    public var effectiveJobs: Int { max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount) }

    /// How the run executes (never part of the hash).
    public func runOptions(progress: Bool) -> RunOptions {
        RunOptions(jobs: jobs, tmp: tmp, progress: progress)
    }

    /// The work folder of this import.
    public func workFolder() throws -> WorkFolder { try WorkFolder(output: output, parent: tmp) }

    /// The smallest memory budget an import runs with (smaller values are raised to it).
    public static let minimumMemoryBytes: Int64 = 64 << 20

    /// Checks every setting a user can give (flags or YAML) before anything is read or written.
    /// - Throws: ``RunError/configuration(_:)`` naming the setting.
    public func validate() throws {
        func bad(_ m: String) -> RunError { RunError.configuration(m) }
        guard !inputs.isEmpty else { throw bad("give at least one input") }
        guard (0...HealpixPixel.maxOrder).contains(highestOrder), (0...HealpixPixel.maxOrder).contains(lowestOrder),
              lowestOrder <= highestOrder else {
            throw bad("orders must satisfy 0 ≤ lowest (\(lowestOrder)) ≤ highest (\(highestOrder)) ≤ \(HealpixPixel.maxOrder)")
        }
        if let k = constantOrder, !(0...HealpixPixel.maxOrder).contains(k) {
            throw bad("the constant order must be in 0...\(HealpixPixel.maxOrder), got \(k)")
        }
        guard threshold > 0 else { throw bad("the threshold must be positive, got \(threshold)") }
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw bad(problem) }
        guard memoryBytes > 0, memoryBytes <= ByteSize.maximum else {
            throw bad("the memory budget must be between 1 byte and \(ByteSize.maximum) bytes, got \(memoryBytes)")
        }
        // The histogram at the mapping order is dense (8 bytes per pixel, as hats-import's): it
        // must fit the memory budget, or a deep order would exhaust memory instead of failing here.
        let histogramBytes = 8 * Double(HealpixPixel.pixelCount(order: mappingOrder))
        guard histogramBytes <= Double(max(memoryBytes, Self.minimumMemoryBytes)) else {
            throw bad("a histogram at order \(mappingOrder) takes \(String(format: "%.3g", histogramBytes / Double(1 << 30))) GiB, more than the memory budget (--memory); lower --highest-order/--constant-order or raise --memory")
        }
        guard csv.blockSize > 0, csv.blockSize <= 1 << 30 else { throw bad("the CSV block size must be in 1...\(1 << 30) bytes") }
        guard parquet.rowGroupRows > 0 else { throw bad("the Parquet row-group size must be positive") }
        if !csv.hasHeader && csv.columnNames == nil { throw bad("a CSV without a header needs column names") }
        if case .number(let n) = hdu, n < 0 { throw bad("the FITS HDU number must be 0 or more, got \(n)") }
        guard !ra.isEmpty, !dec.isEmpty else { throw bad("the ra and dec column names must not be empty") }
        if let b = batchRows, !(1...1_048_576).contains(b) { throw bad("the rows per read batch must be in 1...1048576, got \(b)") }
    }

    /// The settings that determine the output (jobs, memory and tmp do not, nor where the
    /// output is: its location is the run's identity, not a setting), as canonical JSON.
    public var canonicalJSON: String {
        var c = self
        c.output = ""
        c.jobs = nil
        c.memoryBytes = 0
        c.tmp = nil
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(c)) ?? Data(), as: UTF8.self)
    }

    /// A stable hash of ``canonicalJSON`` (FNV-1a 64, hex): the run's identity for resuming.
    public var configHash: String { CanonicalHash.fnv1a(canonicalJSON) }

    /// A hash of only the settings the map stage depends on (inputs, columns, coordinates, parsing,
    /// mapping order): when just the threshold or the lowest order change, a stopped run keeps its
    /// spilled runs and histograms and only bins and reduces again.
    public var mapHash: String {
        var c = ImportConfig(inputs: inputs, output: "")
        c.format = format; c.ra = ra; c.dec = dec; c.columns = columns; c.hdu = hdu; c.csv = csv
        c.schemaFile = schemaFile; c.columnTypes = columnTypes
        c.highestOrder = mappingOrder; c.threshold = 0; c.lowestOrder = 0; c.dropEmptySiblings = true
        c.parquet = ParquetWriteOptions()
        return CanonicalHash.fnv1a(c.canonicalJSON)
    }
}

/// A column type a user can force by name (`--type flux=float64`).
public enum ColumnType: String, Codable, Sendable, CaseIterable {
    case int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, bool, string

    /// The Arrow type.
    public var dataType: DataType {
        switch self {
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .uint8: .uint8
        case .uint16: .uint16
        case .uint32: .uint32
        case .uint64: .uint64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        }
    }
}
