import Foundation

/// Expands file arguments: plain files, folders (searched recursively for names `accept`s), and
/// glob patterns where `**` stands for any number of folders (POSIX `glob` has no `**`).
enum FileMatcher {
    static func expand(_ arguments: [String], accept: (String) -> Bool) throws -> [String] {
        var out: [String] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            if argument.contains("**") {
                let parts = argument.components(separatedBy: "**")
                var root = parts[0]
                if root.hasSuffix("/") { root.removeLast() }
                if root.isEmpty { root = "." }
                let tail = parts.dropFirst().joined(separator: "**").drop { $0 == "/" }
                for relative in walk(root) {
                    let components = relative.split(separator: "/")
                    // `**/x` matches x at any depth, including directly under the root.
                    let matches = (0..<components.count).contains { k in
                        fnmatch(String(tail), components[k...].joined(separator: "/"), FNM_PATHNAME) == 0
                    }
                    if matches { out.append(root + "/" + relative) }
                }
            } else if isPattern(argument) {
                out.append(contentsOf: glob(argument))
            } else if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), isDirectory.boolValue {
                let root = argument.hasSuffix("/") ? String(argument.dropLast()) : argument
                out.append(contentsOf: walk(root).filter { accept(($0 as NSString).lastPathComponent) }.map { root + "/" + $0 })
            } else {
                out.append(argument)
            }
        }
        var seen = Set<String>()
        return out.filter { !$0.hasSuffix(".part") }.sorted().filter { seen.insert($0).inserted }
    }

    /// Whether `text` has glob metacharacters.
    static func isPattern(_ text: String) -> Bool { text.contains(where: { "*?[".contains($0) }) }

    /// POSIX `glob` of one pattern (no `**`), in glob's order; nothing when it matches nothing.
    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }
    }

    /// Regular files under `root`, relative, sorted.
    static func walk(_ root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(relative)
            }
        }
        return out.sorted()
    }
}
