import CBZip2
import Foundation

/// A `.bz2` file decompressed whole into memory with libbz2, for cfitsio to open as a memory
/// file (`ffomem`). cfitsio can decompress `.bz2` itself, but it does so inside its file-open
/// call, which holds cfitsio's global lock in a reentrant build: parallel workers opening frames
/// would decompress one at a time. Decompressing here runs in parallel; the open that follows is
/// quick.
final class BZip2Memory {
    /// The decompressed bytes (`malloc`ed: cfitsio may `realloc` nothing here since the file is
    /// opened read-only, and `free` happens in `deinit`).
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var count: Int = 0

    /// Decompresses `path` (one or more concatenated bzip2 streams).
    init(path: String) throws {
        let input: Data
        do { input = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw FormatError(.io, "cannot read: \(error.localizedDescription)", path: path)
        }
        var capacity = max(1 << 20, input.count * 6)
        guard var out = malloc(capacity) else { throw FormatError(.io, "out of memory decompressing", path: path) }
        var produced = 0
        var stream = bz_stream()
        var ok = false
        defer { if !ok { free(out) } }
        try input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let inputBase = raw.baseAddress else { throw FormatError(.corruptInput, "empty .bz2 file", path: path) }
            var consumed = 0
            while consumed < raw.count {
                guard BZ2_bzDecompressInit(&stream, 0, 0) == BZ_OK else { throw FormatError(.io, "libbz2 init failed", path: path) }
                stream.next_in = UnsafeMutablePointer(mutating: inputBase.advanced(by: consumed).assumingMemoryBound(to: CChar.self))
                stream.avail_in = UInt32(min(raw.count - consumed, Int(UInt32.max)))
                var status: Int32 = BZ_OK
                repeat {
                    if produced == capacity {
                        capacity *= 2
                        guard let grown = realloc(out, capacity) else {
                            BZ2_bzDecompressEnd(&stream)
                            throw FormatError(.io, "out of memory decompressing", path: path)
                        }
                        out = grown
                    }
                    stream.next_out = out.advanced(by: produced).assumingMemoryBound(to: CChar.self)
                    stream.avail_out = UInt32(min(capacity - produced, Int(UInt32.max)))
                    let before = stream.avail_out
                    status = BZ2_bzDecompress(&stream)
                    produced += Int(before - stream.avail_out)
                } while status == BZ_OK
                let left = Int(stream.avail_in)
                BZ2_bzDecompressEnd(&stream)
                guard status == BZ_STREAM_END else {
                    throw FormatError(.corruptInput, "bzip2 data are corrupt or truncated (libbz2 status \(status))", path: path)
                }
                consumed = raw.count - left
                // Trailing garbage that is not another stream is an error only if it is not padding.
                if left > 0, !(left >= 3 && raw[consumed] == 0x42 && raw[consumed + 1] == 0x5A && raw[consumed + 2] == 0x68) { break }
            }
        }
        ok = true
        base = out
        count = produced
    }

    deinit { free(base) }
}
