import Foundation

/// Runs the work items of a stage. Today the bounded thread pool (``ThreadExecutor``); the MPI
/// issue adds ranks.
///
/// Contract: each item runs at most once; no item is handed out after the first error or after
/// an interrupt (``Interruption``); when the call returns normally every item ran. Otherwise it
/// throws the first error, or ``RunError/interrupted`` when items were left because of an
/// interrupt — a stage never looks finished when it is not.
public protocol Executor: Sendable {
    /// How many items run at once.
    var workers: Int { get }
    /// Runs `body(item, worker)` for every item in `0..<count`; `worker` is in `0..<workers`
    /// and never runs two items at once (for per-worker caches).
    func run(count: Int, _ body: @escaping @Sendable (_ item: Int, _ worker: Int) throws -> Void) throws
}

/// Runs items on at most `workers` threads (8 MiB stacks), in a deterministic hand-out order
/// (items are independent; what they write must not depend on which thread ran them).
public struct ThreadExecutor: Executor {
    public let workers: Int

    /// The most threads an executor starts (an absurd `--jobs` is refused before this).
    public static let maximumWorkers = 1024

    /// An executor with `workers` threads (at least 1, at most ``maximumWorkers``).
    public init(workers: Int) {
        self.workers = min(max(1, workers), Self.maximumWorkers)
    }

    public func run(count: Int, _ body: @escaping @Sendable (Int, Int) throws -> Void) throws {
        guard count > 0 else { return }
        let state = HandOut(count: count)
        let threads = min(workers, count)
        let group = DispatchGroup()
        for worker in 0..<threads {
            group.enter()
            let t = Thread {
                defer { group.leave() }
                while let i = state.next() {
                    do { try body(i, worker) } catch { state.fail(error) }
                }
            }
            t.stackSize = 8 << 20
            t.start()
        }
        group.wait()
        try state.result()
    }
}

/// The shared hand-out state of a ``ThreadExecutor`` run.
private final class HandOut: @unchecked Sendable {
    private let lock = NSLock()
    private let count: Int
    private var handedOut = 0
    private var firstError: (any Error)?

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard firstError == nil, !Interruption.requested, handedOut < count else { return nil }
        defer { handedOut += 1 }
        return handedOut
    }

    func fail(_ e: any Error) {
        lock.lock(); defer { lock.unlock() }
        if firstError == nil { firstError = e }
    }

    /// Throws the first error, or ``RunError/interrupted`` when an interrupt left items undone.
    func result() throws {
        lock.lock(); defer { lock.unlock() }
        if let firstError { throw firstError }
        if handedOut < count { throw RunError.interrupted }
    }
}
