import Foundation

/// Parses sizes such as `4GiB`, `512MiB`, `1GB`, `800M`, `1000000`.
public enum ByteSize {
    /// The size in bytes, or `nil` when `text` is not a number with an optional unit (1024-based
    /// `K`/`KiB`…, 1000-based `KB`…; case-insensitive).
    public static func parse(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let digits = t.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(digits) else { return nil }
        let unit = t.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let multipliers: [String: Double] = [
            "": 1, "b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": Double(1 << 20), "mb": 1e6, "mib": Double(1 << 20),
            "g": Double(1 << 30), "gb": 1e9, "gib": Double(1 << 30), "t": Double(1 << 40), "tb": 1e12, "tib": Double(1 << 40),
        ]
        guard let m = multipliers[unit] else { return nil }
        return Int64(value * m)
    }
}
