import Formats
import Foundation
import RunEngine
import Table

/// One example of an image data set, read back from its HDF5 file.
public struct ImageExample: Sendable {
    public var id: String
    /// Degrees.
    public var ra: Double
    public var dec: Double
    public var bands: [String]
    /// Stamp side, pixels.
    public var size: Int
    /// (band, y, x), nanomaggies.
    public var flux: [Float]
    public var ivar: [Float]
    /// true = good pixel.
    public var mask: [Bool]
    /// Per band: arcsec.
    public var psf: [Float]
    /// Per band: arcsec per pixel.
    public var scale: [Float]
    public var noise: [Float]
    public var extinction: [Float]
    public var frames: [String]
    /// The file it came from, relative to the data set.
    public var file: String
    public var row: Int

    /// Throws when the arrays read from a file do not have the sizes the bands and stamp side
    /// imply (a damaged or foreign file), so no later index runs past an array.
    func checked() throws -> ImageExample {
        let b = bands.count, pixels = b * size * size
        guard b > 0, size > 0, flux.count == pixels, ivar.count == pixels, mask.count == pixels,
              [psf, scale, noise, extinction].allSatisfy({ $0.count == b }), frames.count == b else {
            throw FormatError(.corruptInput, "row \(row): the image arrays do not match \(b) bands of \(size)×\(size) pixels", path: file)
        }
        return self
    }

    /// Band `b`'s plane.
    public func plane(_ b: Int) -> ArraySlice<Float> { flux[(b * size * size)..<((b + 1) * size * size)] }
}

/// A stamps data set on disk: its report, its object index and its files (`astropile show`,
/// `astropile info`). Reading one object opens the index once and then exactly one HDF5 file.
public final class ImageDataSet {
    public let root: String
    public let report: StampsReport
    private var index: [String: (file: String, row: Int)] = [:]
    private var ordered: [(id: String, file: String, row: Int)] = []
    /// HDF5 data files opened so far (random access opens one per lookup).
    public private(set) var filesOpened = 0

    /// Opens the data set at `root`: it must be a finished `astropile stamps` output.
    public init(root: String) throws {
        self.root = root
        let reportPath = Run.reportPath(output: root)
        guard let data = FileManager.default.contents(atPath: reportPath) else {
            throw RunError.configuration("\(root) is not a finished image data set (no astropile_report.json)")
        }
        guard let report = RecordCoding.decode(StampsReport.self, from: data), report.pipeline == "stamps" else {
            throw RunError.configuration("\(root) is not an image data set made by astropile stamps")
        }
        self.report = report
        for e in try DataSetIndex.read(root + "/" + report.details.index) {
            index[e.id] = (e.file, e.row)
            ordered.append((id: e.id, file: e.file, row: e.row))
        }
        ordered.sort { ($0.file, $0.row) < ($1.file, $1.row) }
    }

    /// Objects in the data set.
    public var count: Int { ordered.count }

    /// The files, relative to the root.
    public var files: [String] { Array(Set(ordered.map(\.file))).sorted() }

    /// The ids of the first `n` examples in file order.
    public func firstIDs(_ n: Int) -> [String] { ordered.prefix(max(0, n)).map(\.id) }

    /// Reads one object; `nil` when the data set has no such id.
    public func example(id: String) throws -> ImageExample? {
        guard let (file, row) = index[id] else { return nil }
        return try read(file: file, row: row)
    }

    func read(file: String, row: Int) throws -> ImageExample {
        if file.hasSuffix(".parquet") { return try readLeaf(file: file, row: row) }
        let path = root + "/" + file
        let h5 = try HDF5File(path: path, mode: .readOnly)
        filesOpened += 1
        let range = row..<(row + 1)
        let idSet = try h5.dataset("object_id")
        let id: String = idSet.type == .int64 ? (try idSet.read(rows: range, as: Int64.self).first.map { String($0) } ?? "")
            : (try idSet.readStrings(rows: range).first ?? "")
        let flux = try h5.dataset("image_array")
        let size = flux.shape.last ?? 0
        return try ImageExample(
            id: id,
            ra: try h5.dataset("ra").read(rows: range, as: Double.self).first ?? .nan,
            dec: try h5.dataset("dec").read(rows: range, as: Double.self).first ?? .nan,
            bands: try h5.dataset("image_band").readStrings(rows: range),
            size: size,
            flux: try flux.read(rows: range, as: Float.self),
            ivar: try h5.dataset("image_ivar").read(rows: range, as: Float.self),
            mask: try h5.dataset("image_mask").read(rows: range, as: UInt8.self).map { $0 != 0 },
            psf: try h5.dataset("image_psf_fwhm").read(rows: range, as: Float.self),
            scale: try h5.dataset("image_scale").read(rows: range, as: Float.self),
            noise: try h5.dataset("image_noise").read(rows: range, as: Float.self),
            extinction: try h5.dataset("image_extinction").read(rows: range, as: Float.self),
            frames: try h5.dataset("image_frame").readStrings(rows: range),
            file: file, row: row).checked()
    }

    /// One row of a HATS leaf (`--format hats`): its row group only.
    func readLeaf(file: String, row: Int) throws -> ImageExample {
        let path = root + "/" + file
        let group = row / StampsHATSWriter.rowGroupRows
        let reader = try ParquetFileReader(path: path, rowGroups: [group])
        filesOpened += 1
        guard let batch = try reader.next() else { throw FormatError(.corruptInput, "no row group \(group)", path: path) }
        let i = row % StampsHATSWriter.rowGroupRows
        guard i < batch.length else {
            throw FormatError(.corruptInput, "row group \(group) has \(batch.length) rows; the index names row \(row)", path: path)
        }
        func column(_ name: String, _ type: DataType? = nil) throws -> ArrayData {
            guard let c = batch.column(name), type.map({ $0 == c.type }) ?? true else {
                throw FormatError(.corruptInput, "no column \(name)\(type.map { " of type \($0)" } ?? "")", path: path)
            }
            return c
        }
        func floats(_ name: String) throws -> [Float] {
            let c = try column(name)
            guard case .fixedSizeList(_, let k) = c.type, let child = c.children.first, child.type == .float32 else {
                throw FormatError(.corruptInput, "\(name) is not a fixed-size list of float32", path: path)
            }
            let v = child.values(Float.self)
            let start = (c.offset + i) * k
            return Array(v[start..<(start + k)])
        }
        func strings(_ name: String) throws -> [String] {
            let c = try column(name)
            guard case .fixedSizeList(_, let k) = c.type, let child = c.children.first, child.type == .string else {
                throw FormatError(.corruptInput, "\(name) is not a fixed-size list of strings", path: path)
            }
            return ((c.offset + i) * k..<((c.offset + i + 1) * k)).map { child.string(at: $0) ?? "" }
        }
        let maskColumn = try column("image_mask")
        guard case .fixedSizeList(_, let k) = maskColumn.type, let bits = maskColumn.children.first, bits.type == .bool,
              bits.buffers.count >= 2, let base = bits.buffers[1]?.base else {
            throw FormatError(.corruptInput, "image_mask is not a fixed-size list of booleans", path: path)
        }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        let first = bits.offset + (maskColumn.offset + i) * k
        let mask = (first..<(first + k)).map { bytes[$0 >> 3] & (1 << UInt8($0 & 7)) != 0 }
        let flux = try floats("image_array")
        let bands = try strings("image_band")
        // invariant: the root of an array's count is finite and far inside Int.
        let size = Int(Double(flux.count / max(bands.count, 1)).squareRoot().rounded())
        let ra = try column("ra", .float64).values(Double.self), dec = try column("dec", .float64).values(Double.self)
        let ids = try column("object_id")
        return try ImageExample(id: StampCatalog.idText(ids, i) ?? "", ra: ra[i], dec: dec[i],
                            bands: bands, size: size, flux: flux, ivar: try floats("image_ivar"), mask: mask,
                            psf: try floats("image_psf_fwhm"), scale: try floats("image_scale"), noise: try floats("image_noise"),
                            extinction: try floats("image_extinction"), frames: try strings("image_frame"), file: file, row: row).checked()
    }

    /// A summary for `astropile info`.
    public var summary: String {
        let d = report.details
        var lines = [
            "image data set \(root)",
            "  objects: \(count) (\(report.counts.rejected) of \(report.counts.read) catalog rows without a stamp)",
            "  bands: \(d.bands.joined()), \(d.size)×\(d.size) pixels, alignment \(d.align.rawValue), format \(d.format.rawValue)",
            "  partitions: \(Set(files.map { $0.split(separator: "/").first.map(String.init) ?? "" }).count) HEALPix pixels at order \(d.healpixOrder) (nested), \(files.count) files",
            "  fields: \(d.fields), bad frames: \(d.badFrames.count)",
            "  made by AstroPile \(report.astropileVersion), config hash \(report.configHash)",
        ]
        if let first = files.first, let h5 = try? HDF5File(path: root + "/" + first, mode: .readOnly) {
            if let c = h5.stringAttribute("catalog") { lines.append("  catalog: \(c)") }
            if let f = h5.stringAttribute("frames") { lines.append("  frames: \(f)") }
        }
        return lines.joined(separator: "\n")
    }
}
