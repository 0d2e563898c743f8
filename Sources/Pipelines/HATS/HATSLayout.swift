import Sky

/// Every on-disk name of a HATS catalog in one place (like hats' `io/paths.py`), plus the
/// reverse parse of leaf paths.
public struct HATSLayout: Sendable {
    /// The catalog folder.
    public let root: String

    /// A layout rooted at `root`.
    public init(root: String) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    }

    /// `dataset/`.
    public var datasetDirectory: String { root + "/dataset" }
    /// `hats.properties`.
    public var propertiesFile: String { root + "/hats.properties" }
    /// `properties` (the HiPS-style copy hats writes too).
    public var legacyPropertiesFile: String { root + "/properties" }
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

    /// Parses `…/Norder=K/Dir=D/Npix=N.parquet` back into its pixel.
    public static func pixel(fromLeafPath path: String) -> HealpixPixel? {
        let parts = path.split(separator: "/")
        guard parts.count >= 3 else { return nil }
        let n = parts[parts.count - 3], npix = parts[parts.count - 1]
        guard n.hasPrefix("Norder="), npix.hasPrefix("Npix="), npix.hasSuffix(".parquet"),
              let order = Int(n.dropFirst(7)), let index = Int64(npix.dropFirst(5).dropLast(8)) else { return nil }
        return HealpixPixel(order: order, index: index)
    }
}
