import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import RunEngine

/// The shared registry: a PostgreSQL server through PostgresNIO. Connections are made on first
/// use, one per thread that needs one at a time (kept for reuse); each call is one transaction
/// (`BEGIN` … `COMMIT`, rolled back on error). PostgresNIO is asynchronous: the registry's work
/// runs on worker threads, so each statement waits for its result here (``blockingAsync(_:)``),
/// never on a Swift-concurrency thread.
public final class PostgreSQLDatabase: SQLDatabase, @unchecked Sendable {
    public let dialect = SQLDialect.postgresql
    public let name: String
    private let configuration: PostgresConnection.Configuration
    private let lock = NSLock()
    private var idle: [PostgresConnection] = []
    private var nextID = 0
    private let logger = Logger(label: "astropile.registry")

    /// A database named by `url`: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (the scheme in any
    /// case; the password percent-encoded, or from `PGPASSWORD`). Connects once to check it. The
    /// address is named with its password hidden (``URLRedaction``) in ``name`` and every error.
    public init(url: String) throws {
        let shown = URLRedaction.redacted(url)
        func refuse(_ why: String) -> RegistryError {
            RegistryError(database: shown, operation: "open", message: why, isUsage: true)
        }
        guard !url.contains("#") else {
            throw refuse("a '#' ends the address there: percent-encode it in the password (%23) or give the password in PGPASSWORD")
        }
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme?.lowercased() ?? "") else {
            throw refuse("not a postgres://USER@HOST:PORT/DB address (percent-encode reserved characters of the password, or give it in PGPASSWORD)")
        }
        guard let host = parts.host, !host.isEmpty else {
            throw refuse("no host: give postgres://USER@HOST:PORT/DB")
        }
        // An '@' after the host: a '/' or '?' in the password ended the user information early,
        // and the password would go to a host named after its first part.
        guard !parts.percentEncodedPath.contains("@"), !(parts.percentEncodedQuery ?? "").contains("@") else {
            throw refuse("an '@' after the host: percent-encode '/', '?' and '@' in the password (%2F, %3F, %40) or give it in PGPASSWORD")
        }
        let user = parts.user ?? ProcessInfo.processInfo.environment["PGUSER"] ?? "postgres"
        let password = parts.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        let db = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        name = shown
        configuration = PostgresConnection.Configuration(host: host, port: parts.port ?? 5432, username: user, password: password,
                                                          database: db.isEmpty ? user : db, tls: .disable)
        let c = try connect()
        release(c)
    }

    private func connect() throws -> PostgresConnection {
        lock.lock()
        nextID += 1
        let id = nextID
        lock.unlock()
        let configuration = self.configuration
        let logger = self.logger
        do {
            return try blockingAsync {
                try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                                                     id: id, logger: logger)
            }
        } catch {
            throw RegistryError(database: name, operation: "connect", message: Self.message(error))
        }
    }

    private func checkout() throws -> PostgresConnection {
        lock.lock()
        if let c = idle.popLast() {
            lock.unlock()
            if !c.isClosed { return c }
            return try checkout()
        }
        lock.unlock()
        return try connect()
    }

    private func release(_ c: PostgresConnection) {
        lock.lock(); defer { lock.unlock() }
        if !c.isClosed { idle.append(c) }
    }

    private func transaction<T>(begin: String, operation: String, _ body: (any SQLTransaction) throws -> T) throws -> T {
        let c = try checkout()
        let statements = Statements(connection: c, logger: logger, database: name)
        do {
            try statements.execute(begin)
            let result = try body(statements)
            try statements.execute("COMMIT")
            release(c)
            return result
        } catch {
            if (try? statements.execute("ROLLBACK")) != nil { release(c) } else { _ = try? blockingAsync { try await c.close() } }
            if let e = error as? RegistryError { throw e }
            if error is PSQLError { throw RegistryError(database: name, operation: operation, message: Self.message(error)) }
            throw error
        }
    }

    public func write<T>(_ body: (any SQLTransaction) throws -> T) throws -> T {
        try transaction(begin: "BEGIN", operation: "write", body)
    }

    public func read<T>(_ body: (any SQLTransaction) throws -> T) throws -> T {
        try transaction(begin: "BEGIN READ ONLY", operation: "read", body)
    }

    deinit { close() }

    public func close() {
        lock.lock()
        let all = idle
        idle = []
        lock.unlock()
        for c in all { _ = try? blockingAsync { try await c.close() } }
    }

    /// The server's message of a PostgresNIO error (its `String(reflecting:)` names the SQLSTATE).
    static func message(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let m = e.serverInfo?[.message] {
                let code = e.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return m + code
            }
            return "\(e.code)" + (e.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }

    /// Statements on one connection.
    private struct Statements: SQLTransaction {
        let connection: PostgresConnection
        let logger: Logger
        let database: String

        func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
            var binds = PostgresBindings(capacity: arguments.count)
            for a in arguments {
                switch a {
                case .null: binds.appendNull()
                case .int(let i): binds.append(i)
                case .double(let d): binds.append(d)
                case .text(let s): binds.append(s)
                }
            }
            let query = PostgresQuery(unsafeSQL: SQLDialect.postgresql.placeholders(sql), binds: binds)
            let connection = self.connection
            let logger = self.logger
            let database = self.database
            return try blockingAsync {
                var rows: [SQLRow] = []
                for try await row in try await connection.query(query, logger: logger) {
                    var names: [String] = []
                    var values: [SQLValue] = []
                    for cell in row {
                        names.append(cell.columnName)
                        values.append(try Self.value(cell, database: database))
                    }
                    rows.append(SQLRow(names: names, values: values))
                }
                return rows
            }
        }

        static func value(_ cell: PostgresCell, database: String) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int8: return .int(try cell.decode(Int64.self))
            case .int4: return .int(Int64(try cell.decode(Int32.self)))
            case .int2: return .int(Int64(try cell.decode(Int16.self)))
            case .float8: return .double(try cell.decode(Double.self))
            case .float4: return .double(Double(try cell.decode(Float.self)))
            case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
            case .text, .varchar, .name, .bpchar: return .text(try cell.decode(String.self))
            default:
                throw RegistryError(database: database, operation: "read column \(cell.columnName)",
                                    message: "type \(cell.dataType) is not one the registry uses (cast it to BIGINT, DOUBLE PRECISION or TEXT)")
            }
        }
    }
}
