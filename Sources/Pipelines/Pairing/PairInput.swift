import Formats
import Foundation
import RunEngine
import Sky

/// One `healpix=N` folder of a data set and its HDF5 files.
struct PairFolder: Codable, Sendable {
    /// The folder name, `healpix=N`.
    var name: String
    /// N, when the name is `healpix=<integer>` and N is a pixel at the data set's order.
    var pixel: Int64?
    /// Files relative to the data set root, sorted.
    var files: [String]
}

/// A data set pairing reads: any folder of `healpix=N/*.hdf5` files with one row per example
/// and `object_id`, `ra`, `dec` datasets — an AstroPile data set or a Multimodal Universe one —
/// or, without HDF5 files, the HATS leaves of an AstroPile data set made with `--format hats`
/// (one "folder" per leaf).
struct PairInput: Codable, Sendable {
    var root: String
    /// The folder's name.
    var name: String
    var folders: [PairFolder]
    /// Columns every file has (name, kind), in name order; 1-D arrays at the longest row any
    /// file has (shorter files are padded on reading).
    var columns: [ColumnSignature]
    /// Examples in all files.
    var rows: Int
    /// HEALPix order of the folders: the HATS leaves' order, else an AstroPile report's (nil
    /// when neither says; MMU's data sets use order 4).
    var healpixOrder: Int?

    /// `image` or `spectrum` when the columns say so.
    var modality: String? {
        let names = Set(columns.map(\.name))
        if names.contains("image_array") { return "image" }
        if names.contains("spectrum_flux") { return "spectrum" }
        return nil
    }

    /// Lists `root` and reads every file's column shapes (no values).
    static func open(_ root: String, side: String) throws -> PairInput {
        let trimmed = root.hasSuffix("/") ? String(root.dropLast()) : root
        var byFolder: [String: [String]] = [:]
        for relative in FileMatcher.walk(trimmed) {
            let parts = relative.split(separator: "/")
            guard parts.count >= 2, parts[0].hasPrefix("healpix="), relative.hasSuffix(".hdf5") || relative.hasSuffix(".h5") else { continue }
            byFolder[String(parts[0]), default: []].append(relative)
        }
        var orders = Set<Int>()
        if byFolder.isEmpty && FileManager.default.fileExists(atPath: trimmed + "/hats.properties") {
            // HATS only: each leaf dataset/Norder=k/Dir=d/Npix=N.parquet is folder healpix=N.
            for relative in FileMatcher.walk(trimmed + "/dataset") where relative.hasSuffix(".parquet") {
                let parts = relative.split(separator: "/")
                guard parts.count == 3, parts[0].hasPrefix("Norder="), parts[2].hasPrefix("Npix="),
                      let order = Int(parts[0].dropFirst("Norder=".count)),
                      let pixel = Int64(parts[2].dropFirst("Npix=".count).dropLast(".parquet".count)) else { continue }
                orders.insert(order)
                byFolder["healpix=\(pixel)"] = ["dataset/" + relative]
            }
            guard orders.count <= 1 else {
                throw RunError.configuration("the \(side) data set \(root) has HATS leaves at several orders (\(orders.sorted())); pairing reads single-order data sets")
            }
        }
        guard !byFolder.isEmpty else {
            throw RunError.configuration("the \(side) data set \(root) has no healpix=N/*.hdf5 files and no HATS leaves")
        }
        // The order: the leaves', else the report's when it is one; a folder name is a pixel only
        // when it is a valid index at that order (names are data, checked here once).
        var healpixOrder = orders.first
        if healpixOrder == nil, let data = FileManager.default.contents(atPath: Run.reportPath(output: trimmed)),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let details = object["details"] as? [String: Any], let order = details["healpixOrder"] as? Int,
           (0...HealpixPixel.maxOrder).contains(order) {
            healpixOrder = order
        }
        let folderOrder = healpixOrder ?? 4
        let folders = byFolder.keys.sorted { a, b in
            let x = Int64(a.dropFirst("healpix=".count)), y = Int64(b.dropFirst("healpix=".count))
            if let x, let y { return x < y }
            return a < b
        }.map { name in
            let pixel = Int64(name.dropFirst("healpix=".count)).flatMap { HealpixPixel(checkedOrder: folderOrder, index: $0)?.index }
            return PairFolder(name: name, pixel: pixel, files: (byFolder[name] ?? []).sorted())
        }
        var common: [String: ColumnSignature]?
        var order: [String] = []
        var rows = 0
        for folder in folders {
            for file in folder.files {
                let path = trimmed + "/" + file
                // Units come from the first file; the rest give names, types and shapes.
                let (signatures, n) = try Self.isLeaf(file) ? ExampleParquet.signatures(path: path)
                    : ExampleFile.signatures(path: path, units: common == nil)
                rows += n
                var here: [String: ColumnSignature] = [:]
                for s in signatures { here[s.name] = s }
                guard var so = common else {
                    common = here
                    order = signatures.map(\.name)
                    continue
                }
                for (name, s) in so {
                    guard let h = here[name], h.kind == s.kind else { so[name] = nil; continue }
                    if h.rowShape != s.rowShape {
                        // 1-D arrays of different lengths (MMU pads per file): keep the longest.
                        guard h.rowShape.count == 1, s.rowShape.count == 1 else { so[name] = nil; continue }
                        so[name]?.rowShape = [max(h.rowShape[0], s.rowShape[0])]
                    }
                }
                common = so
            }
        }
        let columns = order.compactMap { common?[$0] }
        for required in ["object_id", "ra", "dec"] where !columns.contains(where: { $0.name == required }) {
            throw RunError.configuration("the \(side) data set \(root) has no \(required) dataset in every file")
        }
        return PairInput(root: trimmed, name: URL(fileURLWithPath: trimmed).lastPathComponent, folders: folders, columns: columns,
                         rows: rows, healpixOrder: healpixOrder)
    }

    static func isLeaf(_ file: String) -> Bool { file.hasSuffix(".parquet") }

    /// The `object_id`, `ra` and `dec` columns of one file's `columns`, checked: one value per row
    /// each (a dataset of shape (n, 2) is refused, not indexed past its rows), ra/dec numbers of
    /// the same length as the ids, every position on the sky.
    static func positions(_ columns: [ExampleColumn], path: String) throws -> (ids: ExampleColumn, ra: [Double], dec: [Double]) {
        var found: [ExampleColumn] = []
        for name in ["object_id", "ra", "dec"] {
            guard let c = columns.first(where: { $0.name == name }) else {
                throw FormatError(.corruptInput, "no \(name) dataset", path: path)
            }
            guard c.rowShape.isEmpty else {
                throw FormatError(.corruptInput, "\(name) has shape (\(([c.rows] + c.rowShape).map(String.init).joined(separator: ", "))); one value per row expected", path: path)
            }
            found.append(c)
        }
        guard let ra = found[1].values.doubles, let dec = found[2].values.doubles else {
            throw FormatError(.corruptInput, "ra and dec must be numbers", path: path)
        }
        let ids = found[0]
        guard ra.count == ids.values.count, dec.count == ids.values.count else {
            throw FormatError(.corruptInput, "object_id, ra and dec have \(ids.values.count), \(ra.count) and \(dec.count) rows", path: path)
        }
        for i in ra.indices {
            if let problem = SkyCoordinateCheck.validate(ra: ra[i], dec: dec[i]) {
                throw FormatError(.corruptInput, "ra/dec: \(problem)", path: path, location: "row \(i)")
            }
        }
        return (ids, ra, dec)
    }

    /// Columns `names` of `file` (rows `rows` only when given), from HDF5 or a HATS leaf.
    func columns(file: String, rows: [Int]?, names: [String]) throws -> [ExampleColumn] {
        let path = root + "/" + file
        return try Self.isLeaf(file) ? ExampleParquet.read(path: path, rows: rows, names: names)
            : ExampleFile.read(path: path, rows: rows, names: names)
    }

    /// Rows `rows` of `file`, the side's columns only, 1-D arrays padded to the side's length.
    func read(file: String, rows: [Int]?) throws -> [ExampleColumn] {
        let path = root + "/" + file
        let columns = try self.columns(file: file, rows: rows, names: self.columns.map(\.name))
        return try zip(columns, self.columns).map { c, s in
            guard c.rowShape != s.rowShape else { return c }
            guard let length = s.rowShape.first, let p = c.padded(to: length) else {
                throw FormatError(.corruptInput, "column \(c.name) has shape \(c.rowShape), the data set \(s.rowShape)", path: path)
            }
            return p
        }
    }
}
