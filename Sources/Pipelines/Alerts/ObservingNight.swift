/// A ZTF observing night at Palomar, labelled by a calendar date, as the lake partitions it
/// (`year=YYYY/month=MM/day=DD`).
///
/// The rule: a night runs from local noon to local noon at Palomar on standard time (UTC−8,
/// no daylight saving), i.e. from 20:00 UTC to 20:00 UTC, and carries the UTC date on which it
/// ends. Everything observed in one dark period gets one label, and it is the date ZTF puts on
/// that night's public tarball (`ztf_public_YYYYMMDD`: the UTC date of the observations, which
/// at Palomar fall between about 01:00 and 14:00 UTC). So `label = UTC date of (t + 4 h)`.
public struct ObservingNight: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1900...2999).contains(year), (1...12).contains(month), (1...Self.daysIn(month, year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`.
    public var description: String { "\(year)-\(Self.two(month))-\(Self.two(day))" }

    /// The hive-style partition folder, relative to the lake.
    public var folder: String { "year=\(year)/month=\(Self.two(month))/day=\(Self.two(day))" }

    public static func < (a: ObservingNight, b: ObservingNight) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    /// Parses `YYYY-MM-DD`.
    public init?(_ text: String) {
        let p = text.split(separator: "-")
        guard p.count == 3, let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The night a tarball's name gives (`…ztf_public_YYYYMMDD…`), if it has one.
    public static func fromArchiveName(_ name: String) -> ObservingNight? {
        let bytes = Array(name.utf8)
        let marker = Array("ztf_public_".utf8)
        guard bytes.count >= marker.count + 8 else { return nil }
        for start in 0...(bytes.count - marker.count - 8) where Array(bytes[start..<start + marker.count]) == marker {
            let digits = bytes[(start + marker.count)..<(start + marker.count + 8)]
            guard digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { continue }
            let v = digits.map { Int($0) - 48 }
            return ObservingNight(year: v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], month: v[4] * 10 + v[5], day: v[6] * 10 + v[7])
        }
        return nil
    }

    /// The night of a Julian Date (UTC), by the rule above; nil for a non-finite or absurd date.
    public static func palomar(jd: Double) -> ObservingNight? {
        guard jd.isFinite else { return nil }
        // JD 2440587.5 is 1970-01-01T00:00 UTC; +4 h moves the 20:00 UTC night boundary to midnight.
        let days = (jd - 2_440_587.5 + 4.0 / 24.0).rounded(.down)
        guard abs(days) < 1e6 else { return nil }
        let (y, m, d) = civil(fromDays: Int(days))
        return ObservingNight(year: y, month: m, day: d)
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    private static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
