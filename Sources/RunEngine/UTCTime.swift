import Foundation

/// UTC timestamps from `gmtime_r` (a `DateFormatter` would load ICU's calendar data, ~20 ms, for
/// one string).
public enum UTCTime {
    /// `yyyy-MM-ddTHH:mm:ssZ` (ISO 8601), as the fetch manifest records times.
    public static func iso8601(_ date: Date = Date()) -> String {
        let f = fields(date)
        return "\(f.date)T\(f.hour):\(f.minute):\(f.second)Z"
    }

    /// `yyyy-MM-ddTHH:mmUTC`, as hats writes `hats_creation_date`.
    public static func hatsMinute(_ date: Date = Date()) -> String {
        let f = fields(date)
        return "\(f.date)T\(f.hour):\(f.minute)UTC"
    }

    private static func fields(_ date: Date) -> (date: String, hour: String, minute: String, second: String) {
        var t = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return ("\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))",
                two(parts.tm_hour), two(parts.tm_min), two(parts.tm_sec))
    }
}
