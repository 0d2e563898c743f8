import Foundation
import Formats
import RunEngine

/// Progress of a fetch on stderr: files and bytes done, rate and ETA on one self-overwriting line
/// on a terminal; plain lines every `interval` seconds otherwise. Thread-safe.
final class FetchProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let totalFiles: Int
    private let totalBytes: Int64?
    private var files = 0
    private var failed = 0
    private var bytes: Int64 = 0
    private var completedBytes: Int64 = 0
    private let start = ContinuousClock.now
    private let enabled: Bool
    let isTTY = isatty(2) != 0

    /// Progress over `totalFiles` files of `totalBytes` bytes (when every size is known).
    init(totalFiles: Int, totalBytes: Int64?, enabled: Bool) {
        self.totalFiles = totalFiles
        self.totalBytes = totalBytes
        self.enabled = enabled && totalFiles > 0
    }

    /// Seconds between lines.
    var interval: Double { isTTY ? 0.5 : 10 }

    /// Bytes received (counted as they are written).
    func received(_ n: Int) { lock.lock(); bytes += Int64(n); lock.unlock() }

    /// A file finished (`ok`: complete; else failed), with its size.
    func finished(ok: Bool, size: Int64) {
        lock.lock()
        if ok { files += 1; completedBytes += size } else { failed += 1 }
        lock.unlock()
    }

    /// Bytes received so far.
    var receivedBytes: Int64 { lock.lock(); defer { lock.unlock() }; return bytes }

    /// Prints the current line.
    func emit(final: Bool = false) {
        guard enabled else { return }
        lock.lock()
        let (f, x, b, cb) = (files, failed, bytes, completedBytes)
        lock.unlock()
        let elapsed = max((ContinuousClock.now - start) / .seconds(1), 1e-6)
        let rate = Double(b) / elapsed
        var line = "fetch: \(f)/\(totalFiles) files"
        if x > 0 { line += " (\(x) failed)" }
        line += ", \(ByteCount.text(b))"
        if let totalBytes { line += " of \(ByteCount.text(totalBytes))" }
        line += ", \(ByteCount.text(Int64(rate)))/s"
        if !final {
            var eta: Double? = nil
            if let totalBytes, rate > 0, totalBytes > cb { eta = Double(totalBytes - cb) / rate }
            else if f > 0, totalFiles > f + x { eta = elapsed / Double(f) * Double(totalFiles - f - x) }
            if let eta { line += ", ETA \(ProgressReporter.duration(eta))" }
        } else {
            line += ", \(ProgressReporter.duration(elapsed))"
        }
        let text = isTTY ? "\r\u{1B}[2K" + line + (final ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}
