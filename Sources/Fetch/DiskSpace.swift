import Foundation
import Formats

/// Free space on the file system holding a folder.
public enum DiskSpace {
    /// Bytes available to this user under `folder` (the nearest existing ancestor), or `nil`.
    public static func available(at folder: String) -> Int64? {
        var path = folder.isEmpty ? "." : folder
        while !FileManager.default.fileExists(atPath: path) {
            let parent = (path as NSString).deletingLastPathComponent
            if parent == path || parent.isEmpty { path = "."; break }
            path = parent
        }
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }
}
