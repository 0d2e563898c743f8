/// Why a (ra, dec) pair cannot be placed on the sky.
public enum CoordinateProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// ra or dec is NaN or infinite.
    case notFinite
    /// |dec| > 90°.
    case latitudeOutOfRange

    /// A short English description, for run reports.
    public var description: String {
        switch self {
        case .notFinite: "ra or dec is not a finite number"
        case .latitudeOutOfRange: "dec is outside [-90, 90] degrees"
        }
    }
}

/// Screens input coordinates before they reach ``HEALPix``, whose functions treat bad
/// coordinates as a programmer error. A bad row is data to report, not a crash.
public enum SkyCoordinateCheck {
    /// `nil` when (`ra`, `dec`), in degrees, can be given to ``HEALPix/nestedIndex(ra:dec:order:)``;
    /// otherwise the reason it cannot. Any finite ra is accepted (it is wrapped into [0°, 360°));
    /// dec must lie in [−90°, 90°], bounds included, as astropy's `Latitude` requires.
    @inlinable
    public static func validate(ra: Double, dec: Double) -> CoordinateProblem? {
        guard ra.isFinite && dec.isFinite else { return .notFinite }
        guard -90 <= dec && dec <= 90 else { return .latitudeOutOfRange }
        return nil
    }
}
