extension HEALPix {
    /// The HEALPix projection as cds-healpix-rust writes it (`d0h_lh_in_d0c`, `xpm1_and_q`,
    /// `unproj`): same constants, same order of operations, same comparisons, so the results
    /// are the same doubles.
    enum Projection {
        static let signMask: UInt64 = 0x8000_0000_0000_0000
        /// The literal cdshealpix uses for √6 (`SQRT6`).
        static let sqrt6: Double = 2.449_489_742_783_178
        /// The literal cdshealpix uses for 1/√6 (`ONE_OVER_SQRT6`); not the quotient 1/`sqrt6`.
        static let oneOverSqrt6: Double = 0.408_248_290_463_863
        /// asin(2/3) in radians (`TRANSITION_LATITUDE`): the polar caps start strictly above it.
        static let transitionLatitude: Double = 0.729_727_656_226_966_3
        /// 2/3 (`TRANSITION_Z`).
        static let transitionZ: Double = 2.0 / 3.0
        /// 1.5 (`ONE_OVER_TRANSITION_Z`).
        static let oneOverTransitionZ: Double = 1.5
        /// 4/π (`FOUR_OVER_PI`, computed as `4_f64 / PI`).
        static let fourOverPi: Double = 4 / .pi
        static let quarterPi: Double = .pi / 4
        static let halfPi: Double = .pi / 2
        /// `EPS_POLE`: below this distance to a pole, the Collignon inverse leaves x at 0.
        static let epsPole: Double = 1e-13

        /// A point projected into its base cell: the base cell (0–11) and the coordinates with the
        /// origin at the cell's south vertex, `l` west-to-east in [−1, 1], `h` south-to-north in [0, 2].
        struct BaseCellPoint {
            var baseCell: UInt8
            var l: Double
            var h: Double
        }

        /// Rust `d0h_lh_in_d0c(lon, lat)`; radians, `lat` in [−π/2, π/2].
        @inline(__always)
        static func intoBaseCell(lon: Double, lat: Double) -> BaseCellPoint {
            let (xpm1, quarter) = offsetAndQuarter(lon: lon)
            if lat > transitionLatitude {
                // North polar cap: Collignon projection, √(3(1 − z)) = √6 · cos(lat/2 + π/4).
                let s = sqrt6 * PlatformMath.cos(0.5 * lat + quarterPi)
                return BaseCellPoint(baseCell: quarter, l: xpm1 * s, h: 2.0 - s)
            } else if lat < -transitionLatitude {
                // South polar cap.
                let s = sqrt6 * PlatformMath.cos(0.5 * lat - quarterPi)
                return BaseCellPoint(baseCell: quarter + 8, l: xpm1 * s, h: s)
            } else {
                // Equatorial belt: cylindrical equal-area projection. The comparisons make the
                // south-east and south-west edges part of a cell, its north edges not.
                let ypm1 = PlatformMath.sin(lat) * oneOverTransitionZ
                let q01: UInt8 = xpm1 > ypm1 ? 1 : 0
                let q12: UInt8 = xpm1 >= -ypm1 ? 1 : 0
                let q1 = q01 & q12
                let q013 = q01 + (1 - q12)
                // invariant: q01 + q12 is 0, 1 or 2.
                let l = xpm1 - Double(Int(q01 + q12) - 1)
                let h = ypm1 + Double(q013)
                let baseCell = (q013 << 2) &+ ((quarter &+ q1) & 3)
                return BaseCellPoint(baseCell: baseCell, l: l, h: h)
            }
        }

        /// Rust `xpm1_and_q(lon)`: `lon = (x + 1)·π/4 + q·π/2` with x in [−1, 1] and q in 0...3.
        /// The sign bit decides the branch, so −0.0 gives (1, 3) where +0.0 gives (−1, 0).
        @inline(__always)
        static func offsetAndQuarter(lon: Double) -> (xpm1: Double, quarter: UInt8) {
            let bits = lon.bitPattern
            let x = Double(bitPattern: bits & ~signMask) * fourOverPi
            let q = truncatingToUInt8(x) | 1
            if bits & signMask == 0 {
                return (x - Double(q), (q & 7) >> 1)
            } else {
                return (Double(q) - x, 3 - ((q & 7) >> 1))
            }
        }

        /// Rust `unproj(x, y)`: projection plane (x in [0, 8), y in [−2, 2]) to (lon, lat) radians.
        static func unproject(x: Double, y: Double) -> (lon: Double, lat: Double) {
            // invariant: y comes from the projection of a checked coordinate, in [-2, 2] by construction.
            precondition(-2 <= y && y <= 2, "projected y out of [-2, 2]")
            let xSign = x.bitPattern & signMask
            let ySign = y.bitPattern & signMask
            let xAbs = Double(bitPattern: x.bitPattern & ~signMask)
            let yAbs = Double(bitPattern: y.bitPattern & ~signMask)
            let oddFloor = truncatingToUInt8(xAbs) | 1
            var lon = xAbs - Double(oddFloor)
            var lat = yAbs
            if lat <= 1 {
                lat = PlatformMath.asin(lat * transitionZ)
            } else {
                lat = 2.0 - lat
                if lat > epsPole {
                    lon /= lat
                    lon = min(max(lon, -1), 1)
                }
                lat *= oneOverSqrt6
                lat = 2.0 * PlatformMath.acos(lat) - halfPi
            }
            lon += Double(oddFloor & 7)
            lon = Double(bitPattern: lon.bitPattern | xSign)
            lat = Double(bitPattern: lat.bitPattern | ySign)
            lon *= quarterPi
            return (lon, lat)
        }

        /// Rust's `f64 as u8`: truncates toward zero, saturates, NaN becomes 0.
        @inline(__always)
        static func truncatingToUInt8(_ v: Double) -> UInt8 {
            if v > -1 && v < 256 { return UInt8(v) }
            return v >= 256 ? .max : 0
        }
    }
}
