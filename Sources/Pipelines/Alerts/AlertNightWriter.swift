import Foundation
import Formats
import RunEngine
import Table

/// What merging one night did.
struct AlertNightRecord: Codable, Sendable {
    var night: String
    /// Alerts the night's new runs brought.
    var alertsIn: Int64
    /// Of those, how many went in (the rest were duplicates of a `candid` already there).
    var added: Int64
    var duplicates: Int64
    /// A few duplicate candids, with the contribution that brought them.
    var duplicateExamples: [Rejection]
    /// Contributions found already merged (a rewrite a kill interrupted before its record).
    var alreadyMerged: [String]
    /// Alerts in the night afterwards, and its files.
    var total: Int64
    var files: [String]
    var generation: Int
}

/// One contribution to a night: the runs one work item spilled for it.
struct NightContribution: Sendable {
    var key: String
    var source: String
    var runs: [String]
    var alerts: Int64
}

/// Merges a night's new sorted runs with the alerts the lake already holds for it (k-way, by
/// (objectId, jd); the lake's rows first, then contributions in input order), keeps the first of
/// each `candid`, writes the night's Parquet files into a staging folder and swaps the folder in
/// (``DirectorySwap``). Memory: one small batch per run plus one row group being written.
enum AlertNightWriter {
    /// Rows per spilled batch and per merge read.
    static let batchRows = 64
    /// Duplicate examples kept per night.
    static let examples = 20

    /// A source of sorted batches with the current row's keys.
    final class Cursor {
        let order: Int
        let label: String
        let next: () throws -> RecordBatch?
        let keys: AlertLakeSchema.Keys
        let types: [DataType]
        var batch: ArrayData
        /// Where `batch` is in the merge's list of pending sources (nil: not there yet).
        var pending: Int32?
        var row = 0
        var length = 0
        private var ids: ArrayData
        private var jds: ArrayData
        private var candidate: ArrayData
        private var candids: ArrayData

        init?(order: Int, label: String, keys: AlertLakeSchema.Keys, types: [DataType], next: @escaping () throws -> RecordBatch?) throws {
            self.order = order
            self.label = label
            self.next = next
            self.keys = keys
            self.types = types
            batch = ArrayData(type: .null, length: 0, nullCount: 0, buffers: [])
            (ids, jds, candidate, candids) = (batch, batch, batch, batch)
            guard try advance() else { return nil }
        }

        /// Loads the next non-empty batch; false at the end.
        func advance() throws -> Bool {
            while let b = try next() {
                guard b.length > 0 else { continue }
                guard b.columns.map(\.type) == types else {
                    throw FormatError(.unsupported, "\(label) does not have the lake schema")
                }
                batch = ArrayData(type: .structure(b.schema.fields), length: b.length, nullCount: 0, buffers: [nil], children: b.columns)
                ids = b.columns[keys.objectId]
                candidate = b.columns[keys.candidate]
                jds = candidate.children[keys.jd]
                candids = b.columns[keys.candid]
                row = 0
                length = b.length
                pending = nil
                return true
            }
            return false
        }

        var id: UnsafeRawBufferPointer {
            guard ids.isValid(row), let o = ids.buffers[1]?.base?.assumingMemoryBound(to: Int32.self) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            let j = ids.offset + row
            return UnsafeRawBufferPointer(start: ids.buffers[2]?.base.map { $0 + Int(o[j]) }, count: Int(o[j + 1] - o[j]))
        }
        var jd: Double {
            let j = candidate.offset + row
            return candidate.isValid(row) && jds.isValid(j) ? jds.values(Double.self)[j] : -.infinity
        }
        var candid: Int64? { candids.isValid(row) ? candids.values(Int64.self)[row] : nil }
    }

    static func precedes(_ a: Cursor, _ b: Cursor) -> Bool {
        let x = a.id, y = b.id
        let n = min(x.count, y.count)
        if n > 0, let xb = x.baseAddress, let yb = y.baseAddress {
            let c = memcmp(xb, yb, n)
            if c != 0 { return c < 0 }
        }
        if x.count != y.count { return x.count < y.count }
        let (ja, jb) = (a.jd, b.jd)
        if ja != jb { return ja < jb }
        return a.order < b.order
    }

    /// Merges and swaps in one night, its files written with the cutouts kept as `mode` says
    /// (the night's existing files are read as they were written).
    static func write(night: ObservingNight, contributions: [NightContribution], lake: AlertLake, work: String,
                      config: AlertIngestConfig, mode: AlertCutoutMode, schema: Schema, progress: ProgressReporter) throws -> AlertNightRecord {
        let live = lake.folder(night)
        let existing = NightContents.read(live)
        let merged = Set(existing?.contributions ?? [])
        let fresh = contributions.filter { !merged.contains($0.key) }
        var record = AlertNightRecord(night: night.description, alertsIn: 0, added: 0, duplicates: 0, duplicateExamples: [],
                                      alreadyMerged: contributions.filter { merged.contains($0.key) }.map(\.key),
                                      total: existing?.alerts ?? 0, files: existing?.files ?? [], generation: existing?.generation ?? 0)
        record.alertsIn = contributions.reduce(0) { $0 + $1.alerts }
        guard !fresh.isEmpty else {
            // Everything is in already: a kill came after the swap, before the record.
            record.added = existing?.addedBy.map { a in contributions.reduce(0) { $0 + (a[$1.key] ?? 0) } } ?? 0
            record.duplicates = record.alertsIn - record.added
            progress.advance(record.alertsIn)
            return record
        }
        let keys = try AlertLakeSchema.Keys(schema)
        let types = schema.fields.map(\.type)
        var cursors: [Cursor] = []
        var order = 0
        var lakeRows: Int64 = 0
        let existingMode = existing.map { $0.cutouts ?? .inline }
        for file in existing?.files ?? [] {
            let path = live + "/" + file
            lakeRows += Int64(try ParquetFileReader.info(path: path).rows)
            let reader = try ParquetFileReader(path: path, batchRows: batchRows)
            var next: () throws -> RecordBatch? = { try reader.next() }
            if existingMode == .separate {
                let cutPath = live + "/" + AlertLake.cutoutFolder + "/" + file
                let cutouts = try ParquetFileReader(path: cutPath, batchRows: batchRows)
                next = { try joined(reader.next(), cutouts.next(), schema: schema, label: cutPath) }
            }
            if let c = try Cursor(order: order, label: path, keys: keys, types: types, next: next) { cursors.append(c) }
            order += 1
        }
        let lakeOrders = order
        var contributionOf: [Int: Int] = [:]
        for (k, c) in fresh.enumerated() {
            for run in c.runs {
                let path = work + "/" + run
                let file = try IPCFile(path: path, directIO: true)
                var index = 0
                if let cur = try Cursor(order: order, label: path, keys: keys, types: types, next: {
                    guard index < file.batchCount else { return nil }
                    index += 1
                    return try file.batch(index - 1)
                }) { cursors.append(cur); contributionOf[order] = k }
                order += 1
            }
        }

        try FileManager.default.createDirectory(atPath: lake.stagingFolder, withIntermediateDirectories: true)
        let staging = lake.stagingFolder + "/\(night)-g\(record.generation + 1)"
        DirectorySwap.removeTree(staging)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        var options = ParquetWriteOptions()
        options.rowGroupRows = config.alertsPerRowGroup
        let builder = try ArrayBuilder(.structure(schema.fields))
        // The columns of the alert files and (separate cutouts) of the cutout table.
        let rowSchema = try AlertLakeSchema.rowSchema(mode)
        let rowColumns = rowSchema.fields.compactMap { schema.index(of: $0.name) }
        let cutoutSchema = try AlertLakeSchema.cutoutSchema()
        let cutoutColumns = cutoutSchema.fields.compactMap { schema.index(of: $0.name) }
        if mode == .separate { try FileManager.default.createDirectory(atPath: staging + "/" + AlertLake.cutoutFolder, withIntermediateDirectories: true) }
        var writer: ParquetFileWriter?
        var cutoutWriter: ParquetFileWriter?
        var files: [String] = []
        var inFile = 0
        var total: Int64 = 0
        var seen = Set<Int64>()
        var addedBy: [String: Int64] = [:]
        var lakeDuplicates: Int64 = 0

        // Rows picked for the row group being built: (source batch, row), copied column by column.
        var sources: [ArrayData] = []
        var pickedSource: [Int32] = [], pickedRow: [Int] = []
        func flushBuilder() throws {
            if !pickedRow.isEmpty {
                builder.appendRows(from: sources, source: pickedSource, rows: pickedRow)
                pickedSource.removeAll(keepingCapacity: true)
                pickedRow.removeAll(keepingCapacity: true)
                sources.removeAll(keepingCapacity: true)
                for c in cursors { c.pending = nil }
            }
            guard builder.length > 0 else { return }
            let n = builder.length
            if writer == nil {
                let name = String(format: "part-%05d.parquet", files.count)
                files.append(name)
                writer = try ParquetFileWriter(path: staging + "/" + name, schema: rowSchema, options: options, directIO: true)
                if mode == .separate {
                    cutoutWriter = try ParquetFileWriter(path: staging + "/" + AlertLake.cutoutFolder + "/" + name, schema: cutoutSchema,
                                                         options: options, directIO: true)
                }
            }
            let columns = builder.finish().children
            try writer?.write(RecordBatch(schema: rowSchema, columns: rowColumns.map { columns[$0] }, length: n))
            try cutoutWriter?.write(RecordBatch(schema: cutoutSchema, columns: cutoutColumns.map { columns[$0] }, length: n))
            if inFile >= config.alertsPerFile {
                try writer?.close()
                try cutoutWriter?.close()
                writer = nil
                cutoutWriter = nil
                inFile = 0
            }
        }

        var heap = CursorHeap(cursors)
        var sinceCheck = 0
        while let top = heap.first {
            let candid = top.candid
            let fromLake = top.order < lakeOrders
            if let candid, !seen.insert(candid).inserted {
                if fromLake { lakeDuplicates += 1 } else {
                    record.duplicates += 1
                    if record.duplicateExamples.count < examples, let k = contributionOf[top.order] {
                        record.duplicateExamples.append(Rejection(input: fresh[k].source, position: "candid \(candid)",
                                                                  reason: "an alert with this candid is already in night \(night); the first is kept"))
                    }
                }
            } else {
                if top.pending == nil {
                    sources.append(top.batch)
                    top.pending = Int32(sources.count - 1)
                }
                pickedSource.append(top.pending ?? 0)
                pickedRow.append(top.row)
                inFile += 1
                total += 1
                if !fromLake, let k = contributionOf[top.order] { addedBy[fresh[k].key, default: 0] += 1 }
                if pickedRow.count >= config.alertsPerRowGroup || inFile >= config.alertsPerFile {
                    try flushBuilder()
                }
            }
            if !fromLake { progress.advance(1) }
            top.row += 1
            try heap.stepped()
            sinceCheck += 1
            if sinceCheck >= 4096 { sinceCheck = 0; try Interruption.check() }
        }
        try flushBuilder()
        try writer?.close()
        try cutoutWriter?.close()
        record.added = addedBy.values.reduce(0, +)
        let freshAlerts = fresh.reduce(0) { $0 + $1.alerts }
        guard lakeRows + freshAlerts == total + record.duplicates + lakeDuplicates else {
            throw RunError.verification("night \(night): \(lakeRows) alerts in the lake + \(freshAlerts) new ≠ \(total) written + \(record.duplicates + lakeDuplicates) duplicates")
        }
        var added = existing?.addedBy ?? [:]
        for c in fresh { added[c.key] = addedBy[c.key] ?? 0 }
        let contents = NightContents(night: night.description, generation: record.generation + 1,
                                     contributions: (existing?.contributions ?? []) + fresh.map(\.key), alerts: total, files: files,
                                     updated: UTCTime.iso8601(), addedBy: added, cutouts: mode)
        try AtomicFile.write(Array(try JSONEncoder.sorted.encode(contents)), to: staging + "/" + NightContents.fileName)
        try FileManager.default.createDirectory(atPath: AtomicFile.directory(of: live), withIntermediateDirectories: true)
        try DirectorySwap.replace(live, with: staging, journal: lake.stagingFolder + "/\(night).swap")
        // The window between the swap and the record: the resume tests kill the run here too.
        FaultHooks.itemRecorded(stage: "alerts-night-swapped")
        record.total = total
        record.files = files
        record.generation = contents.generation
        return record
    }
}

/// One batch of a night's alert file and the same rows of its cutout table, as one batch of the
/// full alert schema. - Throws: ``FormatError`` when the two do not match row for row.
func joined(_ rows: RecordBatch?, _ cutouts: RecordBatch?, schema: Schema, label: String) throws -> RecordBatch? {
    guard let rows, let cutouts else {
        if rows == nil, cutouts == nil { return nil }
        throw FormatError(.corruptInput, "\(label) has \(rows == nil ? "more" : "fewer") rows than the night's alert file")
    }
    guard rows.length == cutouts.length, let a = rows.schema.index(of: "candid"), let b = cutouts.schema.index(of: "candid") else {
        throw FormatError(.corruptInput, "\(label) does not match the night's alert file row for row")
    }
    let x = rows.columns[a], y = cutouts.columns[b]
    guard x.type == .int64, y.type == .int64 else { throw FormatError(.corruptInput, "\(label): candid is not int64") }
    for i in 0..<rows.length where x.isValid(i) != y.isValid(i) || (x.isValid(i) && x.values(Int64.self)[i] != y.values(Int64.self)[i]) {
        throw FormatError(.corruptInput, "\(label): row \(i) of a batch has another candid than the night's alert file")
    }
    var columns: [ArrayData] = []
    for f in schema.fields {
        if let k = rows.schema.index(of: f.name) { columns.append(rows.columns[k]) }
        else if let k = cutouts.schema.index(of: f.name) { columns.append(cutouts.columns[k]) }
        else { throw FormatError(.corruptInput, "\(label) and its alert file lack column \(f.name)") }
    }
    return RecordBatch(schema: schema, columns: columns, length: rows.length)
}

/// A binary min-heap of merge cursors by (objectId, jd, order): the night merge and the
/// light-curve merge both walk sorted files this way.
struct CursorHeap {
    private var items: [AlertNightWriter.Cursor]

    init(_ cursors: [AlertNightWriter.Cursor]) {
        items = cursors
        for i in stride(from: items.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    /// The cursor whose current row comes first.
    var first: AlertNightWriter.Cursor? { items.first }

    /// After the caller moved the first cursor's row on: loads its next batch (dropping the
    /// cursor at its end) and restores the order.
    mutating func stepped() throws {
        guard let top = items.first else { return }
        if top.row >= top.length, try !top.advance() {
            items.swapAt(0, items.count - 1)
            items.removeLast()
        }
        siftDown(0)
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, AlertNightWriter.precedes(items[l], items[m]) { m = l }
            if r < items.count, AlertNightWriter.precedes(items[r], items[m]) { m = r }
            if m == i { return }
            items.swapAt(i, m)
            i = m
        }
    }
}

extension JSONEncoder {
    /// Pretty, key-sorted JSON (stable files).
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }
}
