import Foundation
import Formats
import Sky
import Table

/// The durable state of an import in its work folder: every stage, input and pixel records its
/// completion with an atomically written file, so a re-run after a crash or Ctrl-C continues.
///
/// ```
/// <work>/plan.json            the plan (inputs, config hash)
/// <work>/schema.arrow         the unified input schema (an empty Arrow IPC file)
/// <work>/map/<i>.json         input i mapped (or rejected), with its runs and their index
/// <work>/runs/<i>-<c>.arrow   sorted spill run c of input i
/// <work>/hist/<i>.bin         input i's histogram at the mapping order (pixel, count) Int64 pairs
/// <work>/alignment.json       the partition plan
/// <work>/reduce/<k>-<n>.json  pixel (k, n) written
/// ```
struct WorkState {
    let root: String

    var planFile: String { root + "/plan.json" }
    var schemaFile: String { root + "/schema.arrow" }
    var mapDirectory: String { root + "/map" }
    var runDirectory: String { root + "/runs" }
    var histogramDirectory: String { root + "/hist" }
    var alignmentFile: String { root + "/alignment.json" }
    var reduceDirectory: String { root + "/reduce" }

    func mapMarker(_ input: Int) -> String { mapDirectory + "/\(input).json" }
    func runFile(input: Int, chunk: Int) -> String { runDirectory + "/\(input)-\(chunk).arrow" }
    func histogramFile(_ input: Int) -> String { histogramDirectory + "/\(input).bin" }
    func reduceMarker(_ pixel: HealpixPixel) -> String { reduceDirectory + "/\(pixel.order)-\(pixel.index).json" }

    func createDirectories() throws {
        for d in [root, mapDirectory, runDirectory, histogramDirectory, reduceDirectory] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
    }

    static func write<T: Encodable>(_ value: T, to path: String) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try e.encode(value)), to: path)
    }

    /// A run's identity in its work folder (`config.json`).
    struct RunIdentity: Codable { var hash: String }

    /// Creates `folders` (the first is the work folder) and records `hash` in its `config.json`,
    /// after checking that a stopped run found there has the same settings.
    static func begin(root: String, hash: String, folders: [String]) throws {
        let file = root + "/config.json"
        if let existing = read(RunIdentity.self, from: file), existing.hash != hash {
            throw CatalogError.outputConflict("\(root) holds a stopped run with other settings; remove it to start over")
        }
        for d in [root] + folders {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        try write(RunIdentity(hash: hash), to: file)
    }

    static func read<T: Decodable>(_ type: T.Type, from path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(type, from: data)
    }
}

/// The plan of an import, written before any data is.
struct ImportPlanRecord: Codable {
    var configHash: String
    var mapHash: String
    var inputs: [ImportInput]
    /// Files rejected while planning (unreadable header/footer), with the reason.
    var rejectedFiles: [RejectedFile]
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
struct MapRecord: Codable {
    enum Status: String, Codable { case mapped, rejected }
    var status: Status
    var input: Int
    var rowsRead: Int64
    var rowsPlaced: Int64
    var rejectedRows: Int64
    var rejectedRowSamples: [RejectedRow]
    var runs: [SpillRun]
    var error: String?
    /// Whether the input was a compressed FITS file unpacked to the work folder to be read.
    var unpacked: Bool? = nil
}

/// A file that was skipped whole.
public struct RejectedFile: Codable, Sendable, Hashable {
    /// The file.
    public var path: String
    /// Why (the reader's message, naming position where known).
    public var reason: String
}

/// A row that was skipped.
public struct RejectedRow: Codable, Sendable, Hashable {
    /// The file.
    public var path: String
    /// Where: "row 17" (0-based data row) or "line 18" (CSV line, 1-based, header counted).
    public var position: String
    /// Why.
    public var reason: String
}

/// A pixel whose leaf is written.
struct ReduceRecord: Codable {
    var order: Int
    var index: Int64
    var rows: Int64
    var bytes: Int64
}

/// The partition plan as saved between stages.
struct AlignmentRecord: Codable {
    var orders: [Int]
    var indices: [Int64]
    var counts: [Int64]
    var mappingOrder: Int
}
