import Formats
import Foundation
import RunEngine
import Sky
import Table

/// The signature of a column: what a writer needs to know before the first row.
public struct ColumnSignature: Codable, Sendable, Hashable {
    public var name: String
    public var kind: ExampleKind
    public var rowShape: [Int]
    public var units: String?

    public init(name: String, kind: ExampleKind, rowShape: [Int], units: String?) {
        self.name = name
        self.kind = kind
        self.rowShape = rowShape
        self.units = units
    }

    public init(_ c: ExampleColumn) {
        name = c.name
        kind = c.values.kind
        rowShape = c.rowShape
        units = c.units
    }
}

/// The HATS variant of a data set (`--format hats|both`, the layout MMU moved to in v1.5): one
/// row per example, `_healpix_29` first and rows sorted by it, scalar columns as Arrow scalars,
/// array columns as flat `fixed_size_list`s with their numpy shape in the field's `shape`
/// metadata, small row groups so one example reads little.
enum ExampleHATS {
    /// Rows per Parquet row group.
    static let rowGroupRows = 16

    /// The leaf schema for columns of `signatures` (`_healpix_29` is added first).
    static func schema(_ signatures: [ColumnSignature]) -> Schema {
        var fields = [Field("_healpix_29", .int64, nullable: false)]
        for s in signatures {
            var metadata: [(key: String, value: String)] = []
            if let u = s.units { metadata.append(("unit", u)) }
            let t = s.kind.arrowType
            if s.rowShape.isEmpty {
                fields.append(Field(s.name, t, nullable: false, metadata: metadata))
            } else {
                metadata.append(("shape", s.rowShape.map(String.init).joined(separator: ",")))
                fields.append(Field(s.name, .fixedSizeList(Field("item", t), size: s.rowShape.reduce(1, *)), nullable: false, metadata: metadata))
            }
        }
        return Schema(fields)
    }

    /// Arrow values of one column's elements.
    static func arrow(_ v: ExampleValues) -> ArrayData {
        switch v {
        case .float32(let x): .primitive(.float32, x)
        case .float64(let x): .primitive(.float64, x)
        case .int64(let x): .primitive(.int64, x)
        case .int32(let x): .primitive(.int32, x)
        case .int16(let x): .primitive(.int16, x)
        case .uint8(let x): .primitive(.uint8, x)
        case .bool(let x): .booleans(x)
        case .string(let x): .strings(x)
        }
    }

    /// One record batch: `healpix29` per row, then `columns`.
    static func batch(_ columns: [ExampleColumn], healpix29: [Int64], schema: Schema) -> RecordBatch {
        let n = healpix29.count
        var arrays: [ArrayData] = [.primitive(.int64, healpix29)]
        for c in columns {
            let values = arrow(c.values)
            if c.rowShape.isEmpty {
                arrays.append(values)
            } else {
                let t = c.values.kind.arrowType
                arrays.append(ArrayData(type: .fixedSizeList(Field("item", t), size: c.rowElements), length: n, nullCount: 0,
                                        buffers: [nil], children: [values]))
            }
        }
        return RecordBatch(schema: schema, columns: arrays, length: n)
    }

    /// A leaf being written: batches appended in `_healpix_29` order, closed atomically.
    final class Leaf {
        let path: String
        let schema: Schema
        private let file: ParquetFileWriter
        private(set) var rows: Int64 = 0

        init(root: String, pixel: HealpixPixel, schema: Schema) throws {
            let layout = HATSLayout(root: root)
            path = layout.leafPath(pixel)
            self.schema = schema
            do {
                try FileManager.default.createDirectory(atPath: layout.leafDirectory(pixel), withIntermediateDirectories: true)
                var options = ParquetWriteOptions()
                options.rowGroupRows = ExampleHATS.rowGroupRows
                options.sortedByFirstColumn = true
                file = try ParquetFileWriter(path: path, schema: schema, options: options)
            } catch {
                throw RunError.writing(path, error)
            }
        }

        func append(_ columns: [ExampleColumn], healpix29: [Int64]) throws {
            do { try file.write(ExampleHATS.batch(columns, healpix29: healpix29, schema: schema)) } catch { throw RunError.writing(path, error) }
            rows += Int64(healpix29.count)
        }

        func close() throws {
            do { try file.close() } catch { throw RunError.writing(path, error) }
        }
    }

    /// Writes `hats.properties` and the catalog metadata for `leaves` into the data set root
    /// (properties staged until the commit) and verifies them.
    static func finish(root: String, leaves: [HATSCatalogWriter.Leaf], signatures: [ColumnSignature], properties: [(String, String)],
                       staging: String) throws {
        let writer = HATSCatalogWriter(layout: HATSLayout(root: root))
        try writer.finish(leaves: leaves, schema: schema(signatures), name: URL(fileURLWithPath: root).lastPathComponent, type: .object,
                          ra: "ra", dec: "dec", properties: properties, propertiesDirectory: staging)
        let problems = try writer.verify(leaves: leaves, healpixColumnFirst: true)
        guard problems.isEmpty else { throw RunError.verification(problems.prefix(5).joined(separator: "; ")) }
    }
}
