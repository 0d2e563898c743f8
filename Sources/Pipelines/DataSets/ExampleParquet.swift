import Formats
import Foundation
import Table

/// A HATS leaf of a data set (`--format hats`) read as example columns: scalar columns and
/// fixed-size lists (their numpy shape from the field's `shape` metadata); `_healpix_29` and
/// columns of other types are left out.
enum ExampleParquet {
    /// The leaf's column signatures and row count, from its footer.
    static func signatures(path: String) throws -> (columns: [ColumnSignature], rows: Int) {
        let info = try ParquetFileReader.info(path: path)
        var out: [ColumnSignature] = []
        for f in info.schema.fields where f.name != "_healpix_29" {
            var type = f.type
            var shape: [Int] = []
            if case .fixedSizeList(let child, let k) = f.type {
                type = child.type
                let meta = f.metadata.first { $0.key == "shape" }.map { $0.value.split(separator: ",").compactMap { Int($0) } } ?? [k]
                shape = meta.reduce(1, *) == k ? meta : [k]
            }
            guard let kind = ExampleKind(type) else { continue }
            out.append(ColumnSignature(name: f.name, kind: kind, rowShape: shape, units: f.metadata.first { $0.key == "unit" }?.value))
        }
        return (out, info.rows)
    }

    /// Columns `names` of the leaf, rows `rows` only when given (in that order).
    static func read(path: String, rows: [Int]?, names: [String]) throws -> [ExampleColumn] {
        let reader = try ParquetFileReader(path: path, columns: names)
        var groups: [[ExampleColumn]] = []
        while let batch = try reader.next() {
            groups.append(try zip(batch.schema.fields, batch.columns).map { field, c in
                guard let (values, shape) = ExampleValues.from(c, field: field) else {
                    throw FormatError(.unsupported, "column \(field.name) has a type a data set does not store (\(field.type))", path: path)
                }
                return ExampleColumn(field.name, values, rowShape: shape, units: field.metadata.first { $0.key == "unit" }?.value)
            })
        }
        let all = try ExampleColumn.concatenated(groups, context: path)
        guard let rows else { return all }
        let n = all.first?.rows ?? 0
        if let bad = rows.first(where: { $0 < 0 || $0 >= n }) {
            throw FormatError(.corruptInput, "row \(bad) asked of a leaf of \(n) rows", path: path)
        }
        return all.map { $0.selecting(rows) }
    }
}
