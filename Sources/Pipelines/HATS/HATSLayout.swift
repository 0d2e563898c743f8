import Sky

/// Every on-disk name of a HATS catalog in one place (like hats' `io/paths.py`), plus the
/// reverse parse of leaf paths.
public struct HATSLayout: Sendable {
    /// The catalog folder.
    public let root: String

    /// A layout rooted at `root`.
    public init(root: String) {
        self.root = Self.trimmingTrailingSlashes(root)
    }

    /// `dataset/`.
    public var datasetDirectory: String { root + "/dataset" }
    /// `hats.properties`.
    public var propertiesFile: String { root + "/" + Self.propertiesFileName }
    /// `properties` (the HiPS-style copy hats writes too).
    public var legacyPropertiesFile: String { root + "/" + Self.legacyPropertiesFileName }
    /// The name of `hats.properties`.
    public static let propertiesFileName = "hats.properties"
    /// The name of the legacy copy, `properties`.
    public static let legacyPropertiesFileName = "properties"
    /// `partition_info.csv`.
    public var partitionInfoFile: String { root + "/partition_info.csv" }
    /// `dataset/_metadata`.
    public var metadataFile: String { datasetDirectory + "/_metadata" }
    /// `dataset/_common_metadata`.
    public var commonMetadataFile: String { datasetDirectory + "/_common_metadata" }
    /// `skymap.fits`.
    public var skymapFile: String { root + "/skymap.fits" }
    /// `point_map.fits`.
    public var pointMapFile: String { root + "/point_map.fits" }
    /// AstroPile's run report.
    public var reportFile: String { root + "/astropile_report.json" }

    /// `Dir` of a pixel: `(index / 10000) * 10000`.
    public static func directoryNumber(_ pixel: HealpixPixel) -> Int64 { (pixel.index / 10_000) * 10_000 }

    /// `Norder=K/Dir=D/Npix=N.parquet`, relative to `dataset/`.
    public static func leafRelativePath(_ pixel: HealpixPixel) -> String {
        "Norder=\(pixel.order)/Dir=\(directoryNumber(pixel))/Npix=\(pixel.index).parquet"
    }

    /// The folder holding a pixel's leaf.
    public func leafDirectory(_ pixel: HealpixPixel) -> String {
        datasetDirectory + "/Norder=\(pixel.order)/Dir=\(Self.directoryNumber(pixel))"
    }

    /// The absolute path of a pixel's leaf.
    public func leafPath(_ pixel: HealpixPixel) -> String {
        datasetDirectory + "/" + Self.leafRelativePath(pixel)
    }

    /// What a path under `dataset/` is, by its name.
    public enum DatasetEntry: Equatable, Sendable {
        /// A leaf: `Norder=K/Dir=D/Npix=N.parquet` with a valid pixel and the right `Dir`.
        case leaf(HealpixPixel)
        /// Metadata (`_metadata`, `_common_metadata`), hidden or temporary files, other files.
        case other
        /// A name that claims to be part of a leaf path (`Norder=`, `Dir=`, `Npix=`, a `.parquet`
        /// file) but is not a valid one; says why. Its rows would be invisible to every reader.
        case malformed(String)
    }

    /// Classifies `path` (relative to `dataset/`, `/`-separated).
    public static func classify(datasetPath path: String) -> DatasetEntry {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let name = parts.last else { return .other }
        if parts.contains(where: { $0.hasPrefix(".") }) || name.contains(".tmp-") { return .other }
        if parts.count == 1 && (name == "_metadata" || name == "_common_metadata") { return .other }
        let claims = parts.contains { $0.hasPrefix("Norder=") || $0.hasPrefix("Dir=") || $0.hasPrefix("Npix=") } || name.hasSuffix(".parquet")
        guard claims else { return .other }
        guard parts.count == 3, parts[0].hasPrefix("Norder="), parts[1].hasPrefix("Dir="), parts[2].hasPrefix("Npix="),
              parts[2].hasSuffix(".parquet") else {
            return .malformed("not of the form Norder=K/Dir=D/Npix=N.parquet")
        }
        guard let order = Int(parts[0].dropFirst(7)), let dir = Int64(parts[1].dropFirst(4)),
              let index = Int64(parts[2].dropFirst(5).dropLast(8)) else {
            return .malformed("Norder, Dir and Npix must be integers")
        }
        guard let pixel = HealpixPixel(checkedOrder: order, index: index) else {
            return .malformed("(\(order), \(index)) is not a HEALPix pixel (order 0...\(HealpixPixel.maxOrder), index below 12·4^order)")
        }
        guard dir == directoryNumber(pixel) else {
            return .malformed("pixel \(index) belongs in Dir=\(directoryNumber(pixel)), not Dir=\(dir)")
        }
        return .leaf(pixel)
    }

    /// The pixel of a leaf path (`…/Norder=K/Dir=D/Npix=N.parquet`), `nil` for anything else.
    public static func pixel(fromLeafPath path: String) -> HealpixPixel? {
        let parts = path.split(separator: "/")
        guard parts.count >= 3 else { return nil }
        if case .leaf(let p) = classify(datasetPath: parts.suffix(3).joined(separator: "/")) { return p }
        return nil
    }

    /// `path` without trailing slashes (`/` stays `/`).
    public static func trimmingTrailingSlashes(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
