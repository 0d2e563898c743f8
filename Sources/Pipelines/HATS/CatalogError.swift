import Formats

/// A failure that stops a margin, cross-match or query run on existing HATS catalogs.
public enum CatalogError: Error, CustomStringConvertible, Sendable {
    /// The folder is not a HATS catalog (or is an unreadable one); says why.
    case notACatalog(String, String)
    /// Bad or inconsistent settings.
    case configuration(String)
    /// No margin catalog is wide enough for the requested radius; says which one to build.
    case marginMissing(String)
    /// The output folder holds something else, or a run with other settings.
    case outputConflict(String)
    /// Reading or writing a file failed.
    case io(String)
    /// The final verification found a mismatch.
    case verification(String)
    /// The run was interrupted (Ctrl-C); re-run the same command to continue.
    case interrupted

    public var description: String {
        switch self {
        case .notACatalog(let path, let why): "\(path) is not a HATS catalog: \(why)"
        case .configuration(let m): "configuration: \(m)"
        case .marginMissing(let m): m
        case .outputConflict(let m): m
        case .io(let m): m
        case .verification(let m): "verification failed: \(m)"
        case .interrupted: "interrupted; re-run the same command to continue where it stopped"
        }
    }
}
