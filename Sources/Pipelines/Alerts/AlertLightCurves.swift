import Foundation
import Formats
import RunEngine
import Table

/// The stages of `astropile alerts lightcurves` (before the import of the objects).
public enum AlertLightCurveStage: String, RunStage {
    case build = "lightcurves-build"
}

/// What building the per-object light curves did.
public struct AlertLightCurveDetails: Codable, Sendable, Hashable {
    public var lake: String
    public var objects: Int64
    public var alerts: Int64
    public var detections: Int64
    /// Detections dropped as repeats of an epoch (same jd and fid) seen in another alert.
    public var repeats: Int64
    public var files: [String]
    /// The fields of each light-curve point (those prv_candidate and candidate share, same types).
    public var fields: [String]
}

/// `astropile alerts lightcurves`: one row per `objectId` with its detections as a nested light
/// curve, then a HATS catalog of the objects (through the import pipeline).
///
/// Every lake file is sorted by (objectId, jd), so a k-way merge over all of them meets each
/// object's alerts together: memory is one small batch per lake file plus one object. An
/// object's detections are its alerts' `candidate` records and the `prv_candidates` entries
/// that are detections (magpsf not null; the others are upper limits), de-duplicated by
/// (jd, fid) — the first met is kept — and sorted by jd. The light curve `lc` is a struct of
/// equal-length lists (one per field), the layout nested-pandas and lsdb load as a nested
/// frame; object columns: `ra`/`dec` (mean of the detections; ra as a circular mean, degrees),
/// `nobs`, `jd_first`, `jd_last`, `nalerts`.
public enum AlertLightCurves {
    static let objectsPerFile = 100_000
    static let objectsPerRowGroup = 1000
    static let readColumns = ["objectId", "candid", "candidate", "prv_candidates"]

    /// The light-curve point fields: prv_candidate's fields that candidate has with the same type.
    static func pointFields(_ schema: Schema) throws -> (fields: [Field], candidate: [Int], prv: [Int]) {
        guard let ci = schema.index(of: "candidate"), case .structure(let cand) = schema.fields[ci].type,
              let pi = schema.index(of: "prv_candidates"), case .list(let el) = schema.fields[pi].type,
              case .structure(let prv) = el.type else {
            throw FormatError(.invalidArgument, "the lake schema lacks candidate or prv_candidates")
        }
        var fields: [Field] = [], cIdx: [Int] = [], pIdx: [Int] = []
        for (k, f) in prv.enumerated() {
            guard let j = cand.firstIndex(where: { $0.name == f.name && $0.type == f.type }) else { continue }
            fields.append(f)
            cIdx.append(j)
            pIdx.append(k)
        }
        return (fields, cIdx, pIdx)
    }

    /// The objects table's schema.
    static func objectSchema(points: [Field]) -> Schema {
        Schema([Field("objectId", .string), Field("ra", .float64), Field("dec", .float64), Field("nobs", .int32),
                Field("nalerts", .int32), Field("jd_first", .float64), Field("jd_last", .float64),
                Field("lc", .structure(points.map { Field($0.name, .list(Field("element", $0.type))) }))],
               metadata: [("astropile_pipeline", "alerts-lightcurves"), ("astropile_version", AstroPileVersion.string)])
    }

    /// Writes the objects' Parquet files into `folder`.
    static func build(lake: AlertLake, folder: String, progress: ProgressReporter) throws -> AlertLightCurveDetails {
        let lakeSchema = try AlertLakeSchema.schema()
        let (points, candIdx, prvIdx) = try pointFields(lakeSchema)
        guard let jdK = points.firstIndex(where: { $0.name == "jd" }), let fidK = points.firstIndex(where: { $0.name == "fid" }),
              let raK = points.firstIndex(where: { $0.name == "ra" }), let decK = points.firstIndex(where: { $0.name == "dec" }),
              let magK = points.firstIndex(where: { $0.name == "magpsf" }) else {
            throw FormatError(.invalidArgument, "the light-curve fields lack jd, fid, ra, dec or magpsf")
        }
        let selected = Schema(readColumns.compactMap { n in lakeSchema.fields.first { $0.name == n } })
        let keys = try AlertLakeSchema.Keys(selected)
        let types = selected.fields.map(\.type)
        let candCol = selected.index(of: "candidate") ?? 2, prvCol = selected.index(of: "prv_candidates") ?? 3
        var cursors: [AlertNightWriter.Cursor] = []
        var files: [String] = []
        for night in lake.nights() {
            let f = lake.folder(night)
            for name in NightContents.read(f)?.files ?? [] { files.append(f + "/" + name) }
        }
        // One small batch per file in memory.
        let rows = max(4, min(256, 20_000 / max(1, files.count)))
        for (k, path) in files.enumerated() {
            let reader = try ParquetFileReader(path: path, columns: readColumns, batchRows: rows)
            if let c = try AlertNightWriter.Cursor(order: k, label: path, keys: keys, types: types, next: { try reader.next() }) { cursors.append(c) }
        }
        let schema = objectSchema(points: points)
        let builder = try ArrayBuilder(.structure(schema.fields))
        var details = AlertLightCurveDetails(lake: lake.root, objects: 0, alerts: 0, detections: 0, repeats: 0, files: [],
                                             fields: points.map(\.name))
        var writer: ParquetFileWriter?
        var inFile = 0
        var options = ParquetWriteOptions()
        options.rowGroupRows = objectsPerRowGroup
        func flush(closing: Bool) throws {
            if builder.length > 0 {
                if writer == nil {
                    let name = String(format: "objects-%05d.parquet", details.files.count)
                    details.files.append(name)
                    writer = try ParquetFileWriter(path: folder + "/" + name, schema: schema, options: options)
                }
                let n = builder.length
                try writer?.write(RecordBatch(schema: schema, columns: builder.finish().children, length: n))
            }
            if closing || inFile >= objectsPerFile {
                try writer?.close()
                writer = nil
                inFile = 0
            }
        }

        /// One detection: a struct (candidate column, or prv_candidates' element struct) and its logical row.
        struct Point { let record: ArrayData; let row: Int; let map: [Int]; let jd: Double; let fid: Int32 }
        func value<T>(_ p: Point, _ k: Int, _: T.Type) -> T? {
            let child = p.record.children[p.map[k]]
            let j = p.record.offset + p.row
            return child.isValid(j) ? child.values(T.self)[j] : nil
        }
        func point(_ record: ArrayData, _ row: Int, _ map: [Int]) -> Point? {
            let jdC = record.children[map[jdK]], fidC = record.children[map[fidK]]
            let j = record.offset + row
            guard record.isValid(row), jdC.isValid(j), fidC.isValid(j) else { return nil }
            return Point(record: record, row: row, map: map, jd: jdC.values(Double.self)[j], fid: fidC.values(Int32.self)[j])
        }

        var heap = CursorHeap(cursors)
        var current: [UInt8]? = nil
        var pts: [Point] = []
        var alerts = 0
        func emit() {
            guard let id = current else { return }
            var seen = Set<[Int64]>()
            var kept: [Point] = []
            for p in pts.sorted(by: { ($0.jd, $0.fid) < ($1.jd, $1.fid) }) where seen.insert([Int64(bitPattern: p.jd.bitPattern), Int64(p.fid)]).inserted {
                kept.append(p)
            }
            details.repeats += Int64(pts.count - kept.count)
            details.detections += Int64(kept.count)
            var sx = 0.0, sy = 0.0, sd = 0.0, n = 0.0
            for p in kept {
                guard let ra = value(p, raK, Double.self), let dec = value(p, decK, Double.self) else { continue }
                sx += cos(ra * .pi / 180); sy += sin(ra * .pi / 180); sd += dec; n += 1
            }
            let children = builder.children
            id.withUnsafeBytes { children[0].append(bytes: $0) }
            if n > 0 {
                var ra = atan2(sy, sx) * 180 / .pi
                if ra < 0 { ra += 360 }
                children[1].append(ra)
                children[2].append(sd / n)
            } else {
                children[1].appendNull()
                children[2].appendNull()
            }
            children[3].append(Int32(kept.count))
            children[4].append(Int32(alerts))
            if let first = kept.first, let last = kept.last { children[5].append(first.jd); children[6].append(last.jd) } else {
                children[5].appendNull(); children[6].appendNull()
            }
            let lc = children[7]
            for (k, list) in lc.children.enumerated() {
                let values = list.children[0]
                for p in kept { values.appendRow(from: p.record.children[p.map[k]], p.record.offset + p.row) }
                list.appendValid()
            }
            lc.appendValid()
            builder.appendValid()
            details.objects += 1
            inFile += 1
        }
        var sinceCheck = 0
        while let top = heap.first {
            let id = Array(top.id)
            if id != current {
                emit()
                if builder.length >= objectsPerRowGroup || inFile >= objectsPerFile { try flush(closing: false) }
                current = id
                pts = []
                alerts = 0
            }
            alerts += 1
            details.alerts += 1
            let cand = top.batch.children[candCol]
            if let p = point(cand, top.row, candIdx) { pts.append(p) }
            let prv = top.batch.children[prvCol]
            if prv.isValid(top.row), let o = prv.buffers[1]?.base?.assumingMemoryBound(to: Int32.self) {
                let element = prv.children[0]
                let j = prv.offset + top.row
                for e in Int(o[j])..<Int(o[j + 1]) {
                    guard let p = point(element, e, prvIdx), value(p, magK, Float.self) != nil else { continue }
                    pts.append(p)
                }
            }
            progress.advance(1)
            top.row += 1
            try heap.stepped()
            sinceCheck += 1
            if sinceCheck >= 4096 { sinceCheck = 0; try Interruption.check() }
        }
        emit()
        try flush(closing: true)
        return details
    }

    /// Builds the objects (resumable, into `<output>.astropile-objects`, plain Parquet, kept so a
    /// re-run is a no-op), then imports them as the HATS catalog `output`.
    public static func run(lake path: String, output: String, threshold: Int64?, highestOrder: Int, jobs: Int?, tmp: String?,
                           progress: Bool) throws -> (details: AlertLightCurveDetails, catalog: ImportPipeline.Outcome) {
        let lake = try AlertLake(path)
        let objects = try WorkFolder.canonicalPath(output, role: "output") + ".astropile-objects"
        let nights = lake.nights()
        guard !nights.isEmpty else { throw RunError.configuration("\(path) holds no alerts (no year=/month=/day= folders)") }
        // The lake's state: every night and its generation (a rewritten night changes the hash).
        let state = nights.map { "\($0) \(NightContents.read(lake.folder($0))?.generation ?? 0)" }
        let hash = CanonicalHash.fnv1a(lake.root + "\n" + state.joined(separator: "\n"))
        // Under MPI rank 0 alone removes what is stale, before any rank begins.
        try Cluster.onLeader(during: "alerts lightcurves: the lake's state") {
        if let data = FileManager.default.contents(atPath: Run.reportPath(output: objects)),
           let old = try? JSONDecoder().decode(RunReport<AlertLightCurveDetails>.self, from: data), old.configHash != hash {
            // The lake changed since: build the objects again, and import them again — the
            // catalog made from the old objects (an import, with its work folder if it stopped)
            // goes first, so that no stop in between leaves an old catalog looking current.
            let catalog = try WorkFolder.canonicalPath(output, role: "output")
            if let made = FileManager.default.contents(atPath: Run.reportPath(output: catalog)),
               let header = try? JSONDecoder().decode(ProducedBy.self, from: made), header.pipeline == "import" {
                DirectorySwap.removeTree(catalog)
            }
            try WorkFolder(output: catalog, parent: tmp).remove()
            DirectorySwap.removeTree(objects)
        }
        }
        let details: AlertLightCurveDetails
        switch try Run.begin(pipeline: "alerts-lightcurves", output: objects, configHash: hash, stages: AlertLightCurveStage.self,
                             options: RunOptions(jobs: jobs, tmp: tmp, progress: progress), details: AlertLightCurveDetails.self) {
        case .complete(let report):
            details = report.details
        case .started(let run):
            let built = try run.step(AlertLightCurveStage.build) { () -> AlertLightCurveDetails in
                let staging = try run.stagingDirectory()
                let reporter = ProgressReporter(stage: "lightcurves build", unit: "alerts", total: nil, enabled: progress)
                defer { reporter.finish() }
                return try build(lake: lake, folder: staging, progress: reporter)
            }
            let report = RunReport(pipeline: "alerts-lightcurves", output: objects, configHash: hash, inputs: nights.count,
                                   counts: RunCounts(unit: "objects", read: built.alerts, written: built.objects), details: built)
            details = try run.commit(report).details
        }
        return try finish(details, objects: objects, output: output, threshold: threshold, highestOrder: highestOrder,
                          jobs: jobs, tmp: tmp, progress: progress)
    }

    /// The pipeline named in a report.
    private struct ProducedBy: Decodable { var pipeline: String }

    private static func finish(_ details: AlertLightCurveDetails, objects: String, output: String, threshold: Int64?, highestOrder: Int,
                               jobs: Int?, tmp: String?, progress: Bool) throws -> (details: AlertLightCurveDetails, catalog: ImportPipeline.Outcome) {
        guard !details.files.isEmpty else { throw RunError.configuration("the lake has no objects to write") }
        var c = ImportConfig(inputs: details.files.map { objects + "/" + $0 }, output: output)
        c.format = .parquet
        c.catalogType = "object"
        c.highestOrder = highestOrder
        c.threshold = threshold ?? 50_000
        c.batchRows = 4096
        c.jobs = jobs
        c.tmp = tmp
        let outcome = try ImportPipeline(config: c, showProgress: progress).run()
        return (details, outcome)
    }
}
