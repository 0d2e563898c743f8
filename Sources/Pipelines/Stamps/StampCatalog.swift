import Formats
import Foundation
import RunEngine
import Sky
import Table

/// One object of the catalog that asks for a stamp.
struct StampObject: Codable, Sendable {
    /// The object id, as text (integers keep every digit: SDSS objIDs exceed 2⁵³).
    var id: String
    /// Degrees.
    var ra: Double
    var dec: Double
    /// Nested HEALPix index at order 29 (rows are sorted by it within a file).
    var healpix29: Int64
    /// The field named by the catalog's run/camcol/field columns, when it has them.
    var field: SDSSFieldID?
    /// Extinction per band (magnitudes), when named.
    var extinction: [Float]?
    /// PSF FWHM per band (arcsec), when named.
    var psf: [Float]?
}

/// The values of one catalog column copied into every example.
enum ExtraValues: Codable, Sendable {
    case int64([Int64])
    case float64([Double])
    case string([String])

    func selecting(_ rows: [Int]) -> ExtraValues {
        switch self {
        case .int64(let v): .int64(rows.map { v[$0] })
        case .float64(let v): .float64(rows.map { v[$0] })
        case .string(let v): .string(rows.map { v[$0] })
        }
    }
}

/// A copied catalog column.
struct ExtraColumn: Codable, Sendable {
    var name: String
    var values: ExtraValues
}

/// The catalog as the stamps pipeline needs it: objects in catalog order (rows that cannot
/// become an object are rejections naming the row), plus the copied columns, aligned with
/// ``objects``.
struct StampCatalog: Codable, Sendable {
    var objects: [StampObject]
    var extras: [ExtraColumn]
    /// True when every id is an integer (the id dataset is then int64).
    var integerIDs: Bool
    var rejected: [Rejection]
    /// The catalog's id column name.
    var idColumn: String

    static let idCandidates = ["objID", "objid", "object_id", "specObjID", "id"]

    /// The copied columns a layout stores: those not named like a column it writes itself
    /// (`reserved`, or `image_*`).
    func storedExtras(reserved: Set<String>) -> [ExtraColumn] {
        extras.filter { !reserved.contains($0.name) && !$0.name.hasPrefix("image_") }
    }

    /// Reads `config.catalog`.
    static func read(_ config: StampsConfig) throws -> StampCatalog {
        let path = config.catalog
        let format: InputFormat
        do { format = try TableReaders.format(of: path) } catch { throw RunError.configuration("\(error)") }
        let reader = try TableReaders.open(path, format: format)
        let names = reader.schema.names
        func find(_ wanted: String?, _ defaults: [String], option: String) throws -> String? {
            if let wanted {
                guard let name = TableReaders.matching([wanted], in: names).first else {
                    throw RunError.configuration("\(option) \(wanted): the catalog \(path) has no such column (columns: \(names.prefix(20).joined(separator: ", ")))")
                }
                return name
            }
            return TableReaders.matching(defaults, in: names).first
        }
        guard let idName = try find(config.idColumn, idCandidates, option: "--id") else {
            throw RunError.configuration("the catalog \(path) has none of the id columns \(idCandidates.joined(separator: ", ")); name one with --id")
        }
        guard let raName = try find(config.raColumn, ["ra"], option: "--ra") else {
            throw RunError.configuration("the catalog \(path) has no ra column; name it with --ra")
        }
        guard let decName = try find(config.decColumn, ["dec"], option: "--dec") else {
            throw RunError.configuration("the catalog \(path) has no dec column; name it with --dec")
        }
        let runName = TableReaders.matching(["run"], in: names).first
        let camcolName = TableReaders.matching(["camcol"], in: names).first
        let fieldName = TableReaders.matching(["field"], in: names).first
        let hasFields = runName != nil && camcolName != nil && fieldName != nil
        var extraNames: [String] = []
        for c in config.columns {
            guard let n = TableReaders.matching([c], in: names).first else {
                throw RunError.configuration("--columns \(c): the catalog \(path) has no such column")
            }
            extraNames.append(n)
        }
        func perBandNames(_ list: [String]?, option: String) throws -> [String]? {
            guard let list = config.perBand(list) else { return nil }
            return try list.map { c in
                guard let n = TableReaders.matching([c], in: names).first else {
                    throw RunError.configuration("\(option) \(c): the catalog \(path) has no such column")
                }
                return n
            }
        }
        let extinctionNames = try perBandNames(config.extinctionColumns, option: "--extinction-columns")
        let psfNames = try perBandNames(config.psfColumns, option: "--psf-columns")

        var objects: [StampObject] = []
        var rejected: [Rejection] = []
        var seen = Set<String>()
        var integerIDs = true
        var row = 0
        var allExtras: [[ColumnCell]] = Array(repeating: [], count: extraNames.count)
        while let batch = try reader.next() {
            func column(_ name: String) throws -> ArrayData {
                guard let c = batch.column(name) else { throw FormatError(.corruptInput, "a batch lacks column \(name)", path: path) }
                return c
            }
            let ids = try column(idName)
            let ras = try Self.doubles(try column(raName), name: raName, path: path)
            let decs = try Self.doubles(try column(decName), name: decName, path: path)
            func optionalColumn(_ name: String?) throws -> [Double?]? {
                guard hasFields, let name else { return nil }
                return try Self.doubles(try column(name), name: name, path: path)
            }
            let runs = try optionalColumn(runName)
            let camcols = try optionalColumn(camcolName)
            let fields = try optionalColumn(fieldName)
            let ext = try extinctionNames.map { try $0.map { try Self.doubles(try column($0), name: $0, path: path) } }
            let psf = try psfNames.map { try $0.map { try Self.doubles(try column($0), name: $0, path: path) } }
            let extras = try extraNames.map { try column($0) }
            for i in 0..<batch.length {
                defer { row += 1 }
                let position = "row \(row + 1)"
                guard let id = Self.idText(ids, i), !id.isEmpty else {
                    rejected.append(Rejection(input: path, position: position, reason: "the id (\(idName)) is null")); continue
                }
                // Integer ids are stored as int64 only when the text is the integer's own spelling
                // ("007" stays a string, so every id reads back as it was given).
                if let v = Int64(id), String(v) == id {} else { integerIDs = false }
                guard let ra = ras[i], let dec = decs[i] else {
                    rejected.append(Rejection(input: path, position: position, reason: "object \(id): ra or dec is null")); continue
                }
                if let problem = SkyCoordinateCheck.validate(ra: ra, dec: dec) {
                    rejected.append(Rejection(input: path, position: position, reason: "object \(id): \(problem)")); continue
                }
                guard seen.insert(id).inserted else {
                    rejected.append(Rejection(input: path, position: position, reason: "object \(id): duplicate id (an earlier row has it)")); continue
                }
                var field: SDSSFieldID? = nil
                if let runs, let camcols, let fields, let r = runs[i].flatMap({ Int(exactly: $0) }),
                   let c = camcols[i].flatMap({ Int(exactly: $0) }), let f = fields[i].flatMap({ Int(exactly: $0) }),
                   let name = SDSSFrameName(band: "r", run: r, camcol: c, field: f) {
                    field = name.fieldID
                }
                let object = StampObject(id: id, ra: ra, dec: dec, healpix29: HEALPix.nestedIndex(ra: ra, dec: dec, order: 29),
                                         field: field,
                                         extinction: ext.map { $0.map { Float($0[i] ?? .nan) } },
                                         psf: psf.map { $0.map { Float($0[i] ?? .nan) } })
                objects.append(object)
                for (k, c) in extras.enumerated() { allExtras[k].append(Self.cell(c, i)) }
            }
        }
        let extras = zip(extraNames, allExtras).map { ExtraColumn(name: $0, values: Self.values($1)) }
        return StampCatalog(objects: objects, extras: extras, integerIDs: integerIDs && !objects.isEmpty, rejected: rejected, idColumn: idName)
    }

    enum ColumnCell { case int(Int64?), float(Double?), text(String?) }

    static func cell(_ c: ArrayData, _ i: Int) -> ColumnCell {
        switch c.type {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32:
            guard c.isValid(i) else { return .int(nil) }
            if c.type == .int64 { return .int(c.values(Int64.self)[i]) }
            // invariant: a column of at most 32-bit integers: every value is exact in Int64.
            return .int(c.doubles().map { Int64($0.values[i]) })
        case .float16, .float32, .float64, .uint64:
            guard c.isValid(i), let d = c.doubles() else { return .float(nil) }
            return .float(d.values[i])
        case .string, .largeString:
            return .text(c.string(at: i))
        case .bool:
            return .text(c.isValid(i) ? String(describing: c.doubles()?.values[i] ?? 0) : nil)
        default:
            return .text(nil)
        }
    }

    static func values(_ cells: [ColumnCell]) -> ExtraValues {
        var sawFloat = false, sawText = false, sawNullInt = false
        for c in cells {
            switch c {
            case .float: sawFloat = true
            case .text: sawText = true
            case .int(let v): if v == nil { sawNullInt = true }
            }
        }
        if sawText {
            return .string(cells.map { c in
                switch c {
                case .text(let s): s ?? ""
                case .int(let v): v.map(String.init) ?? ""
                case .float(let v): v.map { String($0) } ?? ""
                }
            })
        }
        if sawFloat || sawNullInt {
            return .float64(cells.map { c in
                switch c {
                case .float(let v): v ?? .nan
                case .int(let v): v.map(Double.init) ?? .nan
                case .text: .nan
                }
            })
        }
        return .int64(cells.map { if case .int(let v) = $0 { v ?? 0 } else { 0 } })
    }

    /// The id at row `i` as text; integers exactly (int64 columns are read as integers).
    static func idText(_ c: ArrayData, _ i: Int) -> String? {
        guard c.isValid(i) else { return nil }
        switch c.type {
        case .int64: return String(c.values(Int64.self)[i])
        case .uint64: return String(c.values(UInt64.self)[i])
        case .int8, .int16, .int32, .uint8, .uint16, .uint32:
            // invariant: a column of at most 32-bit integers: every value is exact in Int64.
            return c.doubles().map { String(Int64($0.values[i])) }
        case .string, .largeString:
            return c.string(at: i)?.trimmingCharacters(in: .whitespaces)
        case .float32, .float64:
            guard let v = c.doubles()?.values[i], v.isFinite, v == v.rounded(), abs(v) < 9e15 else { return nil }
            return String(Int64(v))
        default:
            return nil
        }
    }

    static func doubles(_ c: ArrayData, name: String, path: String) throws -> [Double?] {
        guard let (values, valid) = c.doubles() else {
            throw RunError.configuration("column \(name) of \(path) is \(c.type), not a number")
        }
        guard let valid else { return values.map { $0.isNaN ? nil : $0 } }
        return zip(values, valid).map { $1 && !$0.isNaN ? $0 : nil }
    }
}
