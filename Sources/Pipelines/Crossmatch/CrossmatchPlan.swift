import Foundation
import Formats
import RunEngine
import Table

/// The columns a cross-match reads from each side and the output schema it writes:
/// the left `_healpix_29` unsuffixed as column 0, the other left columns with the left suffix,
/// every right column with the right suffix (nullable: a left join leaves them null), and
/// `_dist_arcsec` (float64, arcseconds) last.
struct CrossmatchPlan: Sendable {
    let leftColumns: [String]
    let leftSchema: Schema
    let rightColumns: [String]
    let rightSchema: Schema
    let outputSchema: Schema
    let leftHealpix: String
    let leftRa: String
    let leftDec: String
    let rightRa: String
    let rightDec: String

    /// The name of the distance column.
    static let distanceColumn = "_dist_arcsec"

    init(config: CrossmatchConfig, left: HATSCatalog, right: HATSCatalog) throws {
        let leftAll = try left.schema()
        let rightAll = try right.schema()
        leftHealpix = left.healpixColumn
        leftRa = left.raColumn
        leftDec = left.decColumn
        rightRa = right.raColumn
        rightDec = right.decColumn
        for (name, schema, root) in [(leftHealpix, leftAll, left.root), (leftRa, leftAll, left.root), (leftDec, leftAll, left.root),
                                     (rightRa, rightAll, right.root), (rightDec, rightAll, right.root)]
        where schema.index(of: name) == nil {
            throw CatalogError.notACatalog(root, "no column \(name)")
        }
        let healpixName = left.healpixColumn
        if let h = leftAll.fields.first(where: { $0.name == healpixName }), h.type != .int64 {
            throw CatalogError.notACatalog(left.root, "its \(healpixName) column is \(h.type), not int64")
        }
        leftColumns = try CatalogQuery.selectedColumns(config.leftColumns, required: [leftHealpix, leftRa, leftDec], schema: leftAll, root: left.root)
        rightColumns = try CatalogQuery.selectedColumns(config.rightColumns, required: [rightRa, rightDec], schema: rightAll, root: right.root)
        leftSchema = Schema(leftColumns.map { leftAll.fields[leftAll.index(of: $0)!] })
        rightSchema = Schema(rightColumns.map { rightAll.fields[rightAll.index(of: $0)!] })

        var fields: [Field] = [leftSchema.fields[leftSchema.index(of: leftHealpix)!]]
        for f in leftSchema.fields where f.name != leftHealpix {
            var g = f
            g.name = f.name + config.leftSuffix
            fields.append(g)
        }
        for f in rightSchema.fields {
            var g = f
            g.name = f.name + config.rightSuffix
            g.nullable = true
            fields.append(g)
        }
        fields.append(Field(Self.distanceColumn, .float64, nullable: true))
        var seen = Set<String>()
        for f in fields where !seen.insert(f.name).inserted {
            throw RunError.configuration("the output would have two columns named \(f.name); choose other --suffixes")
        }
        outputSchema = Schema(fields)
    }

    /// One output batch from taken left rows, taken right rows and distances (nil: no match).
    func assemble(left: RecordBatch, right: RecordBatch, distances: [Double], matched: [Bool]) -> RecordBatch {
        var columns: [ArrayData] = [left.column(leftHealpix)!]
        for (i, f) in left.schema.fields.enumerated() where f.name != leftHealpix { columns.append(left.columns[i]) }
        columns.append(contentsOf: right.columns)
        let (validity, nulls) = ArrayData.validityBitmap(matched)
        columns.append(ArrayData(type: .float64, length: distances.count, nullCount: nulls,
                                 buffers: [validity, Buffer(copying: distances)]))
        return RecordBatch(schema: outputSchema, columns: columns, length: distances.count)
    }
}
