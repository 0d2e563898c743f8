extension HEALPix {
    /// The Z-order (Morton) curve inside a base cell: bit k of `i` goes to bit 2k of the index,
    /// bit k of `j` to bit 2k + 1, as in cds-healpix-rust's `ZOrderCurve::ij2h`.
    enum ZOrder {
        @inline(__always)
        static func interleave(_ i: UInt32, _ j: UInt32) -> UInt64 {
            spread(i) | (spread(j) << 1)
        }

        /// The inverse of ``interleave(_:_:)``.
        @inline(__always)
        static func deinterleave(_ h: UInt64) -> (i: UInt32, j: UInt32) {
            (compact(h), compact(h >> 1))
        }

        /// Moves bit k of `v` to bit 2k.
        @inline(__always)
        static func spread(_ v: UInt32) -> UInt64 {
            var x = UInt64(v)
            x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF
            x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF
            x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F
            x = (x | (x << 2)) & 0x3333_3333_3333_3333
            x = (x | (x << 1)) & 0x5555_5555_5555_5555
            return x
        }

        /// Moves bit 2k of `v` to bit k (odd bits are ignored).
        @inline(__always)
        static func compact(_ v: UInt64) -> UInt32 {
            var x = v & 0x5555_5555_5555_5555
            x = (x | (x >> 1)) & 0x3333_3333_3333_3333
            x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F
            x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF
            x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF
            x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
            return UInt32(truncatingIfNeeded: x)
        }
    }
}
