import Formats
import Foundation
import RunEngine

/// A finished data set of examples on disk (`astropile spectra` or `astropile pair`, or
/// `stamps`): its report, its object index and its HDF5 files. Reading one object opens the
/// index once and then exactly one data file.
public final class ExampleDataSet {
    public let root: String
    /// The pipeline that made it: stamps, spectra, pair.
    public let pipeline: String
    private let reportData: Data
    private var index: [String: (file: String, row: Int)] = [:]
    private var ordered: [DataSetIndex.Entry] = []

    /// Opens the data set at `root`: it must be a finished AstroPile data set.
    public init(root: String) throws {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
        let reportPath = Run.reportPath(output: self.root)
        guard let data = FileManager.default.contents(atPath: reportPath),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let pipeline = object["pipeline"] as? String else {
            throw RunError.configuration("\(root) is not a finished AstroPile data set (no readable astropile_report.json)")
        }
        guard FileManager.default.fileExists(atPath: self.root + "/" + DataSetIndex.fileName) else {
            throw RunError.configuration("\(root) (made by astropile \(pipeline)) is not a data set: it has no \(DataSetIndex.fileName)")
        }
        self.pipeline = pipeline
        reportData = data
        ordered = try DataSetIndex.read(self.root + "/" + DataSetIndex.fileName)
        for e in ordered { index[e.id] = (e.file, e.row) }
    }

    /// Objects in the data set.
    public var count: Int { ordered.count }

    /// The files, relative to the root.
    public var files: [String] { Array(Set(ordered.map(\.file))).sorted() }

    /// Ids in index order.
    public func firstIDs(_ n: Int) -> [String] { ordered.prefix(max(0, n)).map(\.id) }

    /// One object's columns (each holding one row); `nil` when the data set has no such id.
    public func example(id: String) throws -> [ExampleColumn]? {
        guard let (file, row) = index[id] else { return nil }
        guard file.hasSuffix(".hdf5") || file.hasSuffix(".h5") else {
            throw RunError.configuration("\(root) is HATS only; reading one object needs the HDF5 layout (--format hdf5 or both)")
        }
        return try ExampleFile.read(path: root + "/" + file, rows: [row])
    }

    /// The report's details as JSON key → value.
    var details: [String: Any] {
        ((try? JSONSerialization.jsonObject(with: reportData) as? [String: Any])?["details"] as? [String: Any]) ?? [:]
    }

    /// A summary for `astropile info`.
    public var summary: String {
        let d = details
        var lines = ["\(pipeline) data set \(root)", "  objects: \(count) in \(files.count) files"]
        switch pipeline {
        case "spectra":
            lines.append("  spectra padded to \(d["length"] ?? "?") pixels (true lengths \(d["shortest"] ?? "?")–\(d["longest"] ?? "?")), format \(d["format"] ?? "?")")
            lines.append("  object-table columns kept: \((d["objectColumns"] as? [Any])?.count ?? 0), left out (not in every file alike): \((d["droppedColumns"] as? [Any])?.count ?? 0)")
        case "pair":
            lines.append("  \(d["pairs"] ?? "?") pairs within \(d["radiusArcsec"] ?? "?") arcsec of \(d["left"] ?? "?") × \(d["right"] ?? "?")")
            lines.append("  unpaired: \(d["leftUnpaired"] ?? "?") of \(d["leftObjects"] ?? "?") left, \(d["rightUnpaired"] ?? "?") of \(d["rightObjects"] ?? "?") right (listed in \(d["unpaired"] ?? "?"))")
        default:
            break
        }
        if let order = d["healpixOrder"] { lines.append("  partitions: HEALPix order \(order) (nested)") }
        if let first = files.first, first.hasSuffix(".hdf5"), let (columns, _) = try? ExampleFile.signatures(path: root + "/" + first) {
            // AstroPile's own columns by name; survey columns (upper case, native names) counted.
            let own = columns.filter { $0.name.contains(where: \.isLowercase) }
            let survey = columns.filter { !$0.name.contains(where: \.isLowercase) }
            lines.append("  columns: " + own.map { $0.name + ($0.rowShape.isEmpty ? "" : "\($0.rowShape)") }.joined(separator: ", "))
            if !survey.isEmpty {
                lines.append("  and \(survey.count) survey columns: " + survey.prefix(8).map(\.name).joined(separator: ", ")
                             + (survey.count > 8 ? ", …" : ""))
            }
        }
        let splits = root + "/splits/" + RunReportFile.name
        if let data = FileManager.default.contents(atPath: splits), let s = RecordCoding.decode(SplitReport.self, from: data) {
            lines.append("  splits (seed \(s.details.seed)): " + zip(s.details.fractions, s.details.counts).map { "\($0.name) \($1)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
