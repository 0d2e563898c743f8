import Foundation
import Testing
import Formats
import Pipelines
import Table
import TestSupport

/// CSV options: headerless files with given names, another delimiter, forced column types.
@Suite struct CSVOptionsTests {
    @Test func pipeDelimitedHeaderlessWithNamesAndTypes() throws {
        let input = try TestSupport.fixture("hats-import/test_formats/pipe_delimited.csv")
        let (report, layout, _) = try ImportHarness.run([input]) {
            $0.csv.delimiter = UInt8(ascii: "|")
            $0.csv.hasHeader = false
            $0.csv.columnNames = ["name", "ra", "empty", "dec"]
            $0.columnTypes = ["ra": .float32, "empty": .string]
            $0.highestOrder = 1
        }
        #expect(report.counts.written == 3)
        let fields = try ParquetFileReader.info(path: layout.commonMetadataFile).schema.fields
        #expect(fields.map(\.name) == ["_healpix_29", "name", "ra", "empty", "dec"])
        #expect(fields.first { $0.name == "ra" }?.type == .float32)
        #expect(fields.first { $0.name == "empty" }?.type == .string)
        #expect(fields.first { $0.name == "name" }?.type == .string)
    }

    @Test func cliRejectsABadTypeWithUsageStatus() throws {
        let input = try TestSupport.fixture("hats-import/small_sky/catalog.csv")
        let dir = try TestSupport.temporaryDirectory("cli")
        let exe = TestSupport.root.appendingPathComponent(".build/debug/astropile").path
        let r = try TestSupport.runStatus(exe, ["import", "--input", input, "--output", dir.path + "/c", "--type", "ra=complex"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--type"))
        let missing = try TestSupport.runStatus(exe, ["import", "--input", dir.path + "/nothing-*.csv", "--output", dir.path + "/d"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no input files"))
    }
}
