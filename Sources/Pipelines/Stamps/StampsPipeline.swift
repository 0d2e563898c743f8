import Formats
import Foundation
import RunEngine
import Sky
import Table

/// The work of one field: its frames on disk and the objects assigned to it.
struct FieldWork: Codable, Sendable {
    var field: SDSSFieldID
    /// Frame paths by band.
    var frames: [String: String]
    var photoField: String?
    /// Indices into the catalog's objects.
    var objects: [Int]
    /// Compressed bytes of its frames (work order: largest first).
    var bytes: Int64
}

/// The plan: what the catalog asks for and where each object will be cut.
struct StampsPlan: Codable, Sendable {
    var catalog: StampCatalog
    var fields: [FieldWork]
    /// Objects without a field (and why), and frames that could not be searched.
    var unplaced: [Rejection]
    var badFrames: [Rejection]
    /// HEALPix pixels (at the configured order) holding placed objects.
    var pixels: [Int64]
}

/// What cutting one field did.
struct FieldRecord: Codable, Sendable {
    /// Objects with a stamp.
    var written: [Int]
    var rejected: [Rejection]
    var badFrames: [Rejection]
    /// The field's spill file, relative to the work folder's `cut` directory.
    var spill: String
}

/// One file of the data set.
struct DataSetFile: Codable, Sendable {
    /// Relative to the output folder: `healpix=N/001-of-001.hdf5`.
    var path: String
    var ids: [String]

    init(path: String, ids: [String]) {
        self.path = path
        self.ids = ids
    }

    private enum CodingKeys: String, CodingKey { case path, ids }

    // Ids are stored as one text of lines (thousands per record: a JSON array of strings is
    // slow to encode); an array when an id holds a newline, and arrays are read too.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        if ids.contains(where: { $0.isEmpty || $0.contains("\n") }) {
            try c.encode(ids, forKey: .ids)
        } else {
            try c.encode(ids.joined(separator: "\n"), forKey: .ids)
        }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        if let text = try? c.decode(String.self, forKey: .ids) {
            ids = text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        } else {
            ids = try c.decode([String].self, forKey: .ids)
        }
    }
}

/// What writing one HEALPix pixel did.
struct PixelRecord: Codable, Sendable {
    var healpix: Int64
    var files: [DataSetFile]
    /// HATS leaf rows (0 without `--format hats`).
    var hatsRows: Int64
}

/// What a stamps run wrote beyond the common counts (`astropile_report.json`).
public struct StampsDetails: Codable, Sendable, Hashable {
    public var bands: [String]
    public var size: Int
    public var align: StampAlignment
    public var format: StampFormat
    public var healpixOrder: Int
    public var fields: Int
    public var files: Int
    public var badFrames: [Rejection]
    /// The object-id index (relative to the output).
    public var index: String
}

/// The report of `astropile stamps`.
public typealias StampsReport = RunReport<StampsDetails>

/// `astropile stamps`: per-object multi-band stamps from SDSS frames, as a Multimodal
/// Universe HDF5 data set and/or a HATS catalog.
///
/// Stages: **plan** reads the catalog and assigns each object to a field (catalog
/// run/camcol/field, else the frames' footprints); **cut** loads each field's frames once
/// (parallel over fields, as many at once as `--memory` holds) and cuts all its objects into a
/// spill file; **write** writes each HEALPix pixel's files; **finish** writes the object index
/// and the report. Every object without a stamp is a rejection with its reason.
public enum StampsPipeline {
    /// Bytes one field's frames take in memory while being cut (image, and cfitsio's
    /// decompressed copy while reading), per band.
    static let bytesPerBandFrame: Int64 = 2048 * 1489 * 4 * 2 + (1 << 20)

    public static let indexFileName = "object_index.parquet"

    public static func run(_ config: StampsConfig, progress: Bool = true) throws -> RunOutcome<StampsDetails> {
        try config.validate()
        let hash = config.configHash
        let perField = bytesPerBandFrame * Int64(config.bands.count)
        let cores = config.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let jobs = max(1, min(cores, Int(config.memoryBytes / max(perField, 1))))
        let run: Run
        switch try Run.begin(pipeline: "stamps", output: config.output, configHash: hash, stages: StampsStage.self,
                             options: RunOptions(jobs: jobs, tmp: config.tmp, progress: progress), details: StampsDetails.self) {
        case .complete(let report): return .alreadyComplete(report)
        case .started(let r): run = r
        }
        let plan = try run.step(StampsStage.plan) { try makePlan(config, jobs: jobs) }
        let cutDirectory = try run.folder.directory("cut")
        let cutter = StampCutter(config: config)
        let photoFields = PhotoFieldCache()
        let catalog = plan.catalog
        let fieldRecords = try run.stage(StampsStage.cut, items: plan.fields, key: { $0.field.description },
                                         progress: StageProgress(unit: "objects", total: Int64(plan.fields.reduce(0) { $0 + $1.objects.count })) { f, _ in Int64(f.objects.count) },
                                         priority: { $0.bytes }) { field, context in
            try cut(field, catalog: catalog, config: config, cutter: cutter, photoFields: photoFields,
                    into: cutDirectory, progress: context.progress)
        }

        // Which field holds each object's stamp.
        var fieldOfObject: [Int: Int] = [:]
        for (f, record) in fieldRecords.enumerated() { for o in record.written { fieldOfObject[o] = f } }
        var objectsByPixel: [Int64: [Int]] = [:]
        let shift = 2 * (29 - config.healpixOrder)
        for o in fieldOfObject.keys.sorted() { objectsByPixel[catalog.objects[o].healpix29 >> Int64(shift), default: []].append(o) }
        let fieldOf = fieldOfObject, byPixel = objectsByPixel
        let pixels = byPixel.keys.sorted()
        let output = run.folder.output
        let writer = ImageDataSetWriter(config: config, catalog: catalog, provenance: provenance(config, hash: hash))
        let pixelRecords = try run.stage(StampsStage.write, items: pixels, key: { "healpix-\($0)" },
                                         progress: StageProgress(unit: "objects", total: Int64(fieldOf.count)) { p, _ in Int64(byPixel[p]?.count ?? 0) }) { pixel, context in
            let objects = byPixel[pixel] ?? []
            let record = try write(pixel: pixel, objects: objects, fieldOf: fieldOf, fieldRecords: fieldRecords, cutDirectory: cutDirectory,
                                   writer: writer, config: config, output: output)
            context.progress.advance(Int64(objects.count))
            return record
        }

        let report = try run.step(StampsStage.finish) { () -> StampsReport in
            // The index is staged: it appears in the output only when the run commits.
            try writeIndex(pixelRecords, integerIDs: catalog.integerIDs, to: try run.stagingDirectory() + "/" + indexFileName)
            if config.format.writesHATS {
                let hats = StampsHATSWriter(config: config, catalog: catalog)
                let leaves = pixelRecords.filter { $0.hatsRows > 0 }
                    .map { HATSCatalogWriter.Leaf(pixel: HealpixPixel(order: config.healpixOrder, index: $0.healpix), rows: $0.hatsRows) }
                let writer = HATSCatalogWriter(layout: HATSLayout(root: output))
                try writer.finish(leaves: leaves, schema: hats.schema, name: URL(fileURLWithPath: output).lastPathComponent, type: .object,
                                  ra: "ra", dec: "dec",
                                  properties: [("astropile_pipeline", "stamps"), ("astropile_config_hash", hash),
                                               ("astropile_image_bands", config.bands.joined()), ("astropile_image_size", String(config.size))],
                                  propertiesDirectory: try run.stagingDirectory())
                let problems = try writer.verify(leaves: leaves, healpixColumnFirst: true)
                guard problems.isEmpty else { throw RunError.verification(problems.prefix(5).joined(separator: "; ")) }
            }
            let rejected = plan.catalog.rejected + plan.unplaced + fieldRecords.flatMap(\.rejected)
            let bad = plan.badFrames + fieldRecords.flatMap(\.badFrames)
            let written = Int64(pixelRecords.reduce(0) { $0 + $1.files.reduce(0) { $0 + $1.ids.count } })
            let details = StampsDetails(bands: config.bands, size: config.size, align: config.align, format: config.format,
                                        healpixOrder: config.healpixOrder, fields: plan.fields.count,
                                        files: pixelRecords.reduce(0) { $0 + $1.files.count }, badFrames: bad, index: indexFileName)
            return StampsReport(pipeline: "stamps", output: run.output, configHash: hash, inputs: plan.fields.count,
                                counts: RunCounts(unit: "objects", read: Int64(catalog.objects.count + catalog.rejected.count),
                                                  written: written, rejected: Int64(rejected.count)),
                                rejectedInputs: bad, rejectedRecords: rejected, details: details)
        }
        return .written(try run.commit(report))
    }

    static func provenance(_ config: StampsConfig, hash: String) -> [(String, String)] {
        [("astropile_pipeline", "stamps"), ("astropile_version", AstroPileVersion.string), ("astropile_config_hash", hash),
         ("catalog", StampsConfig.absolute(config.catalog)), ("frames", StampsConfig.absolute(config.frames)),
         ("bands", config.bands.joined()), ("image_size", String(config.size)), ("alignment", config.align.rawValue),
         ("reference_band", config.align == .lanczos3 ? config.effectiveReferenceBand : ""),
         ("healpix_order", String(config.healpixOrder)), ("healpix_scheme", "nested"),
         ("mask_convention", "image_mask: true = good pixel (Multimodal Universe image convention)"),
         ("pixel_convention", "image_array[object, band, y, x]; 0-based pixels; the object lies within half a pixel of ((size-1)/2, (size-1)/2), offset stored in image_offset"),
         ("flux_units", "nanomaggies (1 nanomaggy = 3.631e-6 Jy)"),
         ("ivar_recipe", "SDSS frame data model: dn = img/cimg + simg; dn_err^2 = dn/gain + darkVariance; ivar = 1/(dn_err*cimg)^2")]
    }

    // MARK: - Plan

    static func makePlan(_ config: StampsConfig, jobs: Int) throws -> StampsPlan {
        let catalog = try StampCatalog.read(config)
        let index = try FrameIndex.scan(config.frames)
        let assignment = try FrameAssignment.assign(catalog: catalog, index: index, referenceBand: config.effectiveReferenceBand,
                                                    catalogPath: config.catalog, jobs: jobs)
        var fields: [FieldWork] = []
        for field in assignment.objectsByField.keys.sorted() {
            let frames = index.frames[field] ?? [:]
            let bytes = frames.values.reduce(Int64(0)) { total, p in
                total + ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? NSNumber)?.int64Value ?? 0)
            }
            fields.append(FieldWork(field: field, frames: frames,
                                    photoField: index.photoFields[FrameIndex.photoFieldKey(run: field.run, camcol: field.camcol)],
                                    objects: assignment.objectsByField[field] ?? [], bytes: bytes))
        }
        let shift = Int64(2 * (29 - config.healpixOrder))
        let pixels = Set(fields.flatMap { $0.objects.map { catalog.objects[$0].healpix29 >> shift } }).sorted()
        return StampsPlan(catalog: catalog, fields: fields, unplaced: assignment.rejected, badFrames: assignment.badFrames, pixels: pixels)
    }

    // MARK: - Cut

    static func cut(_ work: FieldWork, catalog: StampCatalog, config: StampsConfig, cutter: StampCutter, photoFields: PhotoFieldCache,
                    into directory: String, progress: ProgressReporter) throws -> FieldRecord {
        let spillName = "\(work.field).stamps"
        func rejectAll(_ reason: String, bad: [Rejection]) throws -> FieldRecord {
            let rejected = work.objects.map { Rejection(input: config.catalog, position: "object \(catalog.objects[$0].id)", reason: reason) }
            try StampSpill.write([], bands: config.bands.count, to: directory + "/" + spillName)
            progress.advance(Int64(work.objects.count))
            return FieldRecord(written: [], rejected: rejected, badFrames: bad, spill: spillName)
        }
        var frames: [SDSSFrame] = []
        for band in config.bands {
            guard let path = work.frames[band] else {
                let name = SDSSFrameName(band: band, run: work.field.run, camcol: work.field.camcol, field: work.field.field)
                return try rejectAll("no \(name?.fileName ?? "\(band)-band frame") on disk under --frames", bad: [])
            }
            do {
                try Interruption.check()
                frames.append(try SDSSFrame(path: path))
            } catch let error as FormatError {
                return try rejectAll("bad frame \((path as NSString).lastPathComponent): \(error.message)",
                                     bad: [Rejection(input: path, position: error.location, reason: error.message)])
            }
        }
        var noise: [SDSSDetectorNoise] = []
        var psf: [Float] = []
        let photo = work.photoField.flatMap { photoFields.values(path: $0, field: work.field.field) }
        for band in config.bands {
            let b = SDSSFrameName.bands.firstIndex(of: band) ?? 0
            if let photo {
                noise.append(SDSSDetectorNoise(gain: photo.gain[b], darkVariance: photo.darkVariance[b]))
                psf.append(Float(photo.psfWidth[b]))
            } else {
                noise.append(SDSSDetectorNoise.dataModelTable(run: work.field.run, camcol: work.field.camcol, band: band)
                             ?? SDSSDetectorNoise(gain: 1, darkVariance: 0))
                psf.append(.nan)
            }
        }
        let loaded = LoadedField(frames: frames, noise: noise, psf: psf)
        var spilled: [SpilledStamp] = []
        var rejected: [Rejection] = []
        for (k, o) in work.objects.enumerated() {
            if k % 64 == 0 { try Interruption.check() }
            switch try cutter.cut(object: catalog.objects[o], index: o, field: loaded) {
            case .stamp(let stamp): spilled.append(try SpilledStamp(stamp, level: config.deflateLevel))
            case .refused(let reason):
                rejected.append(Rejection(input: config.catalog, position: "object \(catalog.objects[o].id)", reason: "field \(work.field): \(reason)"))
            }
            progress.advance(1)
        }
        try StampSpill.write(spilled, bands: config.bands.count, to: directory + "/" + spillName)
        return FieldRecord(written: spilled.map(\.objectIndex), rejected: rejected, badFrames: [], spill: spillName)
    }

    // MARK: - Write

    /// MMU's file names: `001-of-003.hdf5`.
    static func fileName(_ k: Int, of count: Int) -> String { String(format: "%03d-of-%03d.hdf5", k + 1, count) }

    static func write(pixel: Int64, objects: [Int], fieldOf: [Int: Int], fieldRecords: [FieldRecord], cutDirectory: String,
                      writer: ImageDataSetWriter, config: StampsConfig, output: String) throws -> PixelRecord {
        // Index this pixel's stamps in the fields' spill files; stamps are decoded one output
        // file (or HATS batch) at a time, so memory holds at most --objects-per-file of them.
        var readers: [Int: StampSpill.Reader] = [:]
        for f in Set(objects.compactMap { fieldOf[$0] }).sorted() {
            readers[f] = try StampSpill.Reader(cutDirectory + "/" + fieldRecords[f].spill, bands: config.bands.count)
        }
        let catalog = writer.catalog
        let ordered = objects.filter { o in fieldOf[o].flatMap { readers[$0]?.records[o] } != nil }
            .sorted { (catalog.objects[$0].healpix29, $0) < (catalog.objects[$1].healpix29, $1) }
        func load(_ part: ArraySlice<Int>) throws -> [SpilledStamp] {
            try part.compactMap { o in try fieldOf[o].flatMap { readers[$0] }?.stamp(o) }
        }
        var files: [DataSetFile] = []
        if config.format.writesHDF5 {
            let directory = output + "/healpix=\(pixel)"
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw RunError.writing(directory, error)
            }
            let per = config.objectsPerFile
            let count = max(1, (ordered.count + per - 1) / per)
            for k in 0..<count {
                try Interruption.check()
                let part = try load(ordered[(k * per)..<min(ordered.count, (k + 1) * per)])
                let relative = "healpix=\(pixel)/" + fileName(k, of: count)
                do { try writer.write(part, healpix: pixel, to: output + "/" + relative) } catch let e as HDF5Error {
                    throw RunError.writing(output + "/" + relative, e)
                }
                files.append(DataSetFile(path: relative, ids: part.map { catalog.objects[$0.objectIndex].id }))
            }
        }
        var hatsRows: Int64 = 0
        if config.format.writesHATS && !ordered.isEmpty {
            let hpx = HealpixPixel(order: config.healpixOrder, index: pixel)
            try StampsHATSWriter(config: config, catalog: catalog).write(count: ordered.count, pixel: hpx, healpix: pixel, root: output) { first, n in
                try load(ordered[first..<(first + n)])
            }
            hatsRows = Int64(ordered.count)
            if !config.format.writesHDF5 {
                // The index names the HATS leaf and the row within it.
                files.append(DataSetFile(path: "dataset/" + HATSLayout.leafRelativePath(hpx),
                                         ids: ordered.map { catalog.objects[$0].id }))
            }
        }
        return PixelRecord(healpix: pixel, files: files, hatsRows: hatsRows)
    }

    // MARK: - Index

    /// `object_index.parquet`: object_id, file (relative to the data set), row — sorted by id.
    static func writeIndex(_ records: [PixelRecord], integerIDs: Bool, to path: String) throws {
        var entries: [DataSetIndex.Entry] = []
        for r in records { for f in r.files { for (row, id) in f.ids.enumerated() { entries.append(.init(id: id, file: f.path, row: row)) } } }
        try DataSetIndex.write(entries, integerIDs: integerIDs, to: path)
    }
}

/// photoField files read once per run and camcol, shared by the workers.
final class PhotoFieldCache: @unchecked Sendable {
    private let lock = NSLock()
    private var files: [String: SDSSPhotoField?] = [:]

    func values(path: String, field: Int) -> SDSSPhotoField.FieldValues? {
        lock.lock()
        defer { lock.unlock() }
        if files[path] == nil { files[path] = .some(try? SDSSPhotoField(path: path)) }
        return files[path]??.fields[field]
    }
}
