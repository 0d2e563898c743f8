/// The exit status of every `astropile` command — one mapping from outcomes to codes:
///
/// | code | meaning |
/// |---|---|
/// | 0 | complete: every input placed (or the output was already complete) |
/// | 3 | complete, with rejected inputs (files, rows, items: listed in the report) |
/// | 1 | failed, or stopped by a full disk; state already recorded is kept, re-run to continue |
/// | 2 | usage error: bad option, configuration or command line; nothing was written |
/// | 130 | interrupted (Ctrl-C, SIGTERM); state already recorded is kept, re-run to continue |
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Complete.
    case success = 0
    /// Failed or stopped (not by an interrupt).
    case failure = 1
    /// Bad command line or configuration.
    case usage = 2
    /// Complete, with rejected inputs.
    case completedWithRejections = 3
    /// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
    case interrupted = 130

    /// The status of a finished run.
    public init(_ status: RunStatus) {
        switch status {
        case .complete: self = .success
        case .completeWithRejections: self = .completedWithRejections
        }
    }

    /// The status for an error that stopped a command: the error's own classification when it
    /// has one (``ClassifiedError``), else ``failure``.
    public init(error: any Error) {
        self = (error as? any ClassifiedError)?.exitStatus ?? .failure
    }
}

/// An error that knows which exit status it means (usage, failure, interruption).
public protocol ClassifiedError: Error {
    /// The exit status of a command stopped by this error.
    var exitStatus: ExitStatus { get }
}
