import Foundation
import Testing
import Formats
import Table
import TestSupport

@Suite struct ArrowRoundTripTests {
    @Test func csvGzipReadsAllRows() throws {
        let path = try TestSupport.fixture("hats-import/test_formats/catalog.csv.gz")
        let reader = try CSVFileReader(path: path)
        var rows = 0
        while let b = try reader.next() { rows += b.length }
        #expect(rows == 131)
        #expect(reader.schema.names.contains("ra"))
        #expect(reader.schema.fields.first { $0.name == "ra" }?.type == .float64)
    }

    @Test func csvRowWithWrongFieldCountIsSkippedAndListed() throws {
        let dir = try TestSupport.temporaryDirectory("csv")
        let path = dir.appendingPathComponent("bad.csv").path
        try "id,ra,dec\n1,10.0,20.0\n2,11.0\n3,12.0,22.0\n".write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try CSVFileReader(path: path)
        var rows = 0
        while let b = try reader.next() { rows += b.length }
        #expect(rows == 2)
        let bad = reader.invalidRows
        #expect(bad.count == 1)
        #expect(bad.first?.line == 3)
        #expect(bad.first?.text == "2,11.0")
    }

    @Test func parquetNamedPandasIndexIsKeptUnnamedDropped() throws {
        let path = try TestSupport.fixture("hats-import/test_formats/pandasindex.parquet")
        let reader = try ParquetFileReader(path: path)
        #expect(reader.schema.names.contains("obs_id"))
        #expect(!reader.schema.names.contains("__index_level_0__"))
        var rows = 0
        while let b = try reader.next() { rows += b.length }
        #expect(rows == reader.rowCount)
        #expect(rows > 0)
    }

    @Test func swiftBuiltNestedBatchWritesAndReadsBack() throws {
        let dir = try TestSupport.temporaryDirectory("nested")
        let path = dir.appendingPathComponent("nested.parquet").path
        let ids = ArrayData.primitive(.int64, [Int64(1), 2, 3])
        let mags = ArrayData(type: .fixedSizeList(Field("item", .float32), size: 2), length: 3, nullCount: 0,
                             buffers: [nil], children: [.primitive(.float32, [Float(1), 2, 3, 4, 5, 6])])
        let names = ArrayData.strings(["a", nil, "ccc"])
        let structType = DataType.structure([Field("x", .float64), Field("s", .string)])
        let rec = ArrayData(type: structType, length: 3, nullCount: 0, buffers: [nil],
                            children: [.primitive(.float64, [0.5, 1.5, 2.5]), .strings(["p", "q", "r"])])
        let schema = Schema([Field("id", .int64, nullable: false), Field("mag", mags.type), Field("name", .string),
                             Field("rec", structType)], metadata: [("origin", "test")])
        let batch = RecordBatch(schema: schema, columns: [ids, mags, names, rec], length: 3)
        try ParquetFileWriter.write([batch], schema: schema, to: path)
        let reader = try ParquetFileReader(path: path)
        #expect(reader.schema.fields.map(\.type.description) == schema.fields.map(\.type.description))
        let back = try #require(try reader.next())
        #expect(back.length == 3)
        #expect(back.columns[0].values(Int64.self).map { $0 } == [1, 2, 3])
        #expect(back.columns[2].string(at: 1) == nil)
        #expect(back.columns[2].string(at: 2) == "ccc")
        #expect(back.columns[1].children[0].values(Float.self).count == 6)
        // take + concat through Arrow compute
        let table = try ChunkedTable([back, back], schema: reader.schema)
        let taken = try [Int64(5), 0].withUnsafeBufferPointer { try table.take($0) }
        #expect(taken.columns[0].values(Int64.self).map { $0 } == [3, 1])
        #expect(taken.columns[3].children[1].string(at: 0) == "r")
    }

    @Test func dictionaryEncodedColumnsArriveDecoded() throws {
        let dir = try TestSupport.temporaryDirectory("dict")
        let path = dir.appendingPathComponent("cat.parquet").path
        try TestSupport.runPython("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            band = pa.array(["g", "r", "g", "i"]).dictionary_encode()
            pq.write_table(pa.table({"id": [1, 2, 3, 4], "band": band}), sys.argv[1])
            """, arguments: [path])
        let reader = try ParquetFileReader(path: path)
        #expect(reader.schema.fields.map(\.type) == [.int64, .string])
        let b = try #require(try reader.next())
        #expect((0..<4).map { b.columns[1].string(at: $0) } == ["g", "r", "g", "i"])
    }

    /// DESIGN.md: the nested Fink raw-database sample reads into AstroPile batches and writes back
    /// equal, as pyarrow compares it.
    @Test func ztfRawDatabaseRoundTripsEqualInPyarrow() throws {
        let source = try TestSupport.fixture("ztf-alerts/template_schema_ZTF_rawdatabase.parquet")
        let dir = try TestSupport.temporaryDirectory("ztf")
        let out = dir.appendingPathComponent("copy.parquet").path
        let reader = try ParquetFileReader(path: source)
        var batches: [RecordBatch] = []
        while let b = try reader.next() { batches.append(b) }
        try ParquetFileWriter.write(batches, schema: reader.schema, to: out)
        let verdict = try TestSupport.runPython("""
            import sys, pyarrow.parquet as pq
            a = pq.read_table(sys.argv[1]); b = pq.read_table(sys.argv[2])
            print(a.num_rows, a.schema.equals(b.schema, check_metadata=False), a.equals(b))
            """, arguments: [source, out])
        let parts = verdict.split(separator: " ").map(String.init)
        #expect(parts.count == 3)
        #expect(Int(parts[0]) == batches.reduce(0) { $0 + $1.length })
        #expect(parts[1] == "True")
        #expect(parts[2].trimmingCharacters(in: .whitespacesAndNewlines) == "True")
    }
}
