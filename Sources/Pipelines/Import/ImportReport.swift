import Foundation

/// What an import did: written as `astropile_report.json` in the catalog and summarised on stderr.
public struct ImportReport: Codable, Sendable {
    /// How the run ended.
    public enum Status: String, Codable, Sendable {
        /// Every row of every input was placed.
        case complete
        /// Finished, but some files or rows were rejected (listed).
        case completeWithRejections
    }
    /// How the run ended.
    public var status: Status
    /// The catalog folder.
    public var catalog: String
    /// Identity of the settings that made the catalog.
    public var configHash: String
    /// AstroPile version.
    public var astropileVersion: String
    /// Input files planned.
    public var inputFiles: Int
    /// Rows read from the inputs (rejected rows included; rows of rejected files not).
    public var rowsRead: Int64
    /// Rows written to leaves.
    public var rowsWritten: Int64
    /// Rows rejected (bad coordinates, malformed CSV rows).
    public var rowsRejected: Int64
    /// Up to 100 rejected rows per file, with positions and reasons.
    public var rejectedRowSamples: [RejectedRow]
    /// Files rejected whole.
    public var rejectedFiles: [RejectedFile]
    /// Number of partitions (leaves).
    public var partitions: Int
    /// Partitions per order.
    public var partitionsPerOrder: [String: Int]
    /// Bytes of the leaves.
    public var leafBytes: Int64
    /// Compressed FITS inputs that were unpacked to disk (not into memory) to be read.
    public var unpackedInputs: [String]? = nil
    /// Wall-clock seconds per stage of this invocation (a resumed run counts only what it did).
    public var stageSeconds: [String: Double]

    /// True when anything was rejected.
    public var hasRejections: Bool { rowsRejected > 0 || !rejectedFiles.isEmpty }

    /// A few lines for a terminal.
    public var summary: String {
        var s = "\(catalog): \(rowsWritten) rows in \(partitions) partitions"
        let orders = partitionsPerOrder.keys.compactMap(Int.init).sorted()
        if !orders.isEmpty { s += " (" + orders.map { "order \($0): \(partitionsPerOrder[String($0)]!)" }.joined(separator: ", ") + ")" }
        s += ", \(ByteCountFormatter.string(fromByteCount: leafBytes, countStyle: .binary))"
        if !rejectedFiles.isEmpty {
            s += "\nrejected \(rejectedFiles.count) file(s):"
            for f in rejectedFiles.prefix(20) { s += "\n  \(f.path): \(f.reason)" }
        }
        if rowsRejected > 0 {
            s += "\nrejected \(rowsRejected) row(s):"
            for r in rejectedRowSamples.prefix(20) { s += "\n  \(r.path), \(r.position): \(r.reason)" }
            if rejectedRowSamples.count > 20 { s += "\n  … (all listed in astropile_report.json)" }
        }
        if rowsRead != rowsWritten + rowsRejected {
            s += "\nWARNING: rows read \(rowsRead) ≠ written \(rowsWritten) + rejected \(rowsRejected)"
        }
        return s
    }
}
