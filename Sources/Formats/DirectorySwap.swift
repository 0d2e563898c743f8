#if canImport(Glibc)
import Glibc
#endif

/// Replaces a folder with another in one step, so readers see either the old contents or the
/// new ones, and a kill at any moment leaves one of the two complete in place.
///
/// On Linux this is `renameat2(…, RENAME_EXCHANGE)` (ext4, xfs, btrfs, tmpfs): the two folders
/// trade places atomically, then the old one (now at the new one's path) is removed. glibc
/// declares `renameat2` only under `_GNU_SOURCE`, which Swift's Glibc module does not set, so
/// it is looked up by name. Where the call or the file system lacks it, the fallback is two
/// renames with a journal file written first; ``recover(_:)`` finishes a swap a kill
/// interrupted.
public enum DirectorySwap {
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let renameat2: RenameAt2? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(sym, to: RenameAt2.self)
    }()
    private static let exchangeFlag: UInt32 = 1 << 1 // RENAME_EXCHANGE

    /// Puts the folder `staged` at `live` (whose parent must exist); the old `live`, if any, is
    /// removed. `journal` is a file path beside them used by the fallback.
    /// - Throws: ``FormatError`` (`.io`) with the system's message.
    public static func replace(_ live: String, with staged: String, journal: String) throws {
        try AtomicFile.fsyncPath(staged)
        var st = stat()
        if stat(live, &st) != 0 {
            guard rename(staged, live) == 0 else { throw failure("rename \(staged) to \(live)") }
            try AtomicFile.fsyncPath(AtomicFile.directory(of: live))
            return
        }
        if let exchange = renameat2, exchange(AT_FDCWD, staged, AT_FDCWD, live, exchangeFlag) == 0 {
            try AtomicFile.fsyncPath(AtomicFile.directory(of: live))
            removeTree(staged)
            return
        }
        // Fallback: journal, move the old folder aside, move the new one in.
        let old = staged + ".old"
        try AtomicFile.write("\(live)\n\(staged)\n\(old)\n", to: journal)
        guard rename(live, old) == 0 else { throw failure("rename \(live) to \(old)") }
        guard rename(staged, live) == 0 else { throw failure("rename \(staged) to \(live)") }
        try AtomicFile.fsyncPath(AtomicFile.directory(of: live))
        AtomicFile.remove(journal)
        removeTree(old)
    }

    /// Finishes a fallback swap that a kill interrupted (the journal names it): the new folder
    /// goes in if the old one was already moved aside. Returns whether there was one.
    @discardableResult
    public static func recover(_ journal: String) throws -> Bool {
        guard let text = try? String(contentsOfFileAtPath: journal) else { return false }
        let lines = text.split(separator: "\n").map(String.init)
        guard lines.count == 3 else { AtomicFile.remove(journal); return false }
        let (live, staged, old) = (lines[0], lines[1], lines[2])
        var st = stat()
        if stat(live, &st) != 0, stat(staged, &st) == 0 {
            guard rename(staged, live) == 0 else { throw failure("rename \(staged) to \(live)") }
            try AtomicFile.fsyncPath(AtomicFile.directory(of: live))
        }
        AtomicFile.remove(journal)
        removeTree(old)
        return true
    }

    private static func failure(_ what: String) -> FormatError {
        FormatError(FormatError.code(errno: errno), "\(what): \(String(cString: strerror(errno)))")
    }

    /// Removes a folder tree (files and folders; links are removed, never followed).
    public static func removeTree(_ path: String) {
        guard let dir = opendir(path) else { unlink(path); return }
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            var st = stat()
            if lstat(child, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { removeTree(child) } else { unlink(child) }
        }
        closedir(dir)
        rmdir(path)
    }
}

extension String {
    /// The file's text (UTF-8), or nil when it cannot be read.
    init?(contentsOfFileAtPath path: String) {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
        }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
