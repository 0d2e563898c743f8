import Foundation
import Formats
import RunEngine
import Table

/// The alert lake's layout and schema.
///
///     LAKE/
///       year=YYYY/month=MM/day=DD/part-NNNNN.parquet   alerts of one observing night, zstd,
///                                                     sorted by (objectId, candidate.jd)
///       year=…/day=DD/_night.json                     what the night holds (contributions, counts)
///       year=…/day=DD/_cutouts/part-NNNNN.parquet     with `--cutouts separate`: the night's cutouts,
///                                                     the same rows in the same order as part-NNNNN
///       _manifest.sqlite                              every archive: size, SHA-256, counts, status
///       _lake.json                                    lake schema version, writer schemas seen
///       _ingest/                                      per-run reports and work folders
///
/// Names starting with `_` are skipped by pyarrow/hive readers, so the lake opens as a dataset.
public struct AlertLake: Sendable {
    /// The lake folder (canonical path).
    public let root: String

    public init(_ root: String) throws {
        self.root = try WorkFolder.canonicalPath(root, role: "lake")
    }

    public var manifestPath: String { root + "/_manifest.sqlite" }
    public var metadataPath: String { root + "/_lake.json" }
    var lockPath: String { root + "/_lock" }
    var ingestFolder: String { root + "/_ingest" }
    var stagingFolder: String { root + "/_staging" }

    /// The folder of one night.
    public func folder(_ night: ObservingNight) -> String { root + "/" + night.folder }

    /// The sub-folder of a night's folder holding its cutout table (`--cutouts separate`).
    public static let cutoutFolder = "_cutouts"

    /// How the lake keeps its cutouts: from `_lake.json`, else from a night's `_night.json` (a
    /// first ingest killed before it finished); nil for a lake with nothing in it yet.
    public func cutoutMode() -> AlertCutoutMode? {
        struct Metadata: Decodable { var cutouts: AlertCutoutMode? }
        if let data = FileManager.default.contents(atPath: metadataPath), let m = try? JSONDecoder().decode(Metadata.self, from: data) {
            return m.cutouts ?? .inline
        }
        for night in nights() {
            if let contents = NightContents.read(folder(night)) { return contents.cutouts ?? .inline }
        }
        return nil
    }

    /// The nights present in the lake, from its folders.
    public func nights() -> [ObservingNight] {
        let fm = FileManager.default
        var out: [ObservingNight] = []
        for y in (try? fm.contentsOfDirectory(atPath: root)) ?? [] where y.hasPrefix("year=") {
            for m in (try? fm.contentsOfDirectory(atPath: root + "/" + y)) ?? [] where m.hasPrefix("month=") {
                for d in (try? fm.contentsOfDirectory(atPath: root + "/" + y + "/" + m)) ?? [] where d.hasPrefix("day=") {
                    if let n = ObservingNight(year: Int(y.dropFirst(5)) ?? 0, month: Int(m.dropFirst(6)) ?? 0, day: Int(d.dropFirst(4)) ?? 0) {
                        out.append(n)
                    }
                }
            }
        }
        return out.sorted()
    }

    /// Holds an exclusive lock on the lake (`flock` on `_lock`) for as long as it lives, so two
    /// ingests never merge the same night at once.
    final class Lock {
        private let fd: Int32
        /// - Throws: ``RunError/outputConflict(_:)`` when `lake.root` is a file (or anything but a
        ///   folder) or another run holds the lock; ``RunError/io(_:)`` when the folder cannot be made.
        init(_ lake: AlertLake) throws {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: lake.root, isDirectory: &isFolder), !isFolder.boolValue {
                throw RunError.outputConflict("\(lake.root) exists and is not a folder, so not an alert lake; choose another --output")
            }
            do { try FileManager.default.createDirectory(atPath: lake.root, withIntermediateDirectories: true) } catch {
                throw RunError.io("cannot make the lake folder \(lake.root): \(error.localizedDescription)")
            }
            // `self.fd` is set last: once it is, a throw would run deinit and close the descriptor twice.
            let fd = open(lake.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw RunError.io("cannot open \(lake.lockPath): \(String(cString: strerror(errno)))") }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                close(fd)
                throw RunError.outputConflict("another astropile alerts run is writing \(lake.root); wait for it to finish")
            }
            self.fd = fd
        }
        deinit {
            flock(fd, LOCK_UN)
            close(fd)
        }
    }
}

/// Where a lake keeps the three cutouts of each alert (`--cutouts`); a lake keeps the mode it
/// was made with.
public enum AlertCutoutMode: String, Codable, Sendable, CaseIterable {
    /// In the alert rows: `cutoutScience`, `cutoutTemplate`, `cutoutDifference` columns of
    /// `struct<fileName: string, stampData: binary>` (gzipped FITS).
    case inline
    /// In a cutout table of their own per night, `_cutouts/part-NNNNN.parquet` beside each
    /// `part-NNNNN.parquet`: the same rows in the same order, columns `candid`, `objectId` and
    /// the three cutouts. The alert rows are then a tenth of the bytes to scan.
    case separate
}

/// What one night's folder holds (`_night.json`, moved in with its files).
struct NightContents: Codable, Sendable {
    var night: String
    /// Increases with every rewrite of the night.
    var generation: Int
    /// The contributions merged in (an archive's key, or a loose-file group's), so a night
    /// rewritten before a kill is not merged again.
    var contributions: [String]
    var alerts: Int64
    var files: [String]
    var updated: String
    /// Alerts each contribution added (the rest of its alerts were duplicates).
    var addedBy: [String: Int64]?
    /// How the night's cutouts are kept (nil: inline, as lakes written before the option).
    var cutouts: AlertCutoutMode?

    static let fileName = "_night.json"

    static func read(_ folder: String) -> NightContents? {
        guard let data = FileManager.default.contents(atPath: folder + "/" + fileName) else { return nil }
        return try? JSONDecoder().decode(NightContents.self, from: data)
    }
}

/// The lake schema: the union of ZTF alert schemas 3.0–4.02 as Arrow types.
enum AlertLakeSchema {
    /// The lake schema's version label.
    static let version = "ztf-alert-3.0-4.02"

    private static let parsed: Result<(AvroType, Schema), FormatError> = {
        do {
            let avro = try Array(AlertSchema402.json.utf8).withUnsafeBytes { try AvroType.parse(json: $0) }
            guard case .structure(let fields) = try avro.arrowType() else {
                return .failure(FormatError(.invalidArgument, "the built-in alert schema is not a record"))
            }
            return .success((avro, Schema(fields, metadata: [("astropile_alert_lake_schema", version)])))
        } catch let e as FormatError {
            return .failure(e)
        } catch {
            return .failure(FormatError(.invalidArgument, "\(error)"))
        }
    }()

    /// The Arrow schema of an alert: every column, the cutouts inline.
    static func schema() throws -> Schema { try parsed.get().1 }

    /// The cutout columns.
    static let cutoutColumns = ["cutoutScience", "cutoutTemplate", "cutoutDifference"]
    /// The columns a cutout table has besides the cutouts (its keys into the alert rows).
    static let cutoutKeys = ["candid", "objectId"]

    /// The schema of a night's alert files under `mode`.
    static func rowSchema(_ mode: AlertCutoutMode) throws -> Schema {
        let s = try schema()
        guard mode == .separate else { return s }
        return Schema(s.fields.filter { !cutoutColumns.contains($0.name) },
                      metadata: [("astropile_alert_lake_schema", version), ("astropile_alert_cutouts", "separate")])
    }

    /// The schema of a night's cutout table (`--cutouts separate`).
    static func cutoutSchema() throws -> Schema {
        let s = try schema()
        let names = cutoutKeys + cutoutColumns
        return Schema(names.compactMap { n in s.fields.first { $0.name == n } },
                      metadata: [("astropile_alert_lake_schema", version), ("astropile_alert_cutouts", "table")])
    }

    /// Column and child indices the ingest reads keys from.
    struct Keys {
        let objectId: Int
        let candid: Int
        let candidate: Int
        let jd: Int
        init(_ schema: Schema) throws {
            guard let o = schema.index(of: "objectId"), let c = schema.index(of: "candid"), let cand = schema.index(of: "candidate"),
                  case .structure(let fs) = schema.fields[cand].type, let jd = fs.firstIndex(where: { $0.name == "jd" }) else {
                throw FormatError(.invalidArgument, "the lake schema lacks objectId, candid or candidate.jd")
            }
            (objectId, candid, candidate, self.jd) = (o, c, cand, jd)
        }
    }
}
