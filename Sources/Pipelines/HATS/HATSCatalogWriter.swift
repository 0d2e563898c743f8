import Foundation
import Formats
import RunEngine
import Sky
import Table

/// Writes the HATS metadata around leaves that are already in place: `partition_info.csv`,
/// `dataset/_metadata`, `dataset/_common_metadata`, `hats.properties` and `properties` — the
/// finish step shared by margin catalogs, cross-match outputs and index catalogs.
struct HATSCatalogWriter {
    let layout: HATSLayout

    /// One partition written: its pixel and rows.
    struct Leaf {
        var pixel: HealpixPixel
        var rows: Int64
    }

    /// Writes the metadata of `leaves` (every one must exist at `layout.leafPath`), all with
    /// `schema`, and the properties: `properties` (type-specific keys, in order) wrapped by the
    /// keys every HATS catalog carries. The properties go to `propertiesDirectory` (a run's
    /// staging folder, moved into the catalog by its commit), the rest into the catalog.
    func finish(leaves: [Leaf], schema: Schema, name: String, type: HATSCatalogType, ra: String, dec: String,
                properties extra: [(String, String)], propertiesDirectory: String) throws {
        let sorted = leaves.sorted { $0.pixel < $1.pixel }
        var csv = "Norder,Npix\n"
        for leaf in sorted { csv += "\(leaf.pixel.order),\(leaf.pixel.index)\n" }
        try AtomicFile.write(csv, to: layout.partitionInfoFile)
        try ParquetFileWriter.writeDatasetMetadata(
            leaves: sorted.map { (path: layout.leafPath($0.pixel), relativePath: HATSLayout.leafRelativePath($0.pixel)) },
            schema: schema, metadataPath: layout.metadataFile, commonMetadataPath: layout.commonMetadataFile)
        let rows = sorted.reduce(Int64(0)) { $0 + $1.rows }
        let fraction = sorted.reduce(0.0) { $0 + 1.0 / Double(HealpixPixel.pixelCount(order: $1.pixel.order)) }
        var lines: [(String, String)] = []
        func add(_ k: String, _ v: String) { lines.append((k, v)) }
        add("obs_collection", name)
        add("dataproduct_type", type.rawValue)
        add("hats_nrows", "\(rows)")
        add("hats_col_ra", ra)
        add("hats_col_dec", dec)
        add("hats_col_healpix", "_healpix_29")
        add("hats_col_healpix_order", "29")
        add("hats_npix_suffix", ".parquet")
        for (k, v) in extra { add(k, v) }
        add("hats_builder", "astropile v\(AstroPileVersion.string), arrow v\(ArrowCompute.arrowVersion)")
        add("hats_creation_date", UTCTime.hatsMinute())
        add("hats_estsize", "\((FinishStage.directorySize(layout.root) + 1023) / 1024)")
        add("hats_release_date", "2025-08-22")
        add("hats_version", "v1.0")
        add("hats_order", "\(sorted.map(\.pixel.order).max() ?? 0)")
        add("moc_sky_fraction", String(format: "%.5f", fraction))
        add("astropile_version", AstroPileVersion.string)
        try Self.writeProperties(lines, directory: propertiesDirectory)
    }

    /// Writes `hats.properties` and its legacy copy `properties` (key=value lines, values escaped
    /// as Java properties) into `directory`, atomically.
    static func writeProperties(_ pairs: [(String, String)], directory: String) throws {
        let text = (["#HATS catalog"] + pairs.map { "\($0.0)=\(FinishStage.escape($0.1))" }).joined(separator: "\n") + "\n"
        try AtomicFile.write(text, to: directory + "/" + HATSLayout.propertiesFileName)
        try AtomicFile.write(text, to: directory + "/" + HATSLayout.legacyPropertiesFileName)
    }

    /// Checks every leaf's footer: rows as recorded and schema equal to `_common_metadata` (as
    /// hats-import's verification pipeline does), and, when asked, `_healpix_29` as column 0.
    /// Returns the problems found.
    func verify(leaves: [Leaf], healpixColumnFirst: Bool = false) throws -> [String] {
        var problems: [String] = []
        let common = try ParquetFileReader.info(path: layout.commonMetadataFile).schema
        for leaf in leaves {
            let path = layout.leafPath(leaf.pixel)
            do {
                let info = try ParquetFileReader.info(path: path)
                if Int64(info.rows) != leaf.rows { problems.append("\(path): \(info.rows) rows, expected \(leaf.rows)") }
                if info.schema.fields != common.fields { problems.append("\(path): schema differs from _common_metadata") }
                if healpixColumnFirst && info.schema.fields.first?.name != "_healpix_29" {
                    problems.append("\(path): _healpix_29 is not column 0")
                }
            } catch {
                problems.append("\(path): \(error)")
            }
        }
        return problems
    }
}
