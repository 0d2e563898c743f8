import Formats

/// A failure that stops a run, common to every pipeline (a rejected input is not one: it is
/// recorded in the report and the run goes on).
public enum RunError: Error, CustomStringConvertible, Sendable, ClassifiedError {
    /// Bad or inconsistent settings (a usage error: exit 2).
    case configuration(String)
    /// The output holds something else: another catalog, a stopped run with other settings, or
    /// files that are not AstroPile's.
    case outputConflict(String)
    /// Reading or writing AstroPile's own files failed (the work folder, the output).
    case io(String)
    /// The disk holding `path` is full; the state already recorded is kept.
    case diskFull(path: String, message: String)
    /// The final verification found a mismatch.
    case verification(String)
    /// The run was interrupted (Ctrl-C, SIGTERM); re-run the same command to continue.
    case interrupted

    public var description: String {
        switch self {
        case .configuration(let m): "configuration: \(m)"
        case .outputConflict(let m): m
        case .io(let m): m
        case .diskFull(let path, let m):
            "the disk holding \(path) is full (\(m)): stopped; what is done is recorded, free some space and re-run the same command to continue"
        case .verification(let m): "verification failed: \(m)"
        case .interrupted: "interrupted; re-run the same command to continue where it stopped"
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .configuration: .usage
        case .interrupted: .interrupted
        case .outputConflict, .io, .diskFull, .verification: .failure
        }
    }

    /// A failure writing `path`: ``diskFull(path:message:)`` when the system said the disk (or
    /// quota) is full, else ``io(_:)``. The error keeps the underlying message.
    public static func writing(_ path: String, _ error: any Error) -> RunError {
        if let e = error as? RunError { return e }
        let text = "\(error)"
        if (error as? FormatError)?.code == .noSpace || FormatError.isNoSpaceMessage(text) {
            return .diskFull(path: path, message: text)
        }
        return .io("writing \(path): \(text)")
    }
}
