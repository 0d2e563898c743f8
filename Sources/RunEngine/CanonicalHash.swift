import Foundation

/// Stable identities of configurations: FNV-1a 64 over JSON with sorted keys, so the hash does
/// not depend on key order, and only on the settings a value encodes.
public enum CanonicalHash {
    /// The canonical JSON text of `value` (sorted keys, unescaped slashes).
    public static func json<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(value)) ?? Data(), as: UTF8.self)
    }

    /// The hash of `value`'s canonical JSON, 16 hex digits.
    public static func of<T: Encodable>(_ value: T) -> String { fnv1a(json(value)) }

    /// FNV-1a 64 of `text`'s UTF-8 bytes, 16 hex digits.
    public static func fnv1a(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        let digits = String(h, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// AstroPile's version.
public enum AstroPileVersion {
    /// Semantic version string.
    public static let string = "0.1.0"
}
