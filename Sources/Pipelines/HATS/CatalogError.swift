import Formats
import RunEngine

/// A failure that stops a margin, cross-match or query run on existing HATS catalogs because of
/// what a catalog holds. Failures every pipeline shares (settings, output conflicts, I/O, an
/// interrupt) are ``RunError``s.
public enum CatalogError: Error, CustomStringConvertible, Sendable, ClassifiedError {
    /// The folder is not a HATS catalog (or is a damaged one); says why, naming the file.
    case notACatalog(String, String)
    /// No margin catalog is wide enough for the requested radius; says which one to build.
    case marginMissing(String)
    /// A file of a catalog cannot be read (its path, the reader's message).
    case unreadable(String, String)

    public var description: String {
        switch self {
        case .notACatalog(let path, let why): "\(path) is not a HATS catalog: \(why)"
        case .marginMissing(let m): m
        case .unreadable(let path, let why): "cannot read \(path): \(why)"
        }
    }

    /// Runs a read of a catalog file, turning a reader's error into ``unreadable(_:_:)`` naming it
    /// (an interrupt or another ``RunError`` passes through).
    static func reading<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as RunError { throw e } catch let e as CatalogError { throw e } catch {
            throw CatalogError.unreadable(path, "\(error)")
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .marginMissing: .usage
        case .notACatalog, .unreadable: .failure
        }
    }
}
