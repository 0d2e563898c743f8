/// The names a fetch uses under its destination folder, and the check that no two files of a
/// destination share one: each file owns its final path, its `<final path>.part` while in transfer
/// and the folders above it; fetch itself owns the top-level names starting `.astropile-fetch`
/// (the manifest, its `-wal` and `-shm` files, the lock). Pure logic: no I/O.
enum DestinationLayout {
    /// The prefix of fetch's own top-level names (``FetchManifest/fileName`` and its WAL and
    /// shared-memory files, ``DestinationLock/fileName``).
    static let reservedPrefix = ".astropile-fetch"

    /// Why `path` may not be written under a destination, if it is one of fetch's own names
    /// (compared ignoring case: a case-insensitive file system would mix them up).
    static func reservedReason(_ path: String) -> String? {
        let top = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true).first.map(String.init) ?? path
        guard top.lowercased().hasPrefix(reservedPrefix) else { return nil }
        return "refused: the name \(top) is reserved for fetch's own manifest and lock in the destination folder"
    }

    /// Splits `items` into those to fetch and those refused (path, reason), in order. Refused:
    /// fetch's own names, and a file that would share a name with another one — its final path
    /// is another's `.part` or one of its folders, or the reverse. Files already on disk (done,
    /// or with bytes in a `.part`, as `recorded` in the manifest, whether in this run or not) keep
    /// their names; otherwise the later item in the list is refused.
    static func check(_ items: [FetchItem], recorded: [ManifestEntry]) -> (accepted: [FetchItem], refused: [(path: String, reason: String)]) {
        var names = Names()
        var keeps = Set<String>()
        var clashes: [String: String] = [:]
        for e in recorded where e.status == .done || e.status == .partial || e.bytes > 0 {
            guard reservedReason(e.path) == nil else { continue }
            if let why = names.conflict(e.path) { clashes[e.path] = why } else { names.claim(e.path); keeps.insert(e.path) }
        }
        var accepted: [FetchItem] = []
        var refused: [(path: String, reason: String)] = []
        var taken = Set<String>()
        for item in items {
            let p = item.path
            if let why = reservedReason(p) { refused.append((p, why)); continue }
            if taken.contains(p) { refused.append((p, "refused: listed twice")); continue }
            if keeps.contains(p) { taken.insert(p); accepted.append(item); continue }
            if let why = clashes[p] ?? names.conflict(p) {
                refused.append((p, "refused: \(why) (fetch them into separate --dest folders)"))
                continue
            }
            names.claim(p)
            taken.insert(p)
            accepted.append(item)
        }
        return (accepted, refused)
    }

    /// The folders above a relative path: `a/b/c` → `a`, `a/b`.
    static func folders(of path: String) -> [String] {
        var out: [String] = []
        var i = path.startIndex
        while let slash = path[i...].firstIndex(of: "/") {
            if slash > path.startIndex { out.append(String(path[..<slash])) }
            i = path.index(after: slash)
        }
        return out
    }

    /// The names claimed so far: files (final paths and `.part` names, with their owner) and
    /// folders (with one file beneath each).
    private struct Names {
        var files: [String: (owner: String, isPart: Bool)] = [:]
        var folders: [String: String] = [:]

        /// Why `path` cannot have its names, or `nil`.
        func conflict(_ path: String) -> String? {
            let part = PartFile.partPath(for: path)
            if let f = files[path] {
                return f.isPart ? "\(path) is where \(f.owner) is written during its transfer" : "\(path) is listed twice"
            }
            if let o = folders[path] { return "\(path) is a folder of \(o)" }
            if files[part] != nil { return "its transfer would be written to \(part), the path of another file" }
            if let o = folders[part] { return "its transfer would be written to \(part), a folder of \(o)" }
            for d in DestinationLayout.folders(of: path) {
                if let f = files[d] {
                    return "it needs \(d) to be a folder, but " + (f.isPart ? "\(d) is where \(f.owner) is written during its transfer" : "\(d) is the file \(f.owner)")
                }
            }
            return nil
        }

        mutating func claim(_ path: String) {
            if files[path] == nil { files[path] = (path, false) }
            let part = PartFile.partPath(for: path)
            if files[part] == nil { files[part] = (path, true) }
            for d in DestinationLayout.folders(of: path) where folders[d] == nil { folders[d] = path }
        }
    }
}
