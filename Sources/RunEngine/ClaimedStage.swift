import Foundation

/// A stage whose work items are drawn from a shared queue that several runs take from at once —
/// two `astropile project run`s of one project, MPI ranks later — instead of a list fixed when
/// the stage starts: each worker claims a batch, does it, and claims again until the queue has
/// nothing left for it. What is done is recorded by the work itself (with its results, in one
/// transaction), so "done" means the same for every run sharing the queue.
///
/// An interrupt (``Interruption``) stops the hand-out; a batch that was claimed and not finished
/// is handed back (``release``), so another run, or the next one, takes it. An error from `work`
/// also hands its batch back and stops the stage (items that fail on their own — a bad file —
/// are the work's to record as failed; they are not errors here).
public struct ClaimedStage<Item: Sendable>: Sendable {
    /// Claims up to `max` items for this run; an empty answer ends this worker.
    public var claim: @Sendable (_ max: Int) throws -> [Item]
    /// Hands back claimed items that were not finished (only those still claimed by this run).
    public var release: @Sendable ([Item]) throws -> Void
    /// How many items of the stage are still to be done by anyone (claimable later, or claimed by
    /// another run); while some are, a worker with nothing to claim waits and claims again (a
    /// stage's items may wait for another run's earlier stage).
    public var remaining: @Sendable () throws -> Int
    /// Items per claim.
    public var batch: Int
    /// Seconds between claims while waiting for other runs.
    public var pollSeconds = 0.25

    public init(batch: Int, claim: @escaping @Sendable (Int) throws -> [Item], release: @escaping @Sendable ([Item]) throws -> Void,
                remaining: @escaping @Sendable () throws -> Int = { 0 }) {
        self.batch = max(1, batch)
        self.claim = claim
        self.release = release
        self.remaining = remaining
    }

    /// Runs `work` on claimed batches with `executor`'s workers until none is left; returns how
    /// many items this run did. `stage` names the timing and the interruption point.
    @discardableResult
    public func run(_ stage: some RunStage, executor: any Executor, progress: ProgressReporter,
                    _ work: @escaping @Sendable ([Item], StageContext) throws -> Void) throws -> Int {
        try Interruption.check()
        let done = SharedCount()
        let claim = self.claim, release = self.release, batch = self.batch, remaining = self.remaining, poll = self.pollSeconds
        try executor.run(count: executor.workers) { _, worker in
            while !Interruption.requested {
                let items = try claim(batch)
                if items.isEmpty {
                    if try remaining() == 0 { return }
                    usleep(useconds_t(poll * 1_000_000))
                    continue
                }
                do {
                    try work(items, StageContext(progress: progress, worker: worker))
                } catch {
                    try? release(items)
                    throw error
                }
                done.add(items.count)
                FaultHooks.itemRecorded(stage: stage.rawValue)
            }
        }
        progress.finish()
        try Interruption.check()
        return done.value
    }
}

/// A count shared by the workers of a stage.
public final class SharedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    public init() {}
    public func add(_ k: Int) { lock.lock(); n += k; lock.unlock() }
    public var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
