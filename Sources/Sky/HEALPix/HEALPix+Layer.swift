extension HEALPix {
    /// The constants of one order, and the hash computation of cds-healpix-rust's `nested::Layer`
    /// (`hash_with_dxdy`, which cdshealpix's `lonlat_to_healpix` calls).
    struct Layer {
        let order: Int
        /// 2^order.
        let nside: UInt32
        /// Added to the bit pattern of a double in [0, 2] to multiply it by nside/2 exactly
        /// (Rust: `time_half_nside = (depth - 1) << 52`).
        let timeHalfNside: Int64

        @inline(__always)
        init(order: Int) {
            self.order = order
            self.nside = 1 << UInt32(order)
            self.timeHalfNside = Int64(order - 1) << 52
        }

        /// The NESTED index of (`ra`, `dec`) in degrees; see ``HEALPix/nestedIndex(ra:dec:order:)``.
        @inline(__always)
        func hash(ra: Double, dec: Double) -> Int64 {
            // invariant: coordinates from data are checked with SkyCoordinateCheck.validate before (import map, margin map skip or reject bad rows).
            precondition(ra.isFinite && dec.isFinite, "ra and dec must be finite")
            precondition(-90 <= dec && dec <= 90, "dec must be in [-90, 90] degrees")
            let lon = AstropyAngle.wrapLongitude(degrees: ra) * AstropyAngle.radiansPerDegree
            let lat = dec * AstropyAngle.radiansPerDegree
            return hash(lon: lon, lat: lat)
        }

        /// Rust `Layer::hash_with_dxdy(lon, lat).0`, radians.
        @inline(__always)
        func hash(lon: Double, lat: Double) -> Int64 {
            let p = Projection.intoBaseCell(lon: lon, lat: lat)
            // x along the south-east axis, y along the south-west axis, both in [0, nside].
            var i = Self.truncatingToUInt32(scaledByHalfNside(p.h + p.l))
            var j = Self.truncatingToUInt32(scaledByHalfNside(p.h - p.l))
            // A point on the north-east (north-west) edge of a base cell belongs to the last column.
            if i == nside { i = nside &- 1 }
            if j == nside { j = nside &- 1 }
            let baseBits = UInt64(p.baseCell) << UInt64(2 * order)
            return Int64(bitPattern: baseBits | ZOrder.interleave(i, j))
        }

        /// `v · nside/2`, done as cdshealpix does it: by adding `order − 1` to the binary exponent
        /// of `v` through its bit pattern (wrapping, like Rust's release-mode `+`).
        @inline(__always)
        func scaledByHalfNside(_ v: Double) -> Double {
            let bits = Int64(bitPattern: v.bitPattern) &+ timeHalfNside
            return Double(bitPattern: UInt64(bitPattern: bits))
        }

        /// Rust's `f64 as u32`: truncates toward zero, saturates, NaN becomes 0.
        @inline(__always)
        static func truncatingToUInt32(_ v: Double) -> UInt32 {
            if v > -1 && v < 4_294_967_296 { return UInt32(v) }
            return v >= 4_294_967_296 ? .max : 0
        }

        /// Rust `Layer::sph_coo(hash, 0.5, 0.5)`: the center of a cell, (lon, lat) in radians.
        func centerRadians(of hash: UInt64) -> (lon: Double, lat: Double) {
            var (x, y) = projectedCenter(of: hash)
            // sph_coo adds (dx − dy)/nside and (dx + dy − 1)/nside: + 0.0 for dx = dy = 0.5.
            x += (0.5 - 0.5) * oneOverNside
            y += (0.5 + 0.5 - 1.0) * oneOverNside
            if x < 0 { x += 8 }
            return Projection.unproject(x: x, y: y)
        }
    }
}
