import Foundation
import Testing
import Formats
import Table
import TestSupport

/// Avro's binary encoding, written by hand: files no writer would make.
enum AvroBytes {
    /// A zig-zag varint (`long`, `int`, counts and lengths).
    static func long(_ v: Int64) -> [UInt8] {
        var u = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        var out: [UInt8] = []
        while u >= 0x80 {
            out.append(UInt8(u & 0x7f) | 0x80)
            u >>= 7
        }
        out.append(UInt8(u))
        return out
    }

    static func string(_ s: String) -> [UInt8] { long(Int64(s.utf8.count)) + Array(s.utf8) }

    static let sync: [UInt8] = Array(0..<16)

    /// An object container file: the header (`metadataCount` entries claimed, the schema and
    /// codec given), then the blocks with their claimed datum counts.
    static func container(schema: String, codec: String = "null", metadataCount: Int64 = 2,
                          blocks: [(count: Int64, data: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = Array("Obj".utf8) + [1] + long(metadataCount)
        out += string("avro.schema") + string(schema) + string("avro.codec") + string(codec) + long(0) + sync
        for b in blocks { out += long(b.count) + long(Int64(b.data.count)) + b.data + sync }
        return out
    }
}

/// Hostile inputs of the format readers: each is an error that names what is wrong, quickly —
/// never a crash, a trap or an allocation sized by a number in the file.
@Suite("Hostile format inputs")
struct FormatsHostileTests {
    // MARK: Archives

    /// libarchive refuses to open these (its format detection fails in `archive_read_open`):
    /// the error names the file and carries libarchive's message, however often it is tried —
    /// the failed open used to free the handle twice and crash.
    @Test(arguments: [[UInt8](), Array("ab".utf8), Array("this is a text file, not a tarball\n".utf8)])
    func anArchiveLibarchiveCannotOpenIsAnError(_ bytes: [UInt8]) throws {
        let path = try TestSupport.temporaryDirectory("archive").path + "/ztf_public_20200104.tar.gz"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for _ in 0..<3 {
            let error = #expect(throws: FormatError.self) { _ = try ArchiveStream(path: path) }
            #expect(error?.code == .corruptInput)
            #expect(error?.path == path)
            #expect(error?.message.contains("Unrecognized archive format") == true, "\(String(describing: error))")
        }
    }

    // MARK: Avro counts

    /// A target with a list of structs, so every item kind below compiles against it.
    static let listTarget = Schema([Field("xs", .list(Field("element", .structure([Field("a", .int64)]))))])

    /// Array items that take no bytes: null, a record without fields, a record of nulls.
    static let emptyItems: [AvroType] = [
        .null,
        .record(name: "nothing", fields: []),
        .record(name: "nulls", fields: [AvroField(name: "a", type: .null)]),
    ]

    static func decode(_ writer: AvroType, into target: Schema, _ bytes: [UInt8]) throws -> (decoder: AvroDatumDecoder, error: AvroDecodeError?) {
        let decoder = try AvroDatumDecoder(writer: writer, into: target)
        var budget = AvroDatumDecoder.emptyItemLimit
        let error = bytes.withUnsafeBytes { raw -> AvroDecodeError? in
            var r = AvroByteReader(raw)
            do throws(AvroDecodeError) {
                try decoder.decodeRow(&r, emptyItems: &budget)
                return nil
            } catch {
                return error
            }
        }
        return (decoder, error)
    }

    /// 2^62 items of no bytes each take a 9-byte count: refused by the empty-item limit, not
    /// appended one by one (a remaining-bytes check cannot bound them).
    @Test(arguments: emptyItems)
    func anArrayOfItemsOfNoBytesIsBounded(_ item: AvroType) throws {
        let writer = AvroType.record(name: "alert", fields: [AvroField(name: "xs", type: .array(item))])
        let started = ContinuousClock.now
        for count: Int64 in [1 << 62, Int64(AvroDatumDecoder.emptyItemLimit) + 1] {
            let (decoder, error) = try Self.decode(writer, into: Self.listTarget, AvroBytes.long(count) + AvroBytes.long(0))
            guard case .tooManyEmptyItems(let n, let limit) = error else {
                Issue.record("count \(count) of \(item): \(String(describing: error))")
                continue
            }
            #expect(n == UInt64(count) && limit == AvroDatumDecoder.emptyItemLimit)
            #expect(error?.description.contains("take no bytes") == true)
            #expect(decoder.rows == 0, "a datum that fails adds no row")
        }
        // The errors above say the limit refused the counts; the bound (roomy for a loaded
        // machine) only catches a decoder that walks items before refusing them.
        #expect(ContinuousClock.now - started < .seconds(60), "refused before decoding the items")
        // A few such items decode.
        let (fine, error) = try Self.decode(writer, into: Self.listTarget, AvroBytes.long(3) + AvroBytes.long(0))
        #expect(error == nil && fine.rows == 1, "\(String(describing: error))")
    }

    /// A count past what the bytes left can hold, and the count whose magnitude has no `Int64`
    /// (-2^63, which negating would trap on), are errors.
    @Test func arrayCountsPastTheBytesAreErrors() throws {
        let target = Schema([Field("xs", .list(Field("element", .int64)))])
        let longs = AvroType.record(name: "alert", fields: [AvroField(name: "xs", type: .array(.long))])
        let (_, past) = try Self.decode(longs, into: target, AvroBytes.long(1 << 62) + AvroBytes.long(0))
        guard case .countPastData(let n, let itemBytes, _) = past else { Issue.record("\(String(describing: past))"); return }
        #expect(n == 1 << 62 && itemBytes == 1)
        // A record item of two doubles takes 16 bytes: 2 items do not fit 20 bytes.
        let pairs = AvroType.record(name: "alert", fields: [AvroField(name: "xs", type: .array(.record(
            name: "pair", fields: [AvroField(name: "a", type: .double), AvroField(name: "b", type: .double)])))])
        let pairTarget = Schema([Field("xs", .list(Field("element", .structure([Field("a", .float64), Field("b", .float64)]))))])
        let (_, tight) = try Self.decode(pairs, into: pairTarget, AvroBytes.long(2) + [UInt8](repeating: 0, count: 20))
        guard case .countPastData(2, 16, _) = tight else { Issue.record("\(String(describing: tight))"); return }
        // -2^63 items (a negative count is followed by a byte size).
        for writer in [longs, AvroType.record(name: "alert", fields: [AvroField(name: "xs", type: .array(.null))])] {
            let (_, error) = try Self.decode(writer, into: writer == longs ? target : Self.listTarget,
                                             AvroBytes.long(.min) + AvroBytes.long(8) + AvroBytes.long(0))
            #expect(error != nil, "\(writer)")
        }
    }

    /// A block's datum count: datums of at least a byte cannot outnumber the block's bytes;
    /// datums of none (a writer record without fields) share the file's empty-item budget.
    @Test func blockCountsAreBoundedBeforeDecoding() throws {
        let empty = try AvroDatumDecoder(writer: .record(name: "alert", fields: []), into: Schema([Field("a", .int64)]))
        #expect(empty.minimumDatumBytes == 0)
        var budget = AvroDatumDecoder.emptyItemLimit
        #expect(throws: AvroDecodeError.self) { try empty.checkBlock(count: 1 << 62, bytes: 0, emptyItems: &budget) }
        // The budget is the file's, not the block's: many blocks of empty rows cannot add up past it.
        budget = AvroDatumDecoder.emptyItemLimit
        let half = AvroDatumDecoder.emptyItemLimit / 2 + 1
        try empty.checkBlock(count: half, bytes: 0, emptyItems: &budget)
        #expect(throws: AvroDecodeError.self) { try empty.checkBlock(count: half, bytes: 0, emptyItems: &budget) }

        let longs = try AvroDatumDecoder(writer: .record(name: "alert", fields: [AvroField(name: "a", type: .long)]),
                                         into: Schema([Field("a", .int64)]))
        #expect(longs.minimumDatumBytes == 1)
        var unused = 0
        let error = #expect(throws: AvroDecodeError.self) { try longs.checkBlock(count: 1 << 62, bytes: 100, emptyItems: &unused) }
        #expect(error?.description.contains("more than the 100 bytes left") == true, "\(String(describing: error))")
        try longs.checkBlock(count: 100, bytes: 100, emptyItems: &unused)
    }

    /// The header's metadata map count is bounded by the bytes (and -2^63 is not negated).
    @Test(arguments: [Int64.min, 1 << 62, -(1 << 62)])
    func aHeaderMetadataCountPastTheBytesIsAnError(_ count: Int64) throws {
        let bytes = AvroBytes.container(schema: "\"long\"", metadataCount: count, blocks: [])
        let error = #expect(throws: FormatError.self) { _ = try bytes.withUnsafeBytes { try AvroContainer($0) } }
        #expect(error?.code == .corruptInput && error?.location == "header", "\(String(describing: error))")
    }

    /// A deflate block of a 1 MB file that inflates to 1 GiB stops at the inflate limit (256 MiB),
    /// with an error naming the block.
    @Test func aDeflateBlockInflatingToOneGiBIsRefused() throws {
        let path = try TestSupport.temporaryDirectory("avro-bomb").path + "/bomb.avro"
        try TestSupport.runPython(Self.deflateBomb, arguments: [path])
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count < 2 << 20)
        let started = ContinuousClock.now
        let error = #expect(throws: FormatError.self) {
            try bytes.withUnsafeBytes { raw in
                let container = try AvroContainer(raw)
                #expect(container.codec == .deflate)
                try container.forEachBlock(raw) { _, datums, _ in Issue.record("the block inflated to \(datums.count) bytes") }
            }
        }
        #expect(error?.location == "block 0")
        #expect(error?.message.contains("inflates to more than 256 MiB") == true, "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(60))
        // A smaller limit is honoured the same way.
        let small = #expect(throws: FormatError.self) {
            try bytes.withUnsafeBytes { raw in try AvroContainer(raw).forEachBlock(raw, inflatedLimit: 1 << 20) { _, _, _ in } }
        }
        #expect(small?.message.contains("more than 1 MiB") == true, "\(String(describing: small))")
    }

    /// Writes ARGV[1]: an Avro file whose one deflate block is 1 GiB of zeros (64 copies of a
    /// fully flushed 16 MiB block, then the final block).
    static let deflateBomb = TestSupport.avroPythonPrelude + """
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = c.compress(b"\\0" * (1 << 24)) + c.flush(zlib.Z_FULL_FLUSH)
        data = chunk * 64 + c.flush()
        sync = bytes(range(16))
        schema = b'{"type": "record", "name": "alert", "fields": [{"name": "candid", "type": "long"}]}'
        out = b"Obj\\x01" + long(2) + string(b"avro.schema") + string(schema) + string(b"avro.codec") + string(b"deflate") + long(0) + sync
        out += long(1) + long(len(data)) + data + sync
        open(sys.argv[1], "wb").write(out)
        """

    // MARK: WCS

    static func card(_ key: String, _ value: String) -> String {
        (key.padding(toLength: 8, withPad: " ", startingAt: 0) + "= " + value).padding(toLength: 80, withPad: " ", startingAt: 0)
    }

    /// A CD matrix of zeros: wcslib's own message ("Linear transformation matrix is singular"),
    /// read through `wcserr.msg` (a `char *`), with the file and HDU — not the pointer's bytes.
    @Test func aSingularCDMatrixIsReportedInWords() throws {
        let header = [
            Self.card("NAXIS", "2"), Self.card("CTYPE1", "'RA---TAN'"), Self.card("CTYPE2", "'DEC--TAN'"),
            Self.card("CRPIX1", "50"), Self.card("CRPIX2", "50"), Self.card("CRVAL1", "150.1"), Self.card("CRVAL2", "2.2"),
            Self.card("CD1_1", "0"), Self.card("CD1_2", "0"), Self.card("CD2_1", "0"), Self.card("CD2_2", "0"),
        ].joined()
        let error = #expect(throws: FormatError.self) { _ = try WorldCoordinates(header: header, path: "frame.fits", hdu: 3) }
        #expect(error?.path == "frame.fits" && error?.location == "HDU 3")
        #expect(error?.message.contains("matrix is singular") == true, "\(String(describing: error))")
        #expect(error?.message.unicodeScalars.allSatisfy { (0x20..<0x7f).contains($0.value) } == true, "\(String(describing: error))")
        let aligned = #expect(throws: FormatError.self) {
            _ = try WorldCoordinates.tangent(ra: 10, dec: 20, cd: [0, 0, 0, 0], centerX: 5, centerY: 5)
        }
        #expect(aligned?.message.contains("singular") == true, "\(String(describing: aligned))")
    }

    // MARK: CSV

    /// A CSV with one `note` of `long` bytes, after `before` short rows.
    static func csv(_ dir: String, long: Int, before: Int) throws -> String {
        let path = dir + "/long-\(long)-\(before).csv"
        var text = "id,ra,dec,note\n"
        for i in 0..<before { text += "\(i),10.5,20.5,short\n" }
        text += "\(before),11.0,21.0,\(String(repeating: "x", count: long))\n"
        text += "\(before + 1),12.0,22.0,short\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func rows(_ path: String, blockSize: Int) throws -> Int {
        var options = CSVOptions()
        options.blockSize = blockSize
        let reader = try CSVFileReader(path: path, options: options)
        var n = 0
        while let b = try reader.next() { n += b.length }
        return n
    }

    /// A line longer than the block: an error naming the file, saying so and naming the option;
    /// a larger block reads it. First line (the open infers types from it) or later (a batch).
    @Test(arguments: [0, 200])
    func aLineLongerThanTheBlockSaysSoAndNamesTheOption(_ before: Int) throws {
        let dir = try TestSupport.temporaryDirectory("csv-long").path
        let path = try Self.csv(dir, long: 5000, before: before)
        let error = #expect(throws: FormatError.self) { _ = try Self.rows(path, blockSize: 1024) }
        #expect(error?.path == path)
        #expect(error?.message.contains("a line is longer than the CSV block size (1024 bytes)") == true, "\(String(describing: error))")
        #expect(error?.message.contains("--csv-block-size") == true)
        #expect(error.map { CSVFileReader.isLineLongerThanBlock($0) } == true)
        #expect(try Self.rows(path, blockSize: 1 << 16) == before + 2)
    }

    /// A block size outside 1 byte…1 GiB is an error, not a truncated 32-bit size.
    @Test(arguments: [0, -1, (1 << 30) + 1, 1 << 40])
    func aBlockSizeOutOfRangeIsAnError(_ size: Int) throws {
        let dir = try TestSupport.temporaryDirectory("csv-block").path
        let path = try Self.csv(dir, long: 10, before: 1)
        let error = #expect(throws: FormatError.self) { _ = try Self.rows(path, blockSize: size) }
        #expect(error?.code == .invalidArgument && error?.message.contains("block size") == true, "\(String(describing: error))")
    }
}
