import RunEngine

/// The ZTF public alert archive: one `ztf_public_YYYYMMDD.tar.gz` per night, listed in an HTML
/// directory index (Apache's, with sizes such as `1.2G`, or one with byte sizes).
public enum ZTFAlertArchive {
    /// The real archive listing.
    public static let defaultBase = "https://ztf.uv.washington.edu/alerts/public/"

    /// One night's tarball as listed.
    public struct Night: Sendable, Hashable {
        /// File name, `ztf_public_20190601.tar.gz`.
        public var name: String
        /// The night as `YYYYMMDD`.
        public var date: Int
        /// Size in bytes: exact when the listing gives bytes, else rounded as listed.
        public var size: Int64?
        /// Whether ``size`` is exact.
        public var sizeIsExact: Bool
    }

    /// The nights in an HTML listing, by file name (each once, in date order).
    public static func parseListing(_ html: String) -> [Night] {
        var nights: [String: Night] = [:]
        let bytes = Array(html.utf8)
        let needle = Array("ztf_public_".utf8)
        var i = 0
        // Each href="ztf_public_YYYYMMDD.tar.gz" (or ztf_<program>_…); the size is the first
        // size-looking token in the text after the link and before the next link.
        while let start = find(Array("href=\"".utf8), in: bytes, from: i) {
            let valueStart = start + 6
            guard let valueEnd = bytes[valueStart...].firstIndex(of: UInt8(ascii: "\"")) else { break }
            i = valueEnd + 1
            var name = String(decoding: bytes[valueStart..<valueEnd], as: UTF8.self)
            if let slash = name.lastIndex(of: "/") { name = String(name[name.index(after: slash)...]) }
            guard name.utf8.starts(with: needle) || name.hasPrefix("ztf_"), name.hasSuffix(".tar.gz") else { continue }
            let stem = name.dropLast(7)
            guard let underscore = stem.lastIndex(of: "_"), let date = Int(stem[stem.index(after: underscore)...]),
                  stem[stem.index(after: underscore)...].count == 8 else { continue }
            let nextLink = find(Array("href=\"".utf8), in: bytes, from: i) ?? bytes.count
            let (size, exact) = sizeToken(String(decoding: bytes[i..<nextLink], as: UTF8.self))
            nights[name] = Night(name: name, date: date, size: size, sizeIsExact: exact)
        }
        return nights.values.sorted { ($0.date, $0.name) < ($1.date, $1.name) }
    }

    /// The first size in the text of a listing row: tags stripped, tokens like `44`, `256K`,
    /// `1.2G`, `3.4 GB`, `123456789`. Date and time tokens (`2019-06-02`, `06:26`) are skipped.
    static func sizeToken(_ row: String) -> (Int64?, Bool) {
        var text = ""
        var inTag = false
        for c in row {
            if c == "<" { inTag = true; text.append(" ") } else if c == ">" { inTag = false } else if !inTag { text.append(c) }
        }
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).map(String.init)
        var k = 0
        // The link text (the file name) comes first.
        while k < tokens.count {
            var t = tokens[k]
            if k + 1 < tokens.count, ["B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"].contains(tokens[k + 1]) { t += tokens[k + 1] }
            if let v = parseSize(t) { return v }
            k += 1
        }
        return (nil, false)
    }

    /// `44` → exact 44; `256K` → ≈262144; `1.2G` → ≈1.2·2³⁰; `3.4GB` → ≈3.4·10⁹.
    static func parseSize(_ t: String) -> (Int64?, Bool)? {
        guard let first = t.first, first.isNumber, !t.contains("-"), !t.contains(":") else { return nil }
        guard let bytes = ByteSize.parse(t) else { return nil }
        let number = t.prefix { $0.isNumber || $0 == "." }
        let unit = t.dropFirst(number.count)
        return (bytes, (unit.isEmpty || unit == "B") && !number.contains("."))
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard needle.count <= hay.count, from <= hay.count - needle.count else { return nil }
        var i = from
        while i <= hay.count - needle.count {
            if hay[i] == needle[0], hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// The nights from `from` to `to` (inclusive, `YYYYMMDD`) of at least `minSize` bytes (by the
    /// listed size; a night with no size is kept), as items under `base`.
    public static func items(listing: [Night], base: String, from: Int?, to: Int?, minSize: Int64?) -> [FetchItem] {
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return listing.filter { n in
            (from.map { n.date >= $0 } ?? true) && (to.map { n.date <= $0 } ?? true)
                && (minSize.map { m in (n.size ?? m) >= m } ?? true)
        }.map { n in
            FetchItem(url: prefix + n.name, path: n.name,
                      size: n.sizeIsExact ? n.size : nil, approximateSize: n.sizeIsExact ? nil : n.size)
        }
    }

    /// `2019-06-01` or `20190601` → `20190601`.
    public static func parseDate(_ text: String) -> Int? {
        let digits = text.filter { $0 != "-" }
        guard digits.count == 8, digits.allSatisfy(\.isNumber), let v = Int(digits) else { return nil }
        let month = v / 100 % 100, day = v % 100
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        return v
    }
}
