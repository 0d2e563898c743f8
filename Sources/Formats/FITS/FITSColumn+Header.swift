import Foundation

extension FITSColumn {
    /// Reads the column descriptions of the current binary-table HDU and checks that their
    /// widths add up to `NAXIS1`.
    static func readAll(from file: FITSFile, location: String) throws -> [FITSColumn] {
        let count = try file.columnCount()
        guard let rowWidth = try file.integerKeyword("NAXIS1") else {
            throw FormatError(.corruptInput, "binary table without NAXIS1", path: file.path, location: location)
        }
        // Files of one survey repeat one table layout: the columns of a header seen before
        // come from the cache (the header's cards are the key, so any difference misses).
        let cards = try FITSHeaderIndex.cards(file)
        if let known = ColumnCache.shared.columns(cards) { return known }
        var columns: [FITSColumn] = []
        columns.reserveCapacity(count)
        var offset = 0
        let header = FITSHeaderIndex(file, cards: cards)
        for n in stride(from: 1, through: count, by: 1) {
            let column = try read(number: n, offset: offset, from: header, path: file.path, location: location)
            offset += column.byteWidth
            columns.append(column)
        }
        guard offset == Int(rowWidth) else {  // invariant: Int64 → Int, one width on 64-bit
            throw FormatError(.corruptInput, "column widths add up to \(offset) bytes but NAXIS1 is \(rowWidth)",
                              path: file.path, location: location)
        }
        ColumnCache.shared.store(cards, columns)
        return columns
    }

    private static func read(number n: Int, offset: Int, from file: FITSHeaderIndex, path: String, location: String) throws -> FITSColumn {
        let name = try file.stringKeyword("TTYPE\(n)").map { $0.fitsBlanksRemoved() }.flatMap { $0.isEmpty ? nil : $0 } ?? "col\(n)"
        let here = "\(location), column \(name)"
        guard let format = try file.stringKeyword("TFORM\(n)") else {
            throw FormatError(.corruptInput, "TFORM\(n) is missing", path: path, location: here)
        }
        guard let parsed = parseFormat(format) else {
            throw FormatError(.corruptInput, "TFORM\(n) = '\(format)' is not a binary-table format", path: path, location: here)
        }
        let unit = try file.stringKeyword("TUNIT\(n)").map { $0.fitsBlanksRemoved() }
        let scaleText = file.keywordValue("TSCAL\(n)")
        let zeroText = file.keywordValue("TZERO\(n)")
        let scale = try scaleText.map { text in
            guard let v = parseNumber(text) else {
                throw FormatError(.corruptInput, "TSCAL\(n) = \(text) is not a number", path: path, location: here)
            }
            return v
        }
        let zero = try zeroText.map { text in
            guard let v = parseNumber(text) else {
                throw FormatError(.corruptInput, "TZERO\(n) = \(text) is not a number", path: path, location: here)
            }
            return v
        }
        var scaling = scaling(type: parsed.type, scale: scale, zero: zero)
        if case .linear = scaling, parsed.type == .complex64 || parsed.type == .complex128 {
            throw FormatError(.unsupported, "TSCAL/TZERO on a complex column", path: path, location: here)
        }
        if !parsed.type.isInteger, case .unsigned = scaling { scaling = .none }
        let null = parsed.type.isInteger ? try file.integerKeyword("TNULL\(n)") : nil

        // TDIM: kept when it matches the repeat count (astropy ignores an inconsistent one too).
        var dimensions: [Int]? = nil
        if parsed.storage == .fixed, let tdim = try file.stringKeyword("TDIM\(n)"), let dims = parseDimensions(tdim),
           dims.reduce(1, *) == parsed.repeatCount {
            dimensions = dims
        } else if parsed.storage == .fixed, parsed.type == .character, let w = parsed.width,
                  w < parsed.repeatCount, parsed.repeatCount % w == 0 {
            dimensions = [w, parsed.repeatCount / w]
        }
        return FITSColumn(number: n, name: name, format: format.fitsBlanksRemoved(), elementType: parsed.type,
                          repeatCount: parsed.repeatCount, storage: parsed.storage, dimensions: dimensions,
                          unit: unit.flatMap { $0.isEmpty ? nil : $0 }, scaling: scaling, null: null,
                          byteOffset: offset,
                          byteWidth: rowWidth(repeatCount: parsed.repeatCount, type: parsed.type, storage: parsed.storage))
    }
}

/// Parsed column descriptions by header, shared by every reader of the process (a few dozen
/// layouts at most; cleared when full).
final class ColumnCache: @unchecked Sendable {
    static let shared = ColumnCache()
    private let lock = NSLock()
    private var entries: [[UInt8]: [FITSColumn]] = [:]

    func columns(_ cards: [UInt8]) -> [FITSColumn]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[cards]
    }

    func store(_ cards: [UInt8], _ columns: [FITSColumn]) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= 64 { entries.removeAll() }
        entries[cards] = columns
    }
}
