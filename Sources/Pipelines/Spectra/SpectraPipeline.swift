import Formats
import Foundation
import RunEngine
import Sky
import Table

/// One spectrum file as the scan found it.
struct ScannedSpectrum: Codable, Sendable {
    var path: String
    /// SPECOBJID as text (an integer in every SDSS release).
    var id: String
    /// PLUG_RA / PLUG_DEC, degrees.
    var ra: Double
    var dec: Double
    var healpix29: Int64
    /// Pixels of the coadd.
    var length: Int
    /// Index into the scan record's `schemas`.
    var schema: Int
}

/// What scanning one group of files found.
struct ScanRecord: Codable, Sendable {
    var spectra: [ScannedSpectrum]
    /// The object-table column signatures met in this group.
    var schemas: [[ColumnSignature]]
    var rejected: [Rejection]
}

/// What writing one HEALPix pixel did.
struct SpectraPixelRecord: Codable, Sendable {
    var healpix: Int64
    var files: [DataSetFile]
    var hatsRows: Int64
    var rejected: [Rejection]
}

/// What a spectra run wrote beyond the common counts (`astropile_report.json`).
public struct SpectraDetails: Codable, Sendable, Hashable {
    /// Pixels every spectrum is padded to.
    public var length: Int
    /// The shortest and longest true length.
    public var shortest: Int
    public var longest: Int
    public var format: StampFormat
    public var healpixOrder: Int
    public var files: Int
    /// Object-table columns stored (those every file has with one type and shape).
    public var objectColumns: [String]
    /// Object-table columns left out because not every file has them alike.
    public var droppedColumns: [String]
    /// The object-id index (relative to the output).
    public var index: String
}

/// The report of `astropile spectra`.
public typealias SpectraReport = RunReport<SpectraDetails>

/// `astropile spectra`: SDSS spectra as per-object examples (Multimodal Universe HDF5 by
/// HEALPix and/or HATS), padded to one length across the data set.
///
/// Stages: **scan** reads each file's object table and coadd header (parallel over groups of
/// files; a bad file is a rejection with its reason); **write** reads each HEALPix pixel's
/// spectra in full and writes its files; **finish** writes the object index and the report.
public enum SpectraPipeline {
    /// Files per scan item.
    static let scanGroup = 64

    static func accepts(_ name: String) -> Bool {
        name.hasPrefix("spec") && (name.hasSuffix(".fits") || name.hasSuffix(".fits.gz") || name.hasSuffix(".fits.bz2")
                                   || name.hasSuffix(".fit"))
    }

    public static func run(_ config: SpectraConfig, progress: Bool = true) throws -> RunOutcome<SpectraDetails> {
        try config.validate()
        let hash = config.configHash
        let run: Run
        switch try Run.begin(pipeline: "spectra", output: config.output, configHash: hash, stages: SpectraStage.self,
                             options: RunOptions(jobs: config.jobs, tmp: config.tmp, progress: progress), details: SpectraDetails.self) {
        case .complete(let report): return .alreadyComplete(report)
        case .started(let r): run = r
        }
        let paths = try FileMatcher.expand(config.files, accept: accepts)
        guard !paths.isEmpty else { throw RunError.configuration("--files \(config.files.joined(separator: " ")) matches no file") }
        let groups = stride(from: 0, to: paths.count, by: scanGroup).map { Array(paths[$0..<min(paths.count, $0 + scanGroup)]) }
        let shift = Int64(2 * (29 - config.healpixOrder))
        // A group's key names all its files, so a record never stands for a group whose members changed.
        let scans = try run.stage(SpectraStage.scan, items: groups, key: { CanonicalHash.fnv1a($0.joined(separator: "\n")) },
                                  progress: StageProgress(unit: "files", total: Int64(paths.count)) { g, _ in Int64(g.count) }) { group, context in
            let record = try scan(group)
            context.progress.advance(Int64(group.count))
            return record
        }

        // The columns every file has alike; duplicates of an id keep the first file.
        var spectra: [ScannedSpectrum] = []
        var rejected: [Rejection] = scans.flatMap(\.rejected)
        var signatureSets: [[ColumnSignature]] = []
        var seen: [String: String] = [:]
        for record in scans {
            for s in record.spectra {
                if let first = seen[s.id] {
                    rejected.append(Rejection(input: s.path, reason: "SPECOBJID \(s.id) is also in \(first); the first file is kept"))
                    continue
                }
                seen[s.id] = s.path
                spectra.append(s)
                signatureSets.append(record.schemas[s.schema])
            }
        }
        let (common, dropped) = commonColumns(signatureSets)
        let length = spectra.map(\.length).max() ?? 0
        let integerIDs = spectra.allSatisfy { Int64($0.id) != nil }
        var byPixel: [Int64: [Int]] = [:]
        for (k, s) in spectra.enumerated() { byPixel[s.healpix29 >> shift, default: []].append(k) }
        let pixels = byPixel.keys.sorted()
        let all = spectra, pixelMap = byPixel
        let output = run.folder.output
        let writer = SpectrumExampleWriter(config: config, length: length, objectColumns: common, integerIDs: integerIDs,
                                           provenance: provenance(config, hash: hash, length: length))
        let pixelRecords = try run.stage(SpectraStage.write, items: pixels, key: { "healpix-\($0)" },
                                         progress: StageProgress(unit: "spectra", total: Int64(all.count)) { p, _ in Int64(pixelMap[p]?.count ?? 0) }) { pixel, context in
            let members = (pixelMap[pixel] ?? []).map { all[$0] }
                .sorted { ($0.healpix29, $0.id) < ($1.healpix29, $1.id) }
            return try writer.write(pixel: pixel, spectra: members, output: output, progress: context.progress)
        }

        let report = try run.step(SpectraStage.finish) { () -> SpectraReport in
            var entries: [DataSetIndex.Entry] = []
            for r in pixelRecords { for f in r.files { for (row, id) in f.ids.enumerated() { entries.append(.init(id: id, file: f.path, row: row)) } } }
            try DataSetIndex.write(entries, integerIDs: integerIDs, to: try run.stagingDirectory() + "/" + DataSetIndex.fileName)
            if config.format.writesHATS {
                let leaves = pixelRecords.filter { $0.hatsRows > 0 }
                    .map { HATSCatalogWriter.Leaf(pixel: HealpixPixel(order: config.healpixOrder, index: $0.healpix), rows: $0.hatsRows) }
                try ExampleHATS.finish(root: output, leaves: leaves, signatures: writer.signatures,
                                       properties: [("astropile_pipeline", "spectra"), ("astropile_config_hash", hash),
                                                    ("astropile_spectrum_length", String(length))],
                                       staging: try run.stagingDirectory())
            }
            let written = pixelRecords.flatMap(\.files).reduce(0) { $0 + $1.ids.count }
            let allRejected = rejected + pixelRecords.flatMap(\.rejected)
            let lengths = all.map(\.length)
            let details = SpectraDetails(length: length, shortest: lengths.min() ?? 0, longest: lengths.max() ?? 0, format: config.format,
                                         healpixOrder: config.healpixOrder, files: pixelRecords.reduce(0) { $0 + $1.files.count },
                                         objectColumns: common.map(\.name), droppedColumns: dropped, index: DataSetIndex.fileName)
            return SpectraReport(pipeline: "spectra", output: run.output, configHash: hash, inputs: paths.count,
                                 counts: RunCounts(unit: "spectra", read: Int64(paths.count), written: Int64(written)),
                                 rejectedInputs: allRejected, details: details)
        }
        return .written(try run.commit(report))
    }

    static func provenance(_ config: SpectraConfig, hash: String, length: Int) -> [(String, String)] {
        [("astropile_pipeline", "spectra"), ("astropile_version", AstroPileVersion.string), ("astropile_config_hash", hash),
         ("files", config.files.map { StampsConfig.absolute($0) }.joined(separator: " ")),
         ("spectrum_length", String(length)),
         ("healpix_order", String(config.healpixOrder)), ("healpix_scheme", "nested"),
         ("mask_convention", "spectrum_mask: true = bad pixel (and_mask != 0 or ivar <= 0; Multimodal Universe spectra convention)"),
         ("padding", "every spectrum padded to spectrum_length pixels: flux and lsf_sigma with their last value, ivar 0, mask true, lambda NaN; the true length is spectrum_true_length"),
         ("flux_units", "1e-17 erg/s/cm^2/Angstrom"),
         ("wavelength", "vacuum, Angstrom: 10^loglam"),
         ("lsf_recipe", "spectrum_lsf_sigma = wdisp * ln(10) * dloglam * lambda (Angstrom)")]
    }

    // MARK: - Scan

    /// A bad file: the reason says where in the file (HDU) it went wrong.
    static func rejection(_ path: String, _ e: FormatError) -> Rejection {
        Rejection(input: path, position: e.location, reason: (e.location.map { "\($0): " } ?? "") + e.message)
    }

    static func scan(_ paths: [String]) throws -> ScanRecord {
        var record = ScanRecord(spectra: [], schemas: [], rejected: [])
        for path in paths {
            try Interruption.check()
            do {
                // The coadd first: a truncated file fails its size check there, naming it as such.
                let coadd = try FITSTableReader(path: path, hdu: .number(1), columns: SDSSSpectrum.coaddColumns)
                let (object, _) = try SDSSSpectrum.readObject(path: path)
                guard coadd.rowCount > 0 else { throw FormatError(.corruptInput, "the coadd has no pixels", path: path, location: coadd.location) }
                let summary = try ObjectRow(object, path: path)
                let signatures = summary.columns.map(ColumnSignature.init)
                let index: Int
                if let k = record.schemas.firstIndex(of: signatures) {
                    index = k
                } else {
                    record.schemas.append(signatures)
                    index = record.schemas.count - 1
                }
                record.spectra.append(ScannedSpectrum(path: path, id: summary.id, ra: summary.ra, dec: summary.dec,
                                                      healpix29: summary.healpix29, length: coadd.rowCount, schema: index))
            } catch let e as FormatError {
                record.rejected.append(SpectraPipeline.rejection(path, e))
            }
        }
        return record
    }

    /// The signatures every set has (by name, kind and shape; units from the first), in the
    /// first set's order; and the names left out.
    static func commonColumns(_ sets: [[ColumnSignature]]) -> ([ColumnSignature], [String]) {
        guard let first = sets.first else { return ([], []) }
        var unique: [[ColumnSignature]] = []
        var seen = Set<[ColumnSignature]>()
        for s in sets where seen.insert(s).inserted { unique.append(s) }
        func key(_ s: ColumnSignature) -> String { "\(s.name)|\(s.kind)|\(s.rowShape)" }
        let keys = unique.map { Set($0.map(key)) }
        let common = first.filter { s in keys.allSatisfy { $0.contains(key(s)) } }
        let kept = Set(common.map(\.name))
        let dropped = Set(unique.flatMap { $0.map(\.name) }).subtracting(kept).sorted()
        return (common, dropped)
    }
}

/// The object table's row of one spectrum file, as data set columns.
struct ObjectRow {
    var id: String
    var ra: Double
    var dec: Double
    var healpix29: Int64
    /// Every column the data set can store (scalars, strings, fixed-size arrays of them).
    var columns: [ExampleColumn]

    /// Column names a spectra data set writes itself.
    static let reserved: Set<String> = ["object_id", "ra", "dec", "healpix", "z", "z_err", "spectrum_file"]

    init(_ batch: RecordBatch, path: String) throws {
        func column(_ name: String) throws -> ArrayData {
            guard let k = batch.schema.fields.firstIndex(where: { $0.name.uppercased() == name }) else {
                throw FormatError(.notFound, "the object table has no \(name)", path: path)
            }
            return batch.columns[k]
        }
        let idColumn = try column("SPECOBJID")
        switch ExampleValues.from(idColumn) {
        case .string(let v)?: id = v.first?.trimmingCharacters(in: .whitespaces) ?? ""
        case .some(let v): id = v.text(at: 0)
        case nil: throw FormatError(.corruptInput, "SPECOBJID has type \(idColumn.type)", path: path)
        }
        if idColumn.type == .uint64, let raw = idColumn.values(UInt64.self).first { id = String(raw) }
        guard !id.isEmpty else { throw FormatError(.corruptInput, "SPECOBJID is empty", path: path) }
        guard let ra = try column("PLUG_RA").doubles()?.values.first, let dec = try column("PLUG_DEC").doubles()?.values.first else {
            throw FormatError(.corruptInput, "PLUG_RA / PLUG_DEC are not numbers", path: path)
        }
        if let problem = SkyCoordinateCheck.validate(ra: ra, dec: dec) {
            throw FormatError(.corruptInput, "PLUG_RA/PLUG_DEC: \(problem)", path: path)
        }
        self.ra = ra
        self.dec = dec
        healpix29 = HEALPix.nestedIndex(ra: ra, dec: dec, order: 29)
        var columns: [ExampleColumn] = []
        for (field, c) in zip(batch.schema.fields, batch.columns) where !Self.reserved.contains(field.name) && !field.name.hasPrefix("spectrum_") {
            guard let (values, shape) = ExampleValues.from(c, field: field) else { continue }
            let unit = field.metadata.first { $0.key == "unit" }?.value
            columns.append(ExampleColumn(field.name, values, rowShape: shape, units: unit.flatMap { $0.isEmpty ? nil : $0 }))
        }
        self.columns = columns
    }
}
