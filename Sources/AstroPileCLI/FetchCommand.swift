import ArgumentParser
import Fetch
import Foundation
import RunEngine
import Sky

/// `astropile fetch`: parallel, resumable, verified downloads from survey archives.
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download archive files in bulk: parallel, resumable, verified, with a manifest of what is there.",
        discussion: """
            Files land at their URL path under --dest (for the built-in archives: the path under the archive's \
            base URL). A transfer in progress is <file>.part; a final name only ever holds a complete, verified \
            file. The manifest <dest>/.astropile-fetch.sqlite records every file (status, bytes, SHA-256, attempts, \
            last error), so re-running the same command skips what is complete without touching the network and \
            resumes the rest. One fetch at a time per --dest (a lock, <dest>/.astropile-fetch.lock); files whose \
            names clash (fetch's own .astropile-fetch* names, X beside X.part, a/b beside a/b/c) are refused. \
            Credentials: user:password@ in a URL (sent to its host only), ASTROPILE_FETCH_TOKEN (bearer) or \
            ASTROPILE_FETCH_USER + ASTROPILE_FETCH_PASSWORD for the source's hosts, else ~/.netrc ($NETRC); never \
            printed. Exit status: 0 every file complete, 3 some files missing/unauthorized/forbidden/failed, 1 the \
            run stopped (full disk) or could not start (another fetch in --dest), 2 usage error, 130 interrupted \
            (Ctrl-C; re-run to continue).
            """,
        subcommands: [FetchSDSSFramesCommand.self, FetchSDSSSpectraCommand.self, FetchURLsCommand.self,
                      FetchZTFAlertsCommand.self, FetchPlanCommand.self, FetchStatusCommand.self])
}

/// Options of the transfer engine, shared by every fetch source.
struct FetchEngineOptions: ParsableArguments {
    @Option(name: .long, help: "Destination folder (created if needed; holds the manifest).")
    var dest: String

    @Option(name: .long, help: "Concurrent transfers.")
    var jobs: Int = 8

    @Option(name: .customLong("per-host"), help: "Concurrent transfers to one host (default: --jobs).")
    var perHost: Int?

    @Option(name: .long, help: "Attempts per file before giving up (connection errors, timeouts, 429, 5xx).")
    var retries: Int = 8

    @Option(name: .customLong("retry-wait"), help: "First backoff in seconds (doubles each attempt, with jitter; Retry-After wins).")
    var retryWait: Double = 1

    @Option(name: .customLong("max-retry-wait"), help: "Longest wait between attempts, seconds.")
    var maxRetryWait: Double = 120

    @Option(name: .long, help: "Seconds without a byte before a transfer is abandoned and retried.")
    var timeout: Double = 120

    @Option(name: .long, help: "Total bandwidth cap per second: 50MB, 200MiB, 1GB (default: none).")
    var bandwidth: String?

    @Option(name: .long, help: "md5sum/sha256sum-style checksum list (repeatable): files must match.")
    var checksums: [String] = []

    @Option(name: .customLong("keep-free"), help: "Space to leave free on the destination's disk: 16MiB, 10GB; a transfer that would eat into it stops the run cleanly.")
    var keepFree: String = "16MiB"

    @Flag(name: .long, help: "Re-check complete files (size and SHA-256) and fetch again what is missing or damaged.")
    var verify = false

    @Flag(name: .long, help: "Start even when the planned volume exceeds the free space.")
    var force = false

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    /// The longest wait or timeout accepted, seconds (a week): larger values are typing mistakes,
    /// and would overflow the clocks they are converted to.
    static let maximumSeconds: Double = 7 * 86_400

    func config() throws -> FetchConfig {
        if let problem = RunOptions.problem(jobs: jobs) { throw ValidationError(problem) }
        if let perHost, !(1...RunOptions.maximumJobs).contains(perHost) {
            throw ValidationError("--per-host must be in 1...\(RunOptions.maximumJobs)")
        }
        guard (1...10_000).contains(retries) else { throw ValidationError("--retries must be in 1...10000") }
        let limit = Self.maximumSeconds
        guard retryWait >= 0, retryWait <= limit, maxRetryWait >= 0, maxRetryWait <= limit else {
            throw ValidationError("--retry-wait and --max-retry-wait must be between 0 and \(Int(limit)) seconds")
        }
        guard timeout > 0, timeout <= limit else { throw ValidationError("--timeout must be above 0 and at most \(Int(limit)) seconds") }
        var c = FetchConfig(destination: dest)
        c.jobs = jobs
        c.perHost = perHost
        c.retry = RetryPolicy(maxAttempts: retries, baseDelay: retryWait, maxDelay: maxRetryWait)
        c.readTimeout = timeout
        if let bandwidth {
            let text = bandwidth.hasSuffix("/s") ? String(bandwidth.dropLast(2)) : bandwidth
            guard let b = ByteSize.parse(text), b > 0 else { throw ValidationError("--bandwidth: expected a size per second such as 50MB") }
            c.bandwidth = b
        }
        guard let reserve = ByteSize.parse(keepFree), reserve >= 0 else { throw ValidationError("--keep-free: expected a size such as 10GB") }
        c.reserveBytes = reserve
        c.verify = verify
        c.force = force
        c.progress = !quiet
        return c
    }

    func checksumList() throws -> ChecksumList {
        checksums.isEmpty ? ChecksumList() : try ChecksumList(files: checksums)
    }
}

/// A fetch source: turns its options into the list of files.
protocol FetchSource: ParsableArguments, Sendable {
    /// The items, and lines describing how they were found.
    func resolve(_ config: FetchConfig) async throws -> (items: [FetchItem], notes: [String])
}

/// A command that fetches from a source, or plans it.
protocol FetchSourceCommand: ParsableCommand, StatusReturningCommand {
    associatedtype Source: FetchSource
    var source: Source { get }
    var engine: FetchEngineOptions { get }
}

extension FetchSourceCommand {
    func run() throws {}

    func runReturningStatus() throws -> ExitStatus {
        let config = try engine.config()
        let sums = try engine.checksumList()
        let source = self.source
        Interruption.install()
        return try blockingAsync {
            var (items, notes) = try await source.resolve(config)
            if sums.count > 0 { for i in items.indices { items[i].checksum = sums.checksum(forPath: items[i].path) ?? items[i].checksum } }
            if config.progress { for n in notes { FileHandle.standardError.write(Data("\(n)\n".utf8)) } }
            let summary = try await FetchEngine.run(items, config: config)
            FetchReportText.print(summary, config: config)
            return summary.exitStatus
        }
    }
}

/// The summary lines of a run (stdout; reasons listed, 20 per kind).
enum FetchReportText {
    static func print(_ s: FetchSummary, config: FetchConfig) {
        let rate = s.seconds > 0 ? Int64(flooring: Double(s.receivedBytes) / s.seconds, clampedTo: 0...Int64.max) : 0
        var out = "fetched \(s.fetched) files (\(ByteCount.text(s.fetchedBytes))), skipped \(s.skipped) already complete"
        if s.damaged > 0 { out += " (\(s.damaged) found missing or damaged and fetched again)" }
        let failedCount = s.missing.count + s.unauthorized.count + s.forbidden.count + s.failed.count
        out += ", failed \(failedCount)"
        if s.notAttempted > 0 { out += ", left for the next run \(s.notAttempted)" }
        out += "; \(ByteCount.text(s.receivedBytes)) received in \(FormatSpec.fixed(s.seconds, 1)) s, mean \(ByteCount.text(rate))/s"
        Swift.print(out)
        for (title, list) in [("missing", s.missing), ("unauthorized", s.unauthorized), ("forbidden", s.forbidden), ("failed", s.failed)]
        where !list.isEmpty {
            Swift.print("\(title): \(list.count)")
            for (path, reason) in list.sorted(by: { $0.path < $1.path }).prefix(20) { Swift.print("  \(path): \(reason)") }
            if list.count > 20 { Swift.print("  … and \(list.count - 20) more (astropile fetch status \(config.destination) --all)") }
        }
        if let r = s.stopReason { Swift.print("stopped: \(r)") }
        Swift.print("manifest: \(config.destination)/\(FetchManifest.fileName)")
    }
}
