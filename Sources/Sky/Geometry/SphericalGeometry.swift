/// Angles between directions on the unit sphere. Angles in degrees unless the name says radians.
public enum SphericalGeometry {
    /// The angular separation between (`ra1`, `dec1`) and (`ra2`, `dec2`), all in degrees; the
    /// result in degrees, in [0°, 180°].
    ///
    /// The Vincenty formula with astropy's operation order (`angular_separation`, which
    /// `SkyCoord.separation` calls): right ascensions are wrapped into [0°, 360°) as `Longitude`
    /// wraps them and subtracted in degrees, each angle is multiplied by the double nearest π/180
    /// before `sin`/`cos`, and the `atan2` result is multiplied by 180/π. Stable at every distance,
    /// including the poles and antipodes.
    /// - Precondition: finite inputs, declinations in [−90°, 90°] (not checked).
    public static func separation(ra1: Double, dec1: Double, ra2: Double, dec2: Double) -> Double {
        typealias M = HEALPix.PlatformMath
        let k = HEALPix.AstropyAngle.radiansPerDegree
        let lon1 = HEALPix.AstropyAngle.wrapLongitude(degrees: ra1)
        let lon2 = HEALPix.AstropyAngle.wrapLongitude(degrees: ra2)
        let dlon = (lon2 - lon1) * k
        let sdlon = M.sin(dlon)
        let cdlon = M.cos(dlon)
        let lat1 = dec1 * k, lat2 = dec2 * k
        let slat1 = M.sin(lat1), slat2 = M.sin(lat2)
        let clat1 = M.cos(lat1), clat2 = M.cos(lat2)
        let num1 = clat2 * sdlon
        let num2 = clat1 * slat2 - slat1 * clat2 * cdlon
        let denominator = slat1 * slat2 + clat1 * clat2 * cdlon
        return M.atan2(M.hypot(num1, num2), denominator) * HEALPix.AstropyAngle.degreesPerRadian
    }

    /// The chord between two points of the unit sphere `degrees` apart: 2·sin(θ/2).
    ///
    /// Computed as astropy's `search_around_sky` computes the radius of its k-d tree query,
    /// `2 * np.sin(Angle(0.5 * seplimit))`: halve in degrees, then × π/180, then `sin`.
    public static func chordLength(forAngle degrees: Double) -> Double {
        2 * HEALPix.PlatformMath.sin((0.5 * degrees) * HEALPix.AstropyAngle.radiansPerDegree)
    }

    /// The angle in degrees subtended by a chord of the unit sphere: 2·asin(c/2), the inverse of
    /// ``chordLength(forAngle:)``. Chords longer than 2 (rounding) give 180°.
    /// - Precondition: `chord >= 0`.
    public static func angle(forChordLength chord: Double) -> Double {
        2 * HEALPix.PlatformMath.asin(min(0.5 * chord, 1)) * HEALPix.AstropyAngle.degreesPerRadian
    }

    /// The smallest angle in radians between `p` and a point of the shorter great-circle arc from
    /// `a` to `b`: the distance to the great circle when `p` projects inside the arc, else the
    /// distance to the nearer end. All three are unit vectors; `a` and `b` must not be antipodal
    /// (the arc would be undefined). When `a == b` this is the angle between `p` and `a`.
    ///
    /// Accurate to a few ulps of π at every distance: every angle comes from `atan2`, never from
    /// `acos` or `asin` near ±1.
    public static func distanceToArc(_ p: UnitVector, from a: UnitVector, to b: UnitVector) -> Double {
        arcDistance(p, a, b)
    }

    /// ``distanceToArc(_:from:to:)``, inlinable inside the module.
    ///
    /// The normal is computed as a × (b − a): for close a and b the difference is exact
    /// (Sterbenz), so the normal keeps full relative precision, where a × b would lose it to
    /// cancellation (at an arc of 1e-9 rad its direction would be off by ~1e-7 rad).
    @inline(__always)
    static func arcDistance(_ p: UnitVector, _ a: UnitVector, _ b: UnitVector) -> Double {
        let av = Vector3(a), bv = Vector3(b), pv = Vector3(p)
        let n = av.cross(Vector3(x: b.x - a.x, y: b.y - a.y, z: b.z - a.z))
        if n.squaredLength > 1e-300 {
            // p projects inside the arc iff p·(n × a) ≥ 0 and p·(b × n) ≥ 0.
            if pv.dot(n.cross(av)) >= 0 && pv.dot(bv.cross(n)) >= 0 {
                return HEALPix.PlatformMath.atan2(abs(pv.dot(n)), pv.cross(n).length)
            }
        }
        let da = HEALPix.PlatformMath.atan2(pv.cross(av).length, p.dot(a))
        let db = HEALPix.PlatformMath.atan2(pv.cross(bv).length, p.dot(b))
        return min(da, db)
    }
}
