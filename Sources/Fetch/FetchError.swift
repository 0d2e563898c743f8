import RunEngine

/// Errors of `astropile fetch` that stop a run or reject its input. Failures of single files are
/// not errors: they are recorded in the manifest (``FetchStatus``) and summarised.
public enum FetchError: Error, CustomStringConvertible, Sendable, ClassifiedError {
    /// A URL template that does not parse or cannot be filled.
    case template(String, reason: String)
    /// A catalog, URL list, listing or checksum list that cannot be used (file, line or row, reason).
    case input(String, reason: String)
    /// Two different URLs would be written to the same file.
    case pathCollision(path: String, first: String, second: String)
    /// Not enough free space for the planned volume (bytes needed, bytes free, folder).
    case insufficientSpace(needed: Int64, free: Int64, folder: String)
    /// The disk filled up during the run; nothing partial is at a final path.
    case diskFull(String)
    /// The manifest database failed (its path and SQLite's message).
    case manifest(String, message: String)
    /// A local file operation failed (path, what, errno text).
    case io(String, operation: String, message: String)
    /// The archive listing could not be read.
    case listing(url: String, reason: String)
    /// Stopped by Ctrl-C; every completed file is recorded and the rest resumes.
    case interrupted
    /// Another fetch holds the destination's lock (the folder, and that run's pid when known).
    case busy(folder: String, pid: Int32?)

    public var description: String {
        switch self {
        // URLs are printed without their user info (a password), wherever they came from.
        case .template(let p, let r): return "URL template '\(URLParts.redacted(p))': \(r)"
        case .input(let f, let r): return "\(URLParts.redacted(f)): \(r)"
        case .pathCollision(let p, let a, let b): return "\(URLParts.redacted(a)) and \(URLParts.redacted(b)) would both be written to \(p)"
        case .insufficientSpace(let n, let f, let d):
            return "the planned volume needs \(ByteCount.text(n)) but \(d) has \(ByteCount.text(f)) free (use --force to start anyway)"
        case .diskFull(let d): return "the disk holding \(d) is full: stopped; completed files are kept, partial ones stay as .part and resume on the next run"
        case .manifest(let p, let m): return "manifest \(p): \(m)"
        case .io(let p, let op, let m): return "\(p): \(op): \(m)"
        case .listing(let u, let r): return "listing \(URLParts.redacted(u)): \(r)"
        case .interrupted: return "interrupted: completed files are recorded, the rest continues on the next run"
        case .busy(let d, let pid):
            return "another astropile fetch\(pid.map { " (pid \($0))" } ?? "") is running in \(d): wait for it to finish, or fetch into another --dest"
        }
    }

    /// 2 for a template that cannot be used (an option value), 130 for an interrupt, else 1.
    public var exitStatus: ExitStatus {
        switch self {
        case .template: .usage
        case .interrupted: .interrupted
        default: .failure
        }
    }
}

/// Human-readable byte counts (1024-based: KiB, MiB, GiB, TiB).
public enum ByteCount {
    /// `1536` → `1.5 KiB`.
    public static func text(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var v = Double(n), u = 0
        while abs(v) >= 1024, u < units.count - 1 { v /= 1024; u += 1 }
        if u == 0 { return "\(n) B" }
        return FormatSpec.fixed(v, v < 10 ? 2 : 1) + " " + units[u]
    }
}
