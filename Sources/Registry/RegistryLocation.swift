import Foundation
import RunEngine

/// Where a registry lives, as `--database` names it: an SQLite file (`sqlite:PATH` or a plain
/// path) or a PostgreSQL server (`postgres://USER@HOST:PORT/DB` or `postgresql://…`). Schemes
/// are matched in any case. Anything else written as a URL (`scheme://…`, SQLAlchemy's
/// `postgresql+psycopg2://…`, `sqlite:///…`) is refused, never taken for a file name: as a path
/// it would make folders named after the address and write its password into the report.
public enum RegistryLocation: Sendable, Hashable {
    /// An SQLite file.
    case sqlite(String)
    /// A PostgreSQL server, by its address as given.
    case postgresql(String)

    /// Parses `text`. - Throws: ``RegistryError`` (a usage error) naming the location with its
    /// password hidden (``URLRedaction``).
    public init(_ text: String) throws {
        func refuse(_ why: String) -> RegistryError {
            RegistryError(database: URLRedaction.redacted(text), operation: "open", message: why, isUsage: true)
        }
        let lower = text.lowercased()
        if let scheme = Self.scheme(of: text)?.lowercased() {
            switch scheme {
            case "postgres", "postgresql":
                self = .postgresql(text)
                return
            case "sqlite":
                throw refuse("write sqlite:PATH for an SQLite file (sqlite:// is not read)")
            default:
                if scheme.hasPrefix("postgres") {
                    throw refuse("\(scheme):// names a Python driver; AstroPile connects to PostgreSQL itself: use postgresql://USER@HOST:PORT/DB")
                }
                throw refuse("\(scheme):// is not a registry: give sqlite:PATH, a file path or postgresql://USER@HOST:PORT/DB")
            }
        }
        if lower.hasPrefix("postgres:") || lower.hasPrefix("postgresql:") {
            throw refuse("write postgresql://USER@HOST:PORT/DB")
        }
        let path = lower.hasPrefix("sqlite:") ? String(text.dropFirst(7)) : text
        guard !path.isEmpty else { throw refuse("name a file: sqlite:PATH") }
        self = .sqlite(path)
    }

    /// The scheme of `text` when it starts like a URL (`SCHEME://`).
    static func scheme(of text: String) -> String? {
        guard let end = text.range(of: "://"), URLRedaction.isScheme(text[..<end.lowerBound]) else { return nil }
        return String(text[..<end.lowerBound])
    }
}
