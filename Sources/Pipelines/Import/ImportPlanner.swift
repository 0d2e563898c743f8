import Foundation
import Formats
import RunEngine
import Table

/// Planning: find the inputs (list), read every schema (scan, headers and footers only, split
/// over workers and ranks), unify them (plan).
struct ImportPlanner {
    let config: ImportConfig

    struct Result {
        var inputs: [ImportInput]
        var rejectedFiles: [Rejection]
        /// The unified input columns (no `_healpix_29`).
        var schema: Schema
    }

    /// `schema` with the user's forced column types applied.
    func applyingOverrides(_ schema: Schema) -> Schema {
        guard let types = config.columnTypes else { return schema }
        return Schema(schema.fields.map { f in
            guard let t = types[f.name] else { return f }
            return Field(f.name, t.dataType, nullable: true, metadata: f.metadata)
        }, metadata: schema.metadata)
    }

    /// The inputs: paths expanded, formats told from names, sizes read.
    func list() throws -> [ImportInput] {
        let paths = try InputReaders.expand(config.inputs)
        guard !paths.isEmpty else { throw ImportError.noInputs(config.inputs) }
        var inputs: [ImportInput] = []
        inputs.reserveCapacity(paths.count)
        for (i, p) in paths.enumerated() {
            guard let format = config.format ?? InputFormat.detect(p) else {
                throw RunError.configuration("cannot tell the format of \(p) from its name; pass --format csv|parquet|fits")
            }
            var st = stat()
            guard stat(p, &st) == 0 else { throw ImportError.noInputs([p]) }
            inputs.append(ImportInput(index: i, path: p, format: format, byteCount: Int64(st.st_size)))
        }
        return inputs
    }

    /// The schema each input of `item` declares (headers and footers only; a CSV's types from its
    /// first 2 MiB, not the map's 16 MiB blocks), the distinct ones written to `folder`.
    func scan(_ item: ScanItem, folder: String) throws -> InputScanRecord {
        var sampling = config
        sampling.csv.blockSize = min(config.csv.blockSize, 2 << 20)
        var distinct: [Schema] = []
        var record = InputScanRecord(schemaFiles: [], schemaOf: [], errors: [])
        for input in item.inputs {
            try Interruption.check()
            do {
                let reader = try InputReaders.open(input, config: sampling, types: overrideSchema, batchRows: 1024)
                let schema = applyingOverrides(reader.schema)
                if let k = distinct.firstIndex(of: schema) {
                    record.schemaOf.append(k)
                } else {
                    distinct.append(schema)
                    record.schemaOf.append(distinct.count - 1)
                }
                record.errors.append(nil)
            } catch {
                record.schemaOf.append(nil)
                record.errors.append("\(error)")
            }
        }
        for (k, schema) in distinct.enumerated() {
            let name = "\(item.key)-\(k).arrow"
            do {
                let w = try IPCFileWriter(path: folder + "/" + name, schema: schema)
                try w.close()
            } catch {
                throw RunError.writing(folder + "/" + name, error)
            }
            record.schemaFiles.append(name)
        }
        return record
    }

    /// The forced column types as a schema (CSV readers take them), when any are given.
    var overrideSchema: Schema? {
        config.columnTypes.map { types in Schema(types.sorted { $0.key < $1.key }.map { Field($0.key, $0.value.dataType) }) }
    }

    /// The plan from the scan's records: the readable inputs, the rejected ones, one schema.
    func plan(inputs: [ImportInput], items: [ScanItem], scans: [InputScanRecord], folder: String) throws -> Result {
        var rejected: [Rejection] = []
        var schemas: [(path: String, schema: Schema)] = []
        var readable: [ImportInput] = []
        for (item, scan) in zip(items, scans) {
            guard scan.schemaOf.count == item.inputs.count, scan.errors.count == item.inputs.count else {
                throw RunError.io("the scan record of inputs \(item.key) is damaged; remove the work folder to start over")
            }
            var read: [Schema] = []
            for name in scan.schemaFiles {
                do { read.append(try IPCFile(path: folder + "/" + name).schema) } catch {
                    throw RunError.io("the work folder lacks \(folder)/\(name) (\(error)); remove it to start over")
                }
            }
            for (k, input) in item.inputs.enumerated() {
                if let s = scan.schemaOf[k], read.indices.contains(s) {
                    schemas.append((input.path, read[s]))
                    readable.append(input)
                } else {
                    rejected.append(Rejection(input: input.path, reason: scan.errors[k] ?? "unreadable"))
                }
            }
        }
        var schema: Schema
        if let schemaFile = config.schemaFile {
            do {
                schema = try ParquetFileReader.info(path: schemaFile).schema
            } catch {
                throw RunError.configuration("cannot read --schema \(schemaFile): \(error)")
            }
            schema = Schema(schema.fields.filter { $0.name != "__index_level_0__" })
        } else if schemas.isEmpty {
            throw RunError.configuration("no input could be read: " + rejected.map { "\($0.input): \($0.reason)" }.joined(separator: "; "))
        } else {
            do {
                schema = try SchemaUnifier.unify(schemas)
            } catch let c as SchemaUnifier.Conflict {
                throw ImportError.schemaConflict(c.description)
            }
        }
        schema = applyingOverrides(Schema(schema.fields.filter { $0.name != "_healpix_29" }))
        // Coordinates in a struct (`candidate.ra`) become top-level columns named by their last component.
        for path in [config.ra, config.dec] where schema.index(of: path) == nil && path.contains(".") {
            guard let field = CoordinatePromotion.field(path, in: schema) else {
                throw ImportError.coordinateColumns("no column '\(path)' in the inputs (a struct path: struct.child)")
            }
            guard schema.index(of: field.name) == nil else {
                throw ImportError.coordinateColumns("'\(path)' would become the top-level column '\(field.name)', which the inputs already have")
            }
            schema = Schema(schema.fields + [field], metadata: schema.metadata)
        }
        if let keep = config.columns {
            var names = keep
            for c in [config.raName, config.decName] where !names.contains(c) { names.append(c) }
            let missing = names.filter { schema.index(of: $0) == nil }
            guard missing.isEmpty else {
                throw RunError.configuration("--columns names columns the inputs do not have: \(missing.joined(separator: ", "))")
            }
            schema = Schema(names.map { schema.fields[schema.index(of: $0)!] })
        }
        for c in [config.raName, config.decName] {
            guard let f = schema.fields.first(where: { $0.name == c }) else {
                throw ImportError.coordinateColumns("no column '\(c)' in the inputs (columns: \(schema.names.prefix(20).joined(separator: ", "))); set --ra/--dec")
            }
            guard f.type.isFloatingPoint || f.type.isInteger else {
                throw ImportError.coordinateColumns("column '\(c)' is \(f.type), not numeric degrees")
            }
        }
        if let types = config.columnTypes {
            let unknown = types.keys.filter { schema.index(of: $0) == nil }.sorted()
            guard unknown.isEmpty else {
                throw RunError.configuration("--type names columns the inputs do not have: \(unknown.joined(separator: ", "))")
            }
        }
        // Null-typed columns (all null everywhere) cannot be written meaningfully by every reader; keep as null.
        return Result(inputs: readable, rejectedFiles: rejected, schema: schema)
    }
}
