import CArrowData
import Testing
import Table

/// Export to the C Data Interface and import back, without any C++: layouts, offsets, metadata,
/// nested types and release callbacks.
@Suite struct ArrowCDataTests {
    static func roundTrip(_ batch: RecordBatch) throws -> RecordBatch {
        let schema = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
        let array = UnsafeMutablePointer<ArrowArray>.allocate(capacity: 1)
        defer {
            carrow_release_schema(schema); schema.deallocate()
            array.deallocate()
        }
        ArrowCExport.export(batch.schema, to: schema)
        ArrowCExport.export(batch, to: array)
        let s = try ArrowCImport.schema(from: schema)
        let b = try ArrowCImport.recordBatch(moving: array, schema: s)
        #expect(array.pointee.release == nil, "import must take ownership")
        return b
    }

    @Test(arguments: [
        DataType.int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64, .float32, .float64, .bool,
        .string, .largeString, .binary, .date32, .timestamp(unit: .microsecond, timeZone: "UTC"),
        .decimal128(precision: 10, scale: 3), .fixedSizeBinary(byteWidth: 4),
        .list(Field("item", .int32)), .largeList(Field("item", .float64)),
        .fixedSizeList(Field("item", .float32), size: 5),
        .structure([Field("a", .int64), Field("b", .list(Field("item", .structure([Field("x", .string)]))))]),
    ])
    func formatStringsRoundTrip(type: DataType) {
        #expect(DataType(formatString: type.formatString, children: type.children) == type)
    }

    @Test func primitiveAndStringColumnsRoundTripWithMetadata() throws {
        let schema = Schema([Field("id", .int64, nullable: false, metadata: [("unit", "none")]), Field("name", .string)],
                            metadata: [("origin", "test"), ("k", "v")])
        let batch = RecordBatch(schema: schema, columns: [.primitive(.int64, [Int64(7), 8, 9]), .strings(["a", nil, "ccc"])], length: 3)
        let back = try Self.roundTrip(batch)
        #expect(back.schema == schema)
        #expect(Array(back.columns[0].values(Int64.self)) == [7, 8, 9])
        #expect(back.columns[1].string(at: 0) == "a")
        #expect(back.columns[1].string(at: 1) == nil)
        #expect(back.columns[1].string(at: 2) == "ccc")
        #expect(back.columns[1].nullCount == 1)
    }

    @Test func slicesKeepTheirOffsets() throws {
        let schema = Schema([Field("v", .float64), Field("s", .string)])
        let batch = RecordBatch(schema: schema, columns: [.primitive(.float64, [1.0, 2, 3, 4, 5]), .strings(["a", "b", "c", "d", "e"])], length: 5)
        let back = try Self.roundTrip(batch.slice(2..<4))
        #expect(back.length == 2)
        #expect(Array(back.columns[0].values(Double.self)) == [3, 4])
        #expect(back.columns[1].string(at: 1) == "d")
    }

    @Test func nestedFixedSizeListAndStructRoundTrip() throws {
        let list = ArrayData(type: .fixedSizeList(Field("item", .float32), size: 2), length: 2, nullCount: 0,
                             buffers: [nil], children: [.primitive(.float32, [Float(1), 2, 3, 4])])
        let st = ArrayData(type: .structure([Field("x", .int32)]), length: 2, nullCount: 0, buffers: [nil],
                           children: [.primitive(.int32, [Int32(5), 6])])
        let schema = Schema([Field("l", list.type), Field("s", st.type)])
        let back = try Self.roundTrip(RecordBatch(schema: schema, columns: [list, st], length: 2))
        #expect(back.schema == schema)
        #expect(Array(back.columns[0].children[0].values(Float.self)) == [1, 2, 3, 4])
        #expect(Array(back.columns[1].children[0].values(Int32.self)) == [5, 6])
    }

    @Test func doublesWidenNumericColumns() {
        let f = ArrayData.primitive(.float32, [Float(1.5), -2.25])
        #expect(f.doubles()?.values == [1.5, -2.25])
        let i = ArrayData.primitive(.int32, [Int32(3), 4])
        #expect(i.doubles()?.values == [3, 4])
        #expect(ArrayData.strings(["x"]).doubles() == nil)
    }
}
