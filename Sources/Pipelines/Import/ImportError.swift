import Formats
import Sky

/// A failure that stops an import (as opposed to a rejected input, which is reported and skipped).
public enum ImportError: Error, CustomStringConvertible, Sendable {
    /// Bad or inconsistent settings.
    case configuration(String)
    /// No input matched the patterns.
    case noInputs([String])
    /// Input schemas that cannot be unified; names the files and columns.
    case schemaConflict(String)
    /// The ra/dec columns are missing or not numeric.
    case coordinateColumns(String)
    /// Partitioning failed (e.g. a pixel over the threshold at the highest order).
    case alignment(AlignmentError)
    /// The output folder holds a different catalog or a run with other settings.
    case outputConflict(String)
    /// Writing failed.
    case io(String)
    /// The final verification found a mismatch.
    case verification(String)
    /// The run was interrupted (Ctrl-C); re-run the same command to continue.
    case interrupted

    public var description: String {
        switch self {
        case .configuration(let m): "configuration: \(m)"
        case .noInputs(let p): "no input files match \(p.joined(separator: ", "))"
        case .schemaConflict(let m): "schema conflict: \(m)"
        case .coordinateColumns(let m): m
        case .alignment(let e): "\(e)"
        case .outputConflict(let m): m
        case .io(let m): m
        case .verification(let m): "verification failed: \(m)"
        case .interrupted: "interrupted; re-run the same command to continue where it stopped"
        }
    }
}
