import Foundation

/// Parses sizes such as `4GiB`, `512MiB`, `1GB`, `800M`, `1000000`.
public enum ByteSize {
    /// The largest size ``parse(_:)`` accepts: 1 EiB (2^60 bytes), far above any disk or memory,
    /// far below `Int64.max`, so arithmetic on a parsed size cannot overflow.
    public static let maximum: Int64 = 1 << 60

    /// The size in bytes, or `nil` when `text` is not a non-negative number with an optional unit
    /// (1024-based `K`/`KiB`…, 1000-based `KB`…; case-insensitive) or is larger than ``maximum``.
    public static func parse(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let digits = t.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !digits.isEmpty, let value = Double(digits) else { return nil }
        let unit = t.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let multipliers: [String: Double] = [
            "": 1, "b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": Double(1 << 20), "mb": 1e6, "mib": Double(1 << 20),
            "g": Double(1 << 30), "gb": 1e9, "gib": Double(1 << 30), "t": Double(1 << 40), "tb": 1e12, "tib": Double(1 << 40),
            "p": Double(1 << 50), "pb": 1e15, "pib": Double(1 << 50),
        ]
        guard let m = multipliers[unit] else { return nil }
        let bytes = value * m
        // Checked before converting: Int64(_:) traps on values it cannot represent.
        guard bytes.isFinite, bytes >= 0, bytes <= Double(maximum) else { return nil }
        return Int64(bytes)
    }
}
