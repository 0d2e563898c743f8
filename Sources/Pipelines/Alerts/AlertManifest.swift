import Foundation
import GRDB
import RunEngine

/// One input as the manifest records it.
public struct AlertSourceEntry: Codable, Sendable, Hashable {
    public var path: String
    public var kind: String
    public var bytes: Int64
    /// Modification time (seconds since 1970), to know an unchanged file without reading it.
    public var mtime: Int64
    public var sha256: String
    /// `ingested` or `quarantined`.
    public var status: String
    /// Why it was quarantined (the whole input refused), if it was.
    public var reason: String?
    /// Members (Avro files) read; those rejected; alerts decoded from the rest.
    public var members: Int64
    public var membersRejected: Int64
    public var alerts: Int64
    /// Alerts that went into the lake (the rest were duplicates of alerts already there).
    public var written: Int64
    public var duplicates: Int64
    public var nights: String
}

/// The lake's manifest (`_manifest.sqlite`, GRDB/SQLite, WAL): every input ingested or
/// quarantined with its size, SHA-256 and counts; rejected members with their reasons; the
/// nights with their alert counts; the writer schemas seen. Written once per run, in one
/// transaction, after the nights are in place.
final class AlertManifest {
    private let db: DatabaseQueue
    let path: String

    init(path: String, create: Bool = true) throws {
        self.path = path
        do {
            if !create, !FileManager.default.fileExists(atPath: path) {
                throw RunError.configuration("\(path) does not exist: nothing was ingested into this lake")
            }
            var config = Configuration()
            config.busyMode = .timeout(10)
            config.readonly = !create
            config.foreignKeysEnabled = true
            db = try DatabaseQueue(path: path, configuration: config)
            if create {
                try db.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL") }
                try Self.migrator.migrate(db)
            }
        } catch let e as RunError { throw e } catch {
            throw RunError.io("the lake manifest \(path): \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE source (
                  id INTEGER PRIMARY KEY,
                  path TEXT NOT NULL, kind TEXT NOT NULL, bytes INTEGER NOT NULL, mtime INTEGER NOT NULL,
                  sha256 TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
                  members INTEGER NOT NULL, members_rejected INTEGER NOT NULL, alerts INTEGER NOT NULL,
                  written INTEGER NOT NULL, duplicates INTEGER NOT NULL, nights TEXT NOT NULL,
                  run TEXT NOT NULL, recorded_at TEXT NOT NULL,
                  UNIQUE (path, sha256));
                CREATE TABLE rejection (
                  source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,
                  member TEXT NOT NULL, reason TEXT NOT NULL);
                CREATE INDEX rejection_source ON rejection(source_id);
                CREATE TABLE night (
                  night TEXT PRIMARY KEY, alerts INTEGER NOT NULL, files INTEGER NOT NULL,
                  generation INTEGER NOT NULL, updated_at TEXT NOT NULL);
                CREATE TABLE writer_schema (
                  label TEXT PRIMARY KEY, alerts INTEGER NOT NULL, first_seen TEXT NOT NULL);
                """)
        }
        return m
    }

    /// Inputs recorded as ingested, by path.
    func ingested() throws -> [String: AlertSourceEntry] {
        try db.read { db in
            var out: [String: AlertSourceEntry] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM source WHERE status = 'ingested'") {
                let e = Self.entry(row)
                out[e.path] = e
            }
            return out
        }
    }

    /// Every input recorded, in path order.
    func sources() throws -> [AlertSourceEntry] {
        try db.read { db in try Row.fetchAll(db, sql: "SELECT * FROM source ORDER BY path").map(Self.entry) }
    }

    func nights() throws -> [(night: String, alerts: Int64, files: Int)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT night, alerts, files FROM night ORDER BY night").map { ($0["night"], $0["alerts"], $0["files"]) }
        }
    }

    func schemas() throws -> [(label: String, alerts: Int64)] {
        try db.read { db in try Row.fetchAll(db, sql: "SELECT label, alerts FROM writer_schema ORDER BY label").map { ($0["label"], $0["alerts"]) } }
    }

    func rejections(of path: String) throws -> [(member: String, reason: String)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT r.member, r.reason FROM rejection r JOIN source s ON s.id = r.source_id WHERE s.path = ? ORDER BY r.rowid",
                             arguments: [path]).map { ($0["member"], $0["reason"]) }
        }
    }

    private static func entry(_ row: Row) -> AlertSourceEntry {
        AlertSourceEntry(path: row["path"], kind: row["kind"], bytes: row["bytes"], mtime: row["mtime"], sha256: row["sha256"],
                         status: row["status"], reason: row["reason"], members: row["members"], membersRejected: row["members_rejected"],
                         alerts: row["alerts"], written: row["written"], duplicates: row["duplicates"], nights: row["nights"])
    }

    /// Records a run: its inputs (replacing earlier rows of the same path and content), their
    /// rejected members, the nights it touched and the writer schemas it met.
    func record(run: String, sources: [(AlertSourceEntry, [Rejection])], nights: [AlertNightRecord], schemas: [String: Int64]) throws {
        let now = UTCTime.iso8601()
        do {
            try db.write { db in
                for (e, rejected) in sources {
                    try db.execute(sql: "DELETE FROM source WHERE path = ?", arguments: [e.path])
                    try db.execute(sql: """
                        INSERT INTO source (path, kind, bytes, mtime, sha256, status, reason, members, members_rejected, alerts,
                                            written, duplicates, nights, run, recorded_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [e.path, e.kind, e.bytes, e.mtime, e.sha256, e.status, e.reason, e.members, e.membersRejected,
                                         e.alerts, e.written, e.duplicates, e.nights, run, now])
                    let id = db.lastInsertedRowID
                    for r in rejected {
                        try db.execute(sql: "INSERT INTO rejection (source_id, member, reason) VALUES (?, ?, ?)",
                                       arguments: [id, r.position ?? "", r.reason])
                    }
                }
                for n in nights {
                    try db.execute(sql: """
                        INSERT INTO night (night, alerts, files, generation, updated_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT(night) DO UPDATE SET alerts = excluded.alerts, files = excluded.files,
                          generation = excluded.generation, updated_at = excluded.updated_at
                        """, arguments: [n.night, n.total, n.files.count, n.generation, now])
                }
                for (label, alerts) in schemas {
                    try db.execute(sql: """
                        INSERT INTO writer_schema (label, alerts, first_seen) VALUES (?, ?, ?)
                        ON CONFLICT(label) DO UPDATE SET alerts = alerts + excluded.alerts
                        """, arguments: [label, alerts, now])
                }
            }
        } catch {
            throw RunError.io("the lake manifest \(path): \(error)")
        }
    }
}
