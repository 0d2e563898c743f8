import AsyncHTTPClient
import Foundation
import Formats
import NIOCore
import NIOPosix
import RunEngine

/// What a fetch run did.
public struct FetchSummary: Sendable {
    /// Files the source named (after deduplication).
    public var files = 0
    /// Files fetched in this run, and their bytes.
    public var fetched = 0
    public var fetchedBytes: Int64 = 0
    /// Files already complete (skipped without network).
    public var skipped = 0
    public var skippedBytes: Int64 = 0
    /// Complete files that `--verify` found damaged or missing (and fetched again).
    public var damaged = 0
    /// 404/410 answers.
    public var missing: [(path: String, reason: String)] = []
    /// 401 answers (credentials missing or refused).
    public var unauthorized: [(path: String, reason: String)] = []
    /// 403 answers.
    public var forbidden: [(path: String, reason: String)] = []
    /// Given up or refused (a reserved name, a name another file of the destination needs, more
    /// than the free space), with the reason.
    public var failed: [(path: String, reason: String)] = []
    /// Files left for the next run (the run stopped before them).
    public var notAttempted = 0
    /// Bytes received over the network (including restarted and resumed pieces).
    public var receivedBytes: Int64 = 0
    /// Wall time, seconds.
    public var seconds: Double = 0
    /// Why the run stopped early, if it did.
    public var stopReason: String?
    /// Whether it stopped because of an interrupt (Ctrl-C, SIGTERM).
    public var interrupted = false

    /// True when every file is complete.
    public var succeeded: Bool {
        missing.isEmpty && unauthorized.isEmpty && forbidden.isEmpty && failed.isEmpty && notAttempted == 0 && stopReason == nil
    }

    /// The exit status: 130 interrupted, 1 stopped by a full disk, 3 some files failed, 0 all complete.
    public var exitStatus: ExitStatus {
        if interrupted { return .interrupted }
        if stopReason != nil { return .failure }
        return succeeded ? .success : .completedWithRejections
    }
}

/// Runs the transfers of a list of items into a destination folder, with the destination's lock,
/// the manifest, the free space check, bounded concurrency, progress and a clean stop on a full
/// disk or Ctrl-C.
public enum FetchEngine {
    /// Fetches `items` (unique paths) as `config` says. Errors that stop the run before any
    /// transfer (bad destination, another fetch running there, not enough space) are thrown;
    /// per-file failures are in the summary, among them the items refused before any transfer
    /// because of their path (fetch's own names, a name another file of the destination needs).
    public static func run(_ items: [FetchItem], config: FetchConfig) async throws -> FetchSummary {
        let started = ContinuousClock.now
        var summary = FetchSummary()
        summary.files = items.count
        let dest = config.destination
        do { try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true) } catch {
            throw FetchError.io(dest, operation: "create folder", message: "\(error)")
        }
        let lock = try DestinationLock(folder: dest, shared: config.sharesDestination)
        defer { lock.release() }
        let manifest = try FetchManifest(destination: dest)
        let recorded = try manifest.entries()
        let (accepted, refused) = DestinationLayout.check(items, recorded: recorded)
        summary.failed = refused
        var entries = try manifest.register(accepted)

        let todo = try await settleCompleted(accepted, entries: &entries, manifest: manifest, config: config, summary: &summary)

        // Free space against the sizes already known (listing, earlier responses), minus .part
        // bytes. A file larger than all the room there is left out: it fails by itself once its
        // response announces the size, and counting it would refuse this run and every re-run.
        let free = DiskSpace.available(at: dest)
        let room = free.map { $0 - config.reserveBytes }
        var planned: Int64 = 0
        var allKnown = true
        for item in todo {
            let e = entries[item.path]!
            if let size = e.expectedBytes ?? item.estimatedSize ?? e.approximateBytes {
                let left = max(0, size - (fileSize(PartFile.partPath(for: dest + "/" + item.path)) ?? 0))
                if let room, room > 0, left > room { allKnown = false; continue }
                let (sum, overflow) = planned.addingReportingOverflow(left)
                planned = overflow ? .max : sum
            } else { allKnown = false }
        }
        if !config.force, let free, let room, planned > room {
            throw FetchError.insufficientSpace(needed: planned, free: free, folder: dest)
        }
        guard !todo.isEmpty else {
            summary.seconds = (ContinuousClock.now - started) / .seconds(1)
            return summary
        }

        // Largest known files first, so the long transfers do not start last.
        let ordered = todo.enumerated().sorted { a, b in
            let sa = entries[a.element.path]?.expectedBytes ?? a.element.estimatedSize ?? -1
            let sb = entries[b.element.path]?.expectedBytes ?? b.element.estimatedSize ?? -1
            return sa != sb ? sa > sb : a.offset < b.offset
        }.map(\.element)

        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config.httpClientConfiguration(followRedirects: false))
        // File writes, fsyncs and renames run here; as many threads as transfers, so the fsyncs of
        // small files overlap (the file system commits them together).
        let pool = NIOThreadPool(numberOfThreads: max(2, min(config.jobs, 32)))
        pool.start()
        let hosts = Set(accepted.compactMap { URLParts($0.url)?.host })
        let progress = FetchProgress(totalFiles: ordered.count, totalBytes: allKnown ? planned : nil, enabled: config.progress)
        let context = FetchContext(
            client: client, config: config, manifest: manifest, pool: pool,
            credentials: CredentialStore.load(sourceHosts: hosts),
            limiter: config.bandwidth.map { BandwidthLimiter(bytesPerSecond: $0) },
            progress: progress, stop: StopFlag())
        let queue = WorkQueue(ordered, hostLimit: config.hostLimit)
        let outcomes = await transferAll(queue: queue, entries: entries, context: context, jobs: config.jobs)
        progress.emit(final: true)
        try? await client.shutdown()
        try? await pool.shutdownGracefully()

        tally(outcomes, of: todo.count, stop: context.stop.reason, into: &summary)
        summary.receivedBytes = progress.receivedBytes
        summary.seconds = (ContinuousClock.now - started) / .seconds(1)
        return summary
    }

    /// Sorts out what is already complete, on disk only (no network): complete files are skipped
    /// (re-hashed with `--verify`); damaged or deleted ones go back to pending; a file renamed into
    /// place by a run that stopped before recording it is recognised. Returns what is left to fetch.
    static func settleCompleted(_ items: [FetchItem], entries: inout [String: ManifestEntry], manifest: FetchManifest,
                                config: FetchConfig, summary: inout FetchSummary) async throws -> [FetchItem] {
        let damagedOnDisk = config.verify ? rehashCompleted(items.compactMap { entries[$0.path] }, config: config) : []
        var todo: [FetchItem] = []
        for item in items {
            guard var e = entries[item.path] else { continue }
            let path = config.destination + "/" + item.path
            let onDisk = fileSize(path)
            if e.status == .done {
                let intact = onDisk == e.bytes && !damagedOnDisk.contains(e.path)
                if intact { summary.skipped += 1; summary.skippedBytes += e.bytes; continue }
                if onDisk != nil { unlink(path) }
                summary.damaged += 1
                e.status = .pending
                e.checksum = nil
                e.completedAt = nil
                e.lastError = onDisk == nil ? "complete file was missing on disk" : "complete file was damaged on disk"
                try await manifest.save(e)
                entries[item.path] = e
            } else if let size = onDisk, let expected = e.expectedBytes, size == expected, e.expectedChecksum != nil || e.etag != nil {
                // Renamed into place by a run that stopped before recording it: its size (and
                // checksum, when a list gives one) settle it.
                if try e.expectedChecksum == nil || verifyChecksum(path: path, entry: e) {
                    e.status = .done
                    e.bytes = size
                    e.completedAt = UTCTime.iso8601()
                    try await manifest.save(e)
                    summary.skipped += 1; summary.skippedBytes += size
                    continue
                }
            }
            todo.append(item)
        }

        return todo
    }

    /// Runs `jobs` workers over the queue, plus a monitor that prints progress and turns Ctrl-C or a
    /// full disk into a stop (no more files handed out; after a grace period the rest is cancelled).
    static func transferAll(queue: WorkQueue, entries: [String: ManifestEntry], context: FetchContext,
                            jobs: Int) async -> [(String, TransferOutcome)] {
        let progress = context.progress
        return await withTaskGroup(of: [(String, TransferOutcome)]?.self) { group in
            // Watches for Ctrl-C and a stop request (then hands out no more files, and after a
            // grace period for transfers to record their state, returns nil: cancel the rest),
            // and prints progress.
            group.addTask {
                var lastPrint = ContinuousClock.now
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    if Interruption.requested { context.stop.request(.interrupted) }
                    if context.stop.reason != nil {
                        await queue.stop()
                        try? await Task.sleep(for: .seconds(2))
                        return nil
                    }
                    if ContinuousClock.now - lastPrint >= .milliseconds(Int64(progress.interval * 1000)) {
                        progress.emit()
                        lastPrint = .now
                    }
                }
                return []
            }
            for _ in 0..<max(1, jobs) {
                group.addTask {
                    var results: [(String, TransferOutcome)] = []
                    while let item = await queue.take() {
                        var transfer = Transfer(item: item, entry: entries[item.path]!, context: context)
                        let outcome = await transfer.run()
                        await queue.release(item.url)
                        switch outcome {
                        case .done(let size): progress.finished(ok: true, size: size)
                        case .stopped: break
                        default: progress.finished(ok: false, size: 0)
                        }
                        results.append((item.path, outcome))
                    }
                    return results
                }
            }
            var all: [(String, TransferOutcome)] = []
            var workersLeft = max(1, jobs)
            while let r = await group.next() {
                guard let r else { group.cancelAll(); continue }
                all += r
                workersLeft -= 1
                if workersLeft == 0 { group.cancelAll() }
            }
            return all
        }
    }

    /// `--verify`: the complete files (of the right size) whose content no longer has the recorded
    /// checksums, hashed on all cores with a progress line.
    static func rehashCompleted(_ entries: [ManifestEntry], config: FetchConfig) -> Set<String> {
        let candidates = entries.filter { $0.status == .done && fileSize(config.destination + "/" + $0.path) == $0.bytes }
        let progress = ProgressReporter(stage: "verify", unit: "bytes", total: candidates.reduce(0) { $0 + $1.bytes },
                                        enabled: config.progress && !candidates.isEmpty)
        var intact = [Bool](repeating: false, count: candidates.count)
        intact.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer  // each iteration writes its own element
            DispatchQueue.concurrentPerform(iterations: candidates.count) { i in
                let e = candidates[i]
                out[i] = (try? verifyChecksum(path: config.destination + "/" + e.path, entry: e)) ?? false
                progress.advance(e.bytes)
            }
        }
        if !candidates.isEmpty { progress.finish() }
        return Set(zip(candidates, intact).filter { !$0.1 }.map(\.0.path))
    }

    /// Counts the outcomes into the summary.
    static func tally(_ outcomes: [(String, TransferOutcome)], of count: Int, stop: StopReason?, into summary: inout FetchSummary) {
        var finished = Set<String>()
        for (path, outcome) in outcomes {
            switch outcome {
            case .done(let size): summary.fetched += 1; summary.fetchedBytes += size; finished.insert(path)
            case .missing(let s): summary.missing.append((path, "HTTP \(s)")); finished.insert(path)
            case .unauthorized: summary.unauthorized.append((path, "HTTP 401: " + Transfer.unauthorizedReason)); finished.insert(path)
            case .forbidden(let s): summary.forbidden.append((path, "HTTP \(s): forbidden")); finished.insert(path)
            case .failed(let why): summary.failed.append((path, why)); finished.insert(path)
            case .stopped: break
            }
        }
        summary.notAttempted = count - finished.count
        switch stop {
        case .diskFull(let p)?: summary.stopReason = FetchError.diskFull(p).description
        case .interrupted?:
            summary.stopReason = FetchError.interrupted.description
            summary.interrupted = true
        case nil: break
        }
    }

    static func fileSize(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// Whether the file at `path` has the recorded SHA-256 (and the list's checksum, if any).
    static func verifyChecksum(path: String, entry: ManifestEntry) throws -> Bool {
        let recorded = entry.checksum.flatMap(Checksum.init)
        let expected = entry.expectedChecksum.flatMap(Checksum.init)
        guard recorded != nil || expected != nil else { return true }
        let sums = try FileDigest.compute(path: path, algorithms: Set([recorded?.algorithm, expected?.algorithm].compactMap { $0 }))
        if let recorded, sums[recorded.algorithm] != recorded { return false }
        if let expected, sums[expected.algorithm] != expected { return false }
        return true
    }
}

/// Digests of files on disk.
enum FileDigest {
    /// The checksums of the whole file at `path`.
    static func compute(path: String, algorithms: Set<Checksum.Algorithm>) throws -> [Checksum.Algorithm: Checksum] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PartFile.error(path, "open") }
        defer { close(fd) }
        let digests = try algorithms.map { try Digest($0) }
        try feed(fd, path: path, upTo: nil, into: digests)
        return Dictionary(uniqueKeysWithValues: try digests.map { ($0.algorithm, try $0.finish()) })
    }

    /// Adds the bytes of `fd` from its start up to `end` (`nil`: the whole file) to `digests`,
    /// reading 1 MiB at a time with `pread` (the file position is left alone).
    static func feed(_ fd: Int32, path: String, upTo end: Int64?, into digests: [Digest]) throws {
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var position: Int64 = 0
        while end.map({ position < $0 }) ?? true {
            let n = pread(fd, buffer.baseAddress, min(chunk, end.map { Int($0 - position) } ?? chunk), off_t(position))
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw PartFile.error(path, "read") }
            if n == 0 {
                if end != nil { throw PartFile.error(path, "read (file shorter than expected)") }
                break
            }
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            for d in digests { try d.update(bytes) }
            position += Int64(n)
        }
    }
}
