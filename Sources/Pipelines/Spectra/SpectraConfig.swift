import Foundation
import RunEngine

/// The stages of `astropile spectra`. Raw values name records and fault hooks.
public enum SpectraStage: String, RunStage {
    case scan = "spectra-scan"
    case write = "spectra-write"
    case finish = "spectra-finish"
}

/// Settings of `astropile spectra`: SDSS `spec-*.fits` files as a spectra data set of
/// per-object examples, padded to one length across the data set.
public struct SpectraConfig: Codable, Sendable, Hashable {
    /// Files, folders (searched recursively for `spec-*.fits`, also `.gz`/`.bz2`) or glob patterns
    /// (`**` matches any number of folders).
    public var files: [String]
    /// The data set folder.
    public var output: String
    /// Output layout.
    public var format: StampFormat = .hdf5
    /// HEALPix order of the `healpix=N` folders (nested).
    public var healpixOrder: Int = 4
    /// The most objects in one HDF5 file.
    public var objectsPerFile: Int = 1000
    /// Deflate level (1...9) of the spectrum arrays.
    public var deflateLevel: Int = 4
    /// Worker threads; default the number of cores.
    public var jobs: Int?
    /// A folder for the work folder instead of the output's parent.
    public var tmp: String?

    public init(files: [String], output: String) {
        self.files = files
        self.output = output
    }

    /// The hash of what decides the output (not jobs, tmp or where the output is).
    public var configHash: String {
        var c = self
        c.output = ""
        c.jobs = nil
        c.tmp = nil
        c.files = files.map { StampsConfig.absolute($0) }
        return CanonicalHash.of(c)
    }

    /// Checks every value a user gives, before anything is read or written.
    public func validate() throws {
        guard !files.isEmpty else { throw RunError.configuration("--files must name at least one file, folder or pattern") }
        try DataSetOptions.validate(healpixOrder: healpixOrder, objectsPerFile: objectsPerFile, deflateLevel: deflateLevel)
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw RunError.configuration(problem) }
    }
}

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
            } else if argument.contains(where: { "*?[".contains($0) }) {
                var g = glob_t()
                defer { globfree(&g) }
                if glob(argument, 0, nil, &g) == 0 {
                    for i in 0..<Int(g.gl_pathc) { if let p = g.gl_pathv[i] { out.append(String(cString: p)) } }
                }
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
