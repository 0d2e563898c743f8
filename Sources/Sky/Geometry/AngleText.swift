/// Angles written with a unit, as users type them: `1arcsec`, `0.5 arcmin`, `2deg`, `30"`,
/// `1.5'`, `3mas`, `0.01rad`. A number without a unit is refused: "5" could be degrees or arcseconds.
public enum AngleText {
    /// A problem with an angle's text.
    public enum Problem: Error, Hashable, Sendable, CustomStringConvertible {
        /// No number at the start.
        case notANumber(String)
        /// A number without a unit.
        case missingUnit(String)
        /// A unit that is not an angle unit.
        case unknownUnit(String)

        public var description: String {
            switch self {
            case .notANumber(let t): "'\(t)' is not an angle (expected e.g. 1arcsec, 0.5arcmin, 2deg)"
            case .missingUnit(let t): "'\(t)' has no unit: write \(t)arcsec, \(t)arcmin or \(t)deg"
            case .unknownUnit(let t): "'\(t)' has an unknown unit (use mas, arcsec, arcmin, deg or rad)"
            }
        }
    }

    /// Arcseconds per unit, by the names accepted.
    static let arcsecondsPerUnit: [String: Double] = [
        "mas": 1e-3, "arcsec": 1, "arcsecond": 1, "arcseconds": 1, "asec": 1, "\"": 1, "''": 1,
        "arcmin": 60, "arcminute": 60, "arcminutes": 60, "amin": 60, "'": 60,
        "deg": 3600, "degree": 3600, "degrees": 3600, "d": 3600, "°": 3600,
        "rad": 180 / Double.pi * 3600, "radian": 180 / Double.pi * 3600, "radians": 180 / Double.pi * 3600,
    ]

    /// The angle in arcseconds.
    public static func arcseconds(_ text: String) throws(Problem) -> Double {
        let t = text.trimmedOfSpaces()
        // The longest prefix that is a number (so `1e-3deg` is 1e-3 deg).
        var numberEnd = t.endIndex
        while numberEnd > t.startIndex, Double(t[..<numberEnd]) == nil { numberEnd = t.index(before: numberEnd) }
        guard let value = Double(t[..<numberEnd]), value.isFinite else { throw .notANumber(text) }
        let unit = String(t[numberEnd...]).trimmedOfSpaces().lowercased()
        guard !unit.isEmpty else { throw .missingUnit(text) }
        guard let scale = arcsecondsPerUnit[unit] else { throw .unknownUnit(text) }
        guard (value * scale).isFinite else { throw .notANumber(text) }
        return value * scale
    }

    /// The angle in degrees.
    public static func degrees(_ text: String) throws(Problem) -> Double {
        try arcseconds(text) / 3600
    }
}

extension String {
    fileprivate func trimmedOfSpaces() -> String {
        let set: Set<Character> = [" ", "\t"]
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
