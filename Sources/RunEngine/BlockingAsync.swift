import Foundation

/// Runs async work (the HTTP client, the PostgreSQL client) from synchronous code — a command, a
/// worker thread of an ``Executor`` — and waits for it. Never call it from a Swift-concurrency
/// task: it blocks the calling thread.
public func blockingAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = AsyncResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    guard let result = box.result else { throw RunError.verification("an asynchronous step finished without a result") }
    return try result.get()
}

/// Carries a result from a detached task to the waiting thread (written before the semaphore
/// is signalled, read after it is waited for).
private final class AsyncResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }
