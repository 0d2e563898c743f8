import Foundation

/// The lock of a destination folder (`flock` on `<dest>/.astropile-fetch.lock`), held for a run
/// so that two fetches never write into one folder at once: a second run refuses to start
/// (``FetchError/busy(folder:pid:)``). Runs that each fetch their own files (the project
/// pipeline's, whose registry hands every source to one run) share it instead; an exclusive
/// run and a sharing one still exclude each other. An exclusive holder writes its pid into the
/// file for the other run's message. The file stays (removing a lock file races with the next
/// run opening it); the lock ends with the process, however it ends.
final class DestinationLock {
    /// The file name of the lock inside the destination.
    static let fileName = ".astropile-fetch.lock"

    /// The lock file's path.
    let path: String
    private let shared: Bool
    private var fd: Int32

    /// Takes the lock of `folder` (which must exist): shared or exclusive, without waiting.
    init(folder: String, shared: Bool) throws {
        path = folder + "/" + Self.fileName
        self.shared = shared
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PartFile.error(path, "open") }
        if flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
            let code = errno
            let holder = Self.holder(fd)
            close(fd)
            fd = -1
            guard code == EWOULDBLOCK else {
                throw FetchError.io(path, operation: "lock", message: String(cString: strerror(code)))
            }
            throw FetchError.busy(folder: folder, pid: holder)
        }
        if !shared {
            let text = Array("\(getpid())\n".utf8)
            if ftruncate(fd, 0) == 0 { _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } }
        }
    }

    deinit { release() }

    /// Ends the lock (an exclusive holder first clears its pid).
    func release() {
        guard fd >= 0 else { return }
        if !shared { _ = ftruncate(fd, 0) }
        close(fd)
        fd = -1
    }

    /// The pid an exclusive holder wrote, if that process still runs.
    private static func holder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = Int32(text), pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return nil }
        return pid
    }
}
