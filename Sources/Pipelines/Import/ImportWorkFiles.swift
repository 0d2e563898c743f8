import Foundation
import Formats
import RunEngine
import Sky
import Table

/// The stages of an import, in order; the raw values name their records and fault hooks.
public enum ImportStage: String, RunStage {
    /// Find the inputs and their sizes.
    case list
    /// Read every input's schema (headers and footers only), in groups split over workers and ranks.
    case scan
    /// Settle one schema from the schemas found.
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
/// <work>/scan/<key>-<k>.arrow schema k of scan item <key> (the distinct schemas of its inputs)
/// <work>/runs/<i>-<c>.arrow   sorted spill run c of the map item whose first input is i
/// <work>/hist/<i>.bin         that item's histogram at the mapping order (pixel, count) Int64 pairs
/// <work>/unpacked/<i>.fits    a large compressed FITS input unpacked to be read
/// ```
struct ImportWorkFiles: Sendable {
    let root: String

    var schemaFile: String { root + "/schema.arrow" }
    var runDirectory: String { root + "/runs" }
    var histogramDirectory: String { root + "/hist" }
    var unpackedDirectory: String { root + "/unpacked" }
    var scanDirectory: String { root + "/scan" }

    func runFile(_ name: String) -> String { runDirectory + "/" + name }
    /// The name of spill run `chunk` of input `input`.
    static func runName(input: Int, chunk: Int) -> String { "\(input)-\(chunk).arrow" }
    func histogramFile(_ input: Int) -> String { histogramDirectory + "/\(input).bin" }
    func unpackedFile(_ input: Int) -> String { unpackedDirectory + "/\(input).fits" }

    func createDirectories() throws {
        for d in [root, runDirectory, histogramDirectory, scanDirectory] {
            do { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) } catch {
                throw RunError.writing(d, error)
            }
        }
    }
}

/// The inputs found, with their formats and sizes (the list step's record).
struct ImportListRecord: Codable, Sendable {
    var inputs: [ImportInput]
}

/// Consecutive inputs whose schemas are read as one work item of the scan stage.
struct ScanItem: Sendable {
    var inputs: [ImportInput]
    var key: String { "\(inputs.first?.index ?? -1)-\(inputs.last?.index ?? -1)" }
    /// Inputs per item: a 64th of the inputs, at least 16 and at most 1,024 — enough items to
    /// spread over workers and ranks, few enough that 500,000 files make ~500 records. Depends on
    /// the input count only, so a resumed run finds the same items.
    static func size(inputs: Int) -> Int { min(1024, max(16, inputs / 64)) }

    static func items(_ inputs: [ImportInput]) -> [ScanItem] {
        let size = Self.size(inputs: inputs.count)
        return stride(from: 0, to: inputs.count, by: size).map { ScanItem(inputs: Array(inputs[$0..<min(inputs.count, $0 + size)])) }
    }
}

/// What the scan found: the item's distinct schemas (as empty Arrow IPC files in `scan/`) and,
/// per input, which one it has or why it could not be read.
struct InputScanRecord: Codable, Sendable {
    var schemaFiles: [String]
    /// Per input of the item: an index into `schemaFiles`, or `nil` when it was rejected.
    var schemaOf: [Int?]
    /// Per input: the reason it was rejected.
    var errors: [String?]
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

/// What the map stage reads as one work item: one input, or consecutive small inputs read
/// together into the same spill runs (so 500,000 tiny files make hundreds of runs, records and
/// histograms, not millions). Rows keep (input, row) order, as with one item per input, so the
/// leaves do not depend on the grouping.
struct MapItem: Sendable {
    /// The inputs, consecutive in the plan's order.
    var inputs: [ImportInput]
    /// The record key: the first input's index, and the last's for a group (`7`, `7-1030`).
    var key: String {
        guard let first = inputs.first, let last = inputs.last else { return "empty" }
        return first.index == last.index ? "\(first.index)" : "\(first.index)-\(last.index)"
    }
    /// The first input's index (names the item's runs and histogram).
    var first: Int { inputs.first?.index ?? -1 }
    /// Input bytes.
    var byteCount: Int64 { inputs.reduce(0) { $0 + $1.byteCount } }

    /// Below this many inputs each input is its own item (the per-item records, runs and open
    /// files matter only with many inputs).
    static let groupingFromInputs = 1000
    /// An input smaller than this may share an item with its neighbours.
    static let smallInputBytes: Int64 = 4 << 20
    /// A group holds at most this many input bytes…
    static let groupBytes: Int64 = 64 << 20
    /// …and this many inputs.
    static let groupInputs = 4096

    /// The plan's inputs as map items: with ``groupingFromInputs`` inputs or more, each large
    /// input alone and runs of consecutive small inputs together up to ``groupBytes`` /
    /// ``groupInputs``; with fewer, one item per input. Depends on the plan only (not on workers,
    /// memory or ranks), so a resumed run finds the same items.
    static func items(_ inputs: [ImportInput]) -> [MapItem] {
        guard inputs.count >= groupingFromInputs else { return inputs.map { MapItem(inputs: [$0]) } }
        var out: [MapItem] = []
        var group: [ImportInput] = []
        var bytes: Int64 = 0
        func close() {
            if !group.isEmpty { out.append(MapItem(inputs: group)) }
            group = []
            bytes = 0
        }
        for input in inputs {
            guard input.byteCount <= smallInputBytes else {
                close()
                out.append(MapItem(inputs: [input]))
                continue
            }
            if group.count >= groupInputs || bytes + input.byteCount > groupBytes { close() }
            group.append(input)
            bytes += input.byteCount
        }
        close()
        return out
    }
}

/// The outcome of a map item: each input's outcome, and the spill runs of the rows of the
/// inputs mapped (a rejected input's rows are in no run).
struct MapItemRecord: Codable, Sendable {
    var inputs: [MapRecord]
    var runs: [SpillRun]
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
