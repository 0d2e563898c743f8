import Foundation
import Formats
import Table

/// The product files of a project version, one of each kind per source, under the products
/// folder: `lightcurves/BBB/SOURCE_ID.parquet`, `detections/…`, `injections/…` (`BBB` = the
/// source id / 1000, so no folder holds more than 1000 files). Parquet, snappy; every file is
/// written under a temporary name and renamed into place, without an fsync of its own: the
/// stage makes a whole batch durable with one flush before it records the batch as done.
enum ProjectProducts {
    /// Small files, one per source: snappy, since a zstd context costs more to make (its tables
    /// are allocated and cleared per column) than compressing a few kB with it saves.
    static let writeOptions: ParquetWriteOptions = {
        var o = ParquetWriteOptions()
        o.compression = .snappy
        // One row group per file, read whole: min/max statistics would serve no reader.
        o.statistics = false
        return o
    }()

    static func relativePath(kind: String, source: Int64) -> String {
        String(format: "%@/%03lld/%lld.parquet", kind, source / 1000, source)
    }

    // MARK: Light curves

    /// One row per light curve (filter, zero-point group, season) with its epochs as lists:
    /// `mjd` (days), `mag`/`mag_err` (AB), `flux_ujy`/`flux_err_ujy` (µJy), `counts` (from the
    /// epoch's magzp), and the ZTF object ids merged into it.
    static let lightCurveSchema = Schema([
        Field("filter", .string, nullable: false),
        Field("zp_group", .int64, nullable: false),
        Field("season", .int64, nullable: false),
        Field("magzp", .float64, nullable: false),
        Field("oids", .list(Field("item", .int64, nullable: false)), nullable: false),
        Field("mjd", .list(Field("item", .float64, nullable: false)), nullable: false),
        Field("mag", .list(Field("item", .float64, nullable: false)), nullable: false),
        Field("mag_err", .list(Field("item", .float64, nullable: false)), nullable: false),
        Field("flux_ujy", .list(Field("item", .float64, nullable: false)), nullable: false),
        Field("flux_err_ujy", .list(Field("item", .float64, nullable: false)), nullable: false),
        Field("counts", .list(Field("item", .float64, nullable: false)), nullable: false),
    ], metadata: [("astropile.units", "mjd: days (MJD); mag, mag_err: AB mag; flux_ujy, flux_err_ujy: microjansky; counts: DN from magzp")])

    static func writeLightCurves(_ curves: [ReducedLightCurve], to path: String) throws {
        let b = try lightCurveSchema.fields.map { try ArrayBuilder($0.type) }
        for c in curves {
            append(c.filter, to: b[0])
            b[1].append(Int64(c.group))
            b[2].append(Int64(c.season))
            b[3].append(c.magZP)
            for o in c.oids { b[4].children[0].append(o) }
            b[4].appendValid()
            for (i, xs) in [c.mjd, c.mag, c.magErr, c.flux, c.fluxErr, c.counts].enumerated() {
                for x in xs { b[5 + i].children[0].append(x) }
                b[5 + i].appendValid()
            }
        }
        let batch = RecordBatch(schema: lightCurveSchema, columns: b.map { $0.finish() }, length: curves.count)
        try ParquetFileWriter.write([batch], schema: lightCurveSchema, to: path, options: writeOptions, durable: false)
    }

    static func readLightCurves(_ path: String) throws -> [ReducedLightCurve] {
        let reader = try ParquetFileReader(path: path)
        var out: [ReducedLightCurve] = []
        while let batch = try reader.next() {
            guard batch.schema.names == lightCurveSchema.names else {
                throw FormatError(.corruptInput, "not a project light-curve file (columns \(batch.schema.names.joined(separator: ", ")))", path: path)
            }
            let cols = batch.columns
            for i in 0..<batch.length {
                guard let filter = cols[0].string(at: i), cols[1].type == .int64, cols[2].type == .int64, cols[3].type == .float64 else {
                    throw FormatError(.corruptInput, "row \(i): filter, zp_group, season and magzp must be given", path: path)
                }
                func list(_ k: Int) throws -> [Double] {
                    guard let xs = listValues(cols[k], i, Double.self, .float64) else {
                        throw FormatError(.corruptInput, "row \(i): \(lightCurveSchema.fields[k].name) is not a list of doubles", path: path)
                    }
                    return xs
                }
                guard let oids = listValues(cols[4], i, Int64.self, .int64) else {
                    throw FormatError(.corruptInput, "row \(i): oids is not a list of int64", path: path)
                }
                out.append(ReducedLightCurve(filter: filter, group: Int(cols[1].values(Int64.self)[i]), season: Int(cols[2].values(Int64.self)[i]),
                                             oids: oids, magZP: cols[3].values(Double.self)[i], mjd: try list(5), mag: try list(6),
                                             magErr: try list(7), flux: try list(8), fluxErr: try list(9), counts: try list(10)))
            }
        }
        return out
    }

    /// Row `i` of a list column of `T` elements (`nil` when the column is not such a list).
    static func listValues<T>(_ a: ArrayData, _ i: Int, _: T.Type, _ element: DataType) -> [T]? {
        guard case .list(let f) = a.type, f.type == element, a.buffers.count >= 2, let ob = a.buffers[1], let base = ob.base,
              let child = a.children.first, a.isValid(i) else { return nil }
        let offsets = base.assumingMemoryBound(to: Int32.self) + a.offset
        let lo = Int(offsets[i]), hi = Int(offsets[i + 1])
        guard lo >= 0, hi >= lo, hi <= child.length else { return nil }
        return Array(child.values(T.self)[lo..<hi])
    }

    // MARK: Detections and injections

    static let detectionSchema = Schema([
        Field("filter", .string, nullable: false),
        Field("zp_group", .int64, nullable: false),
        Field("season", .int64, nullable: false),
        Field("start_mjd", .float64, nullable: false),
        Field("end_mjd", .float64, nullable: false),
        Field("peak_mjd", .float64, nullable: false),
        Field("duration_days", .float64, nullable: false),
        Field("amplitude_ujy", .float64, nullable: false),
        Field("peak_snr", .float64, nullable: false),
        Field("snr", .float64, nullable: false),
        Field("epochs", .int64, nullable: false),
    ])

    static let injectionSchema = Schema([
        Field("filter", .string, nullable: false),
        Field("zp_group", .int64, nullable: false),
        Field("season", .int64, nullable: false),
        Field("start_mjd", .float64, nullable: false),
        Field("amplitude_sigma", .float64, nullable: false),
        Field("duration_days", .float64, nullable: false),
        Field("recovered", .bool, nullable: false),
    ])

    /// A table from rows of (string, int64, int64, then doubles/int64s/bools) values.
    static func write(schema: Schema, rows: Int, to path: String, fill: ([ArrayBuilder]) -> Void) throws {
        let b = try schema.fields.map { try ArrayBuilder($0.type) }
        fill(b)
        let batch = RecordBatch(schema: schema, columns: b.map { $0.finish() }, length: rows)
        try ParquetFileWriter.write([batch], schema: schema, to: path, options: writeOptions, durable: false)
    }

    static func append(_ s: String, to b: ArrayBuilder) {
        var s = s
        s.withUTF8 { b.append(bytes: UnsafeRawBufferPointer($0)) }
    }
}
