import Foundation
import Testing
@testable import Formats
import Table

@Suite("FITS table reader")
struct FITSTableReaderTests {
    // MARK: (a) SDSS photoObj

    @Test func sdssPhotoObjShape() throws {
        let path = try FITSTestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let (reader, batches) = try FITSTestSupport.readAll(path)
        #expect(reader.hdu == 1)
        #expect(reader.rowCount == 19)
        #expect(reader.schema.fields.count == 139)
        #expect(batches.count == 1 && batches[0].length == 19)
        let s = reader.schema
        #expect(s.fields[s.index(of: "OBJID")!].type == .string)
        #expect(s.fields[s.index(of: "RUN")!].type == .int16)
        #expect(s.fields[s.index(of: "SKYVERSION")!].type == .uint8)
        #expect(s.fields[s.index(of: "RA")!].type == .float64)
        let fiveBand = ["PSFMAG", "MODELMAG", "EXTINCTION", "PSF_FWHM", "ROWC", "FLAGS", "TAI"]
        for name in fiveBand {
            guard case .fixedSizeList(_, let size) = s.fields[s.index(of: name)!].type else {
                Issue.record("\(name) is \(s.fields[s.index(of: name)!].type)"); continue
            }
            #expect(size == 5, "\(name)")
        }
        let prof = s.fields[s.index(of: "PROFMEAN_NMGY")!]
        #expect(prof.type == .fixedSizeList(Field("item", .float32), size: 75))
        #expect(prof.metadataValue("TDIM") == "(15,5)")
        #expect(prof.metadataValue("shape") == "5,15")
        #expect(s.fields[s.index(of: "PSFMAG")!].metadataValue("shape") == "5")
        #expect(s.fields[s.index(of: "PSFMAG")!].metadataValue("TDIM") == "(5)")
        #expect(s.fields[s.index(of: "RA")!].metadataValue("shape") == nil)
        #expect(s.fields[s.index(of: "OBJID")!].metadata.isEmpty)
        // The first object's id, as astropy reads it.
        #expect(batches[0].column("OBJID")!.string(at: 0) == "1237649768107474963")
    }

    @Test(arguments: [65_536, 4, 1])
    func sdssPhotoObjEqualsAstropy(batchRows: Int) throws {
        let path = try FITSTestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FITSAstropy.compare(path, batchRows: batchRows, in: dir)
    }

    @Test func sdssPhotoObjGzipEqualsAstropy() throws {
        let path = try FITSTestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gz = dir.appendingPathComponent("photoObj [copy].fits.gz").path
        _ = try FITSTestSupport.python("import gzip, shutil, sys\nshutil.copyfileobj(open(sys.argv[1], 'rb'), gzip.open(sys.argv[2], 'wb'))\n",
                                       [path, gz], in: dir)
        try FITSAstropy.compare(gz, batchRows: 7, in: dir)
    }

    // MARK: (b) hats-import test_formats and other real files

    static let realTables: [(file: String, hdu: FITSHDUSelector, rows: Int)] = [
        ("hats-import/test_formats/small_sky.fits", .firstTable, 131),
        ("hats-import/test_formats/tess_gam02_10rows.fits", .name("PIXELS"), 10),
        ("hats-import/test_formats/zall-pix-iron_10rows.fits", .name("zcatalog"), 10),
        ("sdss/frame-r-001000-1-0100.fits.bz2", .firstTable, 1),
        ("sdss/frame-r-001000-1-0100.fits.bz2", .number(3), 1),
        ("sdss/psField-001000-1-0100.fit", .number(1), 4),
        ("sdss/psField-001000-1-0100.fit", .number(6), 1),
        ("sdss/psField-001000-1-0100.fit", .number(7), 5),
        ("sdss/psField-001000-1-0100.fit", .number(8), 5),
        ("sdss/psField-001000-1-0100.fit", .number(9), 1211),
    ]

    @Test(arguments: realTables)
    func realTableEqualsAstropy(file: String, hdu: FITSHDUSelector, rows: Int) throws {
        let path = try FITSTestSupport.fixture(file)
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reader = try FITSTableReader(path: path, hdu: hdu)
        #expect(reader.rowCount == rows)
        try FITSAstropy.compare(path, hdu: hdu, batchRows: 50, in: dir)
    }

    @Test func smallSkyValues() throws {
        let path = try FITSTestSupport.fixture("hats-import/test_formats/small_sky.fits")
        let (reader, batches) = try FITSTestSupport.readAll(path)
        #expect(reader.schema.names == ["id", "ra", "dec", "ra_error", "dec_error", "test_id"])
        #expect(batches.reduce(0) { $0 + $1.length } == 131)
    }

    @Test func smallSkyGzipEqualsAstropy() throws {
        let path = try FITSTestSupport.fixture("hats-import/test_formats/small_sky.fits")
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gz = dir.appendingPathComponent("small_sky.fits.gz").path
        _ = try FITSTestSupport.python("import gzip, shutil, sys\nshutil.copyfileobj(open(sys.argv[1], 'rb'), gzip.open(sys.argv[2], 'wb'))\n",
                                       [path, gz], in: dir)
        let reader = try FITSTableReader(path: gz)
        #expect(reader.rowCount == 131)
        try FITSAstropy.compare(gz, batchRows: 40, in: dir)
    }

    // MARK: Every TFORM

    @Test(arguments: [(65_536, 64 << 20), (3, 64 << 20), (1, 64 << 20), (7, 1)])
    func kitchenSinkEqualsAstropy(batchRows: Int, maxBatchBytes: Int) throws {
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("sink.fits").path
        _ = try FITSTestSupport.python(FITSAstropy.kitchenSinkScript, [path], in: dir)
        try FITSAstropy.compare(path, batchRows: batchRows, maxBatchBytes: maxBatchBytes, in: dir)
    }

    @Test func kitchenSinkTypes() throws {
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("sink.fits").path
        _ = try FITSTestSupport.python(FITSAstropy.kitchenSinkScript, [path], in: dir)
        let (reader, batches) = try FITSTestSupport.readAll(path, hdu: .name("sink"))
        #expect(reader.extensionName == "SINK")
        func type(_ name: String) -> DataType? { reader.schema.fields.first { $0.name == name }?.type }
        func list(_ t: DataType, _ n: Int) -> DataType { .fixedSizeList(Field("item", t), size: n) }
        #expect(type("LOG") == .bool)
        #expect(type("LOG3") == list(.bool, 3))
        #expect(type("BIT1") == list(.bool, 1))
        #expect(type("BITS11") == list(.bool, 11))
        #expect(type("UB") == .uint8)
        #expect(type("SB") == .float64)  // TZERO = -128 on B: astropy scales to float64
        #expect(type("U16") == .uint16)
        #expect(type("U32") == .uint32)
        #expect(type("U64") == .uint64)
        #expect(type("SCALEDI") == .float64)
        #expect(type("ESCALED") == .float64)
        #expect(type("CPX") == list(.float32, 2))
        #expect(type("DCPX") == list(.float64, 2))
        #expect(type("CPX2") == list(list(.float32, 2), 2))
        #expect(type("STR") == .string)
        #expect(type("STRARR") == list(.string, 3))
        #expect(type("ARR3D") == list(.float32, 24))
        #expect(type("ONE") == .float32)
        #expect(type("ONEDIM") == list(.float32, 1))
        #expect(type("VLAE") == .list(Field("item", .float32)))
        #expect(type("VLAD") == .list(Field("item", .float64)))
        #expect(type("VLAA") == .string)
        #expect(type("VLAL") == .list(Field("item", .bool)))
        #expect(type("VLAC") == .list(Field("item", list(.float32, 2))))
        #expect(type("VLAI") == .list(Field("item", .float64)))
        let arr3d = reader.schema.fields.first { $0.name == "ARR3D" }!
        #expect(arr3d.metadataValue("TDIM") == "(4,3,2)")
        #expect(arr3d.metadataValue("shape") == "2,3,4")
        #expect(reader.schema.fields.first { $0.name == "ARR2D" }!.metadataValue("unit") == "adu")
        let log = batches[0].column("LOG")!
        #expect(log.nullCount == 2 && !log.isValid(2) && !log.isValid(6) && log.isValid(0))
        let strings = batches[0].column("STR")!
        #expect((0..<7).map { strings.string(at: $0)! } == ["abc", "  lead", "", "trail", "12345678", "x", "a b"])
    }

    /// A table with one `PD(100)` column of 5 rows written byte by byte: 100 doubles per row,
    /// rows stored in the heap in reverse order, optionally with one bad descriptor.
    private func variableLengthTable(badDescriptorRow: Int? = nil) -> [UInt8] {
        var primary = FITSHeader()
        primary.card("SIMPLE", logical: true)
        primary.card("BITPIX", integer: 8)
        primary.card("NAXIS", integer: 0)
        primary.card("EXTEND", logical: true)
        primary.end()
        var table = FITSHeader()
        table.card("XTENSION", string: "BINTABLE")
        table.card("BITPIX", integer: 8)
        table.card("NAXIS", integer: 2)
        table.card("NAXIS1", integer: 8)
        table.card("NAXIS2", integer: 5)
        table.card("PCOUNT", integer: 4000)
        table.card("GCOUNT", integer: 1)
        table.card("TFIELDS", integer: 1)
        table.card("TTYPE1", string: "V")
        table.card("TFORM1", string: "PD(100)")
        table.end()
        var data: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.bigEndian) { data += $0 } }
        for r in 0..<5 {
            put(Int32(100))
            put(Int32(r == badDescriptorRow ? 3500 : (4 - r) * 800))
        }
        for slot in 0..<5 {
            let r = 4 - slot
            for j in 0..<100 { put((Double(r * 1000 + j)).bitPattern) }
        }
        data += [UInt8](repeating: 0, count: (2880 - data.count % 2880) % 2880)
        return primary.bytes + table.bytes + data
    }

    @Test(arguments: [(65_536, 16 << 20, [5]), (65_536, 2000, [2, 2, 1]), (2, 16 << 20, [2, 2, 1]), (65_536, 1, [1, 1, 1, 1, 1])])
    func variableLengthBatches(batchRows: Int, maxBatchBytes: Int, lengths: [Int]) throws {
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("vla.fits").path
        try Data(variableLengthTable()).write(to: URL(fileURLWithPath: path))
        let (reader, batches) = try FITSTestSupport.readAll(path, batchRows: batchRows, maxBatchBytes: maxBatchBytes)
        #expect(reader.schema.fields[0].type == .list(Field("item", .float64)))
        #expect(batches.map(\.length) == lengths)
        var values: [Double] = []
        for b in batches {
            for v in FITSTestSupport.leaves(b.columns[0]).values {
                if case .double(let d)? = v { values.append(d) }
            }
        }
        #expect(values == (0..<5).flatMap { r in (0..<100).map { Double(r * 1000 + $0) } })
        // And astropy agrees.
        try FITSAstropy.compare(path, batchRows: batchRows, maxBatchBytes: maxBatchBytes, in: dir)
    }

    @Test func badDescriptor() throws {
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad-vla.fits").path
        try Data(variableLengthTable(badDescriptorRow: 3)).write(to: URL(fileURLWithPath: path))
        let reader = try FITSTableReader(path: path)
        do {
            _ = try reader.next()
            Issue.record("no error")
        } catch let e as FormatError {
            #expect(e.code == .corruptInput && e.path == path)
            #expect(e.location == "HDU 1, column V, row 4", "\(e)")
        }
    }

    @Test func columnSelection() throws {
        let path = try FITSTestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let (reader, batches) = try FITSTestSupport.readAll(path, columns: ["PSFMAG", "ra", "DEC"], batchRows: 5)
        #expect(reader.schema.names == ["PSFMAG", "RA", "DEC"])
        #expect(batches.map(\.length) == [5, 5, 5, 4])
        let all = try FITSTestSupport.readAll(path)
        let ra = all.batches[0].column("RA")!.values(Double.self)
        #expect(Array(batches[1].column("RA")!.values(Double.self)) == Array(ra[5..<10]))
        #expect(throws: FormatError.self) { try FITSTableReader(path: path, columns: ["NO_SUCH_COLUMN"]) }
        do {
            _ = try FITSTableReader(path: path, columns: ["NO_SUCH_COLUMN"])
        } catch let e as FormatError {
            #expect(e.code == .notFound && e.path == path && e.message.contains("NO_SUCH_COLUMN"))
        }
        let none = try FITSTableReader(path: path, columns: [])
        #expect(none.schema.fields.isEmpty)
        #expect(try none.next()?.length == 19)
    }

    @Test func hduSelection() throws {
        let photo = try FITSTestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let frame = try FITSTestSupport.fixture("sdss/frame-r-001000-1-0100.fits.bz2")
        #expect(try FITSTableReader(path: frame).hdu == 2)  // HDU 1 is an image
        func code(_ body: () throws -> Void) -> FormatError.Code? {
            do { try body(); return nil } catch let e as FormatError { return e.code } catch { return nil }
        }
        #expect(code { _ = try FITSTableReader(path: photo, hdu: .number(0)) } == .unsupported)
        #expect(code { _ = try FITSTableReader(path: frame, hdu: .number(1)) } == .unsupported)
        #expect(code { _ = try FITSTableReader(path: photo, hdu: .number(2)) } == .notFound)
        #expect(code { _ = try FITSTableReader(path: photo, hdu: .name("NOPE")) } == .notFound)
        #expect(code { _ = try FITSTableReader(path: photo + ".missing") } == .notFound)
        #expect(code { _ = try FITSTableReader(path: photo, batchRows: 0) } == .invalidArgument)
        // A file with only an image: no table to find.
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var header = FITSHeader()
        header.card("SIMPLE", logical: true)
        header.card("BITPIX", integer: 8)
        header.card("NAXIS", integer: 0)
        header.end()
        let imageOnly = dir.appendingPathComponent("image-only.fits").path
        try Data(header.bytes).write(to: URL(fileURLWithPath: imageOnly))
        #expect(code { _ = try FITSTableReader(path: imageOnly) } == .notFound)
    }

    @Test func hduSelectorCodable() throws {
        let cases: [FITSHDUSelector] = [.firstTable, .number(0), .number(3), .name("SPECOBJ"), .name("firstTable")]
        for c in cases {
            let data = try JSONEncoder().encode([c])
            #expect(try JSONDecoder().decode([FITSHDUSelector].self, from: data) == [c], "\(String(decoding: data, as: UTF8.self))")
        }
        #expect(try JSONDecoder().decode([FITSHDUSelector].self, from: Data(#"[2, "ZCAT", {"number": 1}]"#.utf8))
                == [.number(2), .name("ZCAT"), .number(1)])
    }

    @Test func fitsFileBasics() throws {
        let path = try FITSTestSupport.fixture("hats-import/test_formats/tess_gam02_10rows.fits")
        try FITSFile.withOpened(path) { (file: FITSFile) throws in
            #expect(try file.hduCount() == 2)
            #expect(try file.moveTo(hdu: 0) == .image)
            #expect(try file.booleanKeyword("SIMPLE") == true)
            #expect(try file.moveTo(extensionName: "pixels") == 1)
            #expect(try file.hduKind() == .binaryTable)
            #expect(try file.stringKeyword("EXTNAME") == "PIXELS")
            #expect(try file.integerKeyword("NAXIS2") == 10)
            #expect(try file.stringKeyword("NO_SUCH_KEY") == nil)
            #expect(try file.keywordValue("TFORM1") == "'D       '")
            #expect(try file.moveToNextHDU() == nil)
        }
        #expect(FITSStatus.endOfFile.description.lowercased().contains("end of file"))
    }

    // MARK: (c) Corrupt files

    /// Runs `body` expecting a `.corruptInput` error naming `path`.
    private func expectCorrupt(_ path: String, hdu: String? = nil, _ body: () throws -> Void,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("no error for \(path)", sourceLocation: sourceLocation)
        } catch let e as FormatError {
            #expect(e.code == .corruptInput, "\(e)", sourceLocation: sourceLocation)
            #expect(e.path == path, "\(e)", sourceLocation: sourceLocation)
            #expect(e.description.contains(path), sourceLocation: sourceLocation)
            if let hdu { #expect(e.location?.contains(hdu) == true, "\(e)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    private func copy(_ source: String, to dir: URL, as name: String, _ edit: (inout [UInt8]) -> Void) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        edit(&bytes)
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func replace(_ bytes: inout [UInt8], _ old: String, _ new: String) {
        let o = Array(old.utf8), n = Array(new.utf8)
        precondition(o.count == n.count)
        for i in 0...(bytes.count - o.count) where Array(bytes[i..<(i + o.count)]) == o {
            bytes.replaceSubrange(i..<(i + o.count), with: n)
            return
        }
        Issue.record("\(old) not found")
    }

    @Test func truncatedData() throws {
        let source = try FITSTestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Headers: primary 2880, table header 304 cards = 9 blocks; cut in the middle of the rows.
        let path = try copy(source, to: dir, as: "truncated.fits") { $0.removeLast($0.count - (2880 * 10 + 30_000)) }
        expectCorrupt(path, hdu: "HDU 1") { _ = try FITSTableReader(path: path) }
    }

    @Test func truncatedHeader() throws {
        let source = try FITSTestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try copy(source, to: dir, as: "cut-header.fits") { $0.removeLast($0.count - (2880 + 4000)) }
        expectCorrupt(path) { _ = try FITSTableReader(path: path) }
    }

    @Test func brokenHeaders() throws {
        let source = try FITSTestSupport.fixture("hats-import/test_formats/small_sky.fits")
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let badTFORM = try copy(source, to: dir, as: "bad-tform.fits") { replace(&$0, "TFORM2  = 'D", "TFORM2  = 'W") }
        expectCorrupt(badTFORM, hdu: "HDU 1") { _ = try FITSTableReader(path: badTFORM) }
        let badNAXIS1 = try copy(source, to: dir, as: "bad-naxis1.fits") { replace(&$0, "NAXIS1  =                   48", "NAXIS1  =                   47") }
        expectCorrupt(badNAXIS1, hdu: "HDU 1") { _ = try FITSTableReader(path: badNAXIS1) }
        let noSimple = try copy(source, to: dir, as: "no-simple.fits") { replace(&$0, "SIMPLE  =", "SIMPLX  =") }
        expectCorrupt(noSimple, hdu: "HDU 0") { _ = try FITSTableReader(path: noSimple) }
        let garbage = dir.appendingPathComponent("garbage.fits").path
        try Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: garbage))
        expectCorrupt(garbage) { _ = try FITSTableReader(path: garbage) }
    }

    @Test func truncatedGzip() throws {
        let source = try FITSTestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gz = dir.appendingPathComponent("whole.fits.gz").path
        _ = try FITSTestSupport.python("import gzip, shutil, sys\nshutil.copyfileobj(open(sys.argv[1], 'rb'), gzip.open(sys.argv[2], 'wb'))\n",
                                       [source, gz], in: dir)
        let path = try copy(gz, to: dir, as: "cut.fits.gz") { $0.removeLast($0.count / 2) }
        expectCorrupt(path) { _ = try FITSTableReader(path: path) }
        let scrambled = try copy(gz, to: dir, as: "scrambled.fits.gz") { bytes in
            for i in 2000..<2100 { bytes[i] ^= 0x5A }
        }
        expectCorrupt(scrambled) { _ = try FITSTableReader(path: scrambled) }
    }

    @Test func errorsCarryCfitsioMessages() throws {
        let source = try FITSTestSupport.fixture("hats-import/test_formats/small_sky.fits")
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try copy(source, to: dir, as: "no-simple.fits") { replace(&$0, "SIMPLE  =", "SIMPLX  =") }
        do {
            _ = try FITSTableReader(path: path)
            Issue.record("no error")
        } catch let e as FormatError {
            // cfitsio's status text and at least one message of its stack.
            #expect(e.message.contains("cfitsio status"), "\(e)")
            #expect(e.message.contains(":"), "\(e)")
        }
    }
}
