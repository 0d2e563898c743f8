import Foundation
import Formats
import RunEngine
import Table

/// Planning: find the inputs (list), read every schema (scan, headers and footers only, split
/// over workers and ranks), unify them (plan).
struct ImportPlanner {
    let config: ImportConfig

    struct Result {
        /// Inputs rejected while planning.
        var rejected: [RejectedInput]
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

    /// Lists the inputs (paths expanded and sorted, formats told from names, sizes read) to
    /// the input list file `path`.
    func list(to path: String) throws -> ImportListRecord {
        let paths = try InputReaders.expand(config.inputs)
        guard !paths.isEmpty else { throw ImportError.noInputs(config.inputs) }
        return try ImportInputList.write(paths: paths, format: config.format, to: path)
    }

    /// The schema each input of `item` declares (headers and footers only; a CSV's types from its
    /// first 2 MiB, not the map's 16 MiB blocks), the distinct ones written to `folder`.
    func scan(_ item: ScanItem, list: ImportInputList, folder: String) throws -> InputScanRecord {
        var sampling = config
        sampling.csv.blockSize = min(config.csv.blockSize, 2 << 20)
        // Distinct by columns only: the unified schema has no table metadata, and pandas writes a
        // different `pandas` entry (the row range) into nearly every file.
        var distinct: [(schema: Schema, input: Int)] = []
        var seen = Set<[Field]>()
        var record = InputScanRecord(schemas: [], rejected: [])
        for input in try list.inputs(item.range) {
            try Interruption.check()
            do {
                let reader: any BatchReader
                do {
                    reader = try InputReaders.open(input, config: sampling, types: overrideSchema, batchRows: 1024)
                } catch let error where CSVFileReader.isLineLongerThanBlock(error) && config.csv.blockSize > sampling.csv.blockSize {
                    // A line longer than the sample: the types from a whole block, as the map reads it.
                    reader = try InputReaders.open(input, config: config, types: overrideSchema, batchRows: 1024)
                }
                let fields = applyingOverrides(reader.schema).fields
                if seen.insert(fields).inserted { distinct.append((Schema(fields), input.index)) }
            } catch {
                record.rejected.append(RejectedInput(index: input.index, path: input.path, reason: "\(error)"))
            }
        }
        for (k, d) in distinct.enumerated() {
            let name = "\(item.key)-\(k).arrow"
            do {
                let w = try IPCFileWriter(path: folder + "/" + name, schema: d.schema)
                try w.close()
            } catch {
                throw RunError.writing(folder + "/" + name, error)
            }
            record.schemas.append(ScannedSchema(file: name, input: d.input))
        }
        return record
    }

    /// The forced column types as a schema (CSV readers take them), when any are given.
    var overrideSchema: Schema? {
        config.columnTypes.map { types in Schema(types.sorted { $0.key < $1.key }.map { Field($0.key, $0.value.dataType) }) }
    }

    /// The plan from the scan's records: the rejected inputs, one schema.
    ///
    /// The schemas are unified in order of first appearance, each set of columns once: the same
    /// schema as unifying every input's (a repeated schema changes no type, a column is missing
    /// from some input exactly when it is missing from some distinct schema, and table metadata
    /// is not part of the unified schema).
    func plan(list: ImportInputList, scans: [InputScanRecord], folder: String) throws -> Result {
        var rejected: [RejectedInput] = []
        var schemas: [(path: String, schema: Schema)] = []
        var seen = Set<[Field]>()
        for scan in scans {
            for found in scan.schemas {
                let schema: Schema
                do { schema = try IPCFile(path: folder + "/" + found.file).schema } catch {
                    throw RunError.io("the work folder lacks \(folder)/\(found.file) (\(error)); remove it to start over")
                }
                guard seen.insert(schema.fields).inserted else { continue }
                guard let input = try list.inputs(found.input..<found.input + 1).first else {
                    throw RunError.io("the scan names input \(found.input), which the input list \(list.path) lacks; remove the work folder to start over")
                }
                schemas.append((input.path, schema))
            }
            rejected.append(contentsOf: scan.rejected)
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
            throw RunError.configuration("no input could be read: " + rejected.prefix(20).map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
                                         + (rejected.count > 20 ? "; and \(rejected.count - 20) more" : ""))
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
        return Result(rejected: rejected, schema: schema)
    }
}
