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

    /// O_DIRECT writes and reads (the alert lake's runs and files) give the same bytes and
    /// values as ordinary I/O, across several staging buffers and an unaligned tail.
    @Test func directIOFilesAreTheSameAsBufferedOnes() throws {
        let dir = try TestSupport.temporaryDirectory("direct").path
        let schema = Schema([Field("id", .int64), Field("blob", .binary)])
        var batches: [RecordBatch] = []
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        for b in 0..<5 {
            let blobs = try ArrayBuilder(.binary)
            var ids: [Int64] = []
            for i in 0..<60 {
                let n = 1 + (i * 7919 + b * 104_729) % 60_000
                var bytes = [UInt8](repeating: 0, count: n)
                for k in 0..<n { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; bytes[k] = UInt8(truncatingIfNeeded: state >> 56) }
                bytes.withUnsafeBytes { blobs.append(bytes: $0) }
                ids.append(Int64(b * 1000 + i))
            }
            batches.append(RecordBatch(schema: schema, columns: [.primitive(.int64, ids), blobs.finish()], length: 60))
        }
        for direct in [false, true] {
            let w = try IPCFileWriter(path: dir + "/run-\(direct).arrow", schema: schema, durable: false, directIO: direct)
            for b in batches { try w.write(b) }
            try w.close()
            let p = try ParquetFileWriter(path: dir + "/file-\(direct).parquet", schema: schema, directIO: direct)
            for b in batches { try p.write(b) }
            try p.close()
        }
        let plain = try #require(FileManager.default.contents(atPath: dir + "/run-false.arrow"))
        #expect(plain.count > 8 << 20 && plain.count % 4096 != 0, "\(plain.count) bytes: several 4 MiB buffers and a partial block")
        #expect(FileManager.default.contents(atPath: dir + "/run-true.arrow") == plain)
        #expect(FileManager.default.contents(atPath: dir + "/file-true.parquet") == FileManager.default.contents(atPath: dir + "/file-false.parquet"))
        let a = try IPCFile(path: dir + "/run-true.arrow", directIO: true)
        let c = try IPCFile(path: dir + "/run-false.arrow")
        #expect(a.batchCount == 5)
        for i in 0..<5 {
            let x = try a.batch(i), y = try c.batch(i)
            #expect(x.length == 60)
            for r in 0..<60 {
                #expect(x.columns[0].values(Int64.self)[r] == y.columns[0].values(Int64.self)[r])
                #expect(Self.blob(x.columns[1], r) == Self.blob(y.columns[1], r))
            }
        }
    }

    static func blob(_ a: ArrayData, _ i: Int) -> [UInt8] {
        guard let offsets = a.buffers[1]?.base?.assumingMemoryBound(to: Int32.self), let base = a.buffers[2]?.base else { return [] }
        let o = (Int(offsets[a.offset + i]), Int(offsets[a.offset + i + 1]))
        return Array(UnsafeRawBufferPointer(start: base + o.0, count: o.1 - o.0))
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
