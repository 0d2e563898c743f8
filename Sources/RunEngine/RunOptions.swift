import Foundation

/// How a run executes, as opposed to what it makes: these never change the output or the
/// configuration hash.
public struct RunOptions: Sendable {
    /// Parallel workers (default: the number of cores).
    public var jobs: Int?
    /// A folder to hold the work folder instead of the output's parent (`--tmp`).
    public var tmp: String?
    /// Progress lines on stderr.
    public var progress: Bool
    /// The executor; default a ``ThreadExecutor`` with ``workers`` threads.
    public var executor: (any Executor)?

    /// Options.
    public init(jobs: Int? = nil, tmp: String? = nil, progress: Bool = true, executor: (any Executor)? = nil) {
        self.jobs = jobs
        self.tmp = tmp
        self.progress = progress
        self.executor = executor
    }

    /// Workers in effect.
    public var workers: Int { executor?.workers ?? max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount) }

    /// The largest `--jobs` a command accepts.
    public static let maximumJobs = ThreadExecutor.maximumWorkers

    /// Checks a `--jobs` value: `nil` when it is fine, else the problem.
    public static func problem(jobs: Int) -> String? {
        guard jobs >= 1 else { return "--jobs must be at least 1, got \(jobs)" }
        guard jobs <= maximumJobs else { return "--jobs must be at most \(maximumJobs), got \(jobs)" }
        return nil
    }
}
