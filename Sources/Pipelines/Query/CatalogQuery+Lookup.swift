import Foundation
import Formats
import RunEngine
import Sky
import Table

extension CatalogQuery {
    /// The rows of a catalog whose `column` equals one of `values` (text, parsed by the column's
    /// type). With an index catalog (`index`, or `<catalog>_index_<column>` beside the catalog)
    /// only the partitions it names are read; without one every partition is, each pruned by its
    /// row groups' statistics of `column`.
    public static func lookup(column: String, values: [String], in catalogPath: String, index: String? = nil,
                              columns: [String]? = nil, output: QueryOutput) throws -> (report: QueryReport, usedIndex: String?) {
        let catalog = try HATSCatalog.open(catalogPath)
        let schema = try catalog.schema()
        guard let field = schema.fields.first(where: { $0.name == column }) else {
            throw RunError.configuration("\(catalog.root) has no column \(column)")
        }
        let wanted: Set<LookupValue> = try Set(values.map { text in
            switch field.type {
            case .string, .largeString: return .string(text)
            case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64:
                guard let v = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                    throw RunError.configuration("\(column) holds integers; '\(text)' is not one")
                }
                return .integer(v)
            default:
                throw RunError.configuration("\(column) has type \(field.type); lookups work on integer and string columns")
            }
        })
        let indexPath = index ?? {
            let p = IndexCatalog.defaultPath(catalog: catalog.root, column: column)
            return FileManager.default.fileExists(atPath: p + "/hats.properties") ? p : nil
        }()
        var partitions = catalog.partitions.pixels
        if let indexPath {
            let indexCatalog = try HATSCatalog.open(indexPath)
            guard indexCatalog.type == .index, indexCatalog.property("hats_index_column") == column else {
                throw RunError.configuration("\(indexPath) is not an index catalog of \(column)")
            }
            var named = Set<HealpixPixel>()
            for file in try indexFiles(indexPath) {
                try scan(file, column: column, columns: [column, "Norder", "Npix"], wanted: wanted) { batch, rows in
                    guard let o = batch.column("Norder").flatMap(Self.exactIntegers),
                          let n = batch.column("Npix").flatMap(Self.exactIntegers) else {
                        throw CatalogError.notACatalog(indexPath, "\(file) lacks integer Norder/Npix columns")
                    }
                    for r in rows {
                        let order = o[Int(r)], index = n[Int(r)]
                        guard let order, let index, order >= 0, order <= Int64(HealpixPixel.maxOrder),
                              let pixel = HealpixPixel(checkedOrder: Int(order), index: index) else {
                            throw CatalogError.notACatalog(indexPath, "\(file) row \(r): (Norder \(o[Int(r)].map(String.init) ?? "null"), Npix \(n[Int(r)].map(String.init) ?? "null")) is not a pixel")
                        }
                        named.insert(pixel)
                    }
                }
            }
            partitions = partitions.filter(named.contains)
        }
        let readColumns = try selectedColumns(columns, required: [catalog.raColumn, catalog.decColumn, column], schema: schema,
                                              root: catalog.root)
        let sink = try QuerySink(output: output, schema: Schema(readColumns.map { schema.fields[schema.index(of: $0)!] }))
        var report = QueryReport(rows: 0, partitions: catalog.partitions.count, partitionsRead: 0, rowGroups: 0, rowGroupsRead: 0)
        for pixel in partitions {
            try Interruption.check()
            let counts = try scan(catalog.leafPath(pixel), column: column, columns: readColumns, wanted: wanted) { batch, rows in
                try sink.write(batch, rows: rows)
                report.rows += Int64(rows.count)
            }
            report.partitionsRead += 1
            report.rowGroups += counts.groups
            report.rowGroupsRead += counts.read
        }
        try sink.close()
        return (report, indexPath)
    }

    /// An integer column's values, exactly (`nil` entries for nulls and for unsigned values above
    /// `Int64.max`); `nil` when the column is not an integer column.
    static func exactIntegers(_ c: ArrayData) -> [Int64?]? {
        func read<T: BinaryInteger>(_ t: T.Type) -> [Int64?] {
            let v = c.values(T.self)
            return (0..<c.length).map { c.isValid($0) ? Int64(exactly: v[$0]) : nil }
        }
        switch c.type {
        case .int8: return read(Int8.self)
        case .int16: return read(Int16.self)
        case .int32: return read(Int32.self)
        case .int64: return read(Int64.self)
        case .uint8: return read(UInt8.self)
        case .uint16: return read(UInt16.self)
        case .uint32: return read(UInt32.self)
        case .uint64: return read(UInt64.self)
        default: return nil
        }
    }

    /// The Parquet files of an index catalog's `dataset/`.
    static func indexFiles(_ root: String) throws -> [String] {
        let base = root + "/dataset"
        guard let e = FileManager.default.enumerator(atPath: base) else { throw CatalogError.notACatalog(root, "no dataset folder") }
        var files: [String] = []
        while let item = e.nextObject() as? String {
            if item.hasSuffix(".parquet") { files.append(base + "/" + item) }
        }
        return files.sorted()
    }

    /// Reads the row groups of `path` whose statistics of `column` may hold a wanted value and
    /// calls `body` with each batch and the positions of its matching rows.
    @discardableResult
    static func scan(_ path: String, column: String, columns: [String], wanted: Set<LookupValue>,
                     _ body: (RecordBatch, [Int64]) throws -> Void) throws -> (groups: Int, read: Int) {
        let (stats, groupRows) = try CatalogError.reading(path) { try ParquetFileReader.rowGroupStatistics(path: path, column: column) }
        var groups = Array(groupRows.indices)
        if case .integer(let ranges) = stats {
            let ints = wanted.compactMap { if case .integer(let v) = $0 { v } else { nil } }
            groups = groups.filter { g in ints.contains { ranges[g].contains($0) } }
        }
        guard !groups.isEmpty else { return (groupRows.count, 0) }
        let reader = try CatalogError.reading(path) { try ParquetFileReader(path: path, columns: columns, rowGroups: groups) }
        while let batch = try CatalogError.reading(path, { try reader.next() }) {
            guard let ids = try IdentifierColumn.read(batch, column) else { continue }
            var rows: [Int64] = []
            for i in 0..<ids.count { if let v = ids.value(i), wanted.contains(v) { rows.append(Int64(i)) } }
            if !rows.isEmpty { try body(batch, rows) }
        }
        return (groupRows.count, groups.count)
    }
}
