import Formats
import RunEngine
import Sky

/// A failure that stops an import (as opposed to a rejected input, which is reported and
/// skipped). Failures every pipeline shares — bad settings, output conflicts, I/O, a full disk,
/// an interrupt — are ``RunError``s.
public enum ImportError: Error, CustomStringConvertible, Sendable, ClassifiedError {
    /// No input matched the patterns.
    case noInputs([String])
    /// Input schemas that cannot be unified; names the files and columns.
    case schemaConflict(String)
    /// The ra/dec columns are missing or not numeric.
    case coordinateColumns(String)
    /// Partitioning failed (e.g. a pixel over the threshold at the highest order).
    case alignment(AlignmentError)

    public var description: String {
        switch self {
        case .noInputs(let p): "no input files match \(p.joined(separator: ", "))"
        case .schemaConflict(let m): "schema conflict: \(m)"
        case .coordinateColumns(let m): m
        case .alignment(let e): "\(e)"
        }
    }

    public var exitStatus: ExitStatus { .failure }
}
