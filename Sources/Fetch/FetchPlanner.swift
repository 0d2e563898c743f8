import AsyncHTTPClient
import Foundation
import Formats
import NIOCore

/// `astropile fetch plan`: what a run would do — files, what is already complete, the volume
/// (from the source's sizes, the manifest, or HEAD requests) and the free space. Downloads nothing
/// and writes nothing.
public struct FetchPlan: Sendable {
    /// Unique files.
    public var files = 0
    /// Already complete in the destination's manifest.
    public var complete = 0
    public var completeBytes: Int64 = 0
    /// Files still to fetch.
    public var toFetch = 0
    /// Their bytes known exactly (listing, manifest, HEAD) and approximately (listing).
    public var exactBytes: Int64 = 0
    public var exactCount = 0
    public var approximateBytes: Int64 = 0
    public var approximateCount = 0
    /// Files whose size nothing told.
    public var unknownCount = 0
    /// HEAD answers that say the file is not there (path, status).
    public var unavailable: [(path: String, status: Int)] = []
    /// HEAD requests that failed (path, reason).
    public var headErrors: [(path: String, reason: String)] = []
    /// Files the fetch will refuse because of their path (fetch's own names, a name another file
    /// of the destination needs), with the reason; not counted in ``toFetch``.
    public var refused: [(path: String, reason: String)] = []
    /// Files to fetch whose size alone is more than the room on the destination (path, bytes):
    /// each will fail by itself, and they are not counted in the volume.
    public var tooLarge: [(path: String, bytes: Int64)] = []
    /// Free bytes at the destination.
    public var freeBytes: Int64?

    /// Whether the known volume fits in the free space.
    public var fits: Bool { freeBytes.map { exactBytes + approximateBytes <= $0 } ?? true }
}

/// Makes a ``FetchPlan``.
public enum FetchPlanner {
    /// Plans fetching `items` into `config.destination`; with `head`, asks the server for the
    /// sizes that neither the source nor the manifest knows (`config.jobs` at a time).
    public static func plan(_ items: [FetchItem], config: FetchConfig, head: Bool) async -> FetchPlan {
        var plan = FetchPlan()
        plan.files = items.count
        var recorded: [ManifestEntry] = []
        if FileManager.default.fileExists(atPath: config.destination + "/" + FetchManifest.fileName),
           let manifest = try? FetchManifest(destination: config.destination, create: false),
           let all = try? manifest.entries() {
            recorded = all
        }
        let entries = Dictionary(recorded.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let (accepted, refused) = DestinationLayout.check(items, recorded: recorded)
        plan.refused = refused
        plan.freeBytes = DiskSpace.available(at: config.destination)
        let room = plan.freeBytes.map { $0 - config.reserveBytes }
        // Whether a known size is more than all the room (then listed, not counted).
        func tooLarge(_ item: FetchItem, _ size: Int64) -> Bool {
            guard let room, room > 0, size > room else { return false }
            plan.tooLarge.append((item.path, size))
            return true
        }
        var unknown: [FetchItem] = []
        for item in accepted {
            let e = entries[item.path]
            if let e, e.status == .done, FetchEngine.fileSize(config.destination + "/" + item.path) == e.bytes {
                plan.complete += 1; plan.completeBytes += e.bytes; continue
            }
            plan.toFetch += 1
            if let s = item.size ?? e?.expectedBytes {
                if !tooLarge(item, s) { plan.exactBytes += s; plan.exactCount += 1 }
            } else if let s = item.approximateSize ?? e?.approximateBytes {
                if !tooLarge(item, s) { plan.approximateBytes += s; plan.approximateCount += 1 }
            } else { unknown.append(item) }
        }
        if head, !unknown.isEmpty {
            let results = await headSizes(unknown, config: config)
            for (item, result) in zip(unknown, results) {
                switch result {
                case .size(let s): if !tooLarge(item, s) { plan.exactBytes += s; plan.exactCount += 1 }
                case .status(let code): plan.unavailable.append((item.path, code)); plan.unknownCount += 1
                case .noSize: plan.unknownCount += 1
                case .error(let why): plan.headErrors.append((item.path, why)); plan.unknownCount += 1
                }
            }
        } else {
            plan.unknownCount = unknown.count
        }
        return plan
    }

    private enum HeadResult: Sendable {
        case size(Int64), status(Int), noSize, error(String)
    }

    private static func headSizes(_ items: [FetchItem], config: FetchConfig) async -> [HeadResult] {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config.httpClientConfiguration(followRedirects: true))
        let hosts = Set(items.compactMap { URLParts($0.url)?.host })
        let credentials = CredentialStore.load(sourceHosts: hosts)
        var results = [HeadResult](repeating: .noSize, count: items.count)
        await withTaskGroup(of: (Int, HeadResult).self) { group in
            var next = 0
            func add() {
                guard next < items.count else { return }
                let i = next
                next += 1
                let item = items[i]
                group.addTask {
                    var request = HTTPClientRequest(url: URLParts.redacted(item.url))
                    request.method = .HEAD
                    request.headers.add(name: "User-Agent", value: FetchConfig.userAgent)
                    let host = URLParts(item.url)?.host
                    if let c = URLParts.userInfoCredential(item.url) ?? host.flatMap({ credentials.credential(forHost: $0) }) {
                        request.headers.add(name: "Authorization", value: c.headerValue)
                    }
                    do {
                        let response = try await client.execute(request, timeout: .seconds(Int64(config.readTimeout)))
                        let code = Int(response.status.code)
                        guard (200..<300).contains(code) else { return (i, .status(code)) }
                        if let s = response.headers.first(name: "Content-Length").flatMap({ Int64($0) }) { return (i, .size(s)) }
                        return (i, .noSize)
                    } catch {
                        return (i, .error(Transfer.describe(error)))
                    }
                }
            }
            for _ in 0..<max(1, config.jobs) { add() }
            while let (i, r) = await group.next() {
                results[i] = r
                add()
            }
        }
        try? await client.shutdown()
        return results
    }

    /// Reads an archive's HTML listing (following redirects).
    public static func fetchText(_ url: String, config: FetchConfig) async throws -> String {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config.httpClientConfiguration(followRedirects: true))
        let result: Result<String, Error>
        do { result = .success(try await fetchText(url, client: client, config: config)) } catch { result = .failure(error) }
        try? await client.shutdown()
        return try result.get()
    }

    private static func fetchText(_ url: String, client: HTTPClient, config: FetchConfig) async throws -> String {
        var rng = SystemRandomNumberGenerator()
        var lastError = ""
        for attempt in 1...max(1, config.retry.maxAttempts) {
            var request = HTTPClientRequest(url: URLParts.redacted(url))
            request.headers.add(name: "User-Agent", value: FetchConfig.userAgent)
            if let c = URLParts.userInfoCredential(url) { request.headers.add(name: "Authorization", value: c.headerValue) }
            var retryAfter: Double? = nil
            do {
                let response = try await client.execute(request, timeout: .seconds(Int64(config.readTimeout)))
                let code = Int(response.status.code)
                if code == 200 {
                    let body = try await response.body.collect(upTo: 256 << 20)
                    return String(buffer: body)
                }
                lastError = "HTTP \(code)"
                guard RetryPolicy.isRetryable(status: code) else { throw FetchError.listing(url: URLParts.redacted(url), reason: lastError) }
                retryAfter = response.headers.first(name: "Retry-After").flatMap { RetryPolicy.parseRetryAfter($0) }
            } catch let e as FetchError { throw e } catch {
                lastError = Transfer.describe(error)
            }
            if attempt < config.retry.maxAttempts {
                try? await Task.sleep(for: .milliseconds(Int64(config.retry.delay(afterAttempt: attempt, retryAfter: retryAfter, using: &rng) * 1000)))
            }
        }
        throw FetchError.listing(url: URLParts.redacted(url), reason: lastError)
    }
}
