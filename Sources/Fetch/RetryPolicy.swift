import Foundation
import Formats

/// When and how long to wait before trying a transfer again: exponential backoff with full jitter
/// (`base · 2^(attempt-1)`, capped), or the server's `Retry-After` when it gives one (capped too).
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// Attempts per file per run (the first try included).
    public var maxAttempts: Int = 8
    /// The first backoff, seconds.
    public var baseDelay: Double = 1
    /// The longest wait, seconds (backoff and Retry-After alike).
    public var maxDelay: Double = 120

    public init(maxAttempts: Int = 8, baseDelay: Double = 1, maxDelay: Double = 120) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Seconds to wait after failed attempt number `attempt` (1-based); `retryAfter` from the server wins.
    public func delay<R: RandomNumberGenerator>(afterAttempt attempt: Int, retryAfter: Double?, using rng: inout R) -> Double {
        if let retryAfter, retryAfter.isFinite { return min(max(retryAfter, 0), maxDelay) }
        let ceiling = min(baseDelay * pow(2, Double(max(attempt - 1, 0))), maxDelay)
        return Double.random(in: 0...ceiling, using: &rng) * 0.5 + ceiling * 0.5
    }

    /// HTTP answers worth trying again: 408, 425, 429 and every 5xx.
    public static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 425 || status == 429 || (500...599).contains(status)
    }

    /// Parses `Retry-After`: delta-seconds, or an HTTP date (IMF-fixdate) relative to `now`.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Double? {
        let t = value.trimmingCharacters(in: .whitespaces)
        // A server's text: NaN, infinities and absurd fields are ignored (nil), never trapped on.
        if let s = Double(t) { return s.isFinite ? max(s, 0) : nil }
        // "Sun, 06 Nov 1994 08:49:37 GMT"
        let parts = t.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, (1...31).contains(day), (1900...9999).contains(year), (0...23).contains(hms[0]),
              (0...59).contains(hms[1]), (0...60).contains(hms[2]) else { return nil }
        var tmv = tm()
        tmv.tm_year = Int32(year - 1900); tmv.tm_mon = Int32(month); tmv.tm_mday = Int32(day)
        tmv.tm_hour = Int32(hms[0]); tmv.tm_min = Int32(hms[1]); tmv.tm_sec = Int32(hms[2])
        let epoch = Double(timegm(&tmv))
        return max(epoch - now.timeIntervalSince1970, 0)
    }
}
