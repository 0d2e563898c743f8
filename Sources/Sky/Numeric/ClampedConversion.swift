/// Conversions from floating-point values to integers that cannot trap.
///
/// `Int(_:)` of a `Double` traps on NaN, ±inf and anything past `Int.max`; a value derived from
/// a file or an option (a flux of 1e300, a NaN coordinate, a wavelength of inf) reaches such
/// conversions in plots, pixel positions, rates and sizes. This says what happens instead.
/// (`scripts/lint-conversions.sh` asks for it, `init(exactly:)` or an invariant comment.)
extension FixedWidthInteger {
    /// `value` rounded toward minus infinity and clamped to `range`; NaN gives `range.lowerBound`.
    ///
    /// For values that only need to land somewhere sensible (a plot coordinate, the first pixel
    /// of a region, a rate): values past the range end at its bounds.
    @inlinable
    public init(flooring value: Double, clampedTo range: ClosedRange<Self>) {
        guard !value.isNaN else { self = range.lowerBound; return }
        let v = value.rounded(.down)
        if v <= Double(range.lowerBound) { self = range.lowerBound; return }
        if v >= Double(range.upperBound) { self = range.upperBound; return }
        // invariant: v is integral, finite and strictly inside range, so it is representable.
        self = Self(v)
    }

    /// `value` rounded toward minus infinity and clamped to `range`; NaN gives `range.lowerBound`.
    @inlinable
    public init(flooring value: Float, clampedTo range: ClosedRange<Self>) {
        self.init(flooring: Double(value), clampedTo: range)
    }
}
