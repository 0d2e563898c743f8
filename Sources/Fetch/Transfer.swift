import AsyncHTTPClient
import Foundation
import Formats
import NIOCore
import NIOHTTP1
import NIOPosix
import RunEngine

/// Why a run stops early.
enum StopReason: Sendable, Equatable {
    case diskFull(String)
    case interrupted
}

/// A run-wide stop request (disk full, Ctrl-C), read by every transfer between buffers.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value: StopReason?
    var reason: StopReason? { lock.lock(); defer { lock.unlock() }; return value }
    /// Records the first reason only.
    func request(_ r: StopReason) { lock.lock(); if value == nil { value = r }; lock.unlock() }
}

/// What the transfers of a run share.
struct FetchContext: Sendable {
    let client: HTTPClient
    let config: FetchConfig
    let manifest: FetchManifest
    let pool: NIOThreadPool
    let credentials: CredentialStore
    let limiter: BandwidthLimiter?
    let progress: FetchProgress
    let stop: StopFlag
}

/// How one file's transfer ended in this run.
enum TransferOutcome: Sendable {
    case done(size: Int64)
    case missing(Int)
    /// 401: the credentials were missing or refused.
    case unauthorized
    case forbidden(Int)
    case failed(String)
    case stopped
}

/// One file's download: attempts with backoff, Range resume validated by ETag/Last-Modified,
/// size and checksum checks, commit by rename. Every state change is saved to the manifest.
struct Transfer {
    let item: FetchItem
    var entry: ManifestEntry
    let context: FetchContext

    private var finalPath: String { context.config.destination + "/" + item.path }
    private var partPath: String { PartFile.partPath(for: finalPath) }

    /// The result of one attempt.
    private enum Attempt {
        case complete(Checksum, size: Int64)
        case permanent(TransferOutcome, status: Int?, message: String)
        case retry(String, status: Int?, retryAfter: Double?)
        case diskFull(String)
        case stopped
    }

    /// Runs attempts until the file is complete, permanently unavailable, out of attempts or the run stops.
    mutating func run() async -> TransferOutcome {
        var rng = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            if context.stop.reason != nil || Task.isCancelled { await save(); return .stopped }
            attempt += 1
            entry.attempts += 1
            let result = await attemptOnce()
            switch result {
            case .complete(let sum, let size):
                entry.status = .done
                entry.bytes = size
                entry.expectedBytes = size
                entry.checksum = sum.description
                entry.lastError = nil
                entry.completedAt = UTCTime.iso8601()
                await save()
                return .done(size: size)
            case .permanent(let outcome, let status, let message):
                switch outcome {
                case .missing: entry.status = .missing
                case .unauthorized: entry.status = .unauthorized
                case .forbidden: entry.status = .forbidden
                default: entry.status = .failed
                }
                entry.httpStatus = status ?? entry.httpStatus
                entry.lastError = message
                entry.bytes = partSize()
                await save()
                return outcome
            case .diskFull(let path):
                context.stop.request(.diskFull(path))
                entry.lastError = "disk full"
                markUnfinished()
                await save()
                return .stopped
            case .stopped:
                markUnfinished()
                await save()
                return .stopped
            case .retry(let message, let status, let retryAfter):
                entry.httpStatus = status ?? entry.httpStatus
                entry.lastError = message
                markUnfinished()
                if attempt >= context.config.retry.maxAttempts {
                    entry.status = .failed
                    entry.lastError = "gave up after \(attempt) attempts: \(message)"
                    await save()
                    return .failed(entry.lastError!)
                }
                await save()
                let wait = context.config.retry.delay(afterAttempt: attempt, retryAfter: retryAfter, using: &rng)
                if !(await sleepUnlessStopped(wait)) { return .stopped }
            }
        }
    }

    /// Records the entry; runs in its own task so that a transfer being cancelled (the run is
    /// stopping) still records where it stopped.
    private func save() async {
        let manifest = context.manifest
        let row = entry
        await Task {
            do { try await manifest.save(row) } catch {
                FileHandle.standardError.write(Data("astropile: warning: \(error)\n".utf8))
            }
        }.value
    }

    private func partSize() -> Int64 { FetchEngine.fileSize(partPath) ?? 0 }

    /// Not complete: partial when its `.part` holds bytes to resume from, else pending.
    private mutating func markUnfinished() {
        entry.bytes = partSize()
        entry.status = entry.bytes > 0 ? .partial : .pending
    }

    /// Sleeps in short steps so a stop request is seen; false if the run is stopping.
    private func sleepUnlessStopped(_ seconds: Double) async -> Bool {
        var left = seconds
        while left > 0 {
            if context.stop.reason != nil || Task.isCancelled { return false }
            let step = min(left, 0.1)
            try? await Task.sleep(for: .milliseconds(Int64(step * 1000)))
            left -= step
        }
        return context.stop.reason == nil && !Task.isCancelled
    }

    private static let redirects: Set<UInt> = [301, 302, 303, 307, 308]

    private mutating func attemptOnce() async -> Attempt {
        var offset = partSize()
        let validator = entry.etag.flatMap { $0.hasPrefix("W/") ? nil : $0 } ?? entry.lastModified
        if offset > 0, validator == nil { unlink(partPath); offset = 0 }
        if let expected = entry.expectedBytes, offset > expected { unlink(partPath); offset = 0 }
        if let expected = entry.expectedBytes, offset > 0, offset == expected {
            // Every byte arrived before a stop; only the check and the rename are left.
            return await finishWithoutNetwork(size: offset)
        }
        let response: HTTPClientResponse
        do {
            response = try await request(offset: offset, validator: offset > 0 ? validator : nil)
        } catch let e as RedirectError {
            return .permanent(.failed(e.message), status: nil, message: e.message)
        } catch {
            if context.stop.reason != nil || Task.isCancelled { return .stopped }
            return .retry("request failed: \(Self.describe(error))", status: nil, retryAfter: nil)
        }
        let status = Int(response.status.code)
        switch status {
        case 200, 206: break
        case 404, 410:
            await drain(response)
            return .permanent(.missing(status), status: status, message: "HTTP \(status) \(response.status.reasonPhrase)")
        case 401:
            await drain(response)
            return .permanent(.unauthorized, status: status, message: "HTTP 401 \(response.status.reasonPhrase): \(Self.unauthorizedReason)")
        case 403:
            await drain(response)
            return .permanent(.forbidden(status), status: status, message: "HTTP \(status) \(response.status.reasonPhrase)")
        case 416:
            await drain(response)
            unlink(partPath)
            entry.etag = nil; entry.lastModified = nil
            return .retry("HTTP 416 for a resumed range: starting the file again", status: status, retryAfter: 0)
        case _ where RetryPolicy.isRetryable(status: status):
            let after = response.headers.first(name: "Retry-After").flatMap { RetryPolicy.parseRetryAfter($0) }
            await drain(response)
            return .retry("HTTP \(status) \(response.status.reasonPhrase)", status: status, retryAfter: after)
        default:
            await drain(response)
            return .permanent(.failed("HTTP \(status)"), status: status, message: "HTTP \(status) \(response.status.reasonPhrase)")
        }
        entry.httpStatus = status
        var start: Int64 = 0
        var total: Int64? = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
        if status == 206 {
            guard let range = response.headers.first(name: "Content-Range").flatMap(Self.parseContentRange), range.start == offset else {
                await drain(response)
                unlink(partPath)
                return .retry("a 206 answer for another range than asked: starting the file again", status: status, retryAfter: 0)
            }
            start = offset
            total = range.total ?? total.flatMap { n -> Int64? in
                let (sum, overflow) = n.addingReportingOverflow(offset)
                return overflow ? nil : sum
            }
        }
        // A file larger than the free space fails by itself and the run goes on, without
        // recording the announced size (the start-of-run check would count it in every re-run);
        // only a disk with no room left at all stops the run.
        if let total, let free = DiskSpace.available(at: context.config.destination),
           total - start > free - context.config.reserveBytes {
            await drain(response)
            if free - context.config.reserveBytes <= 0 { return .diskFull(finalPath) }
            let reason = Self.tooLargeReason(total: total, start: start, free: free, reserve: context.config.reserveBytes,
                                             folder: context.config.destination)
            return .permanent(.failed(reason), status: status, message: reason)
        }
        entry.expectedBytes = total
        entry.etag = response.headers.first(name: "ETag")
        entry.lastModified = response.headers.first(name: "Last-Modified")
        entry.status = .partial
        await save()
        let expectedSum = entry.expectedChecksum.flatMap(Checksum.init)
        let part: PartFile
        do {
            let keep = start
            let path = finalPath
            part = try await context.pool.runIfActive {
                try PartFile(finalPath: path, keeping: keep, extraDigest: expectedSum?.algorithm)
            }
        } catch let e as FetchError {
            if case .diskFull(let p) = e { return .diskFull(p) }
            return .permanent(.failed("\(e)"), status: status, message: "\(e)")
        } catch {
            return .stopped
        }
        // Stream the body to the part file in writes of up to 1 MiB (or every half second on a
        // slow link, so a crash loses little) on the I/O pool.
        var pending: [ByteBuffer] = []
        var pendingBytes = 0
        var lastFlush = ContinuousClock.now
        func flush() async throws {
            lastFlush = .now
            guard pendingBytes > 0 else { return }
            let batch = pending
            let n = pendingBytes
            pending.removeAll(keepingCapacity: true)
            pendingBytes = 0
            try await context.pool.runIfActive { try part.append(batch) }
            context.progress.received(n)
        }
        do {
            for try await buffer in response.body {
                if context.stop.reason != nil { try await flush(); part.abandon(); return .stopped }
                if let limiter = context.limiter { await limiter.acquire(buffer.readableBytes) }
                pendingBytes += buffer.readableBytes
                pending.append(buffer)
                if pendingBytes >= 1 << 20 || ContinuousClock.now - lastFlush > .milliseconds(500) { try await flush() }
            }
            try await flush()
        } catch {
            if case FetchError.diskFull(let p) = error { part.abandon(); return .diskFull(p) }
            if pendingBytes > 0 { try? await flush() }
            part.abandon()
            if context.stop.reason != nil || Task.isCancelled { return .stopped }
            if let e = error as? FetchError { return .permanent(.failed("\(e)"), status: status, message: "\(e)") }
            return .retry("connection lost after \(part.size) of \(total.map(String.init) ?? "?") bytes: \(Self.describe(error))",
                          status: status, retryAfter: nil)
        }
        if let total, part.size < total {
            part.abandon()
            return .retry("body shorter than announced: \(part.size) of \(total) bytes", status: status, retryAfter: nil)
        }
        if let total, part.size > total {
            part.discard()
            return .retry("body longer than announced: \(part.size) of \(total) bytes", status: status, retryAfter: 0)
        }
        return await verifyAndCommit(part, expected: expectedSum)
    }

    /// Checks the complete part against the checksum list (if any) and renames it into place.
    private func verifyAndCommit(_ part: PartFile, expected: Checksum?) async -> Attempt {
        let sums: (sha256: Checksum, extra: Checksum?)
        do { sums = try part.digests() } catch {
            part.discard()
            return .permanent(.failed("\(error)"), status: nil, message: "\(error)")
        }
        if let expected {
            let got = expected.algorithm == .sha256 ? sums.sha256 : sums.extra
            if got != expected {
                part.discard()
                return .retry("checksum mismatch: expected \(expected), got \(got?.description ?? "none")", status: nil, retryAfter: 0)
            }
        }
        do {
            try await context.pool.runIfActive { try part.commit() }
        } catch {
            if case FetchError.diskFull(let p) = error { part.abandon(); return .diskFull(p) }
            part.abandon()
            return .permanent(.failed("\(error)"), status: nil, message: "\(error)")
        }
        return .complete(sums.sha256, size: part.size)
    }

    private func finishWithoutNetwork(size: Int64) async -> Attempt {
        let path = finalPath
        let expected = entry.expectedChecksum.flatMap(Checksum.init)
        do {
            let part = try await context.pool.runIfActive {
                try PartFile(finalPath: path, keeping: size, extraDigest: expected?.algorithm)
            }
            return await verifyAndCommit(part, expected: expected)
        } catch {
            return .retry("\(error)", status: nil, retryAfter: 0)
        }
    }

    /// The reason recorded for a 401 answer.
    static let unauthorizedReason = "unauthorized (credentials missing or refused)"

    /// Why a file whose announced size does not fit in the free space fails.
    static func tooLargeReason(total: Int64, start: Int64, free: Int64, reserve: Int64, folder: String) -> String {
        var text = "announced \(ByteCount.text(total))"
        if start > 0 { text += " (\(ByteCount.text(total - start)) still to come)" }
        return text + ", more than the free space on \(folder) (\(ByteCount.text(free)) free, \(ByteCount.text(reserve)) of it kept free)"
    }

    private struct RedirectError: Error { let message: String }

    /// Sends the GET, following redirects itself so credentials go only to the host they are for.
    /// Credentials in the URL (`user:password@`) go as HTTP basic to its own host and port (also
    /// after a redirect there), else those of the store; the request line never carries them.
    private func request(offset: Int64, validator: String?) async throws -> HTTPClientResponse {
        var url = item.url
        let inURL = URLParts.userInfoCredential(item.url)
        let origin = URLParts(item.url)?.hostKey
        for _ in 0...10 {
            guard let parts = URLParts(url) else { throw RedirectError(message: "redirect to an unusable URL \(URLParts.redacted(url))") }
            var request = HTTPClientRequest(url: URLParts.redacted(url))
            request.method = .GET
            request.headers.add(name: "User-Agent", value: FetchConfig.userAgent)
            if offset > 0 {
                request.headers.add(name: "Range", value: "bytes=\(offset)-")
                if let validator { request.headers.add(name: "If-Range", value: validator) }
            }
            let sameOrigin = parts.hostKey == origin
            if let credential = URLParts.userInfoCredential(url) ?? (sameOrigin ? inURL : nil) ?? context.credentials.credential(forHost: parts.host) {
                request.headers.add(name: "Authorization", value: credential.headerValue)
            }
            let response = try await context.client.execute(request, deadline: .now() + .hours(72))
            guard Self.redirects.contains(response.status.code) else { return response }
            guard let location = response.headers.first(name: "Location") else {
                throw RedirectError(message: "HTTP \(response.status.code) without a Location")
            }
            await drain(response)
            url = Self.resolve(location, against: url)
        }
        throw RedirectError(message: "more than 10 redirects")
    }

    /// `location` relative to `base` (absolute URL, absolute path, or relative path).
    static func resolve(_ location: String, against base: String) -> String {
        if location.contains("://") { return location }
        guard let schemeEnd = base.range(of: "://") else { return location }
        let rest = base[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let origin = String(base[..<authorityEnd])
        if location.hasPrefix("//") { return String(base[..<schemeEnd.lowerBound]) + ":" + location }
        if location.hasPrefix("/") { return origin + location }
        var path = String(rest[authorityEnd...])
        if let q = path.firstIndex(of: "?") { path = String(path[..<q]) }
        let folder = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "/"
        return origin + folder + location
    }

    /// `bytes a-b/total` → (a, total).
    static func parseContentRange(_ value: String) -> (start: Int64, total: Int64?)? {
        let v = value.trimmingCharacters(in: .whitespaces)
        guard v.hasPrefix("bytes ") else { return nil }
        let spec = v.dropFirst(6)
        let halves = spec.split(separator: "/")
        guard halves.count == 2, let dash = halves[0].firstIndex(of: "-"), let a = Int64(halves[0][..<dash]) else { return nil }
        return (a, Int64(halves[1]))
    }

    /// Reads and drops a small error body so the connection can be reused.
    private func drain(_ response: HTTPClientResponse) async {
        _ = try? await response.body.collect(upTo: 1 << 20)
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? HTTPClientError { return "\(e)" }
        return "\(error)"
    }
}
