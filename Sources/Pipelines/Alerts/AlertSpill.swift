import Foundation
import Formats
import RunEngine
import Table

/// Parsed writer schemas, shared by all workers, keyed by a hash of the schema's bytes (and the
/// bytes compared, so a hash collision cannot mix two schemas). A ZTF alert file is mostly its
/// schema text; parsing it per alert would cost more than decoding the alert.
final class AlertSchemaCache: @unchecked Sendable {
    struct Entry: Sendable {
        let id: Int
        let bytes: [UInt8]
        let type: Result<AvroType, FormatError>
        /// The schema's own `version` (never trusted for decoding) and a fingerprint of its bytes.
        let label: String
    }

    static let shared = AlertSchemaCache()
    private let lock = NSLock()
    private var byHash: [UInt64: [Entry]] = [:]
    private var count = 0

    func entry(_ bytes: UnsafeRawBufferPointer) -> Entry {
        // FNV-1a over the length and a sample of 8-byte words (every 64th word, and the last): the
        // hash only picks a bucket; the full bytes are compared (memcmp) before a schema is reused.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        var k = 0
        while k + 8 <= bytes.count {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: k, as: UInt64.self)) &* 0x100_0000_01b3
            k += 512
        }
        if bytes.count >= 8 { h = (h ^ bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)) &* 0x100_0000_01b3 }
        // invariant: both buffers are non-empty (count > 0) where their base addresses are unwrapped.
        func same(_ e: Entry) -> Bool {
            e.bytes.count == bytes.count && (bytes.count == 0 || e.bytes.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
        }
        lock.lock()
        if let e = byHash[h]?.first(where: same) { lock.unlock(); return e }
        lock.unlock()
        let type = Result { () throws(FormatError) -> AvroType in
            do { return try AvroType.parse(json: bytes) } catch let e as FormatError { throw e } catch { throw FormatError(.corruptInput, "\(error)") }
        }
        var version = "unlabelled"
        if let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], let v = object["version"] as? String { version = v }
        var full: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { full = (full ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(full, radix: 16)
        let label = version + " (schema " + String(repeating: "0", count: 16 - hex.count) + hex + ")"
        lock.lock()
        defer { lock.unlock() }
        if let e = byHash[h]?.first(where: same) { return e }
        count += 1
        let e = Entry(id: count, bytes: Array(bytes), type: type, label: label)
        byHash[h, default: []].append(e)
        return e
    }
}

/// One sorted run of alerts of one night, spilled by the read stage.
struct AlertRun: Codable, Sendable, Hashable {
    var night: String
    /// Relative to the work folder.
    var path: String
    var alerts: Int64
}

/// Decodes the alert members of one work item and spills them as runs sorted by
/// (night, objectId, jd) whenever the decode buffers reach their share of `--memory`.
final class AlertSpill {
    let schema: Schema
    let keys: AlertLakeSchema.Keys
    let folder: String
    let prefix: String
    let budget: Int
    /// The night every alert of the item belongs to (from a tarball's name), or nil to take
    /// each alert's from its candidate.jd.
    let night: ObservingNight?
    private var decoders: [Int: AvroDatumDecoder] = [:]
    private var failed: [Int: FormatError] = [:]
    private(set) var runs: [AlertRun] = []
    /// Alerts per writer-schema label.
    private(set) var labels: [String: Int64] = [:]
    /// Alerts decoded but dropped because no night could be given to them.
    private(set) var undated: [Rejection] = []
    private var sequence = 0
    private var memberRows: [(member: String, rows: Int, decoder: Int)] = []

    init(schema: Schema, folder: String, prefix: String, budget: Int, night: ObservingNight?) throws {
        self.schema = schema
        keys = try AlertLakeSchema.Keys(schema)
        self.folder = folder
        self.prefix = prefix
        self.budget = budget
        self.night = night
    }

    private var bufferedBytes: Int { decoders.values.reduce(0) { $0 + $1.byteCount } }

    /// Decodes one Avro file's alerts; returns how many. A member that fails to decode adds no
    /// row. - Throws: ``FormatError`` naming the block, alert and field.
    func decodeMember(_ data: [UInt8], name: String) throws -> Int {
        try data.withUnsafeBytes { try decodeMember($0, name: name) }
    }

    /// Decodes one Avro file's alerts from `raw` (not kept); returns how many.
    func decodeMember(_ raw: UnsafeRawBufferPointer, name: String) throws -> Int {
        let container = try AvroContainer(raw)
        let entry = AlertSchemaCache.shared.entry(UnsafeRawBufferPointer(rebasing: raw[container.schema]))
        let decoder: AvroDatumDecoder
        if let d = decoders[entry.id] { decoder = d } else {
            if let e = failed[entry.id] { throw e }
            let writer: AvroType
            switch entry.type {
            case .success(let w): writer = w
            case .failure(let error):
                let e = FormatError(.corruptInput, "the writer schema (\(entry.label)) is unreadable: \(error.message)", location: "header")
                failed[entry.id] = e
                throw e
            }
            do {
                decoder = try AvroDatumDecoder(writer: writer, into: schema)
            } catch let e as FormatError {
                let error = FormatError(e.code, "the writer schema (\(entry.label)) does not fit the lake schema: \(e.message)")
                failed[entry.id] = error
                throw error
            }
            decoders[entry.id] = decoder
        }
        let before = decoder.rows
        // Rows and array items that take no bytes, which the file's size does not bound.
        var emptyItems = AvroDatumDecoder.emptyItemLimit
        do {
            try container.forEachBlock(raw) { count, datums, block in
                do { try decoder.checkBlock(count: count, bytes: datums.count, emptyItems: &emptyItems) } catch {
                    throw FormatError(.corruptInput, "the block's count of alerts does not fit it: \(error)", location: "block \(block)")
                }
                var r = AvroByteReader(datums)
                for i in 0..<count {
                    do { try decoder.decodeRow(&r, emptyItems: &emptyItems) } catch {
                        throw FormatError(.corruptInput, "alert \(i) of block \(block) does not decode: \(error)")
                    }
                }
                guard r.remaining == 0 else {
                    throw FormatError(.corruptInput, "\(AvroDecodeError.trailingBytes(r.remaining))", location: "block \(block)")
                }
            }
        } catch {
            decoder.root.truncate(to: before)
            throw error
        }
        let added = decoder.rows - before
        labels[entry.label, default: 0] += Int64(added)
        memberRows.append((name, added, entry.id))
        return added
    }

    /// Whether the decode buffers reached their budget (the caller then calls ``flush()``);
    /// measured every 16 members (walking the builders is not free).
    var needsFlush: Bool {
        checks += 1
        return checks % 16 == 0 && bufferedBytes >= budget
    }
    private var checks = 0

    /// Removes every run written so far (an archive refused as a whole).
    func discard() {
        for r in runs { unlink(folder + "/" + r.path) }
        runs = []
        labels = [:]
        for d in decoders.values { _ = d.finishBatch() }
        memberRows = []
    }

    /// Sorts what is buffered and writes it as one run per night.
    func flush() throws {
        let batches = decoders.keys.sorted().compactMap { k -> RecordBatch? in
            guard let d = decoders[k], d.rows > 0 else { return nil }
            return d.finishBatch()
        }
        memberRows = []
        guard !batches.isEmpty else { return }
        struct Key { var night: ObservingNight; var id: String; var jd: Double; var batch: Int; var row: Int }
        var rows: [Key] = []
        for (b, batch) in batches.enumerated() {
            let ids = batch.columns[keys.objectId]
            let candidate = batch.columns[keys.candidate]
            let jds = candidate.children[keys.jd]
            for i in 0..<batch.length {
                let jd = candidate.isValid(i) && jds.isValid(candidate.offset + i) ? jds.values(Double.self)[candidate.offset + i] : .nan
                guard let n = night ?? ObservingNight.palomar(jd: jd) else {
                    undated.append(Rejection(input: prefix, position: "objectId \(ids.string(at: i) ?? "?")",
                                             reason: "candidate.jd \(jd) gives no observing night"))
                    continue
                }
                rows.append(Key(night: n, id: ids.string(at: i) ?? "", jd: jd, batch: b, row: i))
            }
        }
        rows.sort { ($0.night, $0.id, $0.jd) < ($1.night, $1.id, $1.jd) }
        let structs = batches.map { ArrayData(type: .structure(schema.fields), length: $0.length, nullCount: 0, buffers: [nil], children: $0.columns) }
        let builder = try ArrayBuilder(.structure(schema.fields))
        var start = 0
        while start < rows.count {
            let n = rows[start].night
            var end = start
            while end < rows.count, rows[end].night == n { end += 1 }
            sequence += 1
            let relative = "runs/\(n)/\(prefix)-\(sequence).arrow"
            let path = folder + "/" + relative
            try FileManager.default.createDirectory(atPath: folder + "/runs/\(n)", withIntermediateDirectories: true)
            // Direct I/O: the run is read once, by the night merge; through the page cache it would cost
            // a copy into fresh pages per GiB (the largest cost of the ingest, measured) for nothing.
            let writer = try IPCFileWriter(path: path, schema: schema, durable: false, directIO: true)
            for chunk in stride(from: start, to: end, by: AlertNightWriter.batchRows) {
                let picks = rows[chunk..<min(end, chunk + AlertNightWriter.batchRows)]
                builder.appendRows(from: structs, source: picks.map { Int32($0.batch) }, rows: picks.map(\.row))
                let count = builder.length
                try writer.write(RecordBatch(schema: schema, columns: builder.finish().children, length: count))
            }
            try writer.close()
            runs.append(AlertRun(night: n.description, path: relative, alerts: Int64(end - start)))
            start = end
        }
    }
}
