import Foundation

/// Process-wide Ctrl-C flag: the first SIGINT/SIGTERM asks every stage to stop at the next
/// batch boundary (state already recorded stays valid, so the run resumes); a second one exits
/// at once with ``ExitStatus/interrupted`` (130).
///
/// The executor checks it between work items and the run between stages; long work items check
/// it between batches with ``check()``.
public enum Interruption {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    /// True once an interrupt was received.
    public static var requested: Bool { flag != 0 }

    /// Installs the SIGINT/SIGTERM handlers (the CLI calls this once).
    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in
            if Interruption.flag != 0 { _exit(ExitStatus.interrupted.rawValue) }
            Interruption.flag = 1
            let msg = "\nastropile: stopping after the current batch (Ctrl-C again to exit now)\n"
            _ = msg.withCString { write(2, $0, strlen($0)) }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // A parent may have started us with these signals blocked (the mask is inherited).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Asks every stage to stop as an interrupt does, without the message (another MPI rank
    /// failed: this one finishes its current items and meets the others at the stage's end).
    public static func stopQuietly() {
        flag = 1
    }

    /// Throws ``RunError/interrupted`` if an interrupt was received.
    public static func check() throws {
        if requested { throw RunError.interrupted }
    }
}
