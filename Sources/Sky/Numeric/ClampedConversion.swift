/// Conversions from floating-point values to integers that cannot trap.
///
/// `Int(_:)` of a `Double` traps on NaN, ±inf and anything past `Int.max`; a value derived from
/// a file or an option (a flux of 1e300, a NaN coordinate, a wavelength of inf) reaches such
/// conversions in plots, pixel positions and sizes. These say what happens instead.
extension Int {
    /// `value` rounded toward minus infinity and clamped to `range`; NaN gives `range.lowerBound`.
    ///
    /// For positions that only need to land somewhere sensible (a plot coordinate, the first
    /// pixel of a region): values past the range end at its bounds.
    public init(flooring value: Double, clampedTo range: ClosedRange<Int>) {
        guard !value.isNaN else { self = range.lowerBound; return }
        let v = value.rounded(.down)
        if v <= Double(range.lowerBound) { self = range.lowerBound; return }
        if v >= Double(range.upperBound) { self = range.upperBound; return }
        // invariant: v is finite and strictly inside range, so it is representable.
        self = Int(v)
    }

    /// `value` rounded toward minus infinity and clamped to `range`; NaN gives `range.lowerBound`.
    public init(flooring value: Float, clampedTo range: ClosedRange<Int>) {
        self.init(flooring: Double(value), clampedTo: range)
    }
}
