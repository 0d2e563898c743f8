import Foundation
import Formats
import RunEngine
import Table

/// `astropile alerts catalog`: a HATS catalog of a lake's alerts by position, made by the import
/// pipeline from the lake's files, nested columns kept nested, `candidate.ra`/`candidate.dec`
/// promoted to top-level `ra`/`dec` (where lsdb looks for coordinates).
public enum AlertCatalog {
    /// The import of `lake`'s alerts into `output`.
    /// - Parameters:
    ///   - threshold: most alerts per HATS partition (default 10,000 with cutouts, ~0.7 GB of
    ///     leaf; 200,000 without).
    public static func importConfig(lake path: String, output: String, withoutCutouts: Bool, threshold: Int64?,
                                    highestOrder: Int = 10) throws -> ImportConfig {
        let lake = try AlertLake(path)
        var files: [String] = []
        for night in lake.nights() {
            let folder = lake.folder(night)
            let contents = NightContents.read(folder)
            let names = contents?.files ?? ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { $0.hasPrefix("part-") && $0.hasSuffix(".parquet") }.sorted()
            files.append(contentsOf: names.map { folder + "/" + $0 })
        }
        guard !files.isEmpty else { throw RunError.configuration("\(path) holds no alerts (no year=/month=/day=/part-*.parquet)") }
        var c = ImportConfig(inputs: files, output: output)
        c.format = .parquet
        c.ra = "candidate.ra"
        c.dec = "candidate.dec"
        c.catalogType = "source"
        c.highestOrder = highestOrder
        // A lake with a separate cutout table has none in its alert files: its catalog has none either.
        let without = withoutCutouts || lake.cutoutMode() == .separate
        c.threshold = threshold ?? (without ? 200_000 : 10_000)
        c.batchRows = without ? 4096 : 256
        if without { c.columns = try AlertLakeSchema.rowSchema(.separate).names }
        return c
    }
}
