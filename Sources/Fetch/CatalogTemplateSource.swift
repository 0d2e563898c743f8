import Foundation
import Formats
import RunEngine
import Table

/// URLs from a catalog (CSV, FITS binary table or Parquet): each row fills one or more URL
/// templates; rows with a null in a used column are skipped and counted; duplicates (many objects
/// share a frame) are dropped, keeping the first.
public struct CatalogTemplateSource: Sendable {
    /// The catalog file.
    public var catalog: String
    /// The templates; every row fills each of them (SDSS frames: one per band).
    public var templates: [URLTemplate]
    /// Extra fields known for every row (`base`, `band`, …), used when the catalog has no such column.
    public var constants: [[String: TemplateValue]]
    /// The base URL's path, dropped from the front of each URL path to give the path under the
    /// destination (`/sas` for SDSS).
    public var basePath: String
    /// The FITS HDU to read.
    public var hdu: FITSHDUSelector
    /// Fields computed from other fields when the catalog has no such column (SDSS spectra:
    /// `run2d` from the plate number).
    public var derived: [String: DerivedField]

    /// A field computed from the row's other fields (looked up by name; `nil` if null/absent).
    public typealias DerivedField = @Sendable (_ lookup: (String) -> TemplateValue?) -> TemplateValue?

    /// A source with one set of constants per template expansion (`constants` may be `[[:]]`).
    public init(catalog: String, templates: [URLTemplate], constants: [[String: TemplateValue]] = [[:]],
                basePath: String = "", hdu: FITSHDUSelector = .firstTable, derived: [String: DerivedField] = [:]) {
        self.catalog = catalog
        self.templates = templates
        self.constants = constants.isEmpty ? [[:]] : constants
        self.basePath = basePath
        self.hdu = hdu
        self.derived = Dictionary(derived.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// What reading the catalog gave.
    public struct Result: Sendable {
        /// Unique files, in first-seen order.
        public var items: [FetchItem]
        /// Catalog rows read.
        public var rows: Int
        /// Rows skipped for a null in a used column.
        public var skippedRows: Int
        /// URLs before deduplication.
        public var urls: Int
    }

    /// Columns the derived fields may read (read when the catalog has them).
    public var derivedInputs: Set<String> = []

    /// Reads the catalog and fills the templates.
    public func items() throws -> Result {
        guard FileManager.default.fileExists(atPath: catalog) else {
            throw FetchError.input(catalog, reason: "no such file")
        }
        let needed = Set(templates.flatMap(\.fieldNames).map { $0.lowercased() })
        let constantNames = Set(constants.flatMap(\.keys).map { $0.lowercased() })
        let reader = try openReader(columnsFrom: needed.union(derivedInputs))
        let available = Dictionary(reader.schema.names.map { ($0.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        let fromCatalog = needed.union(derivedInputs).filter { available[$0] != nil }
        let missing = needed.subtracting(fromCatalog).subtracting(constantNames).subtracting(derived.keys)
        guard missing.isEmpty else {
            throw FetchError.input(catalog, reason: "no column \(missing.sorted().joined(separator: ", ")) for the URL template (columns: \(reader.schema.names.joined(separator: ", ")))")
        }
        var result = Result(items: [], rows: 0, skippedRows: 0, urls: 0)
        var collector = FetchItemCollector()
        while let batch = try reader.next() {
            var columns: [String: ColumnValues] = [:]
            for name in fromCatalog {
                let column = batch.column(available[name]!)!
                guard let values = ColumnValues(column) else {
                    throw FetchError.input(catalog, reason: "column \(available[name]!) has type \(column.type), not a number or text")
                }
                columns[name] = values
            }
            for row in 0..<batch.length {
                var anyNull = false
                for constantSet in constants {
                    for template in templates {
                        func lookup(_ name: String) -> TemplateValue? {
                            let key = name.lowercased()
                            if let c = columns[key] {
                                let v = c.value(row)
                                if v == nil { anyNull = true }
                                return v
                            }
                            if let v = constantSet.first(where: { $0.key.lowercased() == key })?.value { return v }
                            return derived[key]?(lookup)
                        }
                        let url = try template.render(lookup)
                        guard let url else { continue }
                        result.urls += 1
                        try collector.add(url) { try URLPath.relativePath(for: url, stripPrefix: basePath) }
                    }
                }
                if anyNull { result.skippedRows += 1 }
            }
            result.rows += batch.length
        }
        result.items = collector.items
        return result
    }

    private func openReader(columnsFrom needed: Set<String>) throws -> any BatchReader {
        do {
            switch InputFormat.detect(catalog) {
            case .csv: return try CSVFileReader(path: catalog)
            case .parquet:
                let names = try ParquetFileReader.info(path: catalog).schema.names.filter { needed.contains($0.lowercased()) }
                return try ParquetFileReader(path: catalog, columns: names)
            case .fits:
                let all = try FITSTableReader(path: catalog, hdu: hdu, columns: nil, batchRows: 1).schema.names
                return try FITSTableReader(path: catalog, hdu: hdu, columns: all.filter { needed.contains($0.lowercased()) })
            case nil:
                throw FetchError.input(catalog, reason: "unknown catalog format (expected .csv, .parquet or .fits, optionally .gz/.bz2)")
            }
        } catch let e as FetchError { throw e } catch {
            throw FetchError.input(catalog, reason: "\(error)")
        }
    }
}

/// Row access to one column for template values.
struct ColumnValues {
    let value: (Int) -> TemplateValue?

    init?(_ c: ArrayData) {
        func ints<T: BinaryInteger>(_ t: T.Type) -> (Int) -> TemplateValue? {
            let v = c.values(T.self)
            // A uint64 past Int64.max (2^63 and up) is kept as its digits, not trapped on.
            return { i in c.isValid(i) ? (Int64(exactly: v[i]).map { .integer($0) } ?? .text(String(v[i]))) : nil }
        }
        switch c.type {
        case .int8: value = ints(Int8.self)
        case .int16: value = ints(Int16.self)
        case .int32: value = ints(Int32.self)
        case .int64: value = ints(Int64.self)
        case .uint8: value = ints(UInt8.self)
        case .uint16: value = ints(UInt16.self)
        case .uint32: value = ints(UInt32.self)
        case .uint64: value = ints(UInt64.self)
        case .float32:
            let v = c.values(Float.self)
            value = { c.isValid($0) && v[$0].isFinite ? .real(Double(v[$0])) : nil }
        case .float64:
            let v = c.values(Double.self)
            value = { c.isValid($0) && v[$0].isFinite ? .real(v[$0]) : nil }
        case .string, .largeString, .binary, .largeBinary:
            value = { c.string(at: $0).map { .text($0.trimmingCharacters(in: .whitespaces)) } }
        default: return nil
        }
    }
}
