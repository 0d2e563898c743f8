import Foundation
import Formats
import RunEngine
import Sky
import Table

/// An identifier value to look up: an integer or a string, matched against a column of the
/// same kind.
public enum LookupValue: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// An integer identifier (any integer column, compared as int64).
    case integer(Int64)
    /// A string identifier.
    case string(String)

    public var description: String {
        switch self {
        case .integer(let v): String(v)
        case .string(let s): s
        }
    }
}

/// A column's values read as identifiers: integers widened to int64, or strings.
enum IdentifierColumn {
    case integers([Int64], valid: [Bool]?)
    case strings([String?])

    /// Reads `column` of `batch`; `nil` when the type is neither integer nor string.
    static func read(_ batch: RecordBatch, _ column: String) throws -> IdentifierColumn? {
        guard let index = batch.schema.index(of: column) else { return nil }
        let data = batch.columns[index]
        switch data.type {
        case .int64:
            let v = Array(data.values(Int64.self))
            return .integers(v, valid: data.nullCount == 0 ? nil : (0..<data.length).map(data.isValid))
        case .int8, .int16, .int32, .uint8, .uint16, .uint32, .uint64:
            var f = batch.schema.fields[index]
            f.type = .int64
            let cast = try ArrowCompute.cast(batch.selecting([index]), to: Schema([f]))
            return try read(cast, column)
        case .string, .largeString:
            return .strings((0..<data.length).map { data.string(at: $0) })
        default:
            return nil
        }
    }

    /// The value at row `i` (nil when null).
    func value(_ i: Int) -> LookupValue? {
        switch self {
        case .integers(let v, let valid): valid?[i] == false ? nil : .integer(v[i])
        case .strings(let s): s[i].map(LookupValue.string)
        }
    }

    var count: Int {
        switch self {
        case .integers(let v, _): v.count
        case .strings(let s): s.count
        }
    }
}

/// HATS index catalogs (`dataproduct_type=index`): one row per (value, partition) of a column
/// of a primary catalog, sorted by value, so that a lookup reads the one or two row groups
/// holding the value and then only the partitions it names.
///
/// Layout (as hats-import writes index catalogs): `dataset/index/part.0.parquet` with the
/// indexed column, `Norder` (uint8) and `Npix` (uint64); `hats_index_column` and
/// `hats_primary_table_url` in the properties.
public enum IndexCatalog {
    /// The default folder of the index of `column`: `<catalog>_index_<column>` beside it.
    public static func defaultPath(catalog: String, column: String) -> String {
        let trimmed = catalog.hasSuffix("/") ? String(catalog.dropLast()) : catalog
        return "\(trimmed)_index_\(column)"
    }

    /// Builds the index of `column` of the catalog at `catalogPath`; returns its folder.
    @discardableResult
    public static func build(catalog catalogPath: String, column: String, output: String? = nil) throws -> String {
        let catalog = try HATSCatalog.open(catalogPath)
        let root = output ?? defaultPath(catalog: catalog.root, column: column)
        let schema = try catalog.schema()
        guard let field = schema.fields.first(where: { $0.name == column }) else {
            throw RunError.configuration("\(catalog.root) has no column \(column)")
        }
        // The index is complete when its properties exist: an older index being rebuilt is not.
        let layout = HATSLayout(root: root)
        AtomicFile.remove(layout.propertiesFile)
        AtomicFile.remove(layout.legacyPropertiesFile)
        var ints: [Int64] = [], strings: [String] = [], orders: [UInt8] = [], pixels: [UInt64] = []
        var isString = false
        for pixel in catalog.partitions.pixels {
            try Interruption.check()
            let reader = try ParquetFileReader(path: catalog.leafPath(pixel), columns: [column])
            while let batch = try reader.next() {
                guard let ids = try IdentifierColumn.read(batch, column) else {
                    throw RunError.configuration("column \(column) has type \(field.type); only integer and string columns can be indexed")
                }
                var seen = Set<LookupValue>()  // one index row per (value, partition)
                for i in 0..<ids.count {
                    guard let v = ids.value(i), seen.insert(v).inserted else { continue }
                    switch v {
                    case .integer(let x): ints.append(x)
                    case .string(let s): strings.append(s); isString = true
                    }
                    orders.append(UInt8(pixel.order))
                    pixels.append(UInt64(pixel.index))
                }
            }
        }
        let count = orders.count
        let order: [Int] = isString
            ? (0..<count).sorted { strings[$0] != strings[$1] ? strings[$0] < strings[$1] : $0 < $1 }
            : (0..<count).sorted { ints[$0] != ints[$1] ? ints[$0] < ints[$1] : $0 < $1 }
        let valueColumn: ArrayData = isString ? .strings(order.map { strings[$0] }) : .primitive(.int64, order.map { ints[$0] })
        let outSchema = Schema([Field(column, isString ? .string : .int64, nullable: false),
                                Field("Norder", .uint8, nullable: false), Field("Npix", .uint64, nullable: false)])
        let batch = RecordBatch(schema: outSchema, columns: [valueColumn, .primitive(.uint8, order.map { orders[$0] }),
                                                             .primitive(.uint64, order.map { pixels[$0] })], length: count)
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/dataset/index", withIntermediateDirectories: true)
        var options = ParquetWriteOptions()
        options.rowGroupRows = 65_536
        options.sortedByFirstColumn = true
        let file = root + "/dataset/index/part.0.parquet"
        try ParquetFileWriter.write([batch], schema: outSchema, to: file, options: options)
        try ParquetFileWriter.writeDatasetMetadata(leaves: [(path: file, relativePath: "index/part.0.parquet")], schema: outSchema,
                                                   metadataPath: layout.metadataFile, commonMetadataPath: layout.commonMetadataFile)
        try HATSCatalogWriter.writeProperties([
            ("obs_collection", URL(fileURLWithPath: root).lastPathComponent),
            ("dataproduct_type", HATSCatalogType.index.rawValue),
            ("hats_nrows", "\(count)"),
            ("hats_primary_table_url", catalog.absoluteRoot),
            ("hats_index_column", column),
            ("hats_builder", "astropile v\(AstroPileVersion.string)"),
            ("hats_creation_date", UTCTime.hatsMinute()),
            ("hats_version", "v1.0"),
        ], directory: root)
        return root
    }
}
