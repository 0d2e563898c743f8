/// A region of the sky to select rows in: a cone or an RA/Dec box. Degrees throughout.
public enum SkyRegion: Codable, Sendable, Hashable {
    /// Points whose angular separation (Vincenty, as astropy's `separation`) from the centre is
    /// at most `radius`.
    case cone(ra: Double, dec: Double, radius: Double)
    /// Points with `decMin ≤ dec ≤ decMax` and RA in [`raMin`, `raMax`], wrapping through 0°
    /// when `raMin > raMax` (RA is compared after wrapping into [0°, 360°)).
    case box(raMin: Double, raMax: Double, decMin: Double, decMax: Double)

    /// What is wrong with the region's numbers, or `nil` when they are usable: finite values,
    /// declinations in [-90°, 90°] (box: min ≤ max), a cone radius in (0°, 180°].
    public var problem: String? {
        switch self {
        case .cone(let ra, let dec, let radius):
            guard ra.isFinite else { return "the cone's RA must be finite" }
            guard dec.isFinite, (-90...90).contains(dec) else { return "the cone's Dec must be in [-90, 90]" }
            guard radius.isFinite, radius > 0, radius <= 180 else { return "the cone's radius must be above 0 and at most 180 deg" }
        case .box(let raMin, let raMax, let decMin, let decMax):
            guard raMin.isFinite, raMax.isFinite else { return "the box's RA limits must be finite" }
            guard decMin.isFinite, decMax.isFinite, -90 <= decMin, decMin <= decMax, decMax <= 90 else {
                return "the box's Dec limits must satisfy -90 <= min <= max <= 90"
            }
        }
        return nil
    }

    /// Whether (`ra`, `dec`) lies in the region.
    @inline(__always)
    public func contains(ra: Double, dec: Double) -> Bool {
        switch self {
        case .cone(let cra, let cdec, let radius):
            return SphericalGeometry.separation(ra1: cra, dec1: cdec, ra2: ra, dec2: dec) <= radius
        case .box(let raMin, let raMax, let decMin, let decMax):
            guard dec >= decMin && dec <= decMax else { return false }
            let r = Self.wrap(ra), lo = Self.wrap(raMin), hi = Self.wrap(raMax)
            if raMax - raMin >= 360 { return true }
            return lo <= hi ? (r >= lo && r <= hi) : (r >= lo || r <= hi)
        }
    }

    /// The pixels at `order` (NESTED) that may hold points of the region — never missing one.
    public func coverage(order: Int) -> [Int64] {
        switch self {
        case .cone(let ra, let dec, let radius):
            return HEALPix.coneCoverage(ra: ra, dec: dec, radius: radius, order: order)
        case .box(let raMin, let raMax, let decMin, let decMax):
            if raMax - raMin >= 360 {
                return HEALPix.boxCoverage(raRange: (0, 360), decRange: (decMin, decMax), order: order)
            }
            return HEALPix.boxCoverage(raRange: (Self.wrap(raMin), Self.wrap(raMax)), decRange: (decMin, decMax), order: order)
        }
    }

    /// An order at which ``coverage(order:)`` has at most about `maxPixels` pixels.
    public func coverageOrder(maxPixels: Double = 20_000, atMost limit: Int = 20) -> Int {
        let area: Double  // steradians
        switch self {
        case .cone(_, _, let radius):
            let r = min(radius, 180) * .pi / 180
            area = 2 * .pi * (1 - HEALPix.PlatformMath.cos(r))
        case .box(let raMin, let raMax, let decMin, let decMax):
            let width = raMax - raMin >= 360 ? 360 : (Self.wrap(raMax) - Self.wrap(raMin) + 360).truncatingRemainder(dividingBy: 360)
            area = width * .pi / 180 * abs(HEALPix.PlatformMath.sin(decMax * .pi / 180) - HEALPix.PlatformMath.sin(decMin * .pi / 180))
        }
        var order = 0
        while order < limit {
            let pixelArea = 4 * Double.pi / Double(HEALPix.pixelCount(order: order + 1))
            // Count pixels inside plus a border of about the perimeter in pixels.
            if area / pixelArea + 4 * (area / pixelArea).squareRoot() * 4 + 16 > maxPixels { break }
            order += 1
        }
        return order
    }

    static func wrap(_ ra: Double) -> Double {
        var r = ra.truncatingRemainder(dividingBy: 360)
        if r < 0 { r += 360 }
        return r
    }
}
