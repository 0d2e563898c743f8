import Foundation
import Formats
import RunEngine
import Table

/// One epoch of ZTF PSF photometry, as the IRSA light-curve service returns it.
public struct PhotometryPoint: Sendable, Hashable {
    /// ZTF object id (one per field, CCD quadrant and filter).
    public var oid: Int64
    /// Modified Julian date of the exposure.
    public var mjd: Double
    /// Calibrated PSF magnitude (AB) and its error.
    public var mag: Double
    public var magErr: Double
    /// Quality flags (0: clean).
    public var catflags: Int
    /// zg, zr or zi.
    public var filter: String
    /// ZTF field (nil when the source does not say).
    public var field: Int?
    /// 5σ limiting magnitude of the exposure.
    public var limitMag: Double
    /// Zero point of the exposure (mag); NaN when unknown (alerts of schemas before 3.3).
    public var magZP: Double
    /// The flux's sign: +1, or −1 for a difference-image detection of a dimming (an alert's
    /// `isdiffpos` false). The IRSA service's magnitudes are of the total flux: always +1.
    public var fluxSign: Double = 1
}

/// Reads the IRSA ZTF light-curve service's CSV (`nph_light_curves?…&FORMAT=CSV`), and the
/// same layout cut from an alert lake (``AlertLightCurveSource``), which may leave `field` and
/// `magzp` empty and adds `diffsign` (+1/−1, the sign of the difference flux).
public enum ZTFLightCurveCSV {
    static let columns = ["oid", "mjd", "mag", "magerr", "catflags", "filtercode", "field", "limitmag", "magzp"]
    /// The columns' types (the rest are float64), given so that none is inferred: an empty field
    /// is a null; a value of another type is an error naming the column.
    static let types: [String: DataType] = ["oid": .int64, "catflags": .int64, "filtercode": .string, "field": .int64, "diffsign": .int64]

    /// The points of `path`. - Throws: ``FormatError`` naming the file and the missing column,
    /// the row whose values cannot be read (an `mjd` that is not a finite number among them), or
    /// the first line with the wrong number of fields (a file cut short or two run together is
    /// rejected whole, not read without those lines).
    public static func read(_ path: String) throws -> [PhotometryPoint] {
        // The header first: a missing column is named, and only the columns used are decoded,
        // with their types given (a light curve has two dozen columns; inferring and converting
        // all of them cost more than the reduction). One block holds the whole file.
        let header = try headerNames(path)
        for c in columns where !header.contains(c) {
            throw FormatError(.corruptInput, "no column \(c) (a ZTF light curve has \(columns.joined(separator: ", ")))", path: path)
        }
        var options = CSVOptions()
        var st = stat()
        if stat(path, &st) == 0 { options.blockSize = Int(min(max(Int64(st.st_size) + 4096, 1 << 16), 1 << 30)) }
        let reader: CSVFileReader
        do {
            let used = columns + (header.contains("diffsign") ? ["diffsign"] : [])
            reader = try CSVFileReader(path: path, options: options, types: Schema(used.map { Field($0, Self.types[$0] ?? .float64) }), columns: used)
        } catch let e as FormatError {
            throw FormatError(.corruptInput, "not a light-curve CSV: \(e.message)", path: path)
        }
        var points: [PhotometryPoint] = []
        var row = 0
        // Arrow skips a line with the wrong number of fields; here it rejects the file.
        func checkLines() throws {
            let invalid = reader.invalidRows
            guard let bad = invalid.first else { return }
            let more = invalid.count > 1 ? " (and \(invalid.count - 1) more lines)" : ""
            throw FormatError(.corruptInput, "\(bad.actual) fields where the header has \(bad.expected)\(more): the file is cut short or not one light curve; delete it to fetch it again (with --retry-failed)",
                              path: path, location: "line \(bad.line)")
        }
        while let b = try reader.next() {
            try checkLines()
            func col(_ name: String) -> ArrayData { b.columns[b.schema.index(of: name) ?? 0] }
            let oid = col("oid"), mjd = col("mjd"), mag = col("mag"), err = col("magerr"), flags = col("catflags")
            let filter = col("filtercode"), field = col("field"), limit = col("limitmag"), zp = col("magzp")
            let sign = b.schema.index(of: "diffsign").map { b.columns[$0] }
            for i in 0..<b.length {
                row += 1
                guard let o = integer(oid, i), let f = filter.type == .string ? filter.string(at: i) : nil,
                      let t = number(mjd, i), t.isFinite, let fl = integer(flags, i) else {
                    throw FormatError(.corruptInput, "row \(row): oid, mjd (a finite number), catflags and filtercode must all be given", path: path)
                }
                let negative = sign.flatMap { number($0, i) }.map { $0 < 0 } ?? false
                points.append(PhotometryPoint(oid: o, mjd: t, mag: number(mag, i) ?? .nan, magErr: number(err, i) ?? .nan,
                                              catflags: Int(fl), filter: f, field: integer(field, i).map { Int($0) },
                                              limitMag: number(limit, i) ?? .nan, magZP: number(zp, i) ?? .nan,
                                              fluxSign: negative ? -1 : 1))
            }
        }
        try checkLines()
        return points
    }

    /// The column names of the file's first line (up to 64 KiB; none when it is not text).
    static func headerNames(_ path: String) throws -> [String] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { let e = errno; throw FormatError(FormatError.code(errno: e), String(cString: strerror(e)), path: path) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return [] }
        let line = buffer[..<n].prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
        return line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: " \"")) }
    }

    static func number(_ a: ArrayData, _ i: Int) -> Double? {
        guard a.isValid(i) else { return nil }
        switch a.type {
        case .float64: return a.values(Double.self)[i]
        case .float32: return Double(a.values(Float.self)[i])
        case .int64: return Double(a.values(Int64.self)[i])
        case .int32: return Double(a.values(Int32.self)[i])
        default: return nil
        }
    }

    static func integer(_ a: ArrayData, _ i: Int) -> Int64? {
        guard a.isValid(i) else { return nil }
        switch a.type {
        case .int64: return a.values(Int64.self)[i]
        case .int32: return Int64(a.values(Int32.self)[i])
        default: return nil
        }
    }
}

/// One reduced light curve: the clean points of one filter, one season and one zero-point
/// group of ZTF objects, sorted by time.
public struct ReducedLightCurve: Sendable, Hashable {
    public var filter: String
    /// Zero-point group within the filter (0-based, by ascending median zero point).
    public var group: Int
    /// Season within the group and filter (0-based).
    public var season: Int
    /// The ZTF objects merged into this group.
    public var oids: [Int64]
    /// Median zero point of the group's points (mag).
    public var magZP: Double
    public var mjd: [Double]
    public var mag: [Double]
    public var magErr: [Double]
    /// Flux density in µJy: 10^(−0.4 (mag − 23.9)), from the calibrated AB magnitude (negative
    /// for an alert's dimming: the flux's sign, ``PhotometryPoint/fluxSign``).
    public var flux: [Double]
    public var fluxErr: [Double]
    /// Counts in the exposure's own units: 10^(−0.4 (mag − magzp)), from the epoch's zero point.
    public var counts: [Double]
}

/// What the quality cuts removed: `points` = `kept` + the others.
public struct ReductionCounts: Codable, Sendable, Hashable {
    public var points = 0
    public var otherFilter = 0
    public var flagged = 0
    public var fainterThanLimit = 0
    public var noMagnitude = 0
    /// Points at the MJD of another point of their light curve, dropped (one point per epoch).
    public var duplicateEpochs = 0
    /// Points in the light curves.
    public var kept = 0
}

/// Light curves from raw ZTF photometry: quality cuts, zero-point groups, seasons.
///
/// Points are dropped for a filter not asked for, for any `catflags` bit in the mask, for no
/// magnitude, and (with the cut on) for a magnitude fainter than the exposure's `limitmag`.
/// ZTF objects (one per field/quadrant/filter) of one filter are put in groups: sorted by their
/// median zero point, an object joins the current group when its median is within the tolerance
/// of the group's first object's, else starts a new group — so objects from different fields are
/// merged only when their zero points agree; an object without known zero points is a group of
/// its own (after the others). A group keeps one point per MJD (the same exposure listed twice,
/// or two objects of the group in one exposure, would count as two epochs of an event that lasts
/// no time): the one with the smallest `magErr`, then the smallest oid, then the brightest. Each
/// group's points, sorted by MJD, are cut into seasons at every gap longer than `seasonGapDays`.
public struct LightCurveReduction: Sendable {
    public var settings: ProjectConfig.Reduction
    public var filters: [String]

    public init(settings: ProjectConfig.Reduction, filters: [String]) {
        self.settings = settings
        self.filters = filters
    }

    public func reduce(_ points: [PhotometryPoint]) -> (curves: [ReducedLightCurve], counts: ReductionCounts) {
        var counts = ReductionCounts()
        counts.points = points.count
        var kept: [PhotometryPoint] = []
        for p in points {
            if !filters.contains(p.filter) { counts.otherFilter += 1 }
            else if p.catflags & settings.catflagsMask != 0 { counts.flagged += 1 }
            else if !p.mag.isFinite { counts.noMagnitude += 1 }
            else if settings.limitingMagnitudeCut, !(p.mag <= p.limitMag) { counts.fainterThanLimit += 1 }
            else { kept.append(p) }
        }
        counts.kept = kept.count
        var curves: [ReducedLightCurve] = []
        for filter in filters {
            let inFilter = kept.filter { $0.filter == filter }
            let byOid = Dictionary(grouping: inFilter, by: \.oid)
            let objects = byOid.map { (oid: $0.key, zp: Self.median($0.value.map(\.magZP).filter(\.isFinite))) }
                .sorted { ($0.zp.isNaN ? 1 : 0, $0.zp.isNaN ? 0 : $0.zp, $0.oid) < ($1.zp.isNaN ? 1 : 0, $1.zp.isNaN ? 0 : $1.zp, $1.oid) }
            var groups: [[Int64]] = []
            var first = -Double.infinity
            for o in objects {
                if groups.isEmpty || o.zp.isNaN || !(o.zp - first <= settings.zeroPointTolerance) {
                    groups.append([o.oid])
                    first = o.zp
                } else {
                    groups[groups.count - 1].append(o.oid)
                }
            }
            for (g, oids) in groups.enumerated() {
                let all = oids.flatMap { byOid[$0] ?? [] }.sorted { ($0.mjd, $0.oid) < ($1.mjd, $1.oid) }
                let pts = Self.onePerEpoch(all)
                counts.duplicateEpochs += all.count - pts.count
                let zp = Self.median(pts.map(\.magZP).filter(\.isFinite))
                var season = 0
                var start = 0
                for i in 0...pts.count where i == pts.count || (i > start && pts[i].mjd - pts[i - 1].mjd > settings.seasonGapDays) {
                    guard i > start else { continue }
                    curves.append(Self.curve(pts[start..<i], filter: filter, group: g, season: season, oids: oids.sorted(), zp: zp))
                    season += 1
                    start = i
                }
            }
        }
        counts.kept -= counts.duplicateEpochs
        return (curves, counts)
    }

    /// `pts` (sorted by MJD) with one point per MJD: of the points at one time, the one with the
    /// smallest `magErr` (NaN last), then the smallest oid, then the smallest magnitude.
    static func onePerEpoch(_ pts: [PhotometryPoint]) -> [PhotometryPoint] {
        func key(_ p: PhotometryPoint) -> (Double, Int64, Double) { (p.magErr.isNaN ? .infinity : p.magErr, p.oid, p.mag) }
        var out: [PhotometryPoint] = []
        out.reserveCapacity(pts.count)
        for p in pts {
            if let last = out.last, last.mjd == p.mjd {
                if key(p) < key(last) { out[out.count - 1] = p }
            } else {
                out.append(p)
            }
        }
        return out
    }

    static func curve(_ pts: ArraySlice<PhotometryPoint>, filter: String, group: Int, season: Int, oids: [Int64], zp: Double) -> ReducedLightCurve {
        let k = log(10.0) / 2.5
        let flux = pts.map { $0.fluxSign * pow(10, -0.4 * ($0.mag - 23.9)) }
        return ReducedLightCurve(filter: filter, group: group, season: season, oids: oids, magZP: zp, mjd: pts.map(\.mjd),
                                 mag: pts.map(\.mag), magErr: pts.map(\.magErr), flux: flux,
                                 fluxErr: zip(flux, pts).map { abs($0) * $1.magErr * k },
                                 counts: pts.map { $0.fluxSign * pow(10, -0.4 * ($0.mag - $0.magZP)) })
    }

    /// The median (mean of the middle two for an even count); NaN for none.
    static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
