import AsyncHTTPClient
import RunEngine

/// Settings of a fetch run (the engine side; the source decides what to fetch).
public struct FetchConfig: Codable, Sendable, Hashable {
    /// The destination folder; files land at their relative paths under it, the manifest in it.
    public var destination: String
    /// Concurrent transfers.
    public var jobs: Int = 8
    /// Concurrent transfers to one host (`nil`: as many as `jobs`).
    public var perHost: Int? = nil
    /// Retries and backoff.
    public var retry = RetryPolicy()
    /// Seconds to establish a connection.
    public var connectTimeout: Double = 30
    /// Seconds without receiving a byte before a transfer is abandoned (and retried).
    public var readTimeout: Double = 120
    /// Total bandwidth cap, bytes per second (`nil`: none).
    public var bandwidth: Int64? = nil
    /// Re-check completed files (size and SHA-256) and fetch again what is missing or damaged.
    public var verify = false
    /// Start even when the planned volume exceeds the free space.
    public var force = false
    /// Bytes to leave free on the destination's disk: a transfer that would eat into them stops
    /// the run as a full disk would.
    public var reserveBytes: Int64 = 16 << 20
    /// Progress lines on stderr.
    public var progress = true
    /// Whether other runs may fetch into the destination at the same time because each has its
    /// own files (the project pipeline's runs, whose registry gives each source to one run): they
    /// share the destination's lock. Otherwise a run holds it alone, and one that finds it taken
    /// refuses to start (``FetchError/busy(folder:pid:)``).
    public var sharesDestination = false

    public init(destination: String) {
        self.destination = destination
    }

    /// The effective per-host limit.
    public var hostLimit: Int { max(1, min(perHost ?? jobs, jobs)) }

    /// The HTTP client settings: timeouts, the keep-alive pool sized to the per-host limit, no
    /// decompression; redirects followed by AHC (listings, HEAD) or by the transfer itself.
    func httpClientConfiguration(followRedirects: Bool) -> HTTPClient.Configuration {
        HTTPClient.Configuration(
            redirectConfiguration: followRedirects ? .follow(max: 10, allowCycles: false) : .disallow,
            timeout: .init(connect: .milliseconds(Int64(connectTimeout * 1000)), read: .milliseconds(Int64(readTimeout * 1000))),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: hostLimit),
            decompression: .disabled)
    }

    /// The `User-Agent` header: names AstroPile and its version.
    public static var userAgent: String { "AstroPile/\(FetchVersion.string) (astropile fetch; survey data downloader)" }
}

/// AstroPile's version as fetch reports it (the CLI's).
public enum FetchVersion {
    /// Semantic version string.
    public static var string: String { AstroPileVersion.string }
}
