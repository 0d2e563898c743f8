#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Atomic file creation: write to a temporary name in the destination folder, fsync, rename,
/// fsync the folder. A final path never holds a partial file.
public enum AtomicFile {
    /// The temporary name used while writing `path`.
    public static func temporaryPath(for path: String) -> String {
        "\(path).tmp-\(getpid())"
    }

    /// Flushes `temporary` to disk and renames it onto `path` (replacing any existing file).
    /// With `durable: false` the flushes are skipped: the rename is still atomic for readers and
    /// survives a killed process, but not a power cut (for scratch files that are validated on
    /// resume).
    public static func commit(temporary: String, to path: String, durable: Bool = true) throws {
        if durable { try fsyncPath(temporary) }
        guard rename(temporary, path) == 0 else {
            throw FormatError(.io, "rename from \(temporary) failed: \(String(cString: strerror(errno)))", path: path)
        }
        if durable { try fsyncPath(directory(of: path)) }
    }

    /// Flushes every file written so far to disk (`sync`, which on Linux returns once the data
    /// are written). For a batch of files committed with `durable: false`: one flush makes them
    /// all durable before the batch is recorded as done, instead of two per file.
    public static func flushAll() {
        sync()
    }

    /// Writes `bytes` to `path` atomically (`durable: false`: without the fsyncs, as in
    /// ``commit(temporary:to:durable:)``).
    public static func write(_ bytes: [UInt8], to path: String, durable: Bool = true) throws {
        let tmp = temporaryPath(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { let e = errno; throw FormatError(FormatError.code(errno: e), String(cString: strerror(e)), path: path) }
        var written = 0
        let ok = bytes.withUnsafeBytes { buf -> Bool in
            while written < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + written, buf.count - written)
                if n <= 0 { return false }
                written += n
            }
            return true
        }
        let err = errno
        close(fd)
        guard ok else {
            remove(tmp)
            throw FormatError(FormatError.code(errno: err), "write failed: \(String(cString: strerror(err)))", path: path)
        }
        try commit(temporary: tmp, to: path, durable: durable)
    }

    /// Writes `text` (UTF-8) to `path` atomically.
    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Removes a file if it exists (errors ignored).
    public static func remove(_ path: String) {
        unlink(path)
    }

    /// fsyncs a file or folder.
    public static func fsyncPath(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FormatError(.io, "open for fsync failed: \(String(cString: strerror(errno)))", path: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { let e = errno; throw FormatError(FormatError.code(errno: e), "fsync failed: \(String(cString: strerror(e)))", path: path) }
    }

    /// The folder holding `path`.
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
