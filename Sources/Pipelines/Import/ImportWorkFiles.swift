import Foundation
import Formats
import RunEngine
import Sky
import Table

/// The stages of an import, in order; the raw values name their records and fault hooks.
public enum ImportStage: String, RunStage {
    /// Find the inputs, read their schemas, settle one schema.
    case plan
    /// Read each input once, spill sorted runs, count pixels.
    case map
    /// Merge the histograms and align the partitions.
    case bin
    /// Write each leaf from its slices of the runs.
    case reduce
    /// Write the HATS metadata and verify.
    case finish
}

/// The import's scratch files in its work folder (the records of its stages are the engine's):
///
/// ```
/// <work>/schema.arrow         the unified input schema (an empty Arrow IPC file)
/// <work>/runs/<i>-<c>.arrow   sorted spill run c of input i
/// <work>/hist/<i>.bin         input i's histogram at the mapping order (pixel, count) Int64 pairs
/// <work>/unpacked/<i>.fits    a large compressed FITS input unpacked to be read
/// ```
struct ImportWorkFiles: Sendable {
    let root: String

    var schemaFile: String { root + "/schema.arrow" }
    var runDirectory: String { root + "/runs" }
    var histogramDirectory: String { root + "/hist" }
    var unpackedDirectory: String { root + "/unpacked" }

    func runFile(_ name: String) -> String { runDirectory + "/" + name }
    /// The name of spill run `chunk` of input `input`.
    static func runName(input: Int, chunk: Int) -> String { "\(input)-\(chunk).arrow" }
    func histogramFile(_ input: Int) -> String { histogramDirectory + "/\(input).bin" }
    func unpackedFile(_ input: Int) -> String { unpackedDirectory + "/\(input).fits" }

    func createDirectories() throws {
        for d in [root, runDirectory, histogramDirectory] {
            do { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) } catch {
                throw RunError.writing(d, error)
            }
        }
    }
}

/// The plan of an import, written before any data is.
struct ImportPlanRecord: Codable, Sendable {
    var inputs: [ImportInput]
    /// Files rejected while planning (unreadable header/footer), with the reason.
    var rejectedFiles: [Rejection]
}

/// A sorted spill run: one Arrow IPC file, `_healpix_29` first, sorted by it, in fixed-size batches.
struct SpillRun: Codable, Sendable {
    /// File name inside `runs/`.
    var file: String
    /// Per batch: first and last `_healpix_29`, and rows.
    var batchFirst: [Int64]
    var batchLast: [Int64]
    var batchRows: [Int]
}

/// The outcome of mapping one input.
struct MapRecord: Codable, Sendable {
    enum Status: String, Codable { case mapped, rejected }
    var status: Status
    var input: Int
    var rowsRead: Int64
    var rowsPlaced: Int64
    var rejectedRows: Int64
    var rejectedRowSamples: [Rejection]
    var runs: [SpillRun]
    var error: String?
    /// Whether the input was a compressed FITS file unpacked to the work folder to be read.
    var unpacked: Bool? = nil
}

/// A pixel whose leaf is written.
struct ReduceRecord: Codable, Sendable {
    var order: Int
    var index: Int64
    var rows: Int64
    var bytes: Int64
}

/// The partition plan as saved between stages.
struct AlignmentRecord: Codable, Sendable {
    var orders: [Int]
    var indices: [Int64]
    var counts: [Int64]
    var mappingOrder: Int
}
