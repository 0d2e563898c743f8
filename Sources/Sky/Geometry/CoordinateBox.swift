/// The region {ra in [ra₁, ra₂], dec in [dec₁, dec₂]}: two meridian arcs and two parallels, with
/// the right-ascension interval wrapping through 0° when ra₁ > ra₂. Distances in radians.
///
/// The closest point of the box to a point whose right ascension is inside the interval lies on
/// the same meridian (distance = declination difference); for any other point it lies on one of
/// the two meridian sides — the nearest point of a parallel, restricted to the interval, is the
/// end nearer in right ascension, which is on a meridian side.
struct CoordinateBox {
    /// Whether the right-ascension interval is the whole circle (no meridian sides).
    let fullCircle: Bool
    /// The interval's start in [0°, 360°) and its width in [0°, 360°), degrees.
    let raLower: Double
    let raWidth: Double
    /// The declination limits, radians.
    let decLower: Double
    let decUpper: Double
    /// Each meridian side as two arcs (dec₁ → middle → dec₂), so no arc reaches 180°.
    let sides: [(UnitVector, UnitVector, UnitVector)]

    /// - Precondition: finite limits, `-90 <= dec.lower <= dec.upper <= 90` (degrees).
    init(ra: (lower: Double, upper: Double), dec: (lower: Double, upper: Double)) {
        // invariant: callers check SkyRegion.problem first (CatalogQuery.region throws a configuration error), so user-given limits never reach this.
        precondition(ra.lower.isFinite && ra.upper.isFinite, "RA limits must be finite")
        precondition(-90 <= dec.lower && dec.lower <= dec.upper && dec.upper <= 90,
                     "dec limits must satisfy -90 <= lower <= upper <= 90")
        let wrap = HEALPix.AstropyAngle.wrapLongitude(degrees:)
        let lower = wrap(ra.lower), upper = wrap(ra.upper)
        fullCircle = ra.upper - ra.lower >= 360
        raLower = fullCircle ? 0 : lower
        raWidth = fullCircle ? 360 : (upper >= lower ? upper - lower : upper - lower + 360)
        let k = HEALPix.AstropyAngle.radiansPerDegree
        decLower = dec.lower * k
        decUpper = dec.upper * k
        let middle = 0.5 * (dec.lower + dec.upper)
        sides = fullCircle ? [] : [lower, upper].map { side in
            (UnitVector(ra: side, dec: dec.lower), UnitVector(ra: side, dec: middle), UnitVector(ra: side, dec: dec.upper))
        }
    }

    /// Whether `ra` (degrees, in [0°, 360°)) is inside the right-ascension interval.
    @inline(__always)
    func containsRA(_ ra: Double) -> Bool {
        if fullCircle { return true }
        var offset = ra - raLower
        if offset < 0 { offset += 360 }
        return offset <= raWidth
    }

    /// The exact angular distance from `v` to the box; 0 inside.
    func distance(from v: UnitVector) -> Double {
        let dec = declination(v)
        if containsRA(v.ra) {
            if dec < decLower { return decLower - dec }
            if dec > decUpper { return dec - decUpper }
            return 0
        }
        return sideDistance(v)
    }

    /// For `v` inside the box, a lower bound on its distance to the box's boundary (so a cap of
    /// that radius around `v` lies in the box).
    func clearance(from v: UnitVector) -> Double {
        let dec = declination(v)
        var d = Double.infinity
        if decLower > -.pi / 2 { d = min(d, dec - decLower) }
        if decUpper < .pi / 2 { d = min(d, decUpper - dec) }
        if !fullCircle { d = min(d, sideDistance(v)) }
        return d
    }

    private func sideDistance(_ v: UnitVector) -> Double {
        var d = Double.infinity
        for (a, m, b) in sides {
            d = min(d, SphericalGeometry.distanceToArc(v, from: a, to: m), SphericalGeometry.distanceToArc(v, from: m, to: b))
        }
        return d
    }

    @inline(__always)
    private func declination(_ v: UnitVector) -> Double {
        HEALPix.PlatformMath.atan2(v.z, (v.x * v.x + v.y * v.y).squareRoot())
    }
}
