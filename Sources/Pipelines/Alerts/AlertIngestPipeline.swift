import Foundation
import Formats
import RunEngine
import Table

/// One work item of the read stage: an archive, or a group of loose `.avro` files.
struct AlertSourceItem: Sendable, Hashable {
    var kind: AlertSourceKind
    var paths: [String]
    var sizes: [Int64]
    var mtimes: [Int64]
    /// The night from an archive's name (`ztf_public_YYYYMMDD`), if it has one.
    var night: ObservingNight?
    var key: String
}

/// What reading one item did.
struct AlertReadRecord: Codable, Sendable {
    var sources: [AlertSourceEntry]
    /// Per source (same order), its rejected members.
    var rejected: [[Rejection]]
    var runs: [AlertRun]
    var labels: [String: Int64]
    var undated: [Rejection]
}

/// What an ingest run wrote beyond the common counts (`_ingest/<run>/astropile_report.json`).
public struct AlertIngestDetails: Codable, Sendable, Hashable {
    public var lake: String
    public var lakeSchema: String
    /// Archives and loose `.avro` files read in this run.
    public var archives: Int
    public var looseFiles: Int
    /// Inputs skipped because the manifest has them ingested, unchanged.
    public var unchanged: Int
    /// Inputs refused as a whole (corrupt or truncated stream), listed in the manifest.
    public var quarantined: [String]
    public var members: Int64
    public var membersRejected: Int64
    public var alertsDecoded: Int64
    public var alertsWritten: Int64
    public var duplicates: Int64
    /// Nights touched: alerts added and alerts in the night now.
    public var nights: [String: [Int64]]
    /// Writer schemas met (their own version label and a fingerprint) and alerts of each.
    public var schemas: [String: Int64]
}

/// The report of `astropile alerts ingest`.
public typealias AlertIngestReport = RunReport<AlertIngestDetails>

/// `astropile alerts ingest`: ZTF alert archives and loose Avro files into the alert lake.
///
/// Stages: **read** streams each archive with libarchive (never unpacking), decodes each Avro
/// member with its own writer schema into the lake schema and spills sorted runs (parallel over
/// inputs; a bad member is rejected with its reason, a corrupt or truncated stream quarantines
/// the whole archive — its members cannot be trusted to be all there — and its runs are
/// dropped); **night** merges each night's runs with the lake's rows for that night and swaps
/// the night's folder in atomically; **finish** checks the counts add up, records every input in
/// the manifest and writes the run report. A kill at any point leaves every night either as it
/// was or fully rewritten; re-running continues and never duplicates an alert.
public enum AlertIngestPipeline {
    /// Loose `.avro` files per read item.
    static let looseGroup = 256
    /// The largest member read into memory.
    static let memberLimit = 256 << 20

    public static func run(_ config: AlertIngestConfig, progress: Bool = true) throws -> RunOutcome<AlertIngestDetails> {
        try config.validate()
        // Decode buffers and row groups of tens of MB are allocated and freed all the time; glibc
        // would mmap and unmap each (a page fault per 4 KiB, ~10% of the run, measured). Keep
        // them in the heap instead (bounded: memory is returned past 128 MiB of free space).
        MallocTuning.keepLargeBlocks(mmapThreshold: 64 << 20, trimThreshold: 128 << 20)
        let lake = try AlertLake(config.output)
        // Under MPI rank 0 holds the lake's lock for all ranks and recovers before any reads.
        var lock: AlertLake.Lock? = nil
        try Cluster.onLeader(during: "alerts ingest: the lake's lock") {
            lock = try AlertLake.Lock(lake)
            try recoverStaging(lake)
            _ = try AlertManifest(path: lake.manifestPath)
        }
        defer { withExtendedLifetime(lock) {} }
        let schema = try AlertLakeSchema.schema()
        let existingMode = lake.cutoutMode()
        let mode = config.cutouts ?? existingMode ?? .inline
        if let existingMode, existingMode != mode {
            throw RunError.configuration("\(lake.root) keeps its cutouts \(existingMode == .inline ? "in the alert rows" : "in a separate table"); "
                                         + "ingest into it with --cutouts \(existingMode.rawValue), or into a new lake")
        }

        let paths = try FileMatcher.expand(config.inputs, accept: AlertIngestConfig.accepts)
        guard !paths.isEmpty else { throw RunError.configuration("\(config.inputs.joined(separator: " ")) matches no archive or .avro file") }
        let manifest = try AlertManifest(path: lake.manifestPath)
        let known = try manifest.ingested()
        var items: [AlertSourceItem] = []
        var loose: [(String, Int64, Int64)] = []
        var unchanged = 0
        var listing: [String] = []
        for path in paths {
            guard let kind = AlertSourceKind(name: (path as NSString).lastPathComponent) else {
                throw RunError.configuration("\(path) is neither an archive (.tar, .tar.gz, …) nor an .avro file")
            }
            let absolute = StampsConfig.absolute(path)
            var st = stat()
            guard stat(absolute, &st) == 0 else { throw RunError.configuration("\(path): \(String(cString: strerror(errno)))") }
            let size = Int64(st.st_size), mtime = Int64(st.st_mtim.tv_sec)
            if let k = known[absolute], k.bytes == size, k.mtime == mtime { unchanged += 1; continue }
            listing.append("\(absolute)\t\(size)\t\(mtime)")
            switch kind {
            case .archive:
                items.append(AlertSourceItem(kind: .archive, paths: [absolute], sizes: [size], mtimes: [mtime],
                                             night: ObservingNight.fromArchiveName((absolute as NSString).lastPathComponent),
                                             key: "a-" + CanonicalHash.fnv1a("\(absolute)\t\(size)\t\(mtime)")))
            case .avro:
                loose.append((absolute, size, mtime))
            }
        }
        loose.sort { $0.0 < $1.0 }
        for start in stride(from: 0, to: loose.count, by: looseGroup) {
            let g = loose[start..<min(loose.count, start + looseGroup)]
            items.append(AlertSourceItem(kind: .avro, paths: g.map(\.0), sizes: g.map(\.1), mtimes: g.map(\.2), night: nil,
                                         key: "f-" + CanonicalHash.fnv1a(g.map { "\($0.0)\t\($0.1)\t\($0.2)" }.joined(separator: "\n"))))
        }
        struct HashInput: Codable { var perFile: Int; var perGroup: Int; var cutouts: AlertCutoutMode; var listing: [String] }
        let hash = CanonicalHash.of(HashInput(perFile: config.alertsPerFile, perGroup: config.alertsPerRowGroup, cutouts: mode, listing: listing))
        let runOutput = lake.ingestFolder + "/" + hash.prefix(16)
        let run: Run
        switch try Run.begin(pipeline: "alerts-ingest", output: runOutput, configHash: hash, stages: AlertIngestStage.self,
                             options: RunOptions(jobs: config.jobs, tmp: config.tmp, progress: progress), details: AlertIngestDetails.self) {
        case .complete(let report): return .alreadyComplete(report)
        case .started(let r): run = r
        }
        let work = run.folder.path
        let workers = max(1, RunOptions(jobs: config.jobs).workers)
        // A worker holds its decode buffers, their finished copy and the batch being sorted out.
        let budget = Int(max(16 << 20, config.memoryBytes / Int64(workers) / 4))

        let totalBytes = items.reduce(Int64(0)) { $0 + $1.sizes.reduce(0, +) }
        let reads = try run.stage(AlertIngestStage.read, items: items, key: \.key,
                                  progress: StageProgress(unit: "bytes", total: totalBytes) { i, _ in i.sizes.reduce(0, +) },
                                  priority: { $0.sizes.reduce(0, +) }) { item, context in
            try read(item, work: work, schema: schema, budget: budget, progress: context.progress)
        }

        // Each night's contributions, in input order.
        var byNight: [ObservingNight: [NightContribution]] = [:]
        for (item, record) in zip(items, reads) {
            var runs: [String: [AlertRun]] = [:]
            for r in record.runs { runs[r.night, default: []].append(r) }
            for (label, list) in runs {
                guard let night = ObservingNight(label) else { continue }
                let source = item.kind == .archive ? item.paths[0] : "\(item.paths.count) .avro files from \(item.paths[0])"
                byNight[night, default: []].append(NightContribution(key: item.key, source: source, runs: list.map(\.path),
                                                                     alerts: list.reduce(0) { $0 + $1.alerts }))
            }
        }
        let nights = byNight.keys.sorted()
        let contributions = byNight
        let nightAlerts = nights.reduce(Int64(0)) { $0 + (byNight[$1] ?? []).reduce(0) { $0 + $1.alerts } }
        let nightRecords = try run.stage(AlertIngestStage.night, items: nights, key: { $0.description },
                                         progress: StageProgress(unit: "alerts", total: nightAlerts) { _, r in r.alertsIn }) { night, context in
            try AlertNightWriter.write(night: night, contributions: contributions[night] ?? [], lake: lake, work: work, config: config,
                                       mode: mode, schema: schema, progress: context.progress)
        }

        let report = try run.step(AlertIngestStage.finish) { () -> AlertIngestReport in
            // Alerts each item added, over its nights.
            var added: [String: Int64] = [:]
            for night in nights {
                let contents = NightContents.read(lake.folder(night))
                for c in contributions[night] ?? [] { added[c.key, default: 0] += contents?.addedBy?[c.key] ?? 0 }
            }
            var entries: [(AlertSourceEntry, [Rejection])] = []
            var labels: [String: Int64] = [:]
            var rejected: [Rejection] = []
            var refused: [Rejection] = []
            var quarantined: [String] = []
            for (item, record) in zip(items, reads) {
                for (k, var e) in record.sources.enumerated() {
                    if item.kind == .archive {
                        e.written = added[item.key] ?? 0
                        e.duplicates = e.alerts - e.written
                    }
                    if e.status == "quarantined" { quarantined.append(e.path) }
                    entries.append((e, record.rejected[k]))
                    rejected.append(contentsOf: record.rejected[k])
                    if let reason = e.reason { refused.append(Rejection(input: e.path, reason: "quarantined: " + reason)) }
                }
                for (l, n) in record.labels { labels[l, default: 0] += n }
                rejected.append(contentsOf: record.undated)
            }
            let decoded = reads.reduce(Int64(0)) { $0 + $1.sources.reduce(0) { $0 + $1.alerts } }
            let undated = Int64(reads.reduce(0) { $0 + $1.undated.count })
            let alertsIn = nightRecords.reduce(Int64(0)) { $0 + $1.alertsIn }
            guard decoded == alertsIn + undated else {
                throw RunError.verification("\(decoded) alerts decoded ≠ \(alertsIn) merged into nights + \(undated) without a night")
            }
            let written = added.values.reduce(0, +)
            let duplicates = nightRecords.reduce(Int64(0)) { $0 + $1.duplicates }
            for r in nightRecords { rejected.append(contentsOf: r.duplicateExamples) }
            try manifest.record(run: hash, sources: entries, nights: nightRecords, schemas: labels)
            try writeLakeMetadata(lake, manifest: manifest, cutouts: mode)
            var nightsOut: [String: [Int64]] = [:]
            for r in nightRecords { nightsOut[r.night] = [r.added, r.total] }
            let details = AlertIngestDetails(
                lake: lake.root, lakeSchema: AlertLakeSchema.version, archives: items.filter { $0.kind == .archive }.count,
                looseFiles: items.filter { $0.kind == .avro }.reduce(0) { $0 + $1.paths.count }, unchanged: unchanged,
                quarantined: quarantined, members: entries.reduce(0) { $0 + $1.0.members },
                membersRejected: entries.reduce(0) { $0 + $1.0.membersRejected }, alertsDecoded: decoded, alertsWritten: written,
                duplicates: duplicates, nights: nightsOut, schemas: labels)
            return AlertIngestReport(pipeline: "alerts-ingest", output: runOutput, configHash: hash, inputs: paths.count,
                                     counts: RunCounts(unit: "alerts", read: decoded, written: written,
                                                       rejected: entries.reduce(0) { $0 + $1.0.membersRejected } + undated),
                                     rejectedInputs: refused, rejectedRecords: rejected, details: details)
        }
        return .written(try run.commit(report))
    }

    /// Finishes a swap a kill interrupted and clears leftover staging folders (the lake lock is held).
    static func recoverStaging(_ lake: AlertLake) throws {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: lake.stagingFolder) else { return }
        for n in names where n.hasSuffix(".swap") { try DirectorySwap.recover(lake.stagingFolder + "/" + n) }
        for n in (try? fm.contentsOfDirectory(atPath: lake.stagingFolder)) ?? [] { DirectorySwap.removeTree(lake.stagingFolder + "/" + n) }
    }

    /// `_lake.json`: the lake schema's version, its Arrow schema and the writer schemas met.
    static func writeLakeMetadata(_ lake: AlertLake, manifest: AlertManifest, cutouts: AlertCutoutMode) throws {
        struct Metadata: Codable {
            var format = "astropile-alert-lake"
            var lakeSchema: String
            var cutouts: AlertCutoutMode
            var cutoutTable: [String]?
            var partitioning = "hive: year=YYYY/month=MM/day=DD (observing night: UTC date of t + 4 h, the ztf_public_YYYYMMDD date)"
            var sortedBy = ["objectId", "candidate.jd"]
            var columns: [String]
            var writerSchemas: [String: Int64]
            var nights: Int
            var alerts: Int64
            var astropileVersion: String
            var updated: String
        }
        let schema = try AlertLakeSchema.schema()
        let nights = try manifest.nights()
        let m = Metadata(lakeSchema: AlertLakeSchema.version, cutouts: cutouts,
                         cutoutTable: cutouts == .separate ? try AlertLakeSchema.cutoutSchema().fields.map { "\($0.name): \($0.type)" } : nil,
                         columns: try AlertLakeSchema.rowSchema(cutouts).fields.map { "\($0.name): \($0.type)" },
                         writerSchemas: Dictionary(uniqueKeysWithValues: try manifest.schemas().map { ($0.label, $0.alerts) }),
                         nights: nights.count, alerts: nights.reduce(0) { $0 + $1.alerts }, astropileVersion: AstroPileVersion.string,
                         updated: UTCTime.iso8601())
        try AtomicFile.write(Array(try JSONEncoder.sorted.encode(m)), to: lake.metadataPath)
    }

    // MARK: - Read

    static func read(_ item: AlertSourceItem, work: String, schema: Schema, budget: Int, progress: ProgressReporter) throws -> AlertReadRecord {
        let spill = try AlertSpill(schema: schema, folder: work, prefix: item.key, budget: budget, night: item.night)
        var record = AlertReadRecord(sources: [], rejected: [], runs: [], labels: [:], undated: [])
        switch item.kind {
        case .archive:
            let path = item.paths[0]
            var entry = AlertSourceEntry(path: path, kind: "archive", bytes: item.sizes[0], mtime: item.mtimes[0], sha256: "",
                                         status: "ingested", reason: nil, members: 0, membersRejected: 0, alerts: 0, written: 0,
                                         duplicates: 0, nights: item.night?.description ?? "")
            var rejected: [Rejection] = []
            var stream: ArchiveStream?
            var reported: Int64 = 0
            var member: [UInt8] = []
            do {
                let s = try ArchiveStream(path: path)
                stream = s
                while let e = try s.next() {
                    try Interruption.check()
                    if e.kind == .directory, e.unsafeReason == nil { continue }
                    entry.members += 1
                    if let reason = e.unsafeReason {
                        rejected.append(Rejection(input: path, position: e.name, reason: "not read: " + reason))
                        entry.membersRejected += 1
                        try s.skipData()
                        continue
                    }
                    guard e.name.lowercased().hasSuffix(".avro") else {
                        rejected.append(Rejection(input: path, position: e.name, reason: "not an .avro file"))
                        entry.membersRejected += 1
                        try s.skipData()
                        continue
                    }
                    let length: Int
                    do { length = try s.readData(into: &member, limit: memberLimit) } catch let error as FormatError where error.code == .unsupported {
                        rejected.append(Rejection(input: path, position: e.name, reason: error.message))
                        entry.membersRejected += 1
                        continue
                    }
                    do {
                        let n = Int64(try member.withUnsafeBytes { try spill.decodeMember(UnsafeRawBufferPointer(rebasing: $0[0..<length]), name: e.name) })
                        entry.alerts += n
                        progress.tally("alerts", n)
                    } catch let error as FormatError {
                        rejected.append(Rejection(input: path, position: e.name, reason: (error.location.map { "\($0): " } ?? "") + error.message))
                        entry.membersRejected += 1
                    }
                    if spill.needsFlush { try spill.flush() }
                    progress.advance(s.bytesRead - reported)
                    reported = s.bytesRead
                }
                try spill.flush()
            } catch let error as FormatError where error.code == .corruptInput || error.code == .notFound {
                // The stream itself is bad: which members are missing cannot be known, so none is kept.
                spill.discard()
                entry.status = "quarantined"
                entry.reason = error.message + " (after \(entry.members) members)"
                entry.alerts = 0
            }
            let digest = try stream?.fileDigest() ?? FileHash.sha256(path)
            entry.sha256 = digest.sha256.hex
            progress.advance(item.sizes[0] - reported)
            progress.tally("archives", 1)
            record.sources = [entry]
            record.rejected = [rejected]
        case .avro:
            for (k, path) in item.paths.enumerated() {
                try Interruption.check()
                var entry = AlertSourceEntry(path: path, kind: "avro", bytes: item.sizes[k], mtime: item.mtimes[k], sha256: "",
                                             status: "ingested", reason: nil, members: 1, membersRejected: 0, alerts: 0, written: 0,
                                             duplicates: 0, nights: "")
                var rejected: [Rejection] = []
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw RunError.io("cannot read \(path)")
                }
                let bytes = Array(data)
                let digest = try Digest(.sha256)
                try bytes.withUnsafeBytes { try digest.update($0) }
                entry.sha256 = try digest.finish().hex
                do {
                    let n = Int64(try spill.decodeMember(bytes, name: (path as NSString).lastPathComponent))
                    entry.alerts = n
                    entry.written = n
                    progress.tally("alerts", n)
                } catch let error as FormatError {
                    rejected.append(Rejection(input: path, position: error.location, reason: error.message))
                    entry.membersRejected = 1
                }
                if spill.needsFlush { try spill.flush() }
                progress.advance(item.sizes[k])
                record.sources.append(entry)
                record.rejected.append(rejected)
            }
            try spill.flush()
        }
        // Runs are scratch files (not fsynced one by one): one sync before the record makes them durable.
        AtomicFile.flushAll()
        record.runs = spill.runs
        record.labels = spill.labels
        record.undated = spill.undated
        return record
    }
}

/// SHA-256 of a whole file (for an archive libarchive could not open).
enum FileHash {
    static func sha256(_ path: String) throws -> (sha256: Checksum, bytes: Int64) {
        let digest = try Digest(.sha256)
        guard let f = fopen(path, "rb") else { throw RunError.io("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(f) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var total: Int64 = 0
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n > 0 { try buffer.withUnsafeBytes { try digest.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
            total += Int64(n)
            if n < buffer.count { break }
        }
        return (try digest.finish(), total)
    }
}
