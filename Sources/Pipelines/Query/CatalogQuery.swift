import Foundation
import Formats
import RunEngine
import Sky
import Table

/// Where query results go.
public enum QueryOutput: Sendable, Hashable {
    /// One Parquet file, written atomically.
    case parquet(String)
    /// CSV to a file (atomically).
    case csv(String)
    /// CSV on standard output.
    case csvStandardOutput
    /// Nowhere: only count (used by tests and `--count`).
    case countOnly
}

/// What a query read and returned.
public struct QueryReport: Codable, Sendable {
    /// Rows selected.
    public var rows: Int64
    /// Partitions of the catalog.
    public var partitions: Int
    /// Partitions read.
    public var partitionsRead: Int
    /// Row groups in the partitions read.
    public var rowGroups: Int
    /// Row groups read.
    public var rowGroupsRead: Int
}

/// Cone and box searches on a HATS catalog that read only the partitions, and within them only
/// the row groups, the region can touch.
///
/// The region's coverage at a fine order becomes ranges of `_healpix_29`; a partition is read
/// when its range meets one, and a row group when its `_healpix_29` statistics (min, max) do.
/// Rows are then kept by the exact test (``SkyRegion/contains(ra:dec:)``), in catalog order.
public enum CatalogQuery {
    /// Selects the rows of `catalog` in `region`, keeping `columns` (all when `nil`).
    public static func region(_ region: SkyRegion, in catalogPath: String, columns: [String]? = nil,
                              output: QueryOutput) throws -> QueryReport {
        if let problem = region.problem { throw RunError.configuration(problem) }
        let catalog = try HATSCatalog.open(catalogPath)
        let schema = try catalog.schema()
        let readColumns = try selectedColumns(columns, required: [catalog.raColumn, catalog.decColumn], schema: schema, root: catalog.root)
        let sink = try QuerySink(output: output, schema: Schema(readColumns.map { schema.fields[schema.index(of: $0)!] }))
        let report = try scan(region, in: catalog, columns: readColumns) { batch, keep in try sink.write(batch, rows: keep) }
        try sink.close()
        return report
    }

    /// Hands `body` each batch of `catalog` that holds rows in `region`, with the indices of those
    /// rows (in catalog order). `columns` must name columns of the catalog and include its ra/dec.
    public static func scan(_ region: SkyRegion, in catalog: HATSCatalog, columns: [String],
                            body: (RecordBatch, [Int64]) throws -> Void) throws -> QueryReport {
        if let problem = region.problem { throw RunError.configuration(problem) }
        // Coverage at a coarser order than a partition is still a superset of the region, so the
        // order is chosen by the region's size alone (at most ~20k pixels).
        let order = region.coverageOrder()
        let ranges = mergedRanges(region.coverage(order: order), order: order)
        var report = QueryReport(rows: 0, partitions: catalog.partitions.count, partitionsRead: 0, rowGroups: 0, rowGroupsRead: 0)
        for pixel in catalog.partitions.pixels where intersects(ranges, pixel.healpix29Range) {
            try Interruption.check()
            let path = catalog.leafPath(pixel)
            let (stats, groupRows) = try CatalogError.reading(path) {
                try ParquetFileReader.rowGroupStatistics(path: path, column: catalog.healpixColumn)
            }
            var groups: [Int]
            if case .integer(let r) = stats {
                groups = r.indices.filter { intersects(ranges, r[$0].lowerBound ..< r[$0].upperBound &+ 1) }
            } else {
                groups = Array(groupRows.indices)
            }
            report.partitionsRead += 1
            report.rowGroups += groupRows.count
            report.rowGroupsRead += groups.count
            guard !groups.isEmpty else { continue }
            let reader = try CatalogError.reading(path) { try ParquetFileReader(path: path, columns: columns, rowGroups: groups) }
            while let batch = try CatalogError.reading(path, { try reader.next() }) {
                guard let (ra, raValid) = batch.column(catalog.raColumn)?.doubles(),
                      let (dec, decValid) = batch.column(catalog.decColumn)?.doubles() else {
                    throw CatalogError.notACatalog(catalog.root, "\(path): \(catalog.raColumn)/\(catalog.decColumn) are not numeric")
                }
                var keep: [Int64] = []
                for i in 0..<batch.length where raValid?[i] != false && decValid?[i] != false
                    && region.contains(ra: ra[i], dec: dec[i]) {
                    keep.append(Int64(i))
                }
                try body(batch, keep)
                report.rows += Int64(keep.count)
            }
        }
        return report
    }

    /// Sorted, merged order-29 ranges of `pixels` at `order`.
    static func mergedRanges(_ pixels: [Int64], order: Int) -> [Range<Int64>] {
        let shift = Int64(2 * (HEALPix.maxOrder - order))
        var out: [Range<Int64>] = []
        for p in pixels.sorted() {
            let r = (p << shift) ..< ((p + 1) << shift)
            if let last = out.last, last.upperBound >= r.lowerBound {
                out[out.count - 1] = last.lowerBound ..< max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// Whether `range` overlaps any of the sorted disjoint `ranges`.
    static func intersects(_ ranges: [Range<Int64>], _ range: Range<Int64>) -> Bool {
        var low = 0, high = ranges.count
        while low < high {  // first range ending after range.lowerBound
            let mid = (low + high) / 2
            if ranges[mid].upperBound <= range.lowerBound { low = mid + 1 } else { high = mid }
        }
        return low < ranges.count && ranges[low].lowerBound < range.upperBound
    }

    /// The columns to read, in file order, with the required ones added.
    static func selectedColumns(_ wanted: [String]?, required: [String], schema: Schema, root: String) throws -> [String] {
        guard let wanted else { return schema.names }
        for name in wanted where schema.index(of: name) == nil {
            throw RunError.configuration("\(root) has no column \(name) (columns: \(schema.names.joined(separator: ", ")))")
        }
        let keep = Set(wanted + required)
        return schema.names.filter { keep.contains($0) }
    }
}

/// Collects selected rows into the chosen output.
final class QuerySink {
    private let parquet: ParquetFileWriter?
    private let csv: CSVFileWriter?
    let schema: Schema

    init(output: QueryOutput, schema: Schema) throws {
        self.schema = schema
        switch output {
        case .parquet(let path): parquet = try ParquetFileWriter(path: path, schema: schema); csv = nil
        case .csv(let path): csv = try CSVFileWriter(path: path, schema: schema); parquet = nil
        case .csvStandardOutput: csv = try CSVFileWriter(path: nil, schema: schema); parquet = nil
        case .countOnly: csv = nil; parquet = nil
        }
    }

    /// Writes `rows` (positions) of `batch`.
    func write(_ batch: RecordBatch, rows: [Int64]) throws {
        guard !rows.isEmpty, parquet != nil || csv != nil else { return }
        let b = batch.schema.fields == schema.fields ? batch : try ArrowCompute.cast(batch, to: schema)
        let selected: RecordBatch
        if rows.count == b.length {
            selected = b
        } else {
            let table = try ChunkedTable([b], schema: schema)
            selected = try rows.withUnsafeBufferPointer { try table.take($0) }
        }
        try parquet?.write(selected)
        try csv?.write(selected)
    }

    func close() throws {
        try parquet?.close()
        try csv?.close()
    }
}
