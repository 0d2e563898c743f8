import Table

/// Streams a FITS binary table in record batches.
///
/// Each batch is one `ffgtbb` (`fits_read_tblbytes`) read of whole rows, then one pass per column
/// over contiguous memory: gather the column's bytes, byte-swap, apply `TNULL`/`TSCAL`/`TZERO`.
/// `.fits.gz`, `.fits.bz2` (and `.Z`, `.zip`) open directly; cfitsio decompresses them into memory.
///
/// Columns map to Arrow as astropy reads them (see ``FITSColumn/dataType``):
///
/// | TFORM | Arrow |
/// |---|---|
/// | `L` | bool; 0 (undefined) is null |
/// | `X` | `fixed_size_list<bool, r>` (bits, most significant first; astropy's boolean array) |
/// | `B` | uint8 |
/// | `I`, `J`, `K` | int16, int32, int64; with `TZERO` 32768 / 2147483648 / 9223372036854775808 and `TSCAL` 1: uint16, uint32, uint64 |
/// | `E`, `D` | float32, float64 |
/// | `C`, `M` | `fixed_size_list<float32 / float64, 2>` (real, imaginary) |
/// | `A` | string, ending at the first NUL, trailing blanks removed |
/// | any other `TSCAL`/`TZERO` on B, I, J, K, E, D | float64 (`stored × TSCAL + TZERO`) |
/// | `TNULL` on B, I, J, K | those stored values are null |
/// | repeat `r` > 1, or a `TDIM` | one `fixed_size_list<T, r>` column, row-major (C order); field metadata `TDIM` (FITS order, e.g. `(15,5)`) and `shape` (numpy order, `5,15`) |
/// | `A` with `TDIM = (w, d…)` | `fixed_size_list<string, d…>` of `w`-character strings |
/// | `P`/`Q` arrays | `list<T>` (T as above; `PA`/`QA` as one string per row) |
///
/// `TUNIT` becomes the field metadata `unit`. Where astropy and the FITS standard differ, the
/// standard wins and the difference is deliberate: `TSCAL`/`TZERO`/`TNULL` also apply to
/// variable-length arrays (astropy leaves those raw), and undefined logicals are null (astropy
/// reads them as false).
public final class FITSTableReader: BatchReader {
    /// The file read.
    public let path: String
    /// Columns of every batch, in the order asked for (file order by default).
    public let schema: Schema
    /// Rows in the table (`NAXIS2`).
    public let rowCount: Int
    /// The HDU read, as astropy numbers it (0 = primary).
    public let hdu: Int
    /// The HDU's `EXTNAME`, if any.
    public let extensionName: String?
    /// The columns read, in schema order.
    public let columns: [FITSColumn]
    /// "HDU n (EXTNAME)": where errors say they happened.
    public let location: String

    private let file: FITSFile
    private let rowWidth: Int
    private let heapOffset: Int
    private let heapSize: Int
    private let rowsPerRead: Int
    private let maxBatchBytes: Int
    private let rowBuffer: UnsafeMutableRawBufferPointer
    private var nextRow = 0

    /// Opens the table in `hdu` of `path`.
    ///
    /// - Parameters:
    ///   - columns: column names (`TTYPEn`; matched exactly, else case-insensitively) to read, in
    ///     this order; `nil` for all columns in file order.
    ///   - skippingMissing: names in `columns` that the table does not have are left out instead
    ///     of being an error.
    ///   - batchRows: rows per batch at most.
    ///   - maxBatchBytes: bytes of row data (plus heap data for variable-length columns) a batch
    ///     holds at most; batches of wide rows are shorter than `batchRows`. At least one row is
    ///     always read.
    /// - Throws: ``FormatError`` — `.notFound` for a missing file, HDU or column; `.unsupported`
    ///   for an HDU that is not a binary table; `.corruptInput` for a broken header or a file
    ///   too short for its data.
    public init(path: String, hdu: FITSHDUSelector = .firstTable, columns names: [String]? = nil, skippingMissing: Bool = false,
                batchRows: Int = 65_536, maxBatchBytes: Int = 16 << 20) throws {
        guard batchRows > 0, maxBatchBytes > 0 else {
            throw FormatError(.invalidArgument, "batchRows and maxBatchBytes must be positive", path: path)
        }
        self.path = path
        let file = try FITSFile(path: path)
        self.file = file
        let number = try Self.select(hdu, in: file)
        self.hdu = number
        let extname = try file.stringKeyword("EXTNAME").map { $0.fitsBlanksRemoved() }
        extensionName = extname.flatMap { $0.isEmpty ? nil : $0 }
        location = "HDU \(number)" + (extensionName.map { " (\($0))" } ?? "")

        let all = try FITSColumn.readAll(from: file, location: location)
        rowCount = try file.rowCount()
        rowWidth = all.reduce(0) { $0 + $1.byteWidth }
        let pcount = Int(try file.integerKeyword("PCOUNT") ?? 0)
        // Header numbers are data: sizes are computed with overflow checks, so absurd values are
        // a corrupt-input error, not a trap; then the file must really hold that many bytes.
        let (tableBytes, tableOverflow) = rowWidth.multipliedReportingOverflow(by: rowCount)
        let (dataBytes, dataOverflow) = tableBytes.addingReportingOverflow(pcount)
        guard rowCount >= 0, pcount >= 0, !tableOverflow, !dataOverflow else {
            throw FormatError(.corruptInput, "impossible table size: NAXIS1 = \(rowWidth), NAXIS2 = \(rowCount), PCOUNT = \(pcount)",
                              path: path, location: location)
        }
        heapOffset = Int(try file.integerKeyword("THEAP") ?? Int64(tableBytes))  // invariant: Int64 → Int, one width on 64-bit
        guard heapOffset >= tableBytes, heapOffset - tableBytes <= pcount else {
            throw FormatError(.corruptInput, "inconsistent heap: PCOUNT = \(pcount), THEAP = \(heapOffset), table bytes \(tableBytes)",
                              path: path, location: location)
        }
        heapSize = pcount - (heapOffset - tableBytes)
        try Self.checkComplete(file, dataBytes: dataBytes, location: location)

        let location = self.location
        if let names {
            columns = try names.compactMap { name in
                if let c = all.first(where: { $0.name == name }) { return c }
                let folded = all.filter { $0.name.lowercased() == name.lowercased() }
                if folded.isEmpty && skippingMissing { return nil }
                guard folded.count == 1 else {
                    throw FormatError(.notFound, "no column \(name) (columns: \(all.map(\.name).joined(separator: ", ")))",
                                      path: path, location: location)
                }
                return folded[0]
            }
        } else {
            columns = all
        }
        schema = Schema(columns.map(\.field))
        self.batchRows = batchRows
        self.maxBatchBytes = min(maxBatchBytes, 1 << 30)
        // Never more rows than the table has: a one-row table gets a one-row buffer.
        rowsPerRead = rowWidth == 0 ? batchRows : max(1, min(batchRows, self.maxBatchBytes / rowWidth, max(rowCount, 1)))
        rowBuffer = .allocate(byteCount: max(rowsPerRead * rowWidth, 1), alignment: 64)
    }

    /// Rows per batch at most.
    public let batchRows: Int

    deinit { rowBuffer.deallocate() }

    /// The next batch, or `nil` after the last row.
    public func next() throws -> RecordBatch? {
        guard nextRow < rowCount else { return nil }
        var rows = min(rowsPerRead, rowCount - nextRow)
        let raw = UnsafeMutableRawBufferPointer(rebasing: rowBuffer[0..<(rows * rowWidth)])
        do {
            try file.readRowBytes(firstRow: nextRow, into: raw)
        } catch let error as FormatError {
            throw FormatError(error.code, error.message, path: path, location: "\(location), rows \(nextRow + 1)-\(nextRow + rows)")
        }
        let base = UnsafeRawPointer(rowBuffer.baseAddress!)

        // Variable-length columns: descriptors first, which may shorten the batch.
        var descriptors: [Int: FITSDescriptors] = [:]
        for (i, column) in columns.enumerated() where column.isVariableLength {
            descriptors[i] = try FITSDescriptors(column, rows: base, count: rows, stride: rowWidth, firstRow: nextRow,
                                                 heapSize: heapSize, path: path, location: location)
        }
        if !descriptors.isEmpty {
            rows = FITSDescriptors.rowsWithin(maxBatchBytes, descriptors.values.map { $0 }, rows: rows)
        }

        var arrays: [ArrayData] = []
        arrays.reserveCapacity(columns.count)
        for (i, column) in columns.enumerated() {
            if let d = descriptors[i] {
                arrays.append(try readVariable(column, d.prefix(rows)))
            } else {
                arrays.append(Self.decodeFixed(column, rows: base, count: rows, stride: rowWidth))
            }
        }
        nextRow += rows
        return RecordBatch(schema: schema, columns: arrays, length: rows)
    }

    /// The string value of keyword `name` in the table's header, or `nil` (see ``FITSFile/stringKeyword(_:)``).
    public func stringKeyword(_ name: String) throws -> String? { try file.stringKeyword(name) }

    /// The integer value of keyword `name` in the table's header, or `nil`.
    public func integerKeyword(_ name: String) throws -> Int64? { try file.integerKeyword(name) }

    /// The floating-point value of keyword `name` in the table's header, or `nil`.
    public func doubleKeyword(_ name: String) throws -> Double? { try file.doubleKeyword(name) }

    // MARK: - Opening

    private static func select(_ selector: FITSHDUSelector, in file: FITSFile) throws -> Int {
        switch selector {
        case .firstTable:
            var number = 1
            while true {
                let kind: FITSHDUKind
                do {
                    kind = try file.moveTo(hdu: number)
                } catch let e as FormatError where e.code == .notFound {
                    throw FormatError(.notFound, "no binary table in the file (\(number) HDUs)", path: file.path)
                }
                if kind == .binaryTable, try !file.isCompressedImage() { return number }
                number += 1
            }
        case .number(let n):
            try checkTable(try file.moveTo(hdu: n), file, "HDU \(n)")
            return n
        case .name(let name):
            let n = try file.moveTo(extensionName: name)
            try checkTable(try file.hduKind(), file, "HDU \(n) (\(name))")
            return n
        }
    }

    private static func checkTable(_ kind: FITSHDUKind, _ file: FITSFile, _ location: String) throws {
        switch kind {
        case .binaryTable:
            if try file.isCompressedImage() {
                throw FormatError(.unsupported, "a tile-compressed image, not a table", path: file.path, location: location)
            }
        case .image:
            throw FormatError(.unsupported, "an image, not a table", path: file.path, location: location)
        case .asciiTable:
            throw FormatError(.unsupported, "an ASCII table (only binary tables are read)", path: file.path, location: location)
        }
    }

    /// Checks that the file holds all the data its header declares. cfitsio would zero-fill the
    /// missing part silently, so a truncated file fails here, when opened, not mid-stream.
    private static func checkComplete(_ file: FITSFile, dataBytes: Int, location: String) throws {
        let dataStart = try file.hduAddresses().data
        let size = file.physicalSize
        guard size >= dataStart + dataBytes else {
            throw FormatError(.corruptInput,
                              "truncated: the header declares \(dataBytes) data bytes from byte \(dataStart), but the file ends at byte \(size)",
                              path: file.path, location: location)
        }
    }

    // MARK: - Columns

    private static func decodeFixed(_ column: FITSColumn, rows base: UnsafeRawPointer, count: Int, stride: Int) -> ArrayData {
        let values: ArrayData
        switch column.elementType {
        case .character:
            let layout = column.stringLayout
            var builder = FITSStringBuilder(count: count * layout.count, capacity: count * column.byteWidth)
            for r in 0..<count {
                let row = base + r * stride + column.byteOffset
                for k in 0..<layout.count { builder.append(row + k * layout.width, width: layout.width) }
            }
            values = builder.finish()
        case .bit:
            let bits = column.repeatCount
            values = FITSColumn.decodeBits(base + column.byteOffset, slices: count, bits: { _ in bits },
                                           start: { $0 * stride }, total: count * bits)
        default:
            let gathered = FITSColumn.gather(base, rows: count, stride: stride, offset: column.byteOffset, width: column.byteWidth)
            values = column.decodeElements(gathered, count: count * column.repeatCount)
        }
        guard column.isArray else { return values }
        return ArrayData(type: column.dataType, length: count, nullCount: 0, buffers: [nil], children: [values])
    }

    private func readVariable(_ column: FITSColumn, _ d: FITSDescriptors) throws -> ArrayData {
        let here = "\(location), column \(column.name), rows \(nextRow + 1)-\(nextRow + d.counts.count)"
        let heap: OwnedMemory
        do {
            heap = try d.readHeap(file, heapOffset: heapOffset)
        } catch let e as FormatError {
            throw FormatError(e.code, e.message, path: path, location: here)
        }
        let rows = d.counts.count
        switch column.elementType {
        case .character:
            var builder = FITSStringBuilder(count: rows, capacity: d.totalBytes)
            for r in 0..<rows { builder.append(heap.pointer + d.starts[r], width: d.bytes[r]) }
            return builder.finish()
        case .bit:
            let child = FITSColumn.decodeBits(heap.pointer, slices: rows, bits: { d.counts[$0] }, start: { d.starts[$0] },
                                              total: d.totalCount)
            return Self.list(column, child, d)
        default:
            return Self.list(column, column.decodeElements(heap, count: d.totalCount), d)
        }
    }

    private static func list(_ column: FITSColumn, _ child: ArrayData, _ d: FITSDescriptors) -> ArrayData {
        let rows = d.counts.count
        let offsets = OwnedMemory(byteCount: (rows + 1) * 4)
        let o = offsets.pointer.bindMemory(to: Int32.self, capacity: rows + 1)
        var total = 0
        for r in 0..<rows {
            total += d.counts[r]
            o[r + 1] = Int32(total)
        }
        return ArrayData(type: column.dataType, length: rows, nullCount: 0, buffers: [nil, Buffer(offsets)], children: [child])
    }
}
