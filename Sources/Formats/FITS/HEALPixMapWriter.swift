/// Writes HATS `skymap.fits`, `skymap.K.fits` and `point_map.fits`: per-pixel row counts at one
/// HEALPix order (nested), laid out exactly as hats writes them.
///
/// hats (`hats.io.file_io.write_fits_image`, 0.11) hands the histogram to cdshealpix
/// (`SkymapImplicit(histogram, null_value=0)`, converted `.to_explicit()` when more than half
/// the pixels are 0), whose Rust writer emits a header-only primary HDU and one `BINTABLE`:
///
/// - implicit: one column `VALUE` (`K`), one row per pixel; keys `PIXTYPE='HEALPIX'`,
///   `INDXSCHM='IMPLICIT'`, `ORDERING='NESTED'`, `NSIDE`, `FIRSTPIX=0`, `LASTPIX=npix-1`,
///   `OBJECT='FULLSKY'`, `COORDSYS='C'`, `EXTNAME='xtension'`, `CREATOR`;
/// - explicit: columns `PIXEL` (`K`) and `VALUE` (`K`), one row per non-zero pixel in pixel
///   order; keys `PIXTYPE`, `INDXSCHM='EXPLICIT'`, `ORDERING`, `COORDSYS`, `EXTNAME`, `NSIDE`,
///   `OBS_NPIX` (rows), `CREATOR`.
///
/// The bytes are those cdshealpix writes except the `CREATOR` value (`'AstroPile'` here), so
/// `hats.io.skymap.read_skymap`, `cdshealpix.skymap.Skymap.from_fits` and `healpy.read_map`
/// read them back (healpy fills the pixels an explicit map leaves out with `UNSEEN`).
///
/// hats-import writes `point_map.fits` and `skymap.fits` with the same histogram (the mapping
/// order), plus `skymap.K.fits` for each order K in `skymap_alt_orders` (counts summed down to
/// order K) — ``writeCatalogMaps(counts:order:alternativeOrders:catalogDirectory:)`` does all
/// three; `hats.properties` then lists `hats_skymap_order` and `hats_skymap_alt_orders`.
public enum HEALPixMapWriter {
    /// Which table layout to write.
    public enum Layout: String, Codable, Sendable {
        /// As hats: explicit when more than half of the pixels are 0, implicit otherwise.
        case automatic
        /// One row per pixel.
        case implicit
        /// One (pixel, value) row per non-zero pixel.
        case explicit
    }

    /// The `CREATOR` value written.
    public static let creator = "AstroPile"

    /// Writes `counts` (one per nested pixel of `order`, 12·4^order of them) to `path`
    /// atomically (temporary file in the same folder, fsync, rename).
    public static func write(counts: [Int64], order: Int, to path: String, layout: Layout = .automatic) throws {
        let bytes = try encode(counts: counts, order: order, layout: layout, path: path)
        try AtomicFile.write(bytes, to: path)
    }

    /// Writes what hats-import writes into a catalog folder: `point_map.fits` and `skymap.fits`
    /// from `counts` at `order`, and `skymap.K.fits` for each of `alternativeOrders` (each ≤ `order`).
    public static func writeCatalogMaps(counts: [Int64], order: Int, alternativeOrders: [Int] = [],
                                        catalogDirectory: String) throws {
        let dir = catalogDirectory.hasSuffix("/") ? String(catalogDirectory.dropLast()) : catalogDirectory
        for k in alternativeOrders where k < 0 || k > order {
            throw FormatError(.invalidArgument, "skymap alternative order \(k) must be between 0 and the map order \(order)",
                              path: dir + "/" + fileName(order: k))
        }
        try write(counts: counts, order: order, to: dir + "/point_map.fits")
        try write(counts: counts, order: order, to: dir + "/" + fileName(order: nil))
        for k in alternativeOrders {
            try write(counts: downsample(counts, from: order, to: k), order: k, to: dir + "/" + fileName(order: k))
        }
    }

    /// `skymap.fits`, or `skymap.K.fits` for an alternative order (hats `paths.get_skymap_file_pointer`).
    public static func fileName(order: Int?) -> String {
        order.map { "skymap.\($0).fits" } ?? "skymap.fits"
    }

    /// Sums nested-pixel counts down to a lower order (each pixel of `to` covers 4^(from−to)
    /// consecutive pixels of `from`).
    public static func downsample(_ counts: [Int64], from: Int, to: Int) -> [Int64] {
        // invariant: counts and cards are made by AstroPile (histogram arrays of the declared order, fixed keywords and numbers), never taken from input.
        precondition(to >= 0 && to <= from && counts.count == 12 << (2 * from))
        let group = 1 << (2 * (from - to))
        return (0..<(12 << (2 * to))).map { p in counts[(p * group)..<((p + 1) * group)].reduce(0, +) }
    }

    /// The file's bytes (exposed for tests and for writers that stream elsewhere).
    public static func encode(counts: [Int64], order: Int, layout: Layout = .automatic, path: String? = nil) throws -> [UInt8] {
        guard (0...29).contains(order) else {
            throw FormatError(.invalidArgument, "HEALPix order \(order) is outside 0...29", path: path)
        }
        let npix = 12 << (2 * order)
        guard counts.count == npix else {
            throw FormatError(.invalidArgument, "\(counts.count) counts for order \(order), which has \(npix) pixels", path: path)
        }
        if let bad = counts.firstIndex(where: { $0 < 0 }) {
            throw FormatError(.invalidArgument, "negative count \(counts[bad]) for pixel \(bad)", path: path)
        }
        let zeros = counts.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        let explicit = switch layout {
        case .automatic: 2 * zeros > npix  // hats: num_zeroes / len(histogram) > 0.5
        case .implicit: false
        case .explicit: true
        }
        var out = FITSHeader()
        out.card("SIMPLE", logical: true)
        out.card("BITPIX", integer: 8)
        out.card("NAXIS", integer: 0)
        out.card("EXTEND", logical: true)
        out.end()

        var data: [UInt8] = []
        var header = FITSHeader()
        header.card("XTENSION", string: "BINTABLE")
        header.card("BITPIX", integer: 8)
        header.card("NAXIS", integer: 2)
        let nside = 1 << order
        if explicit {
            let rows = npix - zeros
            header.card("NAXIS1", integer: 16)
            header.card("NAXIS2", integer: rows)
            header.card("PCOUNT", integer: 0)
            header.card("GCOUNT", integer: 1)
            header.card("TFIELDS", integer: 2)
            header.card("TTYPE1", string: "PIXEL")
            header.card("TTYPE2", string: "VALUE")
            header.card("TFORM1", string: "K")
            header.card("TFORM2", string: "K")
            header.card("PIXTYPE", string: "HEALPIX")
            header.card("INDXSCHM", string: "EXPLICIT")
            header.card("ORDERING", string: "NESTED")
            header.card("COORDSYS", string: "C")
            header.card("EXTNAME", string: "xtension")
            header.card("NSIDE", integer: nside)
            header.card("OBS_NPIX", integer: rows)
            header.card("CREATOR", string: creator)
            data.reserveCapacity(rows * 16)
            for (pixel, count) in counts.enumerated() where count != 0 {
                appendBigEndian(Int64(pixel), to: &data)
                appendBigEndian(count, to: &data)
            }
        } else {
            header.card("NAXIS1", integer: 8)
            header.card("NAXIS2", integer: npix)
            header.card("PCOUNT", integer: 0)
            header.card("GCOUNT", integer: 1)
            header.card("TFIELDS", integer: 1)
            header.card("TTYPE1", string: "VALUE")
            header.card("TFORM1", string: "K")
            header.card("PIXTYPE", string: "HEALPIX")
            header.card("INDXSCHM", string: "IMPLICIT")
            header.card("ORDERING", string: "NESTED")
            header.card("NSIDE", integer: nside)
            header.card("FIRSTPIX", integer: 0)
            header.card("LASTPIX", integer: npix - 1)
            header.card("OBJECT", string: "FULLSKY")
            header.card("COORDSYS", string: "C")
            header.card("EXTNAME", string: "xtension")
            header.card("CREATOR", string: creator)
            data.reserveCapacity(npix * 8)
            for count in counts { appendBigEndian(count, to: &data) }
        }
        header.end()
        var bytes = out.bytes + header.bytes
        bytes.reserveCapacity(bytes.count + data.count + 2880)
        bytes += data
        bytes += [UInt8](repeating: 0, count: (2880 - data.count % 2880) % 2880)
        return bytes
    }

    private static func appendBigEndian(_ value: Int64, to data: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) }
    }
}

/// A FITS header being written: 80-character cards in fixed format, padded to 2880 bytes.
struct FITSHeader {
    private(set) var bytes: [UInt8] = []

    mutating func card(_ key: String, logical: Bool) {
        value(key, String(repeating: " ", count: 19) + (logical ? "T" : "F"))
    }

    mutating func card(_ key: String, integer: Int) {
        let text = String(integer)
        value(key, String(repeating: " ", count: max(0, 20 - text.count)) + text)
    }

    /// A string value: quoted, padded to at least 8 characters inside the quotes.
    mutating func card(_ key: String, string: String) {
        let escaped = string.replacingQuotes()
        value(key, "'" + escaped + String(repeating: " ", count: max(0, 8 - escaped.count)) + "'")
    }

    mutating func end() {
        raw("END")
        bytes += [UInt8](repeating: 0x20, count: (2880 - bytes.count % 2880) % 2880)
    }

    private mutating func value(_ key: String, _ text: String) {
        raw(key.padding(8) + "= " + text)
    }

    private mutating func raw(_ card: String) {
        // invariant: counts and cards are made by AstroPile (histogram arrays of the declared order, fixed keywords and numbers), never taken from input.
        precondition(card.utf8.count <= 80, "FITS card longer than 80 characters: \(card)")
        bytes += Array(card.padding(80).utf8)
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    fileprivate func replacingQuotes() -> String {
        var s = ""
        for c in self { s += c == "'" ? "''" : String(c) }
        return s
    }
}
