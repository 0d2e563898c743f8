import Foundation
import Formats
import GRDB
import RunEngine

/// Where a file of a fetch stands.
public enum FetchStatus: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    /// Not tried yet (or to be fetched again after `--verify` found it damaged).
    case pending
    /// Begun; the bytes so far are in `<path>.part` and resume with a validated Range request.
    case partial
    /// Complete and verified at its final path.
    case done
    /// The server answered 404 or 410.
    case missing
    /// The server answered 401: the credentials were missing or refused.
    case unauthorized
    /// The server answered 403.
    case forbidden
    /// Gave up after retries, or an answer that retrying cannot change (see `lastError`).
    case failed
}

/// One row of the manifest: a file of the destination and what is known about its download.
public struct ManifestEntry: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "file"

    /// Path under the destination (the key: a mirror's URL for the same path is the same file).
    public var path: String
    /// The URL it comes from (user info redacted).
    public var url: String
    public var status: FetchStatus
    /// Bytes at the final path (done) or in the `.part` file (partial).
    public var bytes: Int64
    /// The complete size, once a response or a listing told it exactly.
    public var expectedBytes: Int64?
    /// A listing's rounded size.
    public var approximateBytes: Int64?
    /// SHA-256 of the complete file, `sha256:…`.
    public var checksum: String?
    /// The checksum a checksum list demands, `md5:…` or `sha256:…`.
    public var expectedChecksum: String?
    /// Validators of the response the `.part` bytes came from.
    public var etag: String?
    public var lastModified: String?
    /// Attempts over all runs.
    public var attempts: Int
    /// The last HTTP status received.
    public var httpStatus: Int?
    /// Why the last attempt failed.
    public var lastError: String?
    /// UTC timestamps, ISO 8601.
    public var createdAt: String
    public var updatedAt: String
    public var completedAt: String?

    enum CodingKeys: String, CodingKey {
        case path, url, status, bytes, expectedBytes = "expected_bytes", approximateBytes = "approximate_bytes"
        case checksum, expectedChecksum = "expected_checksum", etag, lastModified = "last_modified", attempts
        case httpStatus = "http_status", lastError = "last_error", createdAt = "created_at"
        case updatedAt = "updated_at", completedAt = "completed_at"
    }
}

/// The SQLite manifest of a destination folder (`<dest>/.astropile-fetch.sqlite`, WAL mode),
/// written through GRDB: one row per file, updated as transfers start, fail and finish, so a
/// re-run knows what is complete without touching the network.
public final class FetchManifest: Sendable {
    /// The file name of the manifest inside the destination.
    public static let fileName = ".astropile-fetch.sqlite"

    /// The database path.
    public let path: String
    private let db: DatabaseQueue

    /// Opens (creating if needed) the manifest in `destination`.
    public init(destination: String, create: Bool = true) throws {
        path = destination + "/" + Self.fileName
        do {
            if !create, !FileManager.default.fileExists(atPath: path) {
                throw FetchError.manifest(path, message: "no manifest here (nothing was fetched into \(destination))")
            }
            var config = Configuration()
            config.busyMode = .timeout(10)
            config.readonly = !create
            db = try DatabaseQueue(path: path, configuration: config)
            if create {
                try db.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL") }
                try Self.migrator.migrate(db)
            }
        } catch let e as FetchError { throw e } catch {
            throw FetchError.manifest(path, message: "\(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "file") { t in
                t.primaryKey("path", .text)
                t.column("url", .text).notNull()
                t.column("status", .text).notNull().indexed()
                t.column("bytes", .integer).notNull().defaults(to: 0)
                t.column("expected_bytes", .integer)
                t.column("approximate_bytes", .integer)
                t.column("checksum", .text)
                t.column("expected_checksum", .text)
                t.column("etag", .text)
                t.column("last_modified", .text)
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("http_status", .integer)
                t.column("last_error", .text)
                t.column("created_at", .text).notNull()
                t.column("updated_at", .text).notNull()
                t.column("completed_at", .text)
            }
        }
        return m
    }

    /// Adds the items not yet in the manifest (as pending) and refreshes the URL and the sizes and
    /// checksums a source knows for those already there; returns every item's entry.
    public func register(_ items: [FetchItem]) throws -> [String: ManifestEntry] {
        let now = UTCTime.iso8601()
        return try guarded {
            try db.write { db in
                var out: [String: ManifestEntry] = [:]
                let existing = try ManifestEntry.fetchAll(db)
                var byPath = Dictionary(existing.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
                for item in items {
                    let url = URLParts.redacted(item.url)
                    if var e = byPath[item.path] {
                        var changed = false
                        if e.url != url { e.url = url; changed = true }
                        if let s = item.size, e.expectedBytes != s, e.status != .done { e.expectedBytes = s; changed = true }
                        if let a = item.approximateSize, e.approximateBytes != a { e.approximateBytes = a; changed = true }
                        if let c = item.checksum?.description, e.expectedChecksum != c { e.expectedChecksum = c; changed = true }
                        if changed { e.updatedAt = now; try e.update(db) }
                        out[item.path] = e
                    } else {
                        let e = ManifestEntry(path: item.path, url: url, status: .pending, bytes: 0, expectedBytes: item.size,
                                              approximateBytes: item.approximateSize, checksum: nil,
                                              expectedChecksum: item.checksum?.description, etag: nil, lastModified: nil,
                                              attempts: 0, httpStatus: nil, lastError: nil, createdAt: now, updatedAt: now,
                                              completedAt: nil)
                        try e.insert(db)
                        byPath[item.path] = e
                        out[item.path] = e
                    }
                }
                return out
            }
        }
    }

    /// Writes an entry (stamping `updatedAt`).
    public func save(_ entry: ManifestEntry) async throws {
        var e = entry
        e.updatedAt = UTCTime.iso8601()
        let row = e
        do { try await db.write { db in try row.save(db) } } catch { throw FetchError.manifest(path, message: "\(error)") }
    }

    /// Every entry, by path.
    public func entries() throws -> [ManifestEntry] {
        try guarded { try db.read { db in try ManifestEntry.order(Column("path")).fetchAll(db) } }
    }

    private func guarded<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as FetchError { throw e } catch {
            throw FetchError.manifest(path, message: "\(error)")
        }
    }
}
