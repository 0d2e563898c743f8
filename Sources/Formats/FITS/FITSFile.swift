import CFITSIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kind of a header-data unit.
public enum FITSHDUKind: String, Sendable, Codable {
    /// The primary array or an `IMAGE` extension.
    case image
    /// A `TABLE` (ASCII table) extension.
    case asciiTable
    /// A `BINTABLE` extension (tile-compressed images are binary tables too; see
    /// ``FITSFile/isCompressedImage()``).
    case binaryTable
}

/// An open FITS file: one cfitsio `fitsfile*`, closed when the object goes away.
///
/// HDUs are numbered as astropy counts them: 0 is the primary HDU, 1 the first extension.
/// Every failing call throws a ``FormatError`` carrying cfitsio's status text and its error
/// stack, read at the moment of failure, with the file and HDU in ``FormatError/location``.
///
/// The file is opened with `ffdkopn` (`fits_open_diskfile`): the path is taken literally (no
/// extended filename syntax, so `[` or `(` in a name are harmless); `.gz`, `.bz2`, `.Z` and
/// `.zip` files are decompressed by cfitsio into memory while opening.
///
/// Not thread-safe: use one `FITSFile` from one task at a time (different files may be read in
/// parallel; Debian's cfitsio is built reentrant).
public final class FITSFile {
    /// How the file is opened.
    public enum Mode: Sendable {
        case readOnly, readWrite
    }

    /// The file's path, as given.
    public let path: String
    let handle: UnsafeMutablePointer<fitsfile>
    /// For a `.bz2` file opened read-only: its decompressed bytes, and the two cells cfitsio's
    /// memory driver keeps pointers to (`ffomem` stores the addresses), alive until `ffclos`.
    private let memory: BZip2Memory?
    private let memoryCells: (UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutablePointer<Int>)?

    /// Opens `path`. The corresponding cfitsio function is `ffdkopn` (`fits_open_diskfile`);
    /// a `.bz2` file opened read-only is decompressed by ``BZip2Memory`` (outside cfitsio's
    /// global lock, so workers decompress in parallel) and opened from memory (`ffomem`).
    public init(path: String, mode: Mode = .readOnly) throws {
        self.path = path
        var st = stat()
        guard stat(path, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            throw FormatError(errno == ENOENT ? .notFound : .io, "cannot open FITS file: \(reason)", path: path)
        }
        var pointer: UnsafeMutablePointer<fitsfile>? = nil
        var status: CInt = 0
        if mode == .readOnly && path.lowercased().hasSuffix(".bz2") {
            let bytes = try BZip2Memory(path: path)
            let address = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
            let size = UnsafeMutablePointer<Int>.allocate(capacity: 1)
            address.pointee = bytes.base
            size.pointee = bytes.count
            ffomem(&pointer, path, READONLY, address, size, 0, nil, &status)
            guard status == 0, let pointer else {
                if let pointer { var ignored: CInt = 0; ffclos(pointer, &ignored) }
                address.deallocate(); size.deallocate()
                throw FormatError.fits(status, path: path, location: "HDU 0", doing: "opening the decompressed file")
            }
            memory = bytes
            memoryCells = (address, size)
            handle = pointer
            return
        }
        ffdkopn(&pointer, path, mode == .readOnly ? READONLY : READWRITE, &status)
        guard status == 0, let pointer else {
            if let pointer { var ignored: CInt = 0; ffclos(pointer, &ignored) }
            throw FormatError.fits(status, path: path, location: "HDU 0", doing: "opening the file")
        }
        memory = nil
        memoryCells = nil
        handle = pointer
    }

    deinit {
        var status: CInt = 0
        ffclos(handle, &status)
        if status != 0 { _ = FITSErrorStack.drain() }
        // `memory` (the decompressed bytes) is released after this, once cfitsio has let go.
        if let (address, size) = memoryCells {
            address.deallocate()
            size.deallocate()
        }
    }

    /// Opens `path`, runs `body` with the file, and closes it when `body` returns or throws.
    public static func withOpened<R>(_ path: String, mode: Mode = .readOnly, _ body: (FITSFile) throws -> R) throws -> R {
        let file = try FITSFile(path: path, mode: mode)
        return try withExtendedLifetime(file) { try body(file) }
    }

    // MARK: - Calling cfitsio

    /// Runs one cfitsio call, throwing its status and message stack if it fails.
    @discardableResult
    func call<R>(_ action: @autoclosure () -> String? = nil, location: @autoclosure () -> String? = nil,
                 _ body: (inout CInt) -> R) throws -> R {
        var status: CInt = 0
        let result = body(&status)
        if status != 0 {
            throw FormatError.fits(status, path: path, location: location() ?? hduLocation, doing: action())
        }
        return result
    }

    /// "HDU n" for the current HDU (astropy numbering).
    var hduLocation: String { "HDU \(currentHDU)" }

    // MARK: - HDUs

    /// Number of HDUs in the file (`ffthdu`, `fits_get_num_hdus`). This reads every header.
    public func hduCount() throws -> Int {
        var count: CInt = 0
        try call("counting HDUs") { ffthdu(handle, &count, &$0) }
        return Int(count)
    }

    /// The current HDU, 0 for the primary (`ffghdn`, `fits_get_hdu_num`, minus one).
    public var currentHDU: Int {
        var number: CInt = 0
        ffghdn(handle, &number)
        return Int(number) - 1
    }

    /// Moves to HDU `number` (0 = primary) and returns its kind (`ffmahd`, `fits_movabs_hdu`).
    /// A number past the last HDU throws ``FormatError/Code/notFound``.
    @discardableResult
    public func moveTo(hdu number: Int) throws -> FITSHDUKind {
        guard number >= 0 else { throw FormatError(.notFound, "no HDU \(number)", path: path, location: "HDU \(number)") }
        var type: CInt = 0
        var status: CInt = 0
        ffmahd(handle, CInt(number + 1), &type, &status)
        if status == FITSStatus.endOfFile.rawValue || status == FITSStatus.badHDUNumber.rawValue {
            _ = FITSErrorStack.drain()
            throw FormatError(.notFound, "the file has no HDU \(number)", path: path, location: "HDU \(number)")
        }
        if status != 0 {
            throw FormatError.fits(status, path: path, location: "HDU \(number)", doing: "reading the header")
        }
        return try Self.kind(type, path: path, location: "HDU \(number)")
    }

    /// Moves to the first HDU whose `EXTNAME` (or `HDUNAME`) is `name`, case-insensitively, and
    /// returns its number (`ffmnhd`, `fits_movnam_hdu`). Throws ``FormatError/Code/notFound``
    /// when there is none.
    @discardableResult
    public func moveTo(extensionName name: String) throws -> Int {
        var status: CInt = 0
        var cName = Array(name.utf8CString)
        ffmnhd(handle, ANY_HDU, &cName, 0, &status)
        if status == 301 {  // BAD_HDU_NUM: no such name
            _ = FITSErrorStack.drain()
            throw FormatError(.notFound, "no HDU named \(name)", path: path, location: "EXTNAME \(name)")
        }
        if status != 0 {
            throw FormatError.fits(status, path: path, location: "EXTNAME \(name)", doing: "looking for HDU \(name)")
        }
        return currentHDU
    }

    /// Moves to the next HDU, returning its kind, or `nil` after the last one (`ffmrhd`).
    public func moveToNextHDU() throws -> FITSHDUKind? {
        let next = currentHDU + 1
        var type: CInt = 0
        var status: CInt = 0
        ffmrhd(handle, 1, &type, &status)
        if status == FITSStatus.endOfFile.rawValue {
            _ = FITSErrorStack.drain()
            return nil
        }
        if status != 0 {
            throw FormatError.fits(status, path: path, location: "HDU \(next)", doing: "reading the header")
        }
        return try Self.kind(type, path: path, location: "HDU \(next)")
    }

    /// The kind of the current HDU (`ffghdt`, `fits_get_hdu_type`).
    public func hduKind() throws -> FITSHDUKind {
        var type: CInt = 0
        try call("reading the HDU type") { ffghdt(handle, &type, &$0) }
        return try Self.kind(type, path: path, location: hduLocation)
    }

    /// True when the current HDU is a tile-compressed image stored as a binary table
    /// (`fits_is_compressed_image`).
    public func isCompressedImage() throws -> Bool {
        try call("checking for a compressed image") { fits_is_compressed_image(handle, &$0) } != 0
    }

    private static func kind(_ type: CInt, path: String, location: String) throws -> FITSHDUKind {
        switch type {
        case IMAGE_HDU: return .image
        case ASCII_TBL: return .asciiTable
        case BINARY_TBL: return .binaryTable
        default: throw FormatError(.corruptInput, "unknown HDU type \(type)", path: path, location: location)
        }
    }

    /// Byte offsets in the (decompressed) file of the current HDU's header, data and end
    /// (`ffghadll`, `fits_get_hduaddrll`).
    public func hduAddresses() throws -> (header: Int, data: Int, end: Int) {
        var header: Int64 = 0, data: Int64 = 0, end: Int64 = 0
        try call("reading the HDU addresses") { ffghadll(handle, &header, &data, &end, &$0) }
        return (Int(header), Int(data), Int(end))
    }

    /// Size in bytes of the file as cfitsio holds it (decompressed for `.gz`/`.bz2`): the
    /// physical size, not the logical one. cfitsio zero-fills reads past the physical end of a
    /// file (`ffldrc`), so a truncated file is only detected by comparing an HDU's extent with
    /// this size. Read from cfitsio's `FITSfile.filesize`, which `fitsio.h` declares.
    public var physicalSize: Int { Int(handle.pointee.Fptr.pointee.filesize) }

    // MARK: - Keywords

    /// Runs a keyword read whose "keyword not found" / "value undefined" status means absent:
    /// returns false then (discarding the messages cfitsio pushed), true on success, and throws
    /// with cfitsio's message stack on any other failure.
    private func readOptional(_ name: String, _ body: (inout CInt) -> Void) throws -> Bool {
        var status: CInt = 0
        ffpmrk()
        body(&status)
        if status == 0 || status == FITSStatus.keywordNotFound.rawValue || status == FITSStatus.valueUndefined.rawValue {
            ffcmrk()
            return status == 0
        }
        let error = FormatError.fits(status, path: path, location: hduLocation, doing: "reading keyword \(name)")
        ffcmrk()
        throw error
    }

    /// The raw value text of keyword `name` in the current header (quotes kept for strings), or
    /// `nil` when the keyword is absent or blank (`ffgkey`, `fits_read_keyword`).
    public func keywordValue(_ name: String) throws -> String? {
        var value = [CChar](repeating: 0, count: Int(FLEN_VALUE) + 1)
        guard try readOptional(name, { ffgkey(handle, name, &value, nil, &$0) }) else { return nil }
        let text = String(fitsCString: value).fitsBlanksRemoved()
        return text.isEmpty ? nil : text
    }

    /// The string value of keyword `name` (long strings continued with `CONTINUE` included), with
    /// trailing blanks removed, or `nil` when absent or undefined (`ffgkls`, `fits_read_key_longstr`).
    public func stringKeyword(_ name: String) throws -> String? {
        var value: UnsafeMutablePointer<CChar>? = nil
        defer { if let value { var s: CInt = 0; fffree(value, &s) } }
        guard try readOptional(name, { ffgkls(handle, name, &value, nil, &$0) }) else { return nil }
        return value.map { String(cString: $0).fitsTrailingBlanksRemoved() }
    }

    /// The integer value of keyword `name`, or `nil` when absent (`ffgkyjj`, `fits_read_key_lnglng`).
    public func integerKeyword(_ name: String) throws -> Int64? {
        var value: Int64 = 0
        return try readOptional(name, { ffgkyjj(handle, name, &value, nil, &$0) }) ? value : nil
    }

    /// The floating-point value of keyword `name`, or `nil` when absent (`ffgkyd`, `fits_read_key_dbl`).
    public func doubleKeyword(_ name: String) throws -> Double? {
        var value: Double = 0
        return try readOptional(name, { ffgkyd(handle, name, &value, nil, &$0) }) ? value : nil
    }

    /// The logical value of keyword `name`, or `nil` when absent (`ffgkyl`, `fits_read_key_log`).
    public func booleanKeyword(_ name: String) throws -> Bool? {
        var value: CInt = 0
        return try readOptional(name, { ffgkyl(handle, name, &value, nil, &$0) }) ? value != 0 : nil
    }

    // MARK: - Tables

    /// Number of columns of the current table (`ffgncl`, `fits_get_num_cols`).
    public func columnCount() throws -> Int {
        var count: CInt = 0
        try call("counting columns") { ffgncl(handle, &count, &$0) }
        return Int(count)
    }

    /// Number of rows of the current table (`ffgnrwll`, `fits_get_num_rowsll`).
    public func rowCount() throws -> Int {
        var count: Int64 = 0
        try call("counting rows") { ffgnrwll(handle, &count, &$0) }
        return Int(count)
    }

    /// Reads `into.count` consecutive bytes of the current table starting at the first byte of
    /// row `firstRow` (0-based), spanning as many rows as needed (`ffgtbb`, `fits_read_tblbytes`).
    public func readRowBytes(firstRow: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        try call("reading table bytes", location: "\(hduLocation), from row \(firstRow + 1)") {
            ffgtbb(handle, Int64(firstRow + 1), 1, Int64(buffer.count), base.assumingMemoryBound(to: UInt8.self), &$0)
        }
    }

    /// Reads `into.count` bytes of the current HDU's data unit starting `offset` bytes after its
    /// start — for binary tables, the heap as well as the rows (`ffgextn`, `fits_read_ext`).
    public func readDataBytes(offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        try call("reading data bytes", location: "\(hduLocation), data bytes \(offset)..<\(offset + buffer.count)") {
            ffgextn(handle, Int64(offset), Int64(buffer.count), base, &$0)
        }
    }
}
