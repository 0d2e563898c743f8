import Foundation
import Formats
import RunEngine
import Sky
import Table

/// Finish: the HATS metadata around the leaves — `partition_info.csv`, `dataset/_metadata`,
/// `dataset/_common_metadata`, `hats.properties` + `properties`, `skymap.fits` and
/// `point_map.fits` — and the verification of rows and schemas. The properties, which tell other
/// tools the catalog is there, are written to the run's staging folder and moved into the
/// catalog by the commit.
struct FinishStage {
    let config: ImportConfig
    let layout: HATSLayout
    let leafSchema: Schema
    let plan: PartitionPlan
    let histogram: PixelHistogram
    /// Where `hats.properties` and `properties` are written until the commit.
    let staging: String

    /// Writes the metadata files; returns the total leaf bytes.
    func writeMetadata(leafRecords: [ReduceRecord], inputs: Inputs) throws -> Int64 {
        var csv = "Norder,Npix\n"
        for p in plan.pixels { csv += "\(p.order),\(p.index)\n" }
        try AtomicFile.write(csv, to: layout.partitionInfoFile)

        let leaves = plan.pixels.map { (path: layout.leafPath($0), relativePath: HATSLayout.leafRelativePath($0)) }
        try ParquetFileWriter.writeDatasetMetadata(leaves: leaves, schema: leafSchema, metadataPath: layout.metadataFile,
                                                   commonMetadataPath: layout.commonMetadataFile)
        try HEALPixMapWriter.writeCatalogMaps(counts: histogram.counts, order: histogram.order, catalogDirectory: layout.root)
        let leafBytes = leafRecords.reduce(Int64(0)) { $0 + $1.bytes }
        try writeProperties(inputs: inputs)
        return leafBytes
    }

    /// The inputs the properties name (`astropile_inputs`, `astropile_input_count`).
    struct Inputs {
        /// The input files, or the arguments that found them when there are many.
        var names: [String]
        /// Number of input files.
        var count: Int
    }

    /// Past this many input files the properties name the arguments that found them (500,000
    /// paths would make a 50 MB line).
    static let listedInputsLimit = 1000

    /// `hats.properties` and `properties`, with the keys hats-import writes plus AstroPile provenance.
    func writeProperties(inputs: Inputs) throws {
        let name = config.catalogName ?? URL(fileURLWithPath: layout.root).lastPathComponent
        let fraction = plan.pixels.reduce(0.0) { $0 + 1.0 / Double(HealpixPixel.pixelCount(order: $1.order)) }
        let date = UTCTime.hatsMinute()
        let estsize = (Self.directorySize(layout.root) + 1023) / 1024
        var lines: [(String, String)] = []
        func add(_ k: String, _ v: String) { lines.append((k, v)) }
        add("obs_collection", name)
        add("dataproduct_type", config.catalogType)
        add("hats_nrows", "\(plan.totalRows)")
        add("hats_col_ra", config.raName)
        add("hats_col_dec", config.decName)
        add("hats_col_healpix", "_healpix_29")
        add("hats_col_healpix_order", "29")
        add("hats_npix_suffix", ".parquet")
        add("hats_skymap_order", "\(histogram.order)")
        add("hats_builder", "astropile v\(AstroPileVersion.string), arrow v\(ArrowCompute.arrowVersion)")
        add("hats_creation_date", date)
        add("hats_estsize", "\(estsize)")
        add("hats_release_date", "2025-08-22")
        add("hats_version", "v1.0")
        add("hats_max_rows", "\(config.threshold)")
        add("hats_order", "\(plan.maxPixelOrder ?? 0)")
        add("moc_sky_fraction", String(format: "%.5f", fraction))
        add("astropile_version", AstroPileVersion.string)
        add("astropile_config_hash", config.configHash)
        add("astropile_inputs", inputs.names.joined(separator: " "))
        add("astropile_input_count", "\(inputs.count)")
        try HATSCatalogWriter.writeProperties(lines, directory: staging)
    }

    /// Java-properties escaping of a value (backslash, newlines).
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Total bytes of the regular files under `path`.
    static func directorySize(_ path: String) -> Int64 {
        guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while let item = e.nextObject() as? String {
            if let a = try? FileManager.default.attributesOfItem(atPath: path + "/" + item),
               a[.type] as? FileAttributeType == .typeRegular, let s = a[.size] as? NSNumber {
                total += s.int64Value
            }
        }
        return total
    }

    /// Checks every leaf: row count from its footer equals the plan's, and its schema equals
    /// `_common_metadata`'s (as hats-import's verification pipeline does). Returns problems.
    func verify() throws -> [String] {
        let leaves = zip(plan.pixels, plan.rowCounts).map { HATSCatalogWriter.Leaf(pixel: $0, rows: $1) }
        return try HATSCatalogWriter(layout: layout).verify(leaves: leaves, healpixColumnFirst: true)
    }
}
