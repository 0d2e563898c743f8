extension HEALPix {
    /// Degree handling exactly as hats' `Longitude(ra, unit="deg").rad` and
    /// `Latitude(dec, unit="deg").rad` (astropy 8) perform it.
    ///
    /// - Conversion: astropy multiplies by the unit scale `deg._to(rad)`, the double nearest
    ///   π/180 (0.017453292519943295); `np.deg2rad` gives the same doubles. `rad → deg`
    ///   multiplies by 180/π (57.29577951308232).
    /// - Wrapping (`Angle._wrap_at`, wrap angle 360°): values already in [0, 360) are untouched
    ///   (so −0.0 stays −0.0); others get `x − (x // 360) · 360` with numpy's floor division, then
    ///   one correction of ±360 if rounding left them outside [0, 360).
    enum AstropyAngle {
        /// astropy's `u.deg.to(u.rad)` scale.
        static let radiansPerDegree: Double = .pi / 180
        /// astropy's `u.rad.to(u.deg)` scale.
        static let degreesPerRadian: Double = 180 / .pi

        /// `Longitude(ra, unit="deg")` wrapped into [0, 360), as astropy does it.
        @inline(__always)
        static func wrapLongitude(degrees x: Double) -> Double {
            // `-0.0 >= 0` holds, so −0.0 is "in range" and kept, as in astropy.
            if x >= 0 && x < 360 { return x }
            return wrapOutOfRange(x)
        }

        @inline(never)
        static func wrapOutOfRange(_ x: Double) -> Double {
            let wraps = numpyFloorDivide(x, 360)
            var angle = x - wraps * 360
            if angle >= 360 { angle -= 360 }
            if angle < 0 { angle += 360 }
            return angle
        }

        /// numpy's float `floor_divide` (`npy_divmod` in npy_math): Python's `//` built from `fmod`,
        /// with the quotient snapped to the nearest integer.
        static func numpyFloorDivide(_ a: Double, _ b: Double) -> Double {
            if b == 0 { return a / b }
            var mod = a.truncatingRemainder(dividingBy: b)  // C fmod: exact
            var div = (a - mod) / b
            if mod != 0 {
                if (b < 0) != (mod < 0) {
                    mod += b
                    div -= 1
                }
            }
            guard div != 0 else { return Double(signOf: a / b, magnitudeOf: 0) }
            var floorDiv = div.rounded(.down)
            if div - floorDiv > 0.5 { floorDiv += 1 }
            return floorDiv
        }
    }
}
