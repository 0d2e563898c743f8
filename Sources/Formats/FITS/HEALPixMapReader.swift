import Table

/// Reads the per-pixel counts of a HATS `skymap.fits` / `point_map.fits` (what
/// ``HEALPixMapWriter`` and hats write, implicit or explicit, nested ordering), as
/// `hats.io.file_io.read_fits_image` does: an explicit map's missing pixels are 0.
public enum HEALPixMapReader {
    /// The map's order and one count per nested pixel.
    public static func read(path: String) throws -> (order: Int, counts: [Int64]) {
        let reader = try FITSTableReader(path: path)
        let loc = reader.location
        let ordering = try reader.stringKeyword("ORDERING")?.uppercased()
        guard ordering == nil || ordering == "NESTED" || ordering == "NEST" else {
            throw FormatError(.unsupported, "HEALPix ORDERING = \(ordering!) (only NESTED maps are read)", path: path, location: loc)
        }
        let explicit = try reader.stringKeyword("INDXSCHM")?.uppercased() == "EXPLICIT"
        let nside: Int
        if let n = try reader.integerKeyword("NSIDE") {
            nside = Int(n)
        } else if !explicit {
            // invariant: rowCount is an Int, so its root is finite and far inside Int.
            nside = Int((Double(reader.rowCount) / 12).squareRoot().rounded())
        } else {
            throw FormatError(.corruptInput, "explicit HEALPix map without NSIDE", path: path, location: loc)
        }
        guard nside > 0, nside & (nside - 1) == 0, nside <= 1 << 29 else {
            throw FormatError(.corruptInput, "NSIDE = \(nside) is not a power of two", path: path, location: loc)
        }
        let order = nside.trailingZeroBitCount
        let npix = 12 * nside * nside
        guard let valueIndex = reader.schema.index(of: "VALUE") ?? (reader.schema.fields.isEmpty ? nil : reader.schema.fields.count - 1) else {
            throw FormatError(.corruptInput, "HEALPix map table without columns", path: path, location: loc)
        }
        let pixelIndex = explicit ? reader.schema.index(of: "PIXEL") ?? 0 : nil
        if !explicit && reader.rowCount != npix {
            throw FormatError(.corruptInput, "implicit map with \(reader.rowCount) rows for NSIDE \(nside) (\(npix) pixels)",
                              path: path, location: loc)
        }
        var counts = [Int64](repeating: 0, count: npix)
        var row = 0
        while let batch = try reader.next() {
            let values = try integers(batch.columns[valueIndex], path: path, location: loc)
            if let pixelIndex {
                let pixels = try integers(batch.columns[pixelIndex], path: path, location: loc)
                for (p, v) in zip(pixels, values) {
                    guard p >= 0, p < npix else {
                        throw FormatError(.corruptInput, "pixel \(p) outside order \(order)", path: path, location: loc)
                    }
                    counts[Int(p)] = v
                }
            } else {
                for (i, v) in values.enumerated() { counts[row + i] = v }
            }
            row += batch.length
        }
        return (order, counts)
    }

    private static func integers(_ column: ArrayData, path: String, location: String) throws -> [Int64] {
        switch column.type {
        case .int64: return Array(column.values(Int64.self))
        case .int32: return column.values(Int32.self).map(Int64.init)
        case .int16: return column.values(Int16.self).map(Int64.init)
        case .uint8: return column.values(UInt8.self).map(Int64.init)
        case .uint64: return column.values(UInt64.self).map { Int64(clamping: $0) }
        default:
            throw FormatError(.unsupported, "HEALPix map column of type \(column.type)", path: path, location: location)
        }
    }
}
