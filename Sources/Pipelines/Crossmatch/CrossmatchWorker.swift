import Foundation
import Formats
import RunEngine
import Sky
import Table

/// The stages of a cross-match, in order.
public enum CrossmatchStage: String, RunStage {
    /// Match every left partition and write its leaf.
    case match = "crossmatch"
    /// Write the HATS metadata and verify.
    case finish = "crossmatch-finish"
}

/// The record of one left partition matched.
struct CrossmatchRecord: Codable, Sendable {
    var leftRows: Int64
    var outputRows: Int64
    var matchedLeftRows: Int64
}

/// Matches one left partition against the right tiles overlapping it and writes its leaf.
struct CrossmatchWorker: Sendable {
    let config: CrossmatchConfig
    let plan: CrossmatchPlan
    let left: HATSCatalog
    let tiling: RightTiling
    let layout: HATSLayout
    let cache: RightSideCache

    /// Left rows matched per output batch.
    static let chunkRows = 65_536

    /// Matches the left partition `pixel` and writes its leaf.
    func match(_ pixel: HealpixPixel, progress: ProgressReporter) throws -> CrossmatchRecord {
        try Interruption.check()
        let path = left.leafPath(pixel)
        var batches: [RecordBatch] = []
        try CatalogError.reading(path) {
            let reader = try ParquetFileReader(path: path, columns: plan.leftColumns, batchRows: RightSide.batchRows)
            while let b = try reader.next() {
                batches.append(b.schema.fields == plan.leftSchema.fields ? b : try ArrowCompute.cast(b, to: plan.leftSchema))
            }
        }
        let leftTable = try ChunkedTable(batches, schema: plan.leftSchema)
        var hpx: [Int64] = [], ra: [Double] = [], dec: [Double] = [], valid: [Bool] = []
        for b in batches {
            guard let h = b.column(plan.leftHealpix), h.type == .int64 else {
                throw CatalogError.notACatalog(left.root, "\(path) has no int64 column \(plan.leftHealpix)")
            }
            hpx.append(contentsOf: h.values(Int64.self))
            guard let (r, rv) = b.column(plan.leftRa)?.doubles(), let (d, dv) = b.column(plan.leftDec)?.doubles() else {
                throw CatalogError.notACatalog(left.root, "\(path): \(plan.leftRa)/\(plan.leftDec) are not numeric")
            }
            ra.append(contentsOf: r)
            dec.append(contentsOf: d)
            for i in 0..<b.length {
                valid.append(rv?[i] != false && dv?[i] != false && SkyCoordinateCheck.validate(ra: r[i], dec: d[i]) == nil)
            }
        }
        let n = hpx.count

        try FileManager.default.createDirectory(atPath: layout.leafDirectory(pixel), withIntermediateDirectories: true)
        var options = ParquetWriteOptions()
        options.sortedByFirstColumn = true
        let writer = try ParquetFileWriter(path: layout.leafPath(pixel), schema: plan.outputSchema, options: options)
        var out = Output(written: 0, matched: 0)
        let emptyRight = try ChunkedTable([], schema: plan.rightSchema)
        var cursor = 0
        for position in tiling.tree.positions(overlapping: pixel) {
            let tile = tiling.tiles[position]
            // The tile and the left pixel overlap, so one contains the other: the finer one bounds the rows.
            let finer = tile.pixel.order >= pixel.order ? tile.pixel : pixel
            let rows = hpx.withUnsafeBufferPointer { finer.rows(inSortedHealpix29: $0) }
            let first = rows.lowerBound, end = rows.upperBound
            if first > cursor { try unmatched(cursor..<first, leftTable, emptyRight, writer, &out, progress) }
            if end > first {
                let side = try cache.side(position) {
                    try RightSide(tile: tile, columns: plan.rightColumns, schema: plan.rightSchema, ra: plan.rightRa, dec: plan.rightDec)
                }
                var chunk = first
                while chunk < end {
                    try Interruption.check()
                    let stop = min(end, chunk + Self.chunkRows)
                    try matched(chunk..<stop, ra: ra, dec: dec, valid: valid, leftTable, side, writer, &out, progress)
                    chunk = stop
                }
            }
            cursor = max(cursor, end)
        }
        if cursor < n { try unmatched(cursor..<n, leftTable, emptyRight, writer, &out, progress) }
        try writer.close()
        return CrossmatchRecord(leftRows: Int64(n), outputRows: out.written, matchedLeftRows: out.matched)
    }

    struct Output {
        var written: Int64
        var matched: Int64
    }

    /// Left rows with no right tile: kept with null right columns in a left join.
    func unmatched(_ rows: Range<Int>, _ leftTable: ChunkedTable, _ emptyRight: ChunkedTable, _ writer: ParquetFileWriter,
                   _ out: inout Output, _ progress: ProgressReporter) throws {
        progress.advance(Int64(rows.count))
        guard config.join == .left else { return }
        var start = rows.lowerBound
        while start < rows.upperBound {
            let stop = min(rows.upperBound, start + Self.chunkRows)
            let li = (start..<stop).map { Int64($0) }
            let ri = [Int64](repeating: -1, count: li.count)
            let l = try li.withUnsafeBufferPointer { try leftTable.take($0) }
            let r = try ri.withUnsafeBufferPointer { try emptyRight.takeOrNull($0) }
            try writer.write(plan.assemble(left: l, right: r, distances: [Double](repeating: 0, count: li.count),
                                           matched: [Bool](repeating: false, count: li.count)))
            out.written += Int64(li.count)
            start = stop
        }
    }

    /// Matches `rows` of the left partition against one right side and writes the pairs.
    func matched(_ rows: Range<Int>, ra: [Double], dec: [Double], valid: [Bool], _ leftTable: ChunkedTable, _ side: RightSide,
                 _ writer: ParquetFileWriter, _ out: inout Output, _ progress: ProgressReporter) throws {
        let maxChord = SphericalGeometry.chordLength(forAngle: config.radiusArcsec / 3600)
        let minChord = config.minRadiusArcsec > 0 ? SphericalGeometry.chordLength(forAngle: config.minRadiusArcsec / 3600) : 0
        var li: [Int64] = [], ri: [Int64] = [], dist: [Double] = [], isMatch: [Bool] = []
        li.reserveCapacity(rows.count); ri.reserveCapacity(rows.count); dist.reserveCapacity(rows.count); isMatch.reserveCapacity(rows.count)
        var found: [KDTree.Neighbor] = []
        for i in rows {
            found.removeAll(keepingCapacity: true)
            if valid[i] {
                let v = UnitVector(ra: ra[i], dec: dec[i])
                switch config.mode {
                case .nearest(let k):
                    side.tree.nearest(x: v.x, y: v.y, z: v.z, k: k, maxChord: maxChord, minChord: minChord, into: &found)
                case .allPairs:
                    side.tree.forEachWithin(x: v.x, y: v.y, z: v.z, maxChord: maxChord, minChord: minChord) { index, d2 in
                        found.append(KDTree.Neighbor(index: index, chordSquared: d2))
                    }
                    if found.count > 1 {
                        found.sort { $0.chordSquared != $1.chordSquared ? $0.chordSquared < $1.chordSquared : $0.index < $1.index }
                    }
                }
            }
            if found.isEmpty {
                if config.join == .left {
                    li.append(Int64(i)); ri.append(-1); dist.append(0); isMatch.append(false)
                }
                continue
            }
            out.matched += 1
            for nb in found {
                li.append(Int64(i))
                ri.append(Int64(nb.index))
                dist.append(SphericalGeometry.angle(forChordLength: nb.chordSquared.squareRoot()) * 3600)
                isMatch.append(true)
            }
        }
        progress.advance(Int64(rows.count))
        guard !li.isEmpty else { return }
        let l = try li.withUnsafeBufferPointer { try leftTable.take($0) }
        let r = try ri.withUnsafeBufferPointer { try side.table.takeOrNull($0) }
        try writer.write(plan.assemble(left: l, right: r, distances: dist, matched: isMatch))
        out.written += Int64(li.count)
    }
}
