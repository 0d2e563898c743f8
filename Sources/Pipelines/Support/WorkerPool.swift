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
