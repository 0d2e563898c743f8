import Foundation
import RunEngine

/// What an import wrote beyond the common counts: the ``RunReport/details`` of its report.
public struct ImportDetails: Codable, Sendable, Hashable {
    /// Number of partitions (leaves).
    public var partitions: Int
    /// Partitions per order.
    public var partitionsPerOrder: [String: Int]
    /// Bytes of the leaves.
    public var leafBytes: Int64
    /// Compressed FITS inputs that were unpacked to disk (not into memory) to be read.
    public var unpackedInputs: [String]
}

/// What an import did: written as `astropile_report.json` in the catalog and summarised on
/// stderr. Counts are rows: read from the inputs (rejected rows included, rows of rejected files
/// not), written to leaves, rejected (bad coordinates, malformed CSV rows; up to 100 per file
/// listed). Inputs rejected whole are listed with the reader's message.
public typealias ImportReport = RunReport<ImportDetails>

extension RunReport where Details == ImportDetails {
    /// A few lines for a terminal.
    public var summary: String {
        var s = "\(output): \(counts.written) rows in \(details.partitions) partitions"
        let perOrder = details.partitionsPerOrder
        let orders = perOrder.keys.compactMap(Int.init).sorted()
        if !orders.isEmpty { s += " (" + orders.map { "order \($0): \(perOrder[String($0)] ?? 0)" }.joined(separator: ", ") + ")" }
        s += ", \(ByteCountFormatter.string(fromByteCount: details.leafBytes, countStyle: .binary))"
        s += rejectionSummary
        if counts.read != counts.written + counts.rejected {
            s += "\nWARNING: rows read \(counts.read) ≠ written \(counts.written) + rejected \(counts.rejected)"
        }
        return s
    }
}
