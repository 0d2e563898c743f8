import Foundation
import Formats
import RunEngine
import Sky
import Table

/// Reduce: each destination pixel is one contiguous `_healpix_29` range in every sorted run, so
/// its leaf is a k-way merge of slices — already sorted, no per-pixel shard files. Ties keep
/// (input, chunk, row) order, so leaves are deterministic.
struct ReduceStage {
    let config: ImportConfig
    let files: ImportWorkFiles
    let layout: HATSLayout
    let leafSchema: Schema
    /// Runs in (input, chunk) order.
    let runs: [SpillRun]

    /// Writes the leaf of `pixel`, returning its record. `cache` holds this worker's open runs.
    func reduce(_ pixel: HealpixPixel, expectedRows: Int64, cache: RunFileCache) throws -> ReduceRecord {
        let range = pixel.healpix29Range
        var slices: [RecordBatch] = []
        for (r, run) in runs.enumerated() {
            for b in run.batchFirst.indices where run.batchLast[b] >= range.lowerBound && run.batchFirst[b] < range.upperBound {
                let batch = try cache.file(r, path: self.files.runFile(run.file)).batch(b)
                let keys = batch.columns[0].values(Int64.self)
                let lo = Self.lowerBound(keys, range.lowerBound)
                let hi = Self.lowerBound(keys, range.upperBound)
                if hi > lo { slices.append(batch.slice(lo..<hi)) }
            }
        }
        let rows = slices.reduce(0) { $0 + $1.length }
        guard Int64(rows) == expectedRows else {
            throw RunError.verification("pixel \(pixel): the runs hold \(rows) rows, the histogram counted \(expectedRows)")
        }
        try FileManager.default.createDirectory(atPath: layout.leafDirectory(pixel), withIntermediateDirectories: true)
        let path = layout.leafPath(pixel)
        var options = config.parquet
        options.sortedByFirstColumn = true
        let writer = try ParquetFileWriter(path: path, schema: leafSchema, options: options)
        if slices.count == 1 {
            try writer.write(slices[0])
        } else if slices.count > 1 {
            // Merge one row group at a time: the leaf is never materialised whole.
            let order = Self.mergeOrder(slices)
            let table = try ChunkedTable(slices, schema: leafSchema)
            slices.removeAll()
            let step = max(1, options.rowGroupRows)
            try order.withUnsafeBufferPointer { all in
                var start = 0
                while start < all.count {
                    let end = min(start + step, all.count)
                    try writer.write(try table.take(UnsafeBufferPointer(rebasing: all[start..<end])))
                    start = end
                }
            }
        }
        try writer.close()
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        return ReduceRecord(order: pixel.order, index: pixel.index, rows: Int64(rows), bytes: bytes)
    }

    /// First position whose key is ≥ `value` in sorted `keys`.
    static func lowerBound(_ keys: UnsafeBufferPointer<Int64>, _ value: Int64) -> Int {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if keys[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Positions into the concatenation of sorted `slices` that merge them by key; ties keep
    /// slice order (a stable radix sort of the concatenated keys, linear in rows).
    static func mergeOrder(_ slices: [RecordBatch]) -> [Int64] {
        var keys: [Int64] = []
        keys.reserveCapacity(slices.reduce(0) { $0 + $1.length })
        for s in slices { keys.append(contentsOf: s.columns[0].values(Int64.self)) }
        return RowSort.stableOrder(keys).map { Int64($0) }
    }
}

/// A worker's open run files (memory-mapped; one reader per worker, as Arrow readers are not
/// shared across threads).
final class RunFileCache {
    private var files: [Int: IPCFile] = [:]
    /// The most runs a worker keeps open (a catalog of thousands of runs would otherwise run
    /// out of file descriptors: "Too many open files"); past it the cache starts over.
    static let limit = 512

    func file(_ index: Int, path: String) throws -> IPCFile {
        if let f = files[index] { return f }
        if files.count >= Self.limit { files.removeAll(keepingCapacity: true) }
        let f = try IPCFile(path: path)
        files[index] = f
        return f
    }
}
