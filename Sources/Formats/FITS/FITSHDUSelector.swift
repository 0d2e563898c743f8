/// Which header-data unit of a FITS file to read a table from.
///
/// In configuration files: `hdu: 2` is ``number(_:)``, `hdu: firstTable` (or no `hdu`) is
/// ``firstTable``, `hdu: SPECOBJ` or `hdu: {name: SPECOBJ}` is ``name(_:)``.
public enum FITSHDUSelector: Hashable, Sendable {
    /// The first binary table, skipping images and tile-compressed images stored as tables — the
    /// HDU hats-import reads by default.
    case firstTable
    /// HDU by number, as astropy counts: 0 is the primary HDU, 1 the first extension.
    case number(Int)
    /// The first HDU whose `EXTNAME` (or `HDUNAME`) matches, case-insensitively.
    case name(String)
}

extension FITSHDUSelector: Codable {
    private enum CodingKeys: String, CodingKey { case number, name }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer() {
            if let n = try? single.decode(Int.self) {
                self = .number(n)
                return
            }
            if let s = try? single.decode(String.self) {
                self = s == "firstTable" ? .firstTable : .name(s)
                return
            }
        }
        let keyed = try decoder.container(keyedBy: CodingKeys.self)
        if let n = try keyed.decodeIfPresent(Int.self, forKey: .number) {
            self = .number(n)
        } else if let s = try keyed.decodeIfPresent(String.self, forKey: .name) {
            self = .name(s)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected an HDU number, \"firstTable\", a name or {name: …}"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .firstTable:
            var c = encoder.singleValueContainer()
            try c.encode("firstTable")
        case .number(let n):
            var c = encoder.singleValueContainer()
            try c.encode(n)
        case .name(let s):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(s, forKey: .name)
        }
    }
}

extension FITSHDUSelector: CustomStringConvertible {
    public var description: String {
        switch self {
        case .firstTable: "first table"
        case .number(let n): "HDU \(n)"
        case .name(let s): "HDU \(s)"
        }
    }
}
