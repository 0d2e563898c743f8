import Foundation
import Formats
import Pipelines
import Sky
import Table
import TestSupport

/// Helpers for import tests: run an import in-process, read leaves back.
enum ImportHarness {
    /// Imports `inputs` into a fresh folder; `configure` adjusts the settings.
    static func run(_ inputs: [String], name: String = "cat", configure: (inout ImportConfig) -> Void = { _ in }) throws
        -> (report: ImportReport, layout: HATSLayout, config: ImportConfig)
    {
        let dir = try TestSupport.temporaryDirectory(name)
        var config = ImportConfig(inputs: inputs, output: dir.appendingPathComponent(name).path)
        config.jobs = 2
        configure(&config)
        let outcome = try ImportPipeline(config: config, showProgress: false).run()
        guard case .written(let report) = outcome else { throw TestSupportError("expected a new catalog") }
        return (report, HATSLayout(root: config.output), config)
    }

    /// `partition_info.csv` as pixels.
    static func partitions(_ root: String) throws -> [HealpixPixel] {
        let text = try String(contentsOfFile: root + "/partition_info.csv", encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map {
            let p = $0.split(separator: ",")
            return HealpixPixel(order: Int(p[0])!, index: Int64(p[1])!)
        }
    }

    /// All values of an integer column of a Parquet file, in file order.
    static func integers(_ path: String, column: String) throws -> [Int64] {
        let r = try ParquetFileReader(path: path, columns: [column])
        var out: [Int64] = []
        while let b = try r.next() {
            let c = b.columns[0]
            switch c.type {
            case .int64: out += c.values(Int64.self)
            case .int32: out += c.values(Int32.self).map(Int64.init)
            default: throw TestSupportError("\(column) in \(path) is \(c.type)")
            }
        }
        return out
    }

    /// Leaf rows per pixel.
    static func rowCounts(_ layout: HATSLayout) throws -> [HealpixPixel: Int] {
        var out: [HealpixPixel: Int] = [:]
        for p in try partitions(layout.root) { out[p] = try ParquetFileReader.info(path: layout.leafPath(p)).rows }
        return out
    }

    /// Fixture paths of hats-import's small_sky_parts CSVs (the header-only one included).
    static func smallSkyParts() throws -> [String] {
        let dir = try TestSupport.fixture("hats-import/small_sky_parts")
        return try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".csv") }.sorted().map { dir + "/" + $0 }
    }
}
