import Foundation
import Formats
import RunEngine

/// The stages of `astropile alerts ingest`. Raw values name records and fault hooks.
public enum AlertIngestStage: String, RunStage {
    /// Each archive (or group of loose `.avro` files) streamed, decoded and spilled as sorted runs.
    case read = "alerts-read"
    /// Each night's runs merged with what the lake already holds and swapped in.
    case night = "alerts-night"
    /// The manifest and the lake's metadata updated, the report written.
    case finish = "alerts-finish"
}

/// Settings of `astropile alerts ingest`: ZTF alert archives (`tar`, `tar.gz`, …) and loose
/// `.avro` files into the alert lake (nested Parquet partitioned by observing night).
public struct AlertIngestConfig: Codable, Sendable, Hashable {
    /// Archives, `.avro` files, folders (searched recursively) or glob patterns (`**` matches
    /// any number of folders).
    public var inputs: [String]
    /// The lake folder.
    public var output: String
    /// The most alerts in one Parquet file of a night.
    public var alertsPerFile: Int = 50_000
    /// Alerts per Parquet row group (a row group is held in memory while it is written).
    public var alertsPerRowGroup: Int = 1000
    /// Worker threads; default the number of cores.
    public var jobs: Int?
    /// Memory budget in bytes for the whole run (decode buffers are cut to fit it).
    public var memoryBytes: Int64 = 1 << 30
    /// A folder for the work folder instead of the lake's own `_ingest`.
    public var tmp: String?
    /// Where the cutouts go; nil: the mode the lake already has, `.inline` for a new lake.
    public var cutouts: AlertCutoutMode?

    public init(inputs: [String], output: String) {
        self.inputs = inputs
        self.output = output
    }

    /// Checks every value a user gives, before anything is read or written.
    public func validate() throws {
        guard !inputs.isEmpty else { throw RunError.configuration("name at least one archive, .avro file, folder or pattern") }
        guard (1...10_000_000).contains(alertsPerFile) else {
            throw RunError.configuration("--alerts-per-file must be between 1 and 10000000 (got \(alertsPerFile))")
        }
        guard (1...1_000_000).contains(alertsPerRowGroup) else {
            throw RunError.configuration("the alerts per row group must be between 1 and 1000000 (got \(alertsPerRowGroup))")
        }
        guard memoryBytes >= 64 << 20, memoryBytes <= ByteSize.maximum else {
            throw RunError.configuration("--memory must be at least 64MiB (got \(memoryBytes) bytes)")
        }
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw RunError.configuration(problem) }
    }

    /// Whether a file name is one `ingest` reads from a folder.
    static func accepts(_ name: String) -> Bool {
        AlertSourceKind(name: name) != nil
    }
}

/// What kind of input a file is, from its name.
enum AlertSourceKind: String, Codable, Sendable {
    case archive, avro

    init?(name: String) {
        let n = name.lowercased()
        if n.hasSuffix(".avro") { self = .avro }
        else if [".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar.zst"].contains(where: { n.hasSuffix($0) }) { self = .archive }
        else { return nil }
    }
}
