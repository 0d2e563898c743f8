import CHDF5
import Foundation

/// The element type of an HDF5 dataset or attribute, as AstroPile writes them: little-endian
/// numbers, booleans as h5py stores numpy `bool` (an `int8` enum `FALSE = 0, TRUE = 1`), and
/// fixed-length byte strings (numpy `S<n>`, null-padded).
public enum HDF5ElementType: Equatable, Sendable {
    case float32, float64, int64, int32, int16, int8, uint8, bool
    case fixedString(Int)

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: 4
        case .float64, .int64: 8
        case .int16: 2
        case .int8, .uint8, .bool: 1
        case .fixedString(let n): max(n, 1)
        }
    }
}

/// An error from the HDF5 library: what was being done, to which file, and HDF5's own error
/// stack (function names and descriptions).
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let doing: String
    public let message: String
    public var description: String { "\(path): HDF5 failed \(doing): \(message.isEmpty ? "no message" : message)" }

    static func current(_ path: String, _ doing: String) -> HDF5Error {
        var buffer = [CChar](repeating: 0, count: 2048)
        ap_h5_error_message(&buffer, buffer.count)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return HDF5Error(path: path, doing: doing, message: String(decoding: bytes, as: UTF8.self))
    }
}

/// One HDF5 file, through Debian's libhdf5 (built thread-safe: one global lock inside the
/// library). Written files are created under a temporary name and renamed by ``close()``
/// after an fsync, so a file with the final name is always complete.
///
/// Datasets AstroPile writes are either contiguous (small per-object columns) or chunked one
/// row per chunk with HDF5's built-in shuffle + deflate filters, which h5py reads with no
/// plugin (DESIGN.md §5). Objects carry no modification times, so the same data written the
/// same way give byte-identical files (resumed runs compare equal).
public final class HDF5File {
    /// `create`: a new file; `readOnly`; `update`: a copy of an existing file, opened for
    /// writing and renamed over the original by ``close()`` (the original stays whole until then).
    public enum Mode { case create, readOnly, update }

    public let path: String
    let id: hid_t
    private let temporary: String?
    private var closed = false


    /// Creates a new file (at a temporary name until ``close()``) or opens one for reading.
    public init(path: String, mode: Mode) throws {
        // HDF5's automatic error printing is per thread in thread-safe builds: turned off on
        // every thread that opens a file (errors are reported through HDF5Error instead).
        ap_h5_silence_errors()
        self.path = path
        switch mode {
        case .create:
            let tmp = AtomicFile.temporaryPath(for: path)
            temporary = tmp
            // No modification times in object headers: the same data give the same bytes.
            let fcpl = H5Pcreate(ap_h5p_file_create())
            H5Pset_obj_track_times(fcpl, false)
            id = H5Fcreate(tmp, ap_h5f_acc_trunc(), fcpl, ap_h5p_default())
            H5Pclose(fcpl)
            guard id >= 0 else { throw HDF5Error.current(path, "creating the file") }
        case .readOnly:
            temporary = nil
            guard FileManager.default.fileExists(atPath: path) else {
                throw FormatError(.notFound, "no such HDF5 file", path: path)
            }
            id = H5Fopen(path, ap_h5f_acc_rdonly(), ap_h5p_default())
            guard id >= 0 else { throw HDF5Error.current(path, "opening the file (not an HDF5 file?)") }
        case .update:
            let tmp = AtomicFile.temporaryPath(for: path)
            AtomicFile.remove(tmp)
            do { try FileManager.default.copyItem(atPath: path, toPath: tmp) } catch {
                throw FormatError(.notFound, "cannot copy the file to update it: \(error.localizedDescription)", path: path)
            }
            temporary = tmp
            id = H5Fopen(tmp, ap_h5f_acc_rdwr(), ap_h5p_default())
            guard id >= 0 else {
                AtomicFile.remove(tmp)
                throw HDF5Error.current(path, "opening the file for update (not an HDF5 file?)")
            }
        }
    }

    deinit {
        if !closed {
            H5Fclose(id)
            if let temporary { AtomicFile.remove(temporary) }
        }
    }

    /// Closes the file; a created file is flushed, fsynced and renamed to its final path
    /// (`durable: false`: renamed without the fsyncs, for a batch made durable at once with
    /// ``AtomicFile/flushAll()`` before it is recorded).
    public func close(durable: Bool = true) throws {
        guard !closed else { return }
        closed = true
        guard H5Fclose(id) >= 0 else {
            if let temporary { AtomicFile.remove(temporary) }
            throw HDF5Error.current(path, "closing the file")
        }
        if let temporary { try AtomicFile.commit(temporary: temporary, to: path, durable: durable) }
    }

    // MARK: - Types

    /// The HDF5 type for `type`; the caller closes it (``closeType``) when it is not a
    /// predefined one.
    static func h5type(_ type: HDF5ElementType) -> (id: hid_t, owned: Bool) {
        switch type {
        case .float32: (ap_h5t_ieee_f32le(), false)
        case .float64: (ap_h5t_ieee_f64le(), false)
        case .int64: (ap_h5t_std_i64le(), false)
        case .int32: (ap_h5t_std_i32le(), false)
        case .int16: (ap_h5t_std_i16le(), false)
        case .int8: (ap_h5t_std_i8le(), false)
        case .uint8: (ap_h5t_std_u8le(), false)
        case .bool:
            {
                let t = H5Tenum_create(ap_h5t_native_int8())
                var f: Int8 = 0, tr: Int8 = 1
                H5Tenum_insert(t, "FALSE", &f)
                H5Tenum_insert(t, "TRUE", &tr)
                return (t, true)
            }()
        case .fixedString(let n):
            {
                let t = H5Tcopy(ap_h5t_c_s1())
                H5Tset_size(t, max(n, 1))
                H5Tset_strpad(t, H5T_STR_NULLPAD)
                return (t, true)
            }()
        }
    }

    /// The memory type matching how AstroPile holds `type` in Swift arrays.
    static func memoryType(_ type: HDF5ElementType) -> (id: hid_t, owned: Bool) {
        switch type {
        case .float32: (ap_h5t_native_float(), false)
        case .float64: (ap_h5t_native_double(), false)
        case .int64: (ap_h5t_native_int64(), false)
        case .int32: (ap_h5t_native_int32(), false)
        case .int16: (ap_h5t_native_int16(), false)
        case .int8: (ap_h5t_native_int8(), false)
        case .uint8: (ap_h5t_native_uint8(), false)
        case .bool, .fixedString: h5type(type)
        }
    }

    // MARK: - Writing

    /// How a dataset is laid out on disk.
    public enum Layout: Equatable, Sendable {
        /// One block, no filters (small columns).
        case contiguous
        /// One chunk per row (the first axis), shuffle + deflate at `level` (1...9).
        case rowChunks(deflate: Int)
        /// Chunks of `rows` rows (the first axis), shuffle + deflate at `level` (1...9).
        case chunks(rows: Int, deflate: Int)
    }

    /// Creates a dataset of `shape` (rows first) and writes `bytes` (row-major, `type`'s
    /// element size) into it, or leaves it to ``writeChunk`` when `bytes` is nil.
    @discardableResult
    public func createDataset(_ name: String, type: HDF5ElementType, shape: [Int], layout: Layout,
                              bytes: UnsafeRawBufferPointer?) throws -> HDF5Dataset {
        let dims = shape.map { hsize_t(max($0, 0)) }
        let space = H5Screate_simple(CInt(dims.count), dims, nil)
        guard space >= 0 else { throw HDF5Error.current(path, "creating the dataspace of \(name)") }
        defer { H5Sclose(space) }
        let fileType = Self.h5type(type)
        defer { if fileType.owned { H5Tclose(fileType.id) } }
        let plist = H5Pcreate(ap_h5p_dataset_create())
        defer { H5Pclose(plist) }
        H5Pset_obj_track_times(plist, false)
        let chunking: (rows: Int, level: Int)?
        switch layout {
        case .contiguous: chunking = nil
        case .rowChunks(let level): chunking = (1, level)
        case .chunks(let rows, let level): chunking = (max(1, rows), level)
        }
        if let (chunkRows, level) = chunking, let rows = shape.first, rows > 0 {
            var chunk = dims
            chunk[0] = hsize_t(min(chunkRows, rows))
            guard H5Pset_chunk(plist, CInt(chunk.count), chunk) >= 0, H5Pset_shuffle(plist) >= 0,
                  H5Pset_deflate(plist, UInt32(min(max(level, 1), 9))) >= 0 else {
                throw HDF5Error.current(path, "setting the chunking of \(name)")
            }
        }
        let dataset = H5Dcreate2(id, name, fileType.id, space, ap_h5p_default(), plist, ap_h5p_default())
        guard dataset >= 0 else { throw HDF5Error.current(path, "creating dataset \(name)") }
        let result = HDF5Dataset(file: self, id: dataset, name: name, type: type, shape: shape)
        if let bytes, let base = bytes.baseAddress {
            let memory = Self.memoryType(type)
            defer { if memory.owned { H5Tclose(memory.id) } }
            guard H5Dwrite(dataset, memory.id, ap_h5s_all(), ap_h5s_all(), ap_h5p_default(), base) >= 0 else {
                throw HDF5Error.current(path, "writing dataset \(name)")
            }
        }
        return result
    }

    /// Creates and writes a dataset from a Swift array of numbers or booleans.
    @discardableResult
    public func write<T: BitwiseCopyable>(_ name: String, _ values: [T], type: HDF5ElementType, shape: [Int]) throws -> HDF5Dataset {
        try values.withUnsafeBytes { try createDataset(name, type: type, shape: shape, layout: .contiguous, bytes: $0) }
    }

    /// Creates and writes a fixed-length string dataset (each string's UTF-8 bytes, null-padded
    /// to the longest).
    @discardableResult
    public func writeStrings(_ name: String, _ values: [String], shape: [Int]) throws -> HDF5Dataset {
        let (bytes, width) = Self.packStrings(values)
        return try bytes.withUnsafeBytes { try createDataset(name, type: .fixedString(width), shape: shape, layout: .contiguous, bytes: $0) }
    }

    static func packStrings(_ values: [String]) -> ([UInt8], Int) {
        let width = max(1, values.map { $0.utf8.count }.max() ?? 1)
        var bytes = [UInt8](repeating: 0, count: width * values.count)
        for (i, s) in values.enumerated() {
            var j = i * width
            for b in s.utf8 { bytes[j] = b; j += 1 }
        }
        return (bytes, width)
    }

    /// Sets a string attribute on the file's root group (or on `object`, a dataset).
    public func setAttribute(_ name: String, _ value: String, on object: HDF5Dataset? = nil) throws {
        let (bytes, width) = Self.packStrings([value])
        try bytes.withUnsafeBytes { try setAttribute(name, type: .fixedString(width), count: nil, bytes: $0, on: object) }
    }

    /// Sets a numeric attribute (a scalar, or a 1-D array when `values.count != 1`).
    public func setAttribute<T: BitwiseCopyable>(_ name: String, _ values: [T], type: HDF5ElementType, on object: HDF5Dataset? = nil) throws {
        try values.withUnsafeBytes { try setAttribute(name, type: type, count: values.count == 1 ? nil : values.count, bytes: $0, on: object) }
    }

    private func setAttribute(_ name: String, type: HDF5ElementType, count: Int?, bytes: UnsafeRawBufferPointer, on object: HDF5Dataset?) throws {
        let space: hid_t
        if let count {
            var dims = [hsize_t(count)]
            space = H5Screate_simple(1, &dims, nil)
        } else {
            space = H5Screate(H5S_SCALAR)
        }
        guard space >= 0 else { throw HDF5Error.current(path, "creating the dataspace of attribute \(name)") }
        defer { H5Sclose(space) }
        let fileType = Self.h5type(type)
        defer { if fileType.owned { H5Tclose(fileType.id) } }
        let target = object?.id ?? id
        if H5Aexists(target, name) > 0, H5Adelete(target, name) < 0 {
            throw HDF5Error.current(path, "replacing attribute \(name)")
        }
        let attribute = H5Acreate2(target, name, fileType.id, space, ap_h5p_default(), ap_h5p_default())
        guard attribute >= 0 else { throw HDF5Error.current(path, "creating attribute \(name)") }
        defer { H5Aclose(attribute) }
        let memory = Self.memoryType(type)
        defer { if memory.owned { H5Tclose(memory.id) } }
        guard let base = bytes.baseAddress, H5Awrite(attribute, memory.id, base) >= 0 else {
            throw HDF5Error.current(path, "writing attribute \(name)")
        }
    }

    // MARK: - Reading

    /// Opens dataset `name`.
    public func dataset(_ name: String) throws -> HDF5Dataset {
        let d = H5Dopen2(id, name, ap_h5p_default())
        guard d >= 0 else { throw FormatError(.notFound, "no dataset \(name)", path: path) }
        let space = H5Dget_space(d)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 0))
        if rank > 0 { H5Sget_simple_extent_dims(space, &dims, nil) }
        let t = H5Dget_type(d)
        defer { H5Tclose(t) }
        let type: HDF5ElementType
        let size = H5Tget_size(t)
        switch H5Tget_class(t) {
        case H5T_FLOAT: type = size == 4 ? .float32 : .float64
        case H5T_INTEGER:
            let signed = H5Tget_sign(t) == H5T_SGN_2
            switch size {
            case 8: type = .int64
            case 4: type = .int32
            case 2: type = .int16
            default: type = signed ? .int8 : .uint8
            }
        case H5T_ENUM: type = .bool
        case H5T_STRING:
            guard H5Tis_variable_str(t) <= 0 else {
                H5Dclose(d)
                throw FormatError(.unsupported, "dataset \(name) holds variable-length strings (AstroPile reads fixed-length ones, as h5py writes numpy 'S' arrays)", path: path)
            }
            type = .fixedString(size)
        default:
            H5Dclose(d)
            throw FormatError(.unsupported, "dataset \(name) has a type AstroPile does not read", path: path)
        }
        return HDF5Dataset(file: self, id: d, name: name, type: type, shape: dims.map { Int($0) })
    }

    /// Removes dataset `name` when it exists (its space is not reclaimed).
    public func removeDataset(_ name: String) throws {
        guard H5Lexists(id, name, ap_h5p_default()) > 0 else { return }
        guard H5Ldelete(id, name, ap_h5p_default()) >= 0 else { throw HDF5Error.current(path, "removing dataset \(name)") }
    }

    /// The names of the root group's members.
    public func memberNames() throws -> [String] {
        var info = H5G_info_t()
        guard H5Gget_info(id, &info) >= 0 else { throw HDF5Error.current(path, "listing the root group") }
        var names: [String] = []
        for i in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, ap_h5p_default())
            guard length >= 0 else { continue }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, Int(length) + 1, ap_h5p_default())
            names.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// A string attribute of the root group (or of `object`, a dataset), `nil` when absent.
    public func stringAttribute(_ name: String, on object: HDF5Dataset? = nil) -> String? {
        let target = object?.id ?? id
        guard H5Aexists(target, name) > 0 else { return nil }
        let a = H5Aopen(target, name, ap_h5p_default())
        guard a >= 0 else { return nil }
        defer { H5Aclose(a) }
        let t = H5Aget_type(a)
        defer { H5Tclose(t) }
        guard H5Tget_class(t) == H5T_STRING, H5Tis_variable_str(t) <= 0 else { return nil }
        let size = H5Tget_size(t)
        var buffer = [UInt8](repeating: 0, count: size + 1)
        guard H5Aread(a, t, &buffer) >= 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// One dataset of an ``HDF5File``; closed when it goes away.
public final class HDF5Dataset {
    public let file: HDF5File
    let id: hid_t
    public let name: String
    public let type: HDF5ElementType
    /// Dimensions, rows first.
    public let shape: [Int]

    init(file: HDF5File, id: hid_t, name: String, type: HDF5ElementType, shape: [Int]) {
        self.file = file
        self.id = id
        self.name = name
        self.type = type
        self.shape = shape
    }

    deinit { H5Dclose(id) }

    /// Elements per row (the product of every dimension but the first).
    public var rowElements: Int { shape.dropFirst().reduce(1, *) }

    /// Writes one row's chunk already filtered (shuffled and deflated by
    /// ``HDF5ChunkFilter``), bypassing HDF5's filter pipeline (`H5Dwrite_chunk`). HDF5 runs its
    /// filters under its global lock; filtering chunks on the workers instead lets the
    /// compression run in parallel while the write stays serial.
    public func writeChunk(row: Int, filtered: [UInt8]) throws {
        var offset = [hsize_t](repeating: 0, count: shape.count)
        offset[0] = hsize_t(row)
        let status = filtered.withUnsafeBytes { raw in
            H5Dwrite_chunk(id, ap_h5p_default(), 0, offset, raw.count, raw.baseAddress)
        }
        guard status >= 0 else { throw HDF5Error.current(file.path, "writing row \(row) of \(name)") }
    }

    /// Reads rows `rows` (all of each row) into an array of `T`, whose size must match the
    /// dataset's element size (strings: read with ``readStrings``).
    public func read<T: BitwiseCopyable>(rows: Range<Int>, as: T.Type) throws -> [T] {
        guard MemoryLayout<T>.size == type.size, !shape.isEmpty, rows.lowerBound >= 0, rows.upperBound <= shape[0] else {
            throw FormatError(.invalidArgument, "cannot read rows \(rows) of \(name) (shape \(shape)) as \(T.self)", path: file.path)
        }
        let count = rows.count * rowElements
        var values = [T](unsafeUninitializedCapacity: count) { _, n in n = count }
        guard count > 0 else { return values }
        try values.withUnsafeMutableBytes { raw in try readRaw(rows: rows, into: raw) }
        return values
    }

    /// Reads fixed-length strings of rows `rows`, trailing nulls removed.
    public func readStrings(rows: Range<Int>) throws -> [String] {
        guard case .fixedString(let width) = type else {
            throw FormatError(.invalidArgument, "\(name) is not a string dataset", path: file.path)
        }
        let count = rows.count * rowElements
        var bytes = [UInt8](repeating: 0, count: count * width)
        try bytes.withUnsafeMutableBytes { raw in try readRaw(rows: rows, into: raw) }
        return (0..<count).map { i in
            String(decoding: bytes[(i * width)..<((i + 1) * width)].prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private func readRaw(rows: Range<Int>, into raw: UnsafeMutableRawBufferPointer) throws {
        guard rows.lowerBound >= 0, rows.upperBound <= (shape.first ?? 0) else {
            throw FormatError(.invalidArgument, "rows \(rows) outside \(name) (shape \(shape))", path: file.path)
        }
        let fileSpace = H5Dget_space(id)
        defer { H5Sclose(fileSpace) }
        var start = [hsize_t](repeating: 0, count: shape.count)
        var count = shape.map { hsize_t($0) }
        start[0] = hsize_t(rows.lowerBound)
        count[0] = hsize_t(rows.count)
        H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil)
        let memorySpace = H5Screate_simple(CInt(count.count), count, nil)
        defer { H5Sclose(memorySpace) }
        let memory = HDF5File.memoryType(type)
        defer { if memory.owned { H5Tclose(memory.id) } }
        guard H5Dread(id, memory.id, memorySpace, fileSpace, ap_h5p_default(), raw.baseAddress) >= 0 else {
            throw HDF5Error.current(file.path, "reading rows \(rows) of \(name)")
        }
    }
}
