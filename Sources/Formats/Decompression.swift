import CArrowShim
import Foundation

/// Streaming decompression of `.gz` / `.bz2` files to disk with Arrow's codecs, in bounded
/// memory. cfitsio reads a compressed FITS file whole into memory; AstroPile unpacks large ones
/// to a spill file first (DESIGN.md §5).
public enum Decompression {
    /// Decompresses `path` into `destination` (atomically: temporary name, fsync, rename).
    public static func unpack(_ path: String, to destination: String) throws {
        let code: CInt
        switch Compression(path: path) {
        case .gzip: code = 1
        case .bzip2: code = 2
        case .none: throw FormatError(.invalidArgument, "not a .gz or .bz2 file", path: path)
        }
        let tmp = AtomicFile.temporaryPath(for: destination)
        do {
            try shimCall(.corruptInput, path: path) { err in ap_decompress_file(path, tmp, code, err) }
            try AtomicFile.commit(temporary: tmp, to: destination)
        } catch {
            AtomicFile.remove(tmp)
            throw error
        }
    }

    /// The uncompressed size of a file: the gzip trailer's ISIZE (mod 2³², so at least that), an
    /// estimate of 5× for bzip2, the size itself when not compressed.
    public static func estimatedUncompressedSize(_ path: String) -> Int64 {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.int64Value else { return 0 }
        switch Compression(path: path) {
        case .none:
            return size
        case .bzip2:
            return size * 5
        case .gzip:
            guard size >= 18, let h = FileHandle(forReadingAtPath: path) else { return size * 5 }
            defer { try? h.close() }
            try? h.seek(toOffset: UInt64(size - 4))
            guard let tail = try? h.read(upToCount: 4), tail.count == 4 else { return size * 5 }
            let isize = tail.withUnsafeBytes { Int64(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
            return max(isize, size)
        }
    }
}
