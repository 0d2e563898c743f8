/// HEALPix in the NESTED scheme, orders 0 through 29, computed exactly as cdshealpix computes it.
///
/// hats and hats-import compute `_healpix_29` with
/// `cdshealpix.nested.lonlat_to_healpix(Longitude(ra, "deg"), Latitude(dec, "deg"), 29)`, which wraps
/// the Rust crate cds-healpix-rust (`nested::hash_with_dxdy`). ``nestedIndex(ra:dec:order:)`` repeats
/// that computation operation for operation — astropy's longitude wrapping, the degree-to-radian
/// product, the projection onto the twelve base cells, the exponent-shift scaling by nside — so
/// every point lands in the same pixel as in hats, including points lying exactly on a pixel boundary
/// (ra = 90°, dec = 0°; dec = ±asin(2/3); ra = 0° or 360°; the poles).
///
/// Angles are in degrees. Indices are `Int64` (at order 29 they reach 12·4²⁹ − 1 < 2⁶³).
public enum HEALPix {
    /// The deepest order supported: at order 29 a nested index fills 63 bits.
    public static let maxOrder = 29

    /// The number of pixels covering the sphere at `order`: 12·4^order.
    ///
    /// - Precondition: `0 <= order <= maxOrder`.
    @inlinable
    public static func pixelCount(order: Int) -> Int64 {
        // invariant: orders and indices come from AstroPile's own arithmetic on checked pixels (HealpixPixel(checkedOrder:index:) at every data boundary), never raw from input.
        precondition(0...maxOrder ~= order, "HEALPix order must be in 0...29")
        return 12 << (2 * Int64(order))
    }

    /// The NESTED index of the pixel at `order` that contains (`ra`, `dec`), in degrees.
    ///
    /// Bit for bit the value of `cdshealpix.nested.lonlat_to_healpix(Longitude(ra, u.deg),
    /// Latitude(dec, u.deg), order)`: `ra` is first wrapped into [0°, 360°) as astropy's `Longitude`
    /// wraps it (so −1e-12 becomes 359.999999999999 and 360 becomes 0), then converted to radians by
    /// multiplying by π/180, as astropy does. A `ra` of −0.0 is kept as −0.0, as `Longitude` keeps it
    /// when every value of the array it wraps is already in range; near the poles it lands in the
    /// base cell west of 0° rather than east of it, as it does in hats.
    ///
    /// Use ``SkyCoordinateCheck/validate(ra:dec:)`` first on untrusted input.
    /// - Precondition: `ra` and `dec` are finite, `-90 <= dec <= 90`, `0 <= order <= maxOrder`.
    public static func nestedIndex(ra: Double, dec: Double, order: Int) -> Int64 {
        // invariant: orders and indices come from AstroPile's own arithmetic on checked pixels (HealpixPixel(checkedOrder:index:) at every data boundary), never raw from input.
        precondition(0...maxOrder ~= order, "HEALPix order must be in 0...29")
        let layer = Layer(order: order)
        return layer.hash(ra: ra, dec: dec)
    }

    /// Computes ``nestedIndex(ra:dec:order:)`` for every (`ra[k]`, `dec[k]`), writing `into[k]`.
    ///
    /// The hot loop of the import pipeline: no allocation, no locking, no I/O.
    /// - Precondition: the three buffers have the same count; every value satisfies the
    ///   preconditions of ``nestedIndex(ra:dec:order:)``.
    public static func nestedIndices(
        ra: UnsafeBufferPointer<Double>,
        dec: UnsafeBufferPointer<Double>,
        order: Int,
        into: UnsafeMutableBufferPointer<Int64>
    ) {
        // invariant: orders and indices come from AstroPile's own arithmetic on checked pixels (HealpixPixel(checkedOrder:index:) at every data boundary), never raw from input.
        precondition(0...maxOrder ~= order, "HEALPix order must be in 0...29")
        precondition(ra.count == dec.count && ra.count == into.count, "ra, dec and output counts differ")
        let layer = Layer(order: order)
        for k in 0..<ra.count {
            into[k] = layer.hash(ra: ra[k], dec: dec[k])
        }
    }

    /// The pixel at order `to` that contains pixel `index` of order `from`: `index >> 2·(from − to)`.
    ///
    /// - Precondition: `0 <= to <= from <= maxOrder`.
    @inlinable
    public static func parent(_ index: Int64, from: Int, to: Int) -> Int64 {
        // invariant: orders and indices come from AstroPile's own arithmetic on checked pixels (HealpixPixel(checkedOrder:index:) at every data boundary), never raw from input.
        precondition(0 <= to && to <= from && from <= maxOrder, "parent needs 0 <= to <= from <= 29")
        return index >> (2 * Int64(from - to))
    }

    /// The indices, at order `to`, of the pixels inside pixel `index` of order `from`: a contiguous
    /// range of 4^(to − from) values, because the NESTED scheme keeps descendants together.
    ///
    /// - Precondition: `0 <= from <= to <= maxOrder`.
    @inlinable
    public static func childRange(_ index: Int64, from: Int, to: Int) -> Range<Int64> {
        // invariant: orders and indices come from AstroPile's own arithmetic on checked pixels (HealpixPixel(checkedOrder:index:) at every data boundary), never raw from input.
        precondition(0 <= from && from <= to && to <= maxOrder, "childRange needs 0 <= from <= to <= 29")
        let shift = 2 * Int64(to - from)
        return (index << shift)..<((index + 1) << shift)
    }

    /// The center of pixel `index` at `order`, in degrees: ra in [0°, 360°), dec in [−90°, 90°].
    ///
    /// The same doubles as `cdshealpix.nested.healpix_to_lonlat(index, order)` converted with
    /// astropy's `.deg` (Rust `Layer::sph_coo(hash, 0.5, 0.5)`, then radians × 180/π).
    /// - Precondition: `0 <= order <= maxOrder` and `0 <= index < pixelCount(order:)`.
    public static func center(order: Int, index: Int64) -> (ra: Double, dec: Double) {
        // invariant: orders and indices come from AstroPile's own arithmetic on checked pixels (HealpixPixel(checkedOrder:index:) at every data boundary), never raw from input.
        precondition(0...maxOrder ~= order, "HEALPix order must be in 0...29")
        precondition(index >= 0 && index < pixelCount(order: order), "pixel index out of range for order")
        let (lon, lat) = Layer(order: order).centerRadians(of: UInt64(index))
        return (lon * AstropyAngle.degreesPerRadian, lat * AstropyAngle.degreesPerRadian)
    }
}
