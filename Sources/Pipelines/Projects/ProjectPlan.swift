import Foundation
import Formats
import Registry
import RunEngine
import Table
import Yams

/// Everything a project command needs before work starts: the typed settings, the hash, the
/// products folder (with the effective settings saved in it), the registry with the project,
/// its version and its sources registered, the raw-file cache.
final class ProjectPlan: @unchecked Sendable {
    let yamlPath: String
    let config: ProjectConfig
    let hash: String
    let catalogSHA256: String
    let products: String
    let registry: Registry
    let project: Int64
    let version: Int64
    let sources: [CatalogSource]
    /// The raw-file cache: shared by every project and version with the same output root, keyed by
    /// survey and download settings.
    let rawFolder: String
    let survey: String
    let downloadKey: String

    /// Plans the project in `yaml`; `register` false only opens an existing registration
    /// (`status`, `detections`: nothing is written).
    init(yaml: String, database: String?, register: Bool = true) throws {
        yamlPath = yaml
        config = try ProjectConfig.load(yaml: yaml)
        let base = (StampsConfig.absolute(yaml) as NSString).deletingLastPathComponent
        let catalog = config.catalog.path.hasPrefix("/") ? config.catalog.path : base + "/" + config.catalog.path
        guard FileManager.default.fileExists(atPath: catalog) else {
            throw RunError.configuration("\(yaml): catalog.path \(config.catalog.path) does not exist")
        }
        catalogSHA256 = try FileHash.sha256(catalog).sha256.hex
        hash = config.resultHash(catalogSHA256: catalogSHA256)
        products = config.productsFolder(hash: hash, base: base)
        let root = (products as NSString).deletingLastPathComponent
        survey = config.survey.kind.rawValue
        downloadKey = String(CanonicalHash.of(DownloadSettings(survey: config.survey.kind, radiusArcsec: config.survey.radiusArcsec,
                                                               lake: config.survey.kind == .ztfAlerts ? config.survey.lake : nil)).prefix(12))
        rawFolder = root + "/_raw/" + survey + "_" + downloadKey
        sources = try Self.readSources(catalog, config.catalog)
        // Parsed before anything is written: an address that is not a registry is refused, never
        // taken for a file name.
        let location = try RegistryLocation(database ?? ProjectRun.defaultDatabase(products: products))
        if !register, case .sqlite(let path) = location {
            guard FileManager.default.fileExists(atPath: path) else {
                throw RunError.configuration("no registry at \(path): run `astropile project run \(yaml)` first")
            }
        }
        if register {
            do { try FileManager.default.createDirectory(atPath: products, withIntermediateDirectories: true) } catch {
                throw RunError.writing(products, error)
            }
        }
        registry = try Registry.open(location)
        if register {
            let effective = try YAMLEncoder().encode(config)
            let saved = products + "/project.yaml"
            if FileManager.default.contents(atPath: saved).map({ String(decoding: $0, as: UTF8.self) }) != effective {
                do { try AtomicFile.write(Array(effective.utf8), to: saved) } catch { throw RunError.writing(saved, error) }
            }
            project = try registry.project(named: config.name)
            version = try registry.version(project: project, configHash: hash, catalogSHA256: catalogSHA256, config: effective,
                                           products: products, histograms: config.histograms.all)
            try registry.register(sources: sources, project: project, version: version, stages: ProjectStage.allCases.map(\.rawValue))
        } else {
            guard let v = try registry.versionID(project: config.name, configHash: hash) else {
                throw RunError.configuration("\(registry.db.name) has no run of \(config.name) with these settings (hash \(hash)): run `astropile project run \(yaml)` first")
            }
            version = v
            project = 0
        }
    }

    /// What the raw files depend on (the base URL does not: a mirror serves the same data).
    private struct DownloadSettings: Encodable {
        var survey: ProjectSurvey
        var radiusArcsec: Double
        var lake: String?
    }

    /// The sources of the catalog: name (the name column, else the 0-based row number), row,
    /// position. A row without a position, a name given twice or a name that is a NaN or an
    /// infinity is an error naming the row; a CSV line with the wrong number of fields, naming the line.
    static func readSources(_ path: String, _ c: ProjectConfig.Catalog) throws -> [CatalogSource] {
        guard let format = InputFormat.detect(path) else {
            throw RunError.configuration("\(path): unknown catalog format (expected .csv, .parquet or .fits, optionally .gz/.bz2)")
        }
        let wanted = [c.ra, c.dec] + (c.name.map { [$0] } ?? [])
        let reader = try TableReaders.open(path, format: format, columns: wanted)
        var out: [CatalogSource] = []
        var seen: [String: Int64] = [:]
        var row: Int64 = 0
        while let b = try reader.next() {
            func column(_ name: String) throws -> ArrayData {
                guard let i = b.schema.index(of: name) ?? b.schema.names.firstIndex(where: { $0.lowercased() == name.lowercased() }) else {
                    throw RunError.configuration("\(path): no column \(name) (columns: \(b.schema.names.joined(separator: ", ")))")
                }
                return b.columns[i]
            }
            guard let ra = try column(c.ra).doubles(), let dec = try column(c.dec).doubles() else {
                throw RunError.configuration("\(path): columns \(c.ra) and \(c.dec) must be numbers (degrees)")
            }
            let names = try c.name.map { try column($0) }
            // Converted once per batch (a float or narrow integer column of names).
            let numbers = names.flatMap { $0.type == .int64 || $0.type == .uint64 ? nil : $0.doubles() }
            for i in 0..<b.length {
                defer { row += 1 }
                guard ra.valid?[i] ?? true, dec.valid?[i] ?? true, ra.values[i].isFinite, dec.values[i].isFinite, abs(dec.values[i]) <= 90 else {
                    throw RunError.configuration("\(path): row \(row): no valid position (\(c.ra), \(c.dec))")
                }
                var name = String(row)
                if let names {
                    guard let n = try Self.sourceName(names, numbers, i, path: path, row: row, column: c.name ?? "") else {
                        throw RunError.configuration("\(path): row \(row): no name in column \(c.name ?? "")")
                    }
                    name = n
                }
                if let first = seen[name] {
                    throw RunError.configuration("\(path): rows \(first) and \(row) are both named \(name); give each source its own name")
                }
                seen[name] = row
                var r = ra.values[i].truncatingRemainder(dividingBy: 360)
                if r < 0 { r += 360 }
                out.append(CatalogSource(name: name, row: row, ra: r, dec: dec.values[i]))
            }
        }
        // A CSV row with the wrong number of fields would be skipped, and every later row would
        // take its neighbour's number (and, without a name column, its name).
        if let csv = reader as? CSVFileReader, let bad = csv.invalidRows.first {
            throw RunError.configuration("\(path): line \(bad.line): \(bad.actual) fields where the header has \(bad.expected); the catalog's rows number its sources, so fix the line")
        }
        return out
    }

    /// The name of row `i` of a name column: the text of a string column (trimmed); an integer's
    /// digits (exactly, past 2^53 too); a float's digits when it is a whole number, else its
    /// shortest decimal spelling (`12.5`, `1e+300`). `nil` for a null. A NaN or an infinity is
    /// an error naming the file, the row and the column. `numbers`: the column as doubles.
    static func sourceName(_ names: ArrayData, _ numbers: (values: [Double], valid: [Bool]?)?, _ i: Int,
                           path: String, row: Int64, column: String) throws -> String? {
        switch names.type {
        case .string, .largeString: return names.string(at: i)?.trimmingCharacters(in: .whitespaces)
        case .int64: return names.isValid(i) ? String(names.values(Int64.self)[i]) : nil
        case .uint64: return names.isValid(i) ? String(names.values(UInt64.self)[i]) : nil
        default: break
        }
        guard let numbers, numbers.valid?[i] ?? true else { return nil }
        let x = numbers.values[i]
        if let whole = Int64(exactly: x) { return String(whole) }
        guard x.isFinite else {
            throw RunError.configuration("\(path): row \(row): column \(column) holds \(x), which names no source; give every row a name (or leave catalog.name out: sources are then named by row)")
        }
        return "\(x)"
    }

    /// The raw file of a source in the cache: named by its position, so other projects' catalogs
    /// with the same source share it.
    func rawPath(_ s: RegisteredSource) -> String {
        rawFolder + "/" + String(format: "%.7f_%+.7f.csv", s.ra, s.dec)
    }

    /// Checks the registered files of the version against the disk: a product or raw file that is
    /// gone or has another size sends its stage back to pending (nothing else changes; a second
    /// run over intact files changes no row). Returns what was sent back.
    func verifyFiles(rows: Range<Int64>) throws -> [String] {
        let selected = Set(sources.filter { rows.contains($0.row) }.map(\.name))
        let ids = try registry.db.read { t in
            try t.query("SELECT id, name FROM sources WHERE project_id = ?", [.int(project)])
        }
        var inRange = Set<Int64>()
        for r in ids { if let id = r["id"].int, let n = r["name"].text, selected.contains(n) { inRange.insert(id) } }
        var notes: [String] = []
        func check(_ files: [RegisteredFile], stage: ProjectStage, absolute: (String) -> String) throws {
            let done = try doneSources(stage)
            for f in files where inRange.contains(f.sourceID) && done.contains(f.sourceID) {
                let p = absolute(f.path)
                var st = stat()
                let ok = stat(p, &st) == 0 && Int64(st.st_size) == f.bytes
                if !ok {
                    try registry.reset(source: f.sourceID, version: version, stages: [stage.rawValue],
                                       reason: "\(p) was \(FileManager.default.fileExists(atPath: p) ? "changed" : "missing")")
                    notes.append(p)
                }
            }
        }
        try check(try registry.rawFiles(project: project, survey: survey, downloadKey: downloadKey), stage: .fetch) { $0 }
        for stage in ProjectStage.allCases {
            guard let kind = stage.productKind else { continue }
            try check(try registry.products(version: version, kind: kind), stage: stage) { self.products + "/" + $0 }
        }
        return notes
    }

    /// Sources whose `stage` is done in this version.
    func doneSources(_ stage: ProjectStage) throws -> Set<Int64> {
        try registry.db.read { t in
            Set(try t.query("SELECT source_id FROM stage_status WHERE version_id = ? AND stage = ? AND status = 'done'",
                            [.int(version), .text(stage.rawValue)]).compactMap { $0["source_id"].int })
        }
    }
}
