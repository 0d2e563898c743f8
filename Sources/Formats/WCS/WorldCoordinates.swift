import CWCSLib
import Foundation

/// A FITS world coordinate system, parsed and evaluated by wcslib (`wcspih`, `wcsp2s`,
/// `wcss2p`); AstroPile has no projection code of its own (DESIGN.md §5).
///
/// Pixel coordinates are **0-based** everywhere in AstroPile: the centre of the first pixel is
/// (0, 0). FITS (and wcslib) count from 1; the conversion happens here and nowhere else. World
/// coordinates are (ra, dec) in degrees.
///
/// Not thread-safe: wcslib keeps intermediate state in the `wcsprm` struct; use one instance
/// from one thread at a time (each frame has its own).
public final class WorldCoordinates {
    private var wcs: UnsafeMutablePointer<wcsprm>?
    private var count: CInt = 0
    /// The file the header came from, for messages.
    public let path: String
    /// The HDU the header came from (0 = primary).
    public let hdu: Int

    /// wcspih's Flex scanner is generated reentrant in wcslib 7, but older builds are not: one
    /// parse at a time costs nothing (once per frame).
    private static let parseLock = NSLock()

    /// Parses the first coordinate description in a FITS header (80-character cards, no
    /// separators, as cfitsio's `fits_hdr2str` returns it).
    public init(header: String, path: String, hdu: Int) throws {
        self.path = path
        self.hdu = hdu
        var bytes = Array(header.utf8CString)
        let cards = CInt((bytes.count - 1) / 80)
        var rejected: CInt = 0
        var found: CInt = 0
        var parsed: UnsafeMutablePointer<wcsprm>? = nil
        let status = Self.parseLock.withLock {
            wcspih(&bytes, cards, WCSHDR_all, 0, &rejected, &found, &parsed)
        }
        guard status == 0 else {
            if parsed != nil { wcsvfree(&found, &parsed) }
            throw FormatError(.corruptInput, "wcslib cannot parse the header: \(String(cString: ap_wcshdr_errmsg(status)))",
                              path: path, location: "HDU \(hdu)")
        }
        guard found > 0, let parsed else {
            if parsed != nil { wcsvfree(&found, &parsed) }
            throw FormatError(.corruptInput, "the header has no world coordinate system (no CTYPE/CRPIX/CRVAL keywords)",
                              path: path, location: "HDU \(hdu)")
        }
        wcs = parsed
        count = found
        _ = wcserr_enable(1)
        let set = wcsset(parsed)
        guard set == 0 else {
            let message = Self.message(parsed, status: set)
            throw FormatError(.corruptInput, "wcslib rejects the coordinate system: \(message)", path: path, location: "HDU \(hdu)")
        }
        guard parsed.pointee.naxis == 2, parsed.pointee.lng >= 0, parsed.pointee.lat >= 0 else {
            throw FormatError(.unsupported, "not a two-axis celestial coordinate system (naxis \(parsed.pointee.naxis))",
                              path: path, location: "HDU \(hdu)")
        }
    }

    deinit {
        if wcs != nil { wcsvfree(&count, &wcs) }
    }

    /// wcslib's message for a failed call on `wcs`: the `wcserr` it filled in (wcslib 7's
    /// `struct wcserr` holds `char *msg`, a pointer to the text, not the text inline), else the
    /// status code's fixed message.
    private static func message(_ wcs: UnsafeMutablePointer<wcsprm>, status: CInt) -> String {
        if let err = wcs.pointee.err, let msg = err.pointee.msg {
            let text = String(cString: msg)
            if !text.isEmpty { return text }
        }
        return String(cString: ap_wcs_errmsg(status))
    }

    /// True when the longitude axis comes first (RA---, DEC-- order), as in every survey frame.
    private var longitudeFirst: Bool { (wcs?.pointee.lng ?? 0) == 0 }

    /// World (ra, dec) in degrees of 0-based pixel positions. A position wcslib cannot
    /// transform gives NaN.
    public func world(x: [Double], y: [Double]) -> (ra: [Double], dec: [Double]) {
        let n = min(x.count, y.count)
        guard n > 0, let wcs else { return ([], []) }
        var pixel = [Double](repeating: 0, count: 2 * n)
        for i in 0..<n { pixel[2 * i] = x[i] + 1; pixel[2 * i + 1] = y[i] + 1 }
        var image = [Double](repeating: 0, count: 2 * n)
        var phi = [Double](repeating: 0, count: n), theta = phi
        var world = [Double](repeating: 0, count: 2 * n)
        var stat = [CInt](repeating: 0, count: n)
        _ = wcsp2s(wcs, CInt(n), 2, pixel, &image, &phi, &theta, &world, &stat)
        let lng = longitudeFirst ? 0 : 1
        var ra = [Double](repeating: .nan, count: n), dec = ra
        for i in 0..<n where stat[i] == 0 {
            ra[i] = world[2 * i + lng]
            dec[i] = world[2 * i + 1 - lng]
        }
        return (ra, dec)
    }

    /// 0-based pixel positions of world (ra, dec) in degrees. A position wcslib cannot
    /// transform (the far side of the sky for a TAN projection) gives NaN.
    public func pixel(ra: [Double], dec: [Double]) -> (x: [Double], y: [Double]) {
        let n = min(ra.count, dec.count)
        guard n > 0, let wcs else { return ([], []) }
        let lng = longitudeFirst ? 0 : 1
        var world = [Double](repeating: 0, count: 2 * n)
        for i in 0..<n { world[2 * i + lng] = ra[i]; world[2 * i + 1 - lng] = dec[i] }
        var image = [Double](repeating: 0, count: 2 * n)
        var phi = [Double](repeating: 0, count: n), theta = phi
        var pixel = [Double](repeating: 0, count: 2 * n)
        var stat = [CInt](repeating: 0, count: n)
        _ = wcss2p(wcs, CInt(n), 2, world, &phi, &theta, &image, &pixel, &stat)
        var x = [Double](repeating: .nan, count: n), y = x
        for i in 0..<n where stat[i] == 0 {
            x[i] = pixel[2 * i] - 1
            y[i] = pixel[2 * i + 1] - 1
        }
        return (x, y)
    }

    /// One position each way, for convenience.
    public func pixel(ra: Double, dec: Double) -> (x: Double, y: Double) {
        let p = pixel(ra: [ra], dec: [dec])
        return (p.x.first ?? .nan, p.y.first ?? .nan)
    }

    /// World coordinates of one 0-based pixel position.
    public func world(x: Double, y: Double) -> (ra: Double, dec: Double) {
        let w = world(x: [x], y: [y])
        return (w.ra.first ?? .nan, w.dec.first ?? .nan)
    }

    /// A tangent-plane (TAN) system centred on (ra, dec) in degrees, with the given 2×2 CD
    /// matrix (degrees per pixel, FITS order: [CD1_1, CD1_2, CD2_1, CD2_2]) and the reference
    /// point at 0-based pixel (`centerX`, `centerY`) — the grid aligned stamps are resampled onto.
    public static func tangent(ra: Double, dec: Double, cd: [Double], centerX: Double, centerY: Double) throws -> WorldCoordinates {
        guard cd.count == 4 else { throw FormatError(.invalidArgument, "a CD matrix has 4 elements, got \(cd.count)") }
        func card(_ key: String, _ value: String) -> String {
            let text = key.padding(toLength: 8, withPad: " ", startingAt: 0) + "= " + value
            return text.padding(toLength: 80, withPad: " ", startingAt: 0)
        }
        func number(_ v: Double) -> String { String(format: "%.17G", v) }
        let header = [
            card("NAXIS", "2"),
            card("CTYPE1", "'RA---TAN'"), card("CTYPE2", "'DEC--TAN'"),
            card("CUNIT1", "'deg'"), card("CUNIT2", "'deg'"),
            card("CRPIX1", number(centerX + 1)), card("CRPIX2", number(centerY + 1)),
            card("CRVAL1", number(ra)), card("CRVAL2", number(dec)),
            card("CD1_1", number(cd[0])), card("CD1_2", number(cd[1])),
            card("CD2_1", number(cd[2])), card("CD2_2", number(cd[3])),
            card("RADESYS", "'ICRS'"),
        ].joined()
        return try WorldCoordinates(header: header, path: "(aligned grid)", hdu: 0)
    }
}
