import Foundation
import Formats
import NIOCore

/// A transfer's `<final>.part` file: bytes are appended as they arrive while SHA-256 (and the
/// checksum list's algorithm, if another) is computed; `commit` fsyncs it and renames it to the
/// final path, so a final path only ever holds a complete, verified file. All methods block and
/// run on the engine's I/O thread pool.
final class PartFile: @unchecked Sendable {
    let partPath: String
    let finalPath: String
    private var fd: Int32 = -1
    private(set) var size: Int64 = 0
    /// Bytes whose write-back to disk was started (`posix_fadvise`), so the final fsync has
    /// little left to do and disk writes overlap the download.
    private var writebackStarted: Int64 = 0
    private let sha256: Digest
    private let extra: Digest?

    /// Where the part of `finalPath` lives.
    static func partPath(for finalPath: String) -> String { finalPath + ".part" }

    /// Opens (creating folders and file) the part of `finalPath`, keeping its first `offset` bytes
    /// (hashing them again) and dropping anything beyond.
    init(finalPath: String, keeping offset: Int64, extraDigest: Checksum.Algorithm?) throws {
        self.finalPath = finalPath
        partPath = Self.partPath(for: finalPath)
        sha256 = try Digest(.sha256)
        extra = try extraDigest.flatMap { $0 == .sha256 ? nil : try Digest($0) }
        let folder = (finalPath as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw FetchError.io(folder, operation: "create folder", message: "\(error)")
        }
        fd = open(partPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.error(partPath, "open") }
        guard ftruncate(fd, off_t(offset)) == 0 else { throw Self.error(partPath, "truncate") }
        if offset > 0 { try FileDigest.feed(fd, path: partPath, upTo: offset, into: [sha256] + (extra.map { [$0] } ?? [])) }
        guard lseek(fd, off_t(offset), SEEK_SET) >= 0 else { throw Self.error(partPath, "seek") }
        size = offset
        writebackStarted = offset
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Drops every byte (the server sent the whole file instead of the requested range).
    func restart() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else { throw Self.error(partPath, "truncate") }
        writebackStarted = 0
        _ = try sha256.finish()
        _ = try extra?.finish()
        size = 0
    }

    /// Appends received buffers. A full disk throws ``FetchError/diskFull(_:)``.
    func append(_ buffers: [ByteBuffer]) throws {
        for buffer in buffers {
            try buffer.withUnsafeReadableBytes { bytes in
                try sha256.update(bytes)
                try extra?.update(bytes)
                var done = 0
                while done < bytes.count {
                    let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        if errno == ENOSPC || errno == EDQUOT { throw FetchError.diskFull(partPath) }
                        throw Self.error(partPath, "write")
                    }
                    done += n
                }
            }
            size += Int64(buffer.readableBytes)
        }
        if size - writebackStarted >= 8 << 20 {
            // On Linux this starts asynchronous write-back of the range (and drops it from the page
            // cache once clean), so the download does not fill memory with dirty pages.
            _ = posix_fadvise(fd, off_t(writebackStarted), off_t(size - writebackStarted), POSIX_FADV_DONTNEED)
            writebackStarted = size
        }
    }

    /// The checksums of the bytes written (SHA-256, and the other algorithm if one was asked for).
    func digests() throws -> (sha256: Checksum, extra: Checksum?) {
        (try sha256.finish(), try extra?.finish())
    }

    /// Flushes to disk and renames to the final path (then syncs the folder).
    func commit() throws {
        guard fsync(fd) == 0 else {
            if errno == ENOSPC || errno == EDQUOT { throw FetchError.diskFull(partPath) }
            throw Self.error(partPath, "fsync")
        }
        close(fd)
        fd = -1
        guard rename(partPath, finalPath) == 0 else { throw Self.error(finalPath, "rename") }
        let folder = open((finalPath as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 { fsync(folder); close(folder) }
    }

    /// Closes without committing (the part stays for a later resume).
    func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
    }

    /// Closes and deletes the part (its bytes are unusable).
    func discard() {
        abandon()
        unlink(partPath)
    }

    static func error(_ path: String, _ operation: String) -> FetchError {
        .io(path, operation: operation, message: String(cString: strerror(errno)))
    }
}
