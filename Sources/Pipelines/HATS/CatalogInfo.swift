import Foundation
import Formats
import Table

/// A summary of a HATS catalog on disk, for `astropile info`.
public struct CatalogInfo: Sendable {
    /// The catalog folder.
    public let root: String
    /// `hats.properties` key/values in file order.
    public let properties: [(key: String, value: String)]
    /// Partitions per order.
    public let partitionsPerOrder: [Int: Int]
    /// Columns and types from `dataset/_common_metadata`.
    public let schema: Schema
    /// Bytes of all files.
    public let bytes: Int64

    /// Reads the summary of the catalog at `root`.
    public static func read(_ root: String) throws -> CatalogInfo {
        let catalog = try HATSCatalog.open(root)
        var perOrder: [Int: Int] = [:]
        for p in catalog.partitions.pixels { perOrder[p.order, default: 0] += 1 }
        let schema = try ParquetFileReader.info(path: catalog.layout.commonMetadataFile).schema
        return CatalogInfo(root: root, properties: catalog.properties, partitionsPerOrder: perOrder, schema: schema,
                           bytes: FinishStage.directorySize(root))
    }

    /// A property's value.
    public func property(_ key: String) -> String? { properties.first { $0.key == key }?.value }

    /// Human-readable text.
    public var text: String {
        var s = "catalog   \(root)\n"
        s += "name      \(property("obs_collection") ?? "?") (\(property("dataproduct_type") ?? "?"))\n"
        s += "rows      \(property("hats_nrows") ?? "?")\n"
        let total = partitionsPerOrder.values.reduce(0, +)
        s += "partitions \(total): " + partitionsPerOrder.keys.sorted().map { "order \($0): \(partitionsPerOrder[$0]!)" }.joined(separator: ", ") + "\n"
        s += "size      \(ByteCountFormatter.string(fromByteCount: bytes, countStyle: .binary))\n"
        s += "ra/dec    \(property("hats_col_ra") ?? "?") / \(property("hats_col_dec") ?? "?")\n"
        s += "sky       \(property("moc_sky_fraction") ?? "?") of the sphere\n"
        s += "built by  \(property("hats_builder") ?? "?") on \(property("hats_creation_date") ?? "?")\n"
        if let threshold = property("hats_margin_threshold") {
            s += "margin    \(threshold) arcsec around the partitions of \(property("hats_primary_table_url") ?? "?")\n"
        }
        if let column = property("hats_index_column") {
            s += "index     of \(column) in \(property("hats_primary_table_url") ?? "?")\n"
        }
        if let left = property("astropile_crossmatch_left"), let right = property("astropile_crossmatch_right") {
            s += "crossmatch \(left) × \(right) within \(property("astropile_crossmatch_radius_arcsec") ?? "?") arcsec"
            s += " (\(property("astropile_crossmatch_mode") ?? "?"), \(property("astropile_crossmatch_join") ?? "?") join)\n"
        }
        if let hash = property("astropile_config_hash") { s += "config    \(hash)\n" }
        if let inputs = property("astropile_inputs") { s += "inputs    \(inputs.prefix(300))\n" }
        s += "columns   \(schema.fields.count):\n"
        for f in schema.fields { s += "  \(f.name): \(f.type)\n" }
        return s
    }
}
