import Formats
import Foundation
import RunEngine
import Sky
import Table

/// The HATS variant of an image data set (`--format hats|both`, the layout MMU moved to in
/// v1.5): the same columns as the HDF5 files, one row per object, image arrays as flat
/// `fixed_size_list` columns in (band, y, x) order with their numpy shape in the field's
/// `shape` metadata, `_healpix_29` first and rows sorted by it, small row groups so one object
/// reads little. One partition per HEALPix pixel at `--healpix-order`; the catalog's
/// `hats.properties` sits at the data set's root, beside the `healpix=N` HDF5 folders.
struct StampsHATSWriter {
    let config: StampsConfig
    let catalog: StampCatalog
    /// Rows per Parquet row group (the data set layer's).
    static let rowGroupRows = ExampleHATS.rowGroupRows

    /// The leaf schema.
    var schema: Schema {
        let b = config.bands.count, s = config.size
        // Units as the HDF5 files carry them (one table: ImageDataSetWriter.units).
        func list(_ name: String, _ t: DataType, _ k: Int, shape: [Int]) -> Field {
            var m: [(key: String, value: String)] = [("shape", shape.map(String.init).joined(separator: ","))]
            if let unit = ImageDataSetWriter.units[name] { m.insert(("unit", unit), at: 0) }
            return Field(name, .fixedSizeList(Field("item", t), size: k), nullable: false, metadata: m)
        }
        var fields = [
            Field("_healpix_29", .int64, nullable: false),
            Field("object_id", catalog.integerIDs ? .int64 : .string, nullable: false),
            Field("ra", .float64, nullable: false, metadata: [("unit", "deg")]),
            Field("dec", .float64, nullable: false, metadata: [("unit", "deg")]),
            Field("healpix", .int64, nullable: false),
            list("image_band", .string, b, shape: [b]),
            list("image_array", .float32, b * s * s, shape: [b, s, s]),
            list("image_ivar", .float32, b * s * s, shape: [b, s, s]),
            list("image_mask", .bool, b * s * s, shape: [b, s, s]),
            list("image_psf_fwhm", .float32, b, shape: [b]),
            list("image_scale", .float32, b, shape: [b]),
            list("image_noise", .float32, b, shape: [b]),
            list("image_extinction", .float32, b, shape: [b]),
            list("image_offset", .float32, 2 * b, shape: [b, 2]),
            list("image_frame", .string, b, shape: [b]),
        ]
        for e in extras {
            switch e.values {
            case .int64: fields.append(Field(e.name, .int64))
            case .float64: fields.append(Field(e.name, .float64))
            case .string: fields.append(Field(e.name, .string))
            }
        }
        return Schema(fields)
    }

    var extras: [ExtraColumn] {
        catalog.storedExtras(reserved: ["object_id", "ra", "dec", "healpix", "_healpix_29"])
    }

    /// Objects decoded and written per batch (a multiple of the row-group size).
    static let batchRows = 256

    /// Writes the leaf of `pixel`: `count` stamps (sorted by `_healpix_29`), fetched in batches by
    /// `stamps(first, n)` so memory holds one batch.
    func write(count: Int, pixel: HealpixPixel, healpix: Int64, root: String,
               stamps: (Int, Int) throws -> [SpilledStamp]) throws {
        let layout = HATSLayout(root: root)
        let path = layout.leafPath(pixel)
        do { try FileManager.default.createDirectory(atPath: layout.leafDirectory(pixel), withIntermediateDirectories: true) } catch {
            throw RunError.writing(layout.leafDirectory(pixel), error)
        }
        let schema = self.schema
        var options = ParquetWriteOptions()
        options.rowGroupRows = Self.rowGroupRows
        options.sortedByFirstColumn = true
        do {
            let file = try ParquetFileWriter(path: path, schema: schema, options: options)
            var first = 0
            while first < count {
                try Interruption.check()
                let n = min(Self.batchRows, count - first)
                try file.write(try batch(try stamps(first, n), healpix: healpix, schema: schema))
                first += n
            }
            try file.close()
        } catch let e as RunError {
            throw e
        } catch {
            throw RunError.writing(path, error)
        }
    }

    /// One record batch of stamps.
    func batch(_ stamps: [SpilledStamp], healpix: Int64, schema: Schema) throws -> RecordBatch {
        let n = stamps.count, b = config.bands.count, perObject = b * config.size * config.size
        let objects = stamps.map { catalog.objects[$0.objectIndex] }
        var flux = [Float](), ivar = [Float](), mask = [Bool]()
        flux.reserveCapacity(n * perObject); ivar.reserveCapacity(n * perObject); mask.reserveCapacity(n * perObject)
        for s in stamps {
            let f = try s.flux.withUnsafeBytes { try HDF5ChunkFilter.inflateUnshuffle($0, rawSize: perObject * 4, elementSize: 4) }
            let v = try s.ivar.withUnsafeBytes { try HDF5ChunkFilter.inflateUnshuffle($0, rawSize: perObject * 4, elementSize: 4) }
            let m = try s.mask.withUnsafeBytes { try HDF5ChunkFilter.inflateUnshuffle($0, rawSize: perObject, elementSize: 1) }
            f.withUnsafeBytes { flux.append(contentsOf: $0.bindMemory(to: Float.self)) }
            v.withUnsafeBytes { ivar.append(contentsOf: $0.bindMemory(to: Float.self)) }
            mask.append(contentsOf: m.map { $0 != 0 })
        }
        func list(_ k: Int, _ child: ArrayData, _ t: DataType) -> ArrayData {
            ArrayData(type: .fixedSizeList(Field("item", t), size: k), length: n, nullCount: 0, buffers: [nil], children: [child])
        }
        let integers: [Int64] = objects.map { Int64($0.id) ?? 0 }
        var columns: [ArrayData] = [
            .primitive(.int64, objects.map(\.healpix29)),
            catalog.integerIDs ? .primitive(.int64, integers) : .strings(objects.map(\.id)),
            .primitive(.float64, objects.map(\.ra)),
            .primitive(.float64, objects.map(\.dec)),
            .primitive(.int64, [Int64](repeating: healpix, count: n)),
            list(b, .strings(Array(repeating: config.bands, count: n).flatMap { $0 }), .string),
            list(perObject, .primitive(.float32, flux), .float32),
            list(perObject, .primitive(.float32, ivar), .float32),
            list(perObject, .booleans(mask), .bool),
            list(b, .primitive(.float32, stamps.flatMap(\.psf)), .float32),
            list(b, .primitive(.float32, stamps.flatMap(\.scale)), .float32),
            list(b, .primitive(.float32, stamps.flatMap(\.noise)), .float32),
            list(b, .primitive(.float32, stamps.flatMap(\.extinction)), .float32),
            list(2 * b, .primitive(.float32, stamps.flatMap { st in (0..<b).flatMap { [st.offsetX[$0], st.offsetY[$0]] } }), .float32),
            list(b, .strings(stamps.flatMap(\.frames)), .string),
        ]
        let rows = stamps.map(\.objectIndex)
        for e in extras {
            switch e.values.selecting(rows) {
            case .int64(let v): columns.append(.primitive(.int64, v))
            case .float64(let v): columns.append(.primitive(.float64, v))
            case .string(let v): columns.append(.strings(v))
            }
        }
        return RecordBatch(schema: schema, columns: columns, length: n)
    }
}
