import Foundation
import Formats
import Sky
import Table

/// What a HATS catalog is, from its `hats.properties` (`dataproduct_type`).
public enum HATSCatalogType: String, Sendable, Codable {
    /// A catalog of objects (or sources): one row per object.
    case object
    /// A catalog of sources (detections).
    case source
    /// A margin catalog: rows of a primary catalog lying near the borders of its partitions.
    case margin
    /// An index catalog: a column's values pointing at the primary catalog's partitions.
    case index
    /// A cross-match result or association table.
    case association
}

/// A HATS catalog opened for reading: its properties, its partitions and its leaf files.
///
/// Partitions come from `partition_info.csv`, or from the `dataset/Norder=*/Dir=*/Npix=*.parquet`
/// file names when that file is missing (as hats falls back to the files).
public struct HATSCatalog: Sendable {
    /// The paths inside the catalog folder.
    public let layout: HATSLayout
    /// `hats.properties` key/values in file order.
    public let properties: [(key: String, value: String)]
    /// The partitions, in sky order.
    public let partitions: PixelTree

    /// Opens the catalog at `root`.
    /// - Throws: ``CatalogError`` when `root` is not a HATS catalog.
    public static func open(_ root: String) throws -> HATSCatalog {
        let root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        let layout = HATSLayout(root: root)
        let propertiesText = (try? String(contentsOfFile: layout.propertiesFile, encoding: .utf8))
            ?? (try? String(contentsOfFile: layout.legacyPropertiesFile, encoding: .utf8))
        guard let propertiesText else {
            throw CatalogError.notACatalog(root, "no hats.properties")
        }
        let properties = Self.parseProperties(propertiesText)
        var pixels: [HealpixPixel] = []
        if let csv = try? String(contentsOfFile: layout.partitionInfoFile, encoding: .utf8) {
            let lines = csv.split(whereSeparator: \.isNewline)
            guard let header = lines.first?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }),
                  let orderColumn = header.firstIndex(of: "Norder"), let pixelColumn = header.firstIndex(of: "Npix")
            else { throw CatalogError.notACatalog(root, "partition_info.csv has no Norder,Npix header") }
            for (number, line) in lines.dropFirst().enumerated() {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                guard fields.count > max(orderColumn, pixelColumn),
                      let order = Int(fields[orderColumn].trimmingCharacters(in: .whitespaces)),
                      let index = Int64(fields[pixelColumn].trimmingCharacters(in: .whitespaces)),
                      HealpixPixel.isValid(order: order, index: index)
                else { throw CatalogError.notACatalog(root, "partition_info.csv line \(number + 2) is not a pixel: \(line)") }
                pixels.append(HealpixPixel(order: order, index: index))
            }
        } else {
            pixels = Self.scanLeaves(layout)
        }
        do {
            return HATSCatalog(layout: layout, properties: properties, partitions: try PixelTree(pixels))
        } catch {
            throw CatalogError.notACatalog(root, "\(error)")
        }
    }

    /// A property's value.
    public func property(_ key: String) -> String? { properties.last { $0.key == key }?.value }

    /// The catalog folder.
    public var root: String { layout.root }

    /// The catalog folder as an absolute, standardized path (for `hats_primary_table_url` and
    /// provenance properties).
    public var absoluteRoot: String { URL(fileURLWithPath: root).standardizedFileURL.path }

    /// `dataproduct_type`, `nil` when missing or unknown.
    public var type: HATSCatalogType? { property("dataproduct_type").flatMap(HATSCatalogType.init(rawValue:)) }

    /// The right ascension column (`hats_col_ra`, default `ra`), degrees.
    public var raColumn: String { property("hats_col_ra") ?? "ra" }

    /// The declination column (`hats_col_dec`, default `dec`), degrees.
    public var decColumn: String { property("hats_col_dec") ?? "dec" }

    /// The spatial index column (`hats_col_healpix`, default `_healpix_29`).
    public var healpixColumn: String { property("hats_col_healpix") ?? "_healpix_29" }

    /// A margin catalog's threshold (`hats_margin_threshold`), arcseconds.
    public var marginThreshold: Double? { property("hats_margin_threshold").flatMap(Double.init) }

    /// Rows in the catalog (`hats_nrows`), if recorded.
    public var rowCount: Int64? { property("hats_nrows").flatMap(Int64.init) }

    /// The columns of the leaves, from `dataset/_common_metadata` (or the first leaf).
    public func schema() throws -> Schema {
        if FileManager.default.fileExists(atPath: layout.commonMetadataFile) {
            return try ParquetFileReader.info(path: layout.commonMetadataFile).schema
        }
        guard let first = partitions.pixels.first else {
            throw CatalogError.notACatalog(root, "no dataset/_common_metadata and no partitions")
        }
        return try ParquetFileReader.info(path: layout.leafPath(first)).schema
    }

    /// The leaf file of `pixel`.
    public func leafPath(_ pixel: HealpixPixel) -> String { layout.leafPath(pixel) }

    /// Parses Java-properties-style `key=value` lines (comments and blank lines skipped).
    static func parseProperties(_ text: String) -> [(key: String, value: String)] {
        text.split(whereSeparator: \.isNewline).compactMap { line -> (key: String, value: String)? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix("!"), let eq = trimmed.firstIndex(of: "=") else { return nil }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                .replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\\", with: "\\")
            return (key, value)
        }
    }

    /// Leaves found by walking `dataset/`.
    static func scanLeaves(_ layout: HATSLayout) -> [HealpixPixel] {
        guard let e = FileManager.default.enumerator(atPath: layout.datasetDirectory) else { return [] }
        var pixels: [HealpixPixel] = []
        while let item = e.nextObject() as? String {
            if let p = HATSLayout.pixel(fromLeafPath: item) { pixels.append(p) }
        }
        return pixels
    }
}
