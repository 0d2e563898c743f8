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
    ///
    /// Partitions come from `partition_info.csv` (every line a valid pixel, every leaf present),
    /// or, without it, from the leaf files under `dataset/`, where any name that claims to be a
    /// leaf but is not a valid one is an error (its rows would silently vanish from every query).
    /// - Throws: ``CatalogError/notACatalog(_:_:)`` naming the file and line or path.
    public static func open(_ root: String) throws -> HATSCatalog {
        let root = HATSLayout.trimmingTrailingSlashes(root)
        let layout = HATSLayout(root: root)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CatalogError.notACatalog(root, "no such folder")
        }
        guard let propertiesText = Self.readProperties(layout.propertiesFile) ?? Self.readProperties(layout.legacyPropertiesFile) else {
            throw CatalogError.notACatalog(root, "no readable hats.properties (UTF-8 key=value lines)")
        }
        let properties = Self.parseProperties(propertiesText)
        if let suffix = properties.last(where: { $0.key == "hats_npix_suffix" })?.value, suffix != ".parquet" {
            throw CatalogError.notACatalog(root, "its leaves are stored as \"Npix=N\(suffix)\" (hats_npix_suffix=\(suffix)); AstroPile reads leaves stored as Npix=N.parquet files only")
        }
        var pixels: [HealpixPixel] = []
        if properties.last(where: { $0.key == "dataproduct_type" })?.value == HATSCatalogType.index.rawValue {
            // An index catalog has no HEALPix partitions (dataset/index/part.N.parquet).
        } else if fm.fileExists(atPath: layout.partitionInfoFile) {
            pixels = try Self.readPartitionInfo(layout)
            for p in pixels where !fm.fileExists(atPath: layout.leafPath(p)) {
                throw CatalogError.notACatalog(root, "partition_info.csv names pixel (\(p.order), \(p.index)) but its leaf dataset/\(HATSLayout.leafRelativePath(p)) does not exist")
            }
        } else {
            pixels = try Self.scanLeaves(layout)
        }
        do {
            return HATSCatalog(layout: layout, properties: properties, partitions: try PixelTree(pixels))
        } catch {
            throw CatalogError.notACatalog(root, "\(error)")
        }
    }

    /// The text of a properties file, `nil` when it is missing, not a file or not UTF-8.
    static func readProperties(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return try? String(contentsOfFile: path, encoding: .utf8)
    }

    /// The pixels of `partition_info.csv`: a `Norder,Npix` header (other columns allowed) and one
    /// valid pixel per line.
    static func readPartitionInfo(_ layout: HATSLayout) throws -> [HealpixPixel] {
        let root = layout.root
        guard let csv = try? String(contentsOfFile: layout.partitionInfoFile, encoding: .utf8) else {
            throw CatalogError.notACatalog(root, "partition_info.csv is not readable UTF-8 text")
        }
        let lines = csv.split(whereSeparator: \.isNewline)
        guard let header = lines.first?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }),
              let orderColumn = header.firstIndex(of: "Norder"), let pixelColumn = header.firstIndex(of: "Npix")
        else { throw CatalogError.notACatalog(root, "partition_info.csv has no Norder,Npix header") }
        var pixels: [HealpixPixel] = []
        for (number, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count > max(orderColumn, pixelColumn),
                  let order = Int(fields[orderColumn].trimmingCharacters(in: .whitespaces)),
                  let index = Int64(fields[pixelColumn].trimmingCharacters(in: .whitespaces)),
                  let pixel = HealpixPixel(checkedOrder: order, index: index)
            else { throw CatalogError.notACatalog(root, "partition_info.csv line \(number + 2) is not a pixel: \(line.prefix(200))") }
            pixels.append(pixel)
        }
        return pixels
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

    /// Leaves found by walking `dataset/`; a name that claims to be a leaf but is not a valid one
    /// is an error naming it.
    static func scanLeaves(_ layout: HATSLayout) throws -> [HealpixPixel] {
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: layout.datasetDirectory) else { return [] }
        var pixels: [HealpixPixel] = []
        while let item = e.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: layout.datasetDirectory + "/" + item, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            switch HATSLayout.classify(datasetPath: item) {
            case .leaf(let p): pixels.append(p)
            case .other: continue
            case .malformed(let why):
                throw CatalogError.notACatalog(layout.root, "dataset/\(item): \(why); without partition_info.csv its rows would be skipped — rename or remove it")
            }
        }
        return pixels
    }
}
