import Foundation
import GRDB

/// The embedded registry: one SQLite file through GRDB, in WAL mode so that readers never wait
/// and several processes can write (each write transaction is `BEGIN IMMEDIATE`, waiting up to a
/// minute for another process's lock). `synchronous = NORMAL`: a commit survives the process
/// being killed; a power cut may lose the last commits but never corrupts the file.
public final class SQLiteDatabase: SQLDatabase, @unchecked Sendable {
    public let dialect = SQLDialect.sqlite
    public let name: String
    /// The database file.
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating) the SQLite file at `path` and its folder.
    public init(path: String) throws {
        self.path = path
        name = "sqlite:" + path
        do {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            var config = Configuration()
            config.busyMode = .timeout(60)
            config.foreignKeysEnabled = true
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw RegistryError(database: "sqlite:" + path, operation: "open", message: "\(error)")
        }
    }

    public func write<T>(_ body: (any SQLTransaction) throws -> T) throws -> T {
        var result: T?
        do {
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    result = try body(Statements(db: db, dialect: dialect))
                    return .commit
                }
            }
        } catch let e as DatabaseError {
            throw RegistryError(database: name, operation: "write", message: e.message ?? "\(e)")
        }
        guard let result else { throw RegistryError(database: name, operation: "write", message: "the transaction gave no result") }
        return result
    }

    public func read<T>(_ body: (any SQLTransaction) throws -> T) throws -> T {
        do {
            return try pool.read { db in try body(Statements(db: db, dialect: dialect)) }
        } catch let e as DatabaseError {
            throw RegistryError(database: name, operation: "read", message: e.message ?? "\(e)")
        }
    }

    public func close() { try? pool.close() }

    /// Statements on a GRDB connection.
    private struct Statements: SQLTransaction {
        let db: Database
        let dialect: SQLDialect

        func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
            let args = StatementArguments(arguments.map { v -> (any DatabaseValueConvertible)? in
                switch v {
                case .null: nil
                case .int(let i): i
                case .double(let d): d
                case .text(let s): s
                }
            })
            // Compiled once per connection and reused (GRDB's statement cache): the registry runs
            // the same few statements thousands of times.
            let statement = try db.cachedStatement(sql: sql)
            let rows = try Row.fetchAll(statement, arguments: args)
            return rows.map { row in
                SQLRow(names: Array(row.columnNames), values: row.databaseValues.map { dv in
                    switch dv.storage {
                    case .null: .null
                    case .int64(let i): .int(i)
                    case .double(let d): .double(d)
                    case .string(let s): .text(s)
                    case .blob(let b): .text(String(decoding: b, as: UTF8.self))
                    }
                })
            }
        }
    }
}
