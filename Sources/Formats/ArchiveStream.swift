#if canImport(Glibc)
import Glibc
#endif
import CArchive

/// A tar archive (plain, gzip, bzip2 or xz compressed) read as a stream with libarchive, member
/// by member, without unpacking anything to disk. While it reads, it counts and hashes (SHA-256)
/// the archive's bytes, so the manifest records what was read without a second pass.
///
/// Members are only ever handed to the caller as bytes: nothing is written anywhere. A member
/// that would be unsafe to unpack (absolute path, a `..` component, a link, a device) is
/// reported through ``Entry/unsafeReason`` and its data is never read.
public final class ArchiveStream {
    /// What a member is.
    public enum Kind: String, Sendable { case file, directory, symlink, hardlink, device, fifo, socket, other }

    /// One member's header.
    public struct Entry: Sendable {
        /// The path inside the archive, as stored.
        public let name: String
        public let kind: Kind
        /// Bytes of data, when the header gives it.
        public let size: Int64?
        /// Why the member must not be unpacked, or nil when it is a safe regular file or folder.
        public let unsafeReason: String?
    }

    /// The archive's path.
    public let path: String
    private let archive: OpaquePointer
    private let source: Source
    private var finished = false

    /// Reads the file at `path`, hashing every byte on the way through.
    final class Source {
        let fd: Int32
        let digest: Digest
        var buffer: [UInt8]
        var bytesRead: Int64 = 0
        var readError: Int32 = 0
        init(fd: Int32, digest: Digest, bufferSize: Int) {
            self.fd = fd
            self.digest = digest
            buffer = [UInt8](repeating: 0, count: bufferSize)
        }
    }

    /// Opens `path`. The format is detected (tar, with gzip/bzip2/xz/zstd compression or none).
    /// - Throws: ``FormatError`` with libarchive's message when the file cannot be opened or its
    ///   first bytes are neither a tar archive nor a compressed one.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FormatError(.notFound, "cannot open: \(String(cString: strerror(errno)))", path: path) }
        let digest: Digest
        do { digest = try Digest(.sha256) } catch { close(fd); throw error }
        let reader = Source(fd: fd, digest: digest, bufferSize: 1 << 20)
        source = reader
        guard let a = archive_read_new() else {
            close(fd)
            throw FormatError(.io, "libarchive: archive_read_new failed", path: path)
        }
        archive_read_support_filter_all(a)
        archive_read_support_format_tar(a)
        archive_read_support_format_gnutar(a)
        let client = Unmanaged.passUnretained(reader).toOpaque()
        let status = archive_read_open(a, client, nil, { _, client, out in
            // invariant: client is the Source this stream keeps alive for its whole life.
            let source = Unmanaged<Source>.fromOpaque(client!).takeUnretainedValue()
            let n = source.buffer.withUnsafeMutableBytes { read(source.fd, $0.baseAddress, $0.count) }
            if n < 0 {
                source.readError = errno
                return -1
            }
            if n > 0 {
                source.bytesRead += Int64(n)
                do { try source.buffer.withUnsafeBytes { try source.digest.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } } catch {
                    source.readError = EIO
                    return -1
                }
            }
            source.buffer.withUnsafeBytes { out?.pointee = $0.baseAddress }
            return n
        }, nil)
        // `archive` is set only once the open succeeded: a class whose stored properties are all
        // set runs its deinit when its init throws, which would free the handle and close the
        // file a second time (the crash on an empty file or a text file named .tar.gz).
        guard status == ARCHIVE_OK else {
            let message = Self.message(a)
            archive_read_free(a)
            close(fd)
            throw FormatError(.corruptInput, "not a readable tar archive: \(message)", path: path)
        }
        archive = a
    }

    deinit {
        archive_read_free(archive)
        close(source.fd)
    }

    private static func message(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "libarchive reports no message"
    }

    /// Bytes of the archive file read so far.
    public var bytesRead: Int64 { source.bytesRead }

    /// The next member's header, or nil at the end of the archive.
    /// - Throws: ``FormatError`` (`.corruptInput`) with libarchive's message for a damaged
    ///   archive or a truncated compressed stream.
    public func next() throws -> Entry? {
        guard !finished else { return nil }
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        if status == ARCHIVE_EOF { finished = true; return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
            finished = true
            throw readFailure(after: "the member headers")
        }
        let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        let type = archive_entry_filetype(entry)
        let kind: Kind
        // libarchive's AE_IF* values (the POSIX file-type bits; the macros do not import).
        switch type {
        case 0o100000: kind = archive_entry_hardlink(entry) != nil ? .hardlink : .file
        case 0o040000: kind = .directory
        case 0o120000: kind = .symlink
        case 0o020000, 0o060000: kind = .device
        case 0o010000: kind = .fifo
        case 0o140000: kind = .socket
        default: kind = archive_entry_hardlink(entry) != nil ? .hardlink : .other
        }
        let size: Int64? = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : nil
        return Entry(name: name, kind: kind, size: size, unsafeReason: Self.unsafeReason(name: name, kind: kind))
    }

    /// Why a member must not be unpacked (nil for a safe file or folder).
    public static func unsafeReason(name: String, kind: Kind) -> String? {
        switch kind {
        case .file, .directory: break
        case .symlink, .hardlink: return "a \(kind.rawValue) member (links are never followed or unpacked)"
        case .device, .fifo, .socket, .other: return "a \(kind.rawValue) member (only regular files are read)"
        }
        if name.isEmpty { return "a member with an empty name" }
        if name.hasPrefix("/") { return "an absolute path" }
        if name.split(separator: "/", omittingEmptySubsequences: true).contains("..") { return "a '..' path component" }
        return nil
    }

    /// Reads the current member's data into the front of `buffer` and returns its length.
    /// `buffer` is reused from member to member: it grows as needed (to at most `limit` plus
    /// one read) and never shrinks, so a stream of small members costs no allocation, no
    /// zeroing and no copy beyond libarchive's own.
    /// - Throws: ``FormatError`` (`.corruptInput`) for a damaged or truncated stream,
    ///   (`.unsupported`) for a member larger than `limit`.
    public func readData(into buffer: inout [UInt8], limit: Int) throws -> Int {
        let step = 256 << 10
        var count = 0
        while true {
            // Room for at least one more step: the buffer doubles (zeroed once, when it grows).
            if buffer.count - count < step { buffer.append(contentsOf: repeatElement(0, count: max(buffer.count, step))) }
            let n = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return archive_read_data(archive, base + count, raw.count - count)
            }
            if n == 0 { return count }
            guard n > 0 else {
                finished = true
                throw readFailure(after: "member data")
            }
            count += n
            guard count <= limit else {
                _ = archive_read_data_skip(archive)
                throw FormatError(.unsupported, "the member is larger than \(limit) bytes")
            }
        }
    }

    /// Skips the current member's data (still decompressed, so it is still hashed and checked).
    public func skipData() throws {
        guard archive_read_data_skip(archive) == ARCHIVE_OK else {
            finished = true
            throw readFailure(after: "member data")
        }
    }

    private func readFailure(after what: String) -> FormatError {
        if source.readError != 0 {
            return FormatError(.io, "reading failed: \(String(cString: strerror(source.readError)))", path: path)
        }
        return FormatError(.corruptInput, "the archive is damaged or truncated (\(what)): \(Self.message(archive))", path: path)
    }

    /// The SHA-256 of the whole file and its size: the rest of the file (after an early stop or
    /// an error) is read and hashed too.
    public func fileDigest() throws -> (sha256: Checksum, bytes: Int64) {
        while true {
            let n = source.buffer.withUnsafeMutableBytes { read(source.fd, $0.baseAddress, $0.count) }
            guard n >= 0 else { throw FormatError(.io, "reading failed: \(String(cString: strerror(errno)))", path: path) }
            if n == 0 { break }
            source.bytesRead += Int64(n)
            try source.buffer.withUnsafeBytes { try source.digest.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return (try source.digest.finish(), source.bytesRead)
    }
}
