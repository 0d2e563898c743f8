/// A direction on the celestial sphere as a Cartesian unit vector: x toward (ra 0°, dec 0°),
/// y toward (ra 90°, dec 0°), z toward the north pole (dec 90°).
///
/// ``init(ra:dec:)`` computes the same doubles as astropy's `SkyCoord(ra, dec, unit="deg").cartesian`
/// (erfa `s2c` on the wrapped longitude), which is what `search_around_sky` puts in its k-d tree.
public struct UnitVector: Sendable, Hashable {
    /// The component toward (ra 0°, dec 0°).
    public var x: Double
    /// The component toward (ra 90°, dec 0°).
    public var y: Double
    /// The component toward the north celestial pole.
    public var z: Double

    /// A vector with the given components, stored as they are: the caller makes x² + y² + z² = 1.
    @inlinable
    public init(x: Double, y: Double, z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// The direction of (`ra`, `dec`), in degrees: x = cos(dec)·cos(ra), y = cos(dec)·sin(ra),
    /// z = sin(dec).
    ///
    /// `ra` is first wrapped into [0°, 360°) as astropy's `Longitude` wraps it, and both angles are
    /// converted to radians by multiplying by the double nearest π/180, as astropy does, so the
    /// components are those of `SkyCoord(ra, dec, unit="deg").cartesian`.
    /// - Precondition: `ra` and `dec` are finite (not checked); `dec` in [−90°, 90°].
    public init(ra: Double, dec: Double) {
        let lon = HEALPix.AstropyAngle.wrapLongitude(degrees: ra) * HEALPix.AstropyAngle.radiansPerDegree
        let lat = dec * HEALPix.AstropyAngle.radiansPerDegree
        let cosLat = HEALPix.PlatformMath.cos(lat)
        self.init(x: cosLat * HEALPix.PlatformMath.cos(lon), y: cosLat * HEALPix.PlatformMath.sin(lon),
                  z: HEALPix.PlatformMath.sin(lat))
    }

    /// The right ascension of the direction in degrees, in [0°, 360°); 0 on the polar axis.
    ///
    /// Computed as erfa `c2s` does (`atan2(y, x)`), then converted with × 180/π.
    public var ra: Double {
        if x == 0 && y == 0 { return 0 }
        var degrees = HEALPix.PlatformMath.atan2(y, x) * HEALPix.AstropyAngle.degreesPerRadian
        if degrees < 0 {
            degrees += 360
            if degrees >= 360 { degrees -= 360 }
        }
        return degrees
    }

    /// The declination of the direction in degrees, in [−90°, 90°]: `atan2(z, √(x² + y²))`, as erfa
    /// `c2s` computes it (accurate at the poles too, unlike `asin(z)`).
    public var dec: Double {
        if z == 0 { return 0 }
        return HEALPix.PlatformMath.atan2(z, (x * x + y * y).squareRoot()) * HEALPix.AstropyAngle.degreesPerRadian
    }

    /// The dot product: the cosine of the angle between two unit vectors.
    @inlinable
    public func dot(_ other: UnitVector) -> Double {
        x * other.x + y * other.y + z * other.z
    }

    /// The angle to `other` in radians, in [0, π]: `atan2(|a × b|, a · b)`, accurate for tiny
    /// angles and near-antipodal pairs alike (unlike `acos` of the dot product).
    public func angle(to other: UnitVector) -> Double {
        let c = Vector3(self).cross(Vector3(other))
        return HEALPix.PlatformMath.atan2(c.length, dot(other))
    }
}

/// A Cartesian 3-vector that need not have unit length (cross products, plane normals).
struct Vector3 {
    var x: Double
    var y: Double
    var z: Double

    @inline(__always)
    init(x: Double, y: Double, z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    @inline(__always)
    init(_ u: UnitVector) {
        self.init(x: u.x, y: u.y, z: u.z)
    }

    @inline(__always)
    func dot(_ o: Vector3) -> Double { x * o.x + y * o.y + z * o.z }

    @inline(__always)
    func dot(_ o: UnitVector) -> Double { x * o.x + y * o.y + z * o.z }

    @inline(__always)
    func cross(_ o: Vector3) -> Vector3 {
        Vector3(x: y * o.z - z * o.y, y: z * o.x - x * o.z, z: x * o.y - y * o.x)
    }

    @inline(__always)
    var squaredLength: Double { x * x + y * y + z * z }

    @inline(__always)
    var length: Double { squaredLength.squareRoot() }
}
