#if canImport(Glibc)
import Glibc
#endif

/// An error reading or writing a file: which file, where in it, and the underlying library's
/// own message (Arrow/Parquet's status text, cfitsio's error stack).
public struct FormatError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public enum Code: String, Sendable, Codable {
        /// The file is unreadable or not what its format promises (corrupt, truncated, bad header).
        case corruptInput
        /// The file holds something AstroPile does not support (a column type, a HDU kind).
        case unsupported
        /// A requested column, HDU or key does not exist.
        case notFound
        /// An operating-system or library I/O failure while writing.
        case io
        /// A write failed because the disk (or the user's quota) is full.
        case noSpace
        /// The caller asked for something inconsistent (programmer or configuration error).
        case invalidArgument
    }

    /// The kind of failure.
    public let code: Code
    /// What happened, including the library's message.
    public let message: String
    /// The file concerned, when there is one.
    public let path: String?
    /// Where in the file: e.g. "HDU 2, column FLUX", "row 1234", "line 17".
    public let location: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, path: String? = nil, location: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.location = location
    }

    public var description: String {
        var parts: [String] = []
        if let path { parts.append(path) }
        if let location { parts.append(location) }
        return parts.isEmpty ? message : parts.joined(separator: ", ") + ": " + message
    }

    /// Whether a library's message text says the disk or quota is full (Arrow reports the
    /// system's `strerror` text inside its own status message, without the errno).
    public static func isNoSpaceMessage(_ text: String) -> Bool {
        text.contains("No space left on device") || text.contains("Disk quota exceeded")
    }

    /// The code for a failed system call's `errno`: ``noSpace`` for ENOSPC/EDQUOT, else ``io``.
    public static func code(errno value: Int32) -> Code {
        value == ENOSPC || value == EDQUOT ? .noSpace : .io
    }

    /// This error with `path` (and optionally `location`) filled in.
    public func at(path: String, location: String? = nil) -> FormatError {
        FormatError(code, message, path: self.path ?? path, location: location ?? self.location)
    }
}
