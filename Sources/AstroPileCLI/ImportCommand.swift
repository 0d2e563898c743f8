import ArgumentParser
import Foundation
import Formats
import Pipelines
import RunEngine

/// `astropile import`: catalogs (CSV, Parquet, FITS) → a HATS catalog.
struct ImportCommand: ParsableCommand, StatusReturningCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import catalogs (CSV, Parquet, FITS) into a HATS catalog that lsdb and hats open.",
        discussion: """
            Reads every input once, partitions rows by HEALPix (nested, _healpix_29 at order 29) exactly \
            as hats-import does, and writes dataset/Norder=K/Dir=D/Npix=N.parquet plus the HATS metadata. \
            Re-running the same command after a crash or Ctrl-C continues where it stopped; after success \
            it does nothing. Bad files and rows are skipped and listed in <output>/astropile_report.json.
            Exit status: 0 all rows placed, 3 completed with rejected rows or files, 1 failed (or the disk filled up), \
            2 usage error, 130 interrupted (re-run to continue).
            """)

    @Option(name: .long, help: "Input files, folders or glob patterns; `**` matches any number of folders (repeat or comma-separate; quote globs).")
    var input: [String] = []

    @Option(name: .long, help: "The catalog folder to write.")
    var output: String?

    @Option(name: .long, help: "A YAML file with the same settings (flags given here override it).")
    var config: String?

    @Option(name: .long, help: "Right-ascension column, degrees (default: ra).")
    var ra: String?

    @Option(name: .long, help: "Declination column, degrees (default: dec).")
    var dec: String?

    @Option(name: .long, help: "Maximum rows per partition (default: 1000000).")
    var threshold: Int64?

    @Option(name: .long, help: "Deepest HEALPix order of a partition (default: 10).")
    var highestOrder: Int?

    @Option(name: .long, help: "Shallowest HEALPix order of a partition (default: 0).")
    var lowestOrder: Int?

    @Option(name: .long, help: "Partition at exactly this order (ignores the threshold).")
    var constantOrder: Int?

    @Option(name: .long, help: "Merge all-but-empty sibling groups into the parent as hats-import does: true|false (default: true).")
    var dropEmptySiblings: Bool?

    @Option(name: .long, help: "Columns to keep, comma-separated (ra/dec are always kept).")
    var columns: String?

    @Option(name: .long, help: "FITS HDU: a number (1 = first extension) or an EXTNAME (default: the first binary table).")
    var hdu: String?

    @Option(name: .long, help: "Input format: csv, parquet or fits (default: from each file name).")
    var format: InputFormat?

    @Option(name: .long, help: "CSV field delimiter (default: ',').")
    var delimiter: String?

    @Option(name: .long, help: "A Parquet file whose schema gives the columns and types to use (resolves schema conflicts).")
    var schema: String?

    @Option(name: .customLong("type"), help: "Force a column's type, e.g. --type flux=float64 (repeatable; int8…int64, uint8…uint64, float32, float64, bool, string).")
    var types: [String] = []

    @Flag(name: .long, help: "CSV files have no header row (give --column-names).")
    var noHeader = false

    @Option(name: .long, help: "CSV column names, comma-separated (replace the header, or name headerless columns).")
    var columnNames: String?

    @Option(name: .long, help: "CSV block size, e.g. 64MiB: no line may be longer (default: 16MiB; at most 1GiB).")
    var csvBlockSize: String?

    @Option(name: .long, help: "The catalog's name (obs_collection; default: the output folder's name).")
    var catalogName: String?

    @Option(name: .long, help: "HATS dataproduct_type: object (one row per object) or source (detections) (default: object).")
    var catalogType: CatalogType?

    @Option(name: .long, help: "Memory budget, e.g. 4GiB (default: 1GiB; at least 64MiB is used).")
    var memory: String?

    @OptionGroup var runOptions: RunOptionsGroup

    @Option(name: .customLong("index"), help: "Also build an index catalog of this identifier column, <output>_index_<column>, for astropile lookup (repeatable).")
    var indexColumns: [String] = []

    func makeConfig() throws -> ImportConfig {
        var c: ImportConfig
        if let config {
            do { c = try ImportConfig.load(yaml: config) } catch { throw ValidationError("--config: \(error)") }
            if !input.isEmpty { c.inputs = splitList(input) }
            if let output { c.output = output }
        } else {
            guard !input.isEmpty else { throw ValidationError("give --input (or --config FILE.yaml)") }
            guard let output else { throw ValidationError("give --output (or --config FILE.yaml)") }
            c = ImportConfig(inputs: splitList(input), output: output)
        }
        if let ra { c.ra = ra }
        if let dec { c.dec = dec }
        if let threshold { c.threshold = threshold }
        if let highestOrder { c.highestOrder = highestOrder }
        if let lowestOrder { c.lowestOrder = lowestOrder }
        if let constantOrder { c.constantOrder = constantOrder }
        if let dropEmptySiblings { c.dropEmptySiblings = dropEmptySiblings }
        if let columns { c.columns = columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let hdu { c.hdu = Int(hdu).map { .number($0) } ?? .name(hdu) }
        if let format { c.format = format }
        if let delimiter {
            guard delimiter.utf8.count == 1, let byte = delimiter.utf8.first else { throw ValidationError("--delimiter must be one byte") }
            c.csv.delimiter = byte
        }
        if let schema { c.schemaFile = schema }
        if !types.isEmpty {
            var map = c.columnTypes ?? [:]
            for t in types {
                let parts = t.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let type = ColumnType(rawValue: parts[1].lowercased()) else {
                    throw ValidationError("--type \(t): expected COLUMN=TYPE with TYPE one of \(ColumnType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                map[parts[0]] = type
            }
            c.columnTypes = map
        }
        if noHeader { c.csv.hasHeader = false }
        if let columnNames { c.csv.columnNames = columnNames.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let csvBlockSize {
            guard let bytes = ByteSize.parse(csvBlockSize), bytes > 0, bytes <= Int64(CSVOptions.maximumBlockSize) else {
                throw ValidationError("--csv-block-size: cannot read '\(csvBlockSize)' as a size between 1 byte and 1GiB (e.g. 64MiB)")
            }
            // invariant: at most 1 GiB, an Int on every platform Swift runs on.
            c.csv.blockSize = Int(bytes)
        }
        if !c.csv.hasHeader && c.csv.columnNames == nil {
            throw ValidationError("--no-header needs --column-names")
        }
        if let catalogName { c.catalogName = catalogName }
        if let catalogType { c.catalogType = catalogType.rawValue }
        if let jobs = runOptions.jobs { c.jobs = jobs }
        if let memory {
            guard let bytes = ByteSize.parse(memory), bytes > 0 else {
                throw ValidationError("--memory: cannot read '\(memory)' as a size between 1 byte and 1EiB (e.g. 4GiB)")
            }
            c.memoryBytes = bytes
        }
        if let tmp = runOptions.tmp { c.tmp = tmp }
        return c
    }

    func splitList(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",").map(String.init) }
    }

    func run() throws {
        _ = try runReturningStatus()
    }

    func runReturningStatus() throws -> ExitStatus {
        let config = try makeConfig()
        Interruption.install()
        let outcome = try ImportPipeline(config: config, showProgress: !runOptions.quiet).run()
        switch outcome {
        case .alreadyComplete(let report):
            FileHandle.standardError.write(Data("astropile: \(config.output) is already complete with these settings; nothing to do.\n\(report.summary)\n".utf8))
        case .written(let report):
            FileHandle.standardError.write(Data((report.summary + "\n").utf8))
        }
        for column in indexColumns {
            let path = IndexCatalog.defaultPath(catalog: config.output, column: column)
            if outcome.wasAlreadyComplete && FileManager.default.fileExists(atPath: path + "/hats.properties") { continue }
            try IndexCatalog.build(catalog: config.output, column: column)
            FileHandle.standardError.write(Data("index of \(column): \(path)\n".utf8))
        }
        return outcome.report.exitStatus
    }
}

extension InputFormat: ExpressibleByArgument {}

/// The HATS `dataproduct_type` of an imported catalog.
enum CatalogType: String, ExpressibleByArgument, CaseIterable {
    case object, source
}
