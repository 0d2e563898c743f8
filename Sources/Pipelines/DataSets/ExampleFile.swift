import Formats
import Foundation
import RunEngine

/// One HDF5 file of a data set in the Multimodal Universe layout, read and written column by
/// column: one dataset per column, rows on the first axis, units and descriptions as dataset
/// attributes, provenance as root attributes. Array columns of at least
/// ``chunkedRowElements`` elements are chunked (about 64 KiB of rows per chunk) with shuffle +
/// deflate (HDF5's built-in filters, so h5py needs no plugin); the rest are contiguous.
public enum ExampleFile {
    /// Row size (elements) from which a column is chunked and compressed.
    public static let chunkedRowElements = 64

    /// Writes `columns` (all with the same row count) and the root `attributes` to `path`,
    /// atomically (``HDF5File`` creates a temp file and renames it on close).
    public static func write(_ columns: [ExampleColumn], attributes: [(String, String)], to path: String, deflate: Int,
                             durable: Bool = true) throws {
        let rows = columns.first?.rows ?? 0
        for c in columns where c.rows != rows || c.values.count != rows * c.rowElements {
            throw FormatError(.invalidArgument, "column \(c.name) has \(c.values.count) values for \(rows) rows of shape \(c.rowShape)", path: path)
        }
        let file = try HDF5File(path: path, mode: .create)
        for c in columns {
            let shape = [rows] + c.rowShape
            // About 64 KiB per chunk: one image a chunk, a few spectra, many small arrays; so
            // reading one row reads at most one chunk of about that size.
            let rowBytes = max(1, c.rowElements * c.values.elementSize)
            let layout: HDF5File.Layout = c.rowElements >= chunkedRowElements && rows > 0
                ? .chunks(rows: max(1, (64 << 10) / rowBytes), deflate: deflate) : .contiguous
            func create(_ type: HDF5ElementType, _ raw: UnsafeRawBufferPointer) throws -> HDF5Dataset {
                guard case .chunks(let chunkRows, let level) = layout else {
                    return try file.createDataset(c.name, type: type, shape: shape, layout: layout, bytes: raw)
                }
                // Chunks are shuffled and deflated here, on the calling worker, and handed to
                // HDF5 already filtered: HDF5 runs its own filters under its global lock, which
                // would serialise the compression of every worker.
                let d = try file.createDataset(c.name, type: type, shape: shape, layout: layout, bytes: nil)
                let rowBytes = c.rowElements * type.size
                var chunk = [UInt8](repeating: 0, count: chunkRows * rowBytes)
                for first in stride(from: 0, to: rows, by: chunkRows) {
                    let n = min(chunkRows, rows - first)
                    chunk.withUnsafeMutableBytes { dst in
                        dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(first * rowBytes)..<((first + n) * rowBytes)]))
                        if n < chunkRows { dst.baseAddress.map { ($0 + n * rowBytes).initializeMemory(as: UInt8.self, repeating: 0, count: (chunkRows - n) * rowBytes) } }
                    }
                    let filtered = try chunk.withUnsafeBytes { try HDF5ChunkFilter.shuffleDeflate($0, elementSize: type.size, level: level) }
                    try d.writeChunk(row: first, filtered: filtered)
                }
                return d
            }
            let d: HDF5Dataset
            switch c.values {
            case .float32(let v): d = try v.withUnsafeBytes { try create(.float32, $0) }
            case .float64(let v): d = try v.withUnsafeBytes { try create(.float64, $0) }
            case .int64(let v): d = try v.withUnsafeBytes { try create(.int64, $0) }
            case .int32(let v): d = try v.withUnsafeBytes { try create(.int32, $0) }
            case .int16(let v): d = try v.withUnsafeBytes { try create(.int16, $0) }
            case .uint8(let v): d = try v.withUnsafeBytes { try create(.uint8, $0) }
            case .bool(let v):
                let bytes = v.map { UInt8($0 ? 1 : 0) }
                d = try bytes.withUnsafeBytes { try create(.bool, $0) }
            case .string(let v): d = try file.writeStrings(c.name, v, shape: shape)
            }
            if let u = c.units { try file.setAttribute("units", u, on: d) }
            if let t = c.description { try file.setAttribute("description", t, on: d) }
        }
        for (key, value) in attributes { try file.setAttribute(key, value) }
        try file.close(durable: durable)
    }

    /// The columns of `path` (every dataset of the root group, in name order, or `names`),
    /// rows `rows` only when given (in that order; a row may repeat). A dataset that is not
    /// one row per example (a different first dimension) is left out.
    public static func read(path: String, rows: [Int]? = nil, names: [String]? = nil) throws -> [ExampleColumn] {
        let file = try HDF5File(path: path, mode: .readOnly)
        let members = try names ?? file.memberNames().sorted()
        var columns: [ExampleColumn] = []
        var count: Int?
        for name in members {
            let d = try file.dataset(name)
            guard let n = d.shape.first else { continue }
            if count == nil { count = n }
            guard n == count else { continue }
            if let rows, let bad = rows.first(where: { $0 < 0 || $0 >= n }) {
                throw FormatError(.corruptInput, "row \(bad) asked of \(name), which has \(n) rows", path: path)
            }
            columns.append(ExampleColumn(name, try values(d, rows: rows), rowShape: Array(d.shape.dropFirst()),
                                         units: file.stringAttribute("units", on: d), description: file.stringAttribute("description", on: d)))
        }
        try file.close()
        return columns
    }

    /// The signatures of `path`'s one-row-per-example columns (name order) and its row count,
    /// without reading values.
    public static func signatures(path: String, units: Bool = true) throws -> (columns: [ColumnSignature], rows: Int) {
        let file = try HDF5File(path: path, mode: .readOnly)
        var out: [ColumnSignature] = []
        var count: Int?
        for name in try file.memberNames().sorted() {
            guard let d = try? file.dataset(name), let n = d.shape.first else { continue }
            if count == nil { count = n }
            guard n == count else { continue }
            out.append(ColumnSignature(name: name, kind: ExampleKind(d.type), rowShape: Array(d.shape.dropFirst()),
                                       units: units ? file.stringAttribute("units", on: d) : nil))
        }
        try file.close()
        return (out, count ?? 0)
    }

    /// The number of rows of `path` (the first dimension of `object_id`).
    public static func rowCount(path: String) throws -> Int {
        let file = try HDF5File(path: path, mode: .readOnly)
        let n = try file.dataset("object_id").shape.first ?? 0
        try file.close()
        return n
    }

    /// Reads `rows` of `d`: one contiguous read spanning them when that is at most 4× the
    /// rows asked for, else one read per row.
    static func values(_ d: HDF5Dataset, rows: [Int]?) throws -> ExampleValues {
        let all = 0..<(d.shape.first ?? 0)
        let k = d.rowElements
        func read<T: BitwiseCopyable>(_ t: T.Type) throws -> [T] {
            guard let rows else { return try d.read(rows: all, as: t) }
            guard let lo = rows.min(), let hi = rows.max() else { return [] }
            if hi - lo + 1 <= 4 * rows.count {
                let block = try d.read(rows: lo..<(hi + 1), as: t)
                var out: [T] = []
                out.reserveCapacity(rows.count * k)
                for r in rows { out.append(contentsOf: block[((r - lo) * k)..<((r - lo + 1) * k)]) }
                return out
            }
            var out: [T] = []
            for r in rows { out.append(contentsOf: try d.read(rows: r..<(r + 1), as: t)) }
            return out
        }
        switch d.type {
        case .float32: return .float32(try read(Float.self))
        case .float64: return .float64(try read(Double.self))
        case .int64: return .int64(try read(Int64.self))
        case .int32: return .int32(try read(Int32.self))
        case .int16: return .int16(try read(Int16.self))
        case .uint8: return .uint8(try read(UInt8.self))
        case .int8: return .int16(try read(Int8.self).map(Int16.init))
        case .bool: return .bool(try read(UInt8.self).map { $0 != 0 })
        case .fixedString:
            guard let rows else { return .string(try d.readStrings(rows: all)) }
            guard let lo = rows.min(), let hi = rows.max() else { return .string([]) }
            let strings = try d.readStrings(rows: lo..<(hi + 1))
            var out: [String] = []
            for r in rows { out.append(contentsOf: strings[((r - lo) * k)..<((r - lo + 1) * k)]) }
            return .string(out)
        }
    }
}
