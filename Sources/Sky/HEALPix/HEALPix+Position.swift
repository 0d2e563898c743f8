extension HEALPix {
    /// A point of pixel `index` at `order`, in degrees: ra in [0°, 360°), dec in [−90°, 90°].
    ///
    /// `dx` runs from the pixel's south vertex toward its east vertex, `dy` from the south vertex
    /// toward its west vertex, both in [0, 1], linearly in the HEALPix projection plane: (0, 0) is
    /// the south vertex, (1, 0) east, (1, 1) north, (0, 1) west, (0.5, 0.5) the center (the same
    /// doubles as ``center(order:index:)``). NESTED scheme.
    ///
    /// The same doubles as `cdshealpix.nested.healpix_to_lonlat(index, order, dx, dy)` in degrees
    /// (Rust `Layer::sph_coo(hash, dx, dy)`, then astropy's `Longitude` wrapping and × 180/π);
    /// cdshealpix itself only accepts `dx`, `dy` < 1.
    /// - Precondition: `0 <= order <= maxOrder`, `0 <= index < pixelCount(order:)`,
    ///   `dx` and `dy` in [0, 1].
    public static func position(order: Int, index: Int64, dx: Double, dy: Double) -> (ra: Double, dec: Double) {
        checkPixel(order: order, index: index)
        // invariant: offsets and pixels are made by AstroPile's own geometry code, not read from input.
        precondition(0...1 ~= dx && 0...1 ~= dy, "dx and dy must be in [0, 1]")
        let layer = Layer(order: order)
        var (x, y) = layer.projectedCenter(of: UInt64(index))
        x += (dx - dy) * layer.oneOverNside
        y += (dx + dy - 1.0) * layer.oneOverNside
        return degrees(Projection.unproject(x: Layer.nonNegative(x), y: y))
    }

    /// The four vertices of pixel `index` at `order`, in degrees, in cdshealpix's order: south,
    /// east, north, west. NESTED scheme.
    ///
    /// The same doubles as `cdshealpix.nested.vertices(index, order)` (Rust `Layer::vertices`).
    /// - Precondition: `0 <= order <= maxOrder` and `0 <= index < pixelCount(order:)`.
    public static func vertices(order: Int, index: Int64) -> [(ra: Double, dec: Double)] {
        checkPixel(order: order, index: index)
        let layer = Layer(order: order)
        let (x, y) = layer.projectedCenter(of: UInt64(index))
        let o = layer.oneOverNside
        return [
            degrees(Projection.unproject(x: x, y: y - o)),
            degrees(Projection.unproject(x: x + o, y: y)),
            degrees(Projection.unproject(x: x, y: y + o)),
            degrees(Projection.unproject(x: Layer.nonNegative(x - o), y: y)),
        ]
    }

    static func checkPixel(order: Int, index: Int64) {
        // invariant: offsets and pixels are made by AstroPile's own geometry code, not read from input.
        precondition(0...maxOrder ~= order, "HEALPix order must be in 0...29")
        precondition(index >= 0 && index < pixelCount(order: order), "pixel index out of range for order")
    }

    /// Radians to degrees as cdshealpix's Python API returns them: `Longitude(lon, u.rad)` wraps
    /// 2π to 0, then `.deg` multiplies by 180/π.
    static func degrees(_ p: (lon: Double, lat: Double)) -> (ra: Double, dec: Double) {
        let twoPi = 360 * AstropyAngle.radiansPerDegree
        var lon = p.lon
        if !(lon >= 0 && lon < twoPi) {
            lon -= AstropyAngle.numpyFloorDivide(lon, twoPi) * twoPi
            if lon >= twoPi { lon -= twoPi }
            if lon < 0 { lon += twoPi }
        }
        return (lon * AstropyAngle.degreesPerRadian, p.lat * AstropyAngle.degreesPerRadian)
    }
}

extension HEALPix.Layer {
    /// 1/nside, exactly.
    var oneOverNside: Double { Double(sign: .plus, exponent: -order, significand: 1) }

    /// Base cell and (i, j) of a hash: i along the south-east → north-east axis, j along the
    /// south-west → north-west axis, both in 0..<nside.
    @inline(__always)
    func decompose(_ hash: UInt64) -> (baseCell: Int, i: UInt32, j: UInt32) {
        let twiceOrder = UInt64(2 * order)
        let (i, j) = HEALPix.ZOrder.deinterleave(hash & ((1 << twiceOrder) &- 1))
        return (Int(hash >> twiceOrder), i, j)
    }

    /// The hash of (base cell, i, j).
    @inline(__always)
    func hash(baseCell: Int, i: UInt32, j: UInt32) -> UInt64 {
        (UInt64(baseCell) << UInt64(2 * order)) | HEALPix.ZOrder.interleave(i, j)
    }

    /// Rust `Layer::center_of_projected_cell(hash)`: the cell center in the projection plane,
    /// x in [0, 8] (base cell 4 is moved from x < 0 to x + 8), y in [−2, 2].
    @inline(__always)
    func projectedCenter(of hash: UInt64) -> (x: Double, y: Double) {
        let (baseCell, i, j) = decompose(hash)
        // Rotate by 45° and scale by 2, with the origin at the center of the base cell.
        // invariant: i, j < nside ≤ 2^29: integers converted to Int, not floats.
        var x = Double(Int(i) - Int(j)) * oneOverNside
        var y = Double(Int(i) + Int(j) - Int(nside - 1)) * oneOverNside
        let offsetY = 1 - (baseCell >> 2)
        let offsetX = ((baseCell & 3) << 1) | (offsetY & 1)
        x += Double(offsetX)
        y += Double(offsetY)
        return (Self.nonNegative(x), y)
    }

    /// Rust `ensures_x_is_positive`: x + 8 when x < 0.
    @inline(__always)
    static func nonNegative(_ x: Double) -> Double { x < 0 ? x + 8 : x }
}

extension HEALPix.Projection {
    /// The unit vector of the projection-plane point (`x`, `y`): the inverse projection of
    /// ``unproject(x:y:)`` done without `asin`/`acos` (z comes out algebraically, the longitude
    /// needs one `sin` and one `cos`). `x` is any real (period 8), `y` in [−2, 2]. Not bit-exact
    /// with cdshealpix — it is for geometry, where 1e-16 is plenty.
    @inline(__always)
    static func unitVector(x: Double, y: Double) -> UnitVector {
        let yAbs = abs(y)
        var lonUnits: Double  // longitude in units of π/4
        var z: Double
        var rho: Double  // √(1 − z²)
        if yAbs <= 1 {
            // Cylindrical equal-area belt: z = 2y/3.
            lonUnits = x
            z = y * transitionZ
            rho = ((1 - z) * (1 + z)).squareRoot()
        } else {
            // Collignon polar caps: s = 2 − |y| = √(3(1 − |z|)), longitude offset scaled by 1/s.
            let s = 2 - yAbs
            let cellCenter = 2 * (x * 0.5).rounded(.down) + 1
            var offset = x - cellCenter
            offset = s > epsPole ? min(max(offset / s, -1), 1) : 0
            lonUnits = cellCenter + offset
            let oneMinusZ = s * s * (1.0 / 3.0)
            rho = (oneMinusZ * (2 - oneMinusZ)).squareRoot()
            z = y < 0 ? oneMinusZ - 1 : 1 - oneMinusZ
        }
        let lon = lonUnits * quarterPi
        return UnitVector(x: rho * HEALPix.PlatformMath.cos(lon), y: rho * HEALPix.PlatformMath.sin(lon), z: z)
    }
}
