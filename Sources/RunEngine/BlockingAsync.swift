import Foundation

/// Runs async work (the HTTP client, the PostgreSQL client) from synchronous code — a command, a
/// worker thread of an ``Executor`` — and waits for it. It blocks the calling thread.
///
/// The work runs on its own executor (threads of a Dispatch queue), not on Swift's cooperative
/// pool: a caller that is itself on a cooperative thread (a test, a library user's task) and
/// blocks here must not leave the work without a thread to run on — on 2 cores the pool has two
/// threads, and two such callers at once deadlocked.
public func blockingAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = AsyncResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached(executorPreference: BlockingAsyncExecutor.shared) {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    guard let result = box.result else { throw RunError.verification("an asynchronous step finished without a result") }
    return try result.get()
}

/// The executor ``blockingAsync(_:)`` runs its work on: jobs go to a concurrent Dispatch queue,
/// whose threads are not the cooperative pool's.
final class BlockingAsyncExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = BlockingAsyncExecutor()
    private let queue = DispatchQueue(label: "astropile.blocking-async", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { unowned.runSynchronously(on: executor) }
    }
}

/// Carries a result from a detached task to the waiting thread (written before the semaphore
/// is signalled, read after it is waited for).
private final class AsyncResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }
