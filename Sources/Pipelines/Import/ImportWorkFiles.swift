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
/// <work>/inputs.arrow         the input list: path, format and size of every input (``ImportInputList``)
/// <work>/schema.arrow         the unified input schema (an empty Arrow IPC file)
/// <work>/scan/<key>-<k>.arrow schema k of scan item <key> (the distinct schemas of its inputs)
/// <work>/runs/<i>-<c>.arrow   sorted spill run c of the map item whose first input is i
/// <work>/hist/<i>.bin         that item's histogram at the mapping order (pixel, count) Int64 pairs
/// <work>/unpacked/<i>.fits    a large compressed FITS input unpacked to be read
/// ```
struct ImportWorkFiles: Sendable {
    let root: String

    var schemaFile: String { root + "/schema.arrow" }
    var inputListFile: String { root + "/inputs.arrow" }
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

/// What the list step found (the inputs themselves are in ``ImportInputList``'s file).
struct ImportListRecord: Codable, Sendable {
    /// Number of inputs.
    var count: Int
    /// Their bytes.
    var bytes: Int64
}

/// Consecutive inputs (list positions) whose schemas are read as one work item of the scan stage.
struct ScanItem: Sendable {
    var range: Range<Int>
    var key: String { "\(range.lowerBound)-\(range.upperBound - 1)" }
    /// Inputs per item: a 64th of the inputs, at least 16 and at most 1,024 — enough items to
    /// spread over workers and ranks, few enough that 500,000 files make ~500 records. Depends on
    /// the input count only, so a resumed run finds the same items.
    static func size(inputs: Int) -> Int { min(1024, max(16, inputs / 64)) }

    static func items(inputs: Int) -> [ScanItem] {
        let size = Self.size(inputs: inputs)
        return stride(from: 0, to: inputs, by: size).map { ScanItem(range: $0..<min(inputs, $0 + size)) }
    }
}

/// What the scan found in an item: its distinct schemas, each with the first input that has it,
/// and the inputs whose schema could not be read (usually none: the record does not grow with
/// the item's inputs).
struct InputScanRecord: Codable, Sendable {
    /// The item's distinct schemas in order of first appearance.
    var schemas: [ScannedSchema]
    /// The inputs rejected, with the reason.
    var rejected: [RejectedInput]
}

/// A schema the scan found: an empty Arrow IPC file in `scan/`, and the first input (list
/// position) of its item that has it.
struct ScannedSchema: Codable, Sendable {
    var file: String
    var input: Int
}

/// An input rejected whole: its list position, path and the reason.
struct RejectedInput: Codable, Sendable {
    var index: Int
    var path: String
    var reason: String
    var rejection: Rejection { Rejection(input: path, reason: reason) }
}

/// The plan of an import, written before any data is (the schema is in `schema.arrow`).
struct ImportPlanRecord: Codable, Sendable {
    /// Inputs rejected while planning (unreadable header/footer).
    var rejected: [RejectedInput]
    /// Inputs to map (the listed ones not rejected), and their bytes.
    var inputs: Int
    var bytes: Int64
    /// The list positions of the rejected inputs.
    var skipped: Set<Int> { Set(rejected.map(\.index)) }
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
/// leaves do not depend on the grouping. An item is a range of list positions: its inputs are
/// the ones in `first...last` not rejected by the plan, read from the ``ImportInputList`` when
/// the item is mapped.
struct MapItem: Sendable {
    /// The first and last input (list positions).
    var first: Int
    var last: Int
    /// Input bytes.
    var byteCount: Int64
    /// The record key: the first input's index, and the last's for a group (`7`, `7-1030`).
    var key: String { first == last ? "\(first)" : "\(first)-\(last)" }
    /// The list positions the item spans.
    var range: Range<Int> { first..<last + 1 }

    /// Below this many inputs each input is its own item (the per-item records, runs and open
    /// files matter only with many inputs).
    static let groupingFromInputs = 1000
    /// An input smaller than this may share an item with its neighbours.
    static let smallInputBytes: Int64 = 4 << 20
    /// A group holds at most this many input bytes…
    static let groupBytes: Int64 = 64 << 20
    /// …and this many inputs.
    static let groupInputs = 4096

    /// The inputs of sizes `byteCounts` (list order) but those `skipping`, as map items: with
    /// ``groupingFromInputs`` inputs or more, each large input alone and runs of consecutive small
    /// inputs together up to ``groupBytes`` / ``groupInputs``; with fewer, one item per input.
    /// Depends on the plan only (not on workers, memory or ranks), so a resumed run finds the
    /// same items.
    static func items(byteCounts: [Int64], skipping: Set<Int>) -> [MapItem] {
        let grouping = byteCounts.count - skipping.count >= groupingFromInputs
        var out: [MapItem] = []
        var group: MapItem? = nil
        var members = 0
        func close() {
            if let g = group { out.append(g) }
            group = nil
            members = 0
        }
        for (i, bytes) in byteCounts.enumerated() where !skipping.contains(i) {
            guard grouping, bytes <= smallInputBytes else {
                close()
                out.append(MapItem(first: i, last: i, byteCount: bytes))
                continue
            }
            if let g = group, members >= groupInputs || g.byteCount + bytes > groupBytes { close() }
            if group == nil { group = MapItem(first: i, last: i, byteCount: 0) }
            group?.last = i
            group?.byteCount += bytes
            members += 1
        }
        close()
        return out
    }
}

/// The outcome of a map item: totals over its inputs, the inputs rejected, and the spill runs of
/// the rows of the inputs mapped (a rejected input's rows are in no run).
struct MapItemRecord: Codable, Sendable {
    /// Inputs mapped.
    var mapped: Int = 0
    var rowsRead: Int64 = 0
    var rowsPlaced: Int64 = 0
    var rejectedRows: Int64 = 0
    /// Some of the rejected rows: up to ``MapStage/rejectedSampleLimit`` per input and
    /// ``MapStage/itemSampleLimit`` per item (all are counted).
    var rejectedRowSamples: [Rejection] = []
    /// Inputs that failed while being read, rejected whole.
    var rejectedInputs: [RejectedInput] = []
    /// Compressed FITS inputs unpacked to the work folder to be read.
    var unpacked: [String] = []
    var runs: [SpillRun] = []
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
