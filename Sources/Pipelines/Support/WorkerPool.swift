import Foundation

/// Runs `count` work items on at most `jobs` threads, each item exactly once, in a deterministic
/// hand-out order (items are independent; outputs must not depend on which thread ran them).
///
/// The first error thrown stops the handing out of further items and is rethrown after the
/// running items finish. Items check ``Interruption/requested`` themselves between batches.
enum WorkerPool {
    static func run(count: Int, jobs: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
        guard count > 0 else { return }
        let state = PoolState()
        let workers = min(max(1, jobs), count)
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let t = Thread {
                defer { group.leave() }
                while let i = state.nextItem(limit: count) {
                    do {
                        try body(i)
                    } catch {
                        state.fail(error)
                    }
                }
            }
            t.stackSize = 8 << 20
            t.start()
        }
        group.wait()
        if let e = state.firstError { throw e }
    }
}

private final class PoolState: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private(set) var firstError: Error?

    func nextItem(limit: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard firstError == nil, !Interruption.requested, next < limit else { return nil }
        defer { next += 1 }
        return next
    }

    func fail(_ e: Error) {
        lock.lock(); defer { lock.unlock() }
        if firstError == nil { firstError = e }
    }
}

/// Process-wide Ctrl-C flag: the first SIGINT/SIGTERM asks every stage to stop at the next
/// batch boundary (state already recorded stays valid, so the run resumes); a second one exits.
public enum Interruption {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    /// True once an interrupt was received.
    public static var requested: Bool { flag != 0 }

    /// Installs the SIGINT/SIGTERM handlers (the CLI calls this once).
    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in
            if Interruption.flag != 0 { _exit(130) }
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

    /// Throws ``ImportError/interrupted`` if an interrupt was received.
    static func check() throws {
        if requested { throw ImportError.interrupted }
    }
}
