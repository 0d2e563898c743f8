import Foundation
import Testing
import Formats
import Pipelines
import Table
import TestSupport

/// Schema settlement at planning (DESIGN.md §5): compatible differences unify, conflicts stop the
/// run before anything is written and name the files and columns; `--schema` resolves them.
@Suite struct SchemaTests {
    static func mixed() throws -> [String] {
        let dir = try TestSupport.fixture("hats-import/mixed_schema")
        return ["input_01.csv", "input_02.csv", "input_03.csv"].map { dir + "/" + $0 }
    }

    @Test func conflictStopsAtPlanningNamingFilesAndColumns() throws {
        let dir = try TestSupport.temporaryDirectory("mixed")
        var config = ImportConfig(inputs: try Self.mixed(), output: dir.appendingPathComponent("cat").path)
        config.highestOrder = 1
        do {
            _ = try ImportPipeline(config: config, showProgress: false).run()
            Issue.record("expected a schema conflict")
        } catch let e as ImportError {
            let text = "\(e)"
            #expect(text.contains("'code'"))
            #expect(text.contains("input_01.csv"))
            #expect(text.contains("input_02.csv"))
            #expect(text.contains("--schema"))
        }
        #expect(!FileManager.default.fileExists(atPath: config.output + "/dataset"))
    }

    @Test func schemaFileResolvesTheConflict() throws {
        let schema = try TestSupport.fixture("hats-import/mixed_schema/schema.parquet")
        let (report, layout, _) = try ImportHarness.run(try Self.mixed()) { $0.highestOrder = 1; $0.schemaFile = schema }
        #expect(report.counts.written > 0)
        let fields = try ParquetFileReader.info(path: layout.commonMetadataFile).schema.fields
        #expect(fields.map(\.name) == ["_healpix_29", "id", "ra", "dec", "ra_error", "dec_error", "comment", "code"])
        #expect(fields.first { $0.name == "code" }?.type == .string)
        #expect(fields.first { $0.name == "ra_error" }?.type == .int64)
    }

    @Test func intAndFloatUnifyToFloatAndMissingColumnsBecomeNull() throws {
        let dir = try TestSupport.temporaryDirectory("unify")
        try "id,ra,dec,flux\n1,10.0,10.0,5\n2,11.0,11.0,6\n".write(toFile: dir.path + "/a.csv", atomically: true, encoding: .utf8)
        try "id,ra,dec,flux,extra\n3,12.0,12.0,7.5,x\n".write(toFile: dir.path + "/b.csv", atomically: true, encoding: .utf8)
        let (report, layout, _) = try ImportHarness.run([dir.path + "/a.csv", dir.path + "/b.csv"]) { $0.highestOrder = 1 }
        #expect(report.counts.written == 3)
        let fields = try ParquetFileReader.info(path: layout.commonMetadataFile).schema.fields
        #expect(fields.first { $0.name == "flux" }?.type == .float64)
        #expect(fields.first { $0.name == "extra" }?.type == .string)
    }
}
