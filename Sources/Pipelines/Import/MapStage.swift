import Foundation
import Formats
import RunEngine
import Sky
import Table

/// Map + spill: reads each input once (alone, or with its small neighbours: ``MapItem``), in batches; computes `_healpix_29`; rejects rows without
/// valid coordinates; sorts rows by `_healpix_29` (ties in row order) in chunks bounded by the
/// memory budget; writes each chunk as a sorted Arrow IPC run; counts rows per pixel at the
/// mapping order. A file that fails while being read is rejected whole: its runs are deleted. A
/// failure to write (a full disk in the work folder) is not the input's fault: it stops the run
/// (``RunError``), and the input is mapped again by the next run.
struct MapStage {
    let config: ImportConfig
    let files: ImportWorkFiles
    /// Unified input columns.
    let inputSchema: Schema
    /// `_healpix_29` + input columns: the leaf schema.
    let leafSchema: Schema
    /// Bytes a worker may hold before spilling a run.
    let chunkBytes: Int
    /// Rows per batch in a run file. Reduce reads whole batches of every run that overlap a pixel,
    /// so this bounds the rows read beyond a pixel's own to 2 × this × runs.
    static let runBatchRows = 8_192
    /// How many rejected rows are listed per file (all are counted)…
    static let rejectedSampleLimit = 100
    /// …and per map item (a group of thousands of small files with bad rows would otherwise
    /// list hundreds of thousands in the report).
    static let itemSampleLimit = 1000

    static let healpixField = Field("_healpix_29", .int64, nullable: true)

    /// Maps one item (an input, or a group of small inputs read into the same runs): `inputs`
    /// are its inputs, read from the input list. Returns its record (each input mapped or
    /// rejected), or throws a ``RunError`` when interrupted or when the work folder cannot be
    /// written.
    ///
    /// An item of one input spills whenever the memory budget is reached; a group spills only
    /// between its inputs (each is small), so a rejected input's rows are dropped from memory
    /// before they reach a run.
    func map(_ item: MapItem, inputs: [ImportInput], progress: ProgressReporter) throws -> MapItemRecord {
        var out = MapItemRecord()
        var pending: [(batch: RecordBatch, hpx: [Int64], valid: [Int32]?)] = []
        var pendingBytes = 0
        var histogram: [Int64: Int64] = [:]
        var chunk = 0
        let shift = Int64(2 * (29 - config.mappingOrder))
        let single = inputs.count == 1

        func flush() throws {
            guard !pending.isEmpty else { return }
            let run: SpillRun?
            do {
                run = try writeRun(pending, input: item.first, chunk: chunk, histogram: &histogram, shift: shift)
            } catch {
                throw RunError.writing(files.runFile(ImportWorkFiles.runName(input: item.first, chunk: chunk)), error)
            }
            if let run { out.runs.append(run) }
            chunk += 1
            pending.removeAll(keepingCapacity: true)
            pendingBytes = 0
        }
        func discardRuns() {
            for run in out.runs { AtomicFile.remove(files.runFile(run.file)) }
        }

        for input in inputs {
            // This input's counts join the item's only once it is read to the end.
            var rowsRead: Int64 = 0, rowsPlaced: Int64 = 0, rejectedRows: Int64 = 0
            var samples: [Rejection] = []
            var reportedBytes: Int64 = 0
            let mark = (pending: pending.count, bytes: pendingBytes)
            let unpackTarget = InputReaders.needsUnpacking(input, config: config) ? files.unpackedFile(input.index) : nil
            do {
                if let unpackTarget { try InputReaders.unpack(input, to: unpackTarget) }
                let reader = try InputReaders.open(input, config: config, types: inputSchema, batchRows: config.batchRows ?? 65_536,
                                                  selecting: config.columns == nil ? nil : inputSchema.names, unpacked: unpackTarget)
                var rowBase: Int64 = 0
                while let raw = try reader.next() {
                    try Interruption.check()
                    let batch = try conform(try CoordinatePromotion.promote(raw, config: config, path: input.path), path: input.path)
                    let (hpx, valid, rejected) = try coordinates(batch, path: input.path, rowBase: rowBase)
                    rejectedRows += Int64(rejected.count)
                    samples.append(contentsOf: rejected.prefix(max(0, Self.rejectedSampleLimit - samples.count)))
                    rowsRead += Int64(batch.length)
                    rowsPlaced += Int64(valid?.count ?? batch.length)
                    rowBase += Int64(batch.length)
                    pending.append((batch, hpx, valid))
                    pendingBytes += Self.estimateBytes(batch) + hpx.count * 8
                    if single, pendingBytes >= chunkBytes { try flush() }
                    // progress in input bytes, approximated by the share of rows read
                    if let parquet = reader as? ParquetFileReader, parquet.rowCount > 0 {
                        let share = Int64(flooring: Double(input.byteCount) * Double(rowBase) / Double(parquet.rowCount), clampedTo: 0...Int64.max)
                        progress.advance(max(0, share - reportedBytes)); reportedBytes = max(reportedBytes, share)
                    }
                }
                if let csv = reader as? CSVFileReader {
                    for bad in csv.invalidRows {
                        rejectedRows += 1
                        rowsRead += 1
                        if samples.count < Self.rejectedSampleLimit {
                            samples.append(Rejection(
                                input: input.path, position: "line \(bad.line)",
                                reason: "expected \(bad.expected) fields, found \(bad.actual): \(bad.text.prefix(200))"))
                        }
                    }
                }
            } catch let stop as RunError {
                // Interrupted, or the work folder could not be written: not the input's fault.
                discardRuns()
                throw stop
            } catch {
                // The input is rejected whole: its rows leave memory (a group) or its runs go (alone).
                if single { discardRuns(); out.runs = []; histogram = [:] }
                pending.removeSubrange(min(mark.pending, pending.count)...)
                pendingBytes = mark.bytes
                if let unpackTarget { AtomicFile.remove(unpackTarget) }
                progress.advance(max(0, input.byteCount - reportedBytes))
                out.rejectedInputs.append(RejectedInput(index: input.index, path: input.path, reason: "\(error)"))
                continue
            }
            progress.advance(max(0, input.byteCount - reportedBytes))
            if let unpackTarget {
                out.unpacked.append(input.path)
                AtomicFile.remove(unpackTarget)
            }
            out.mapped += 1
            out.rowsRead += rowsRead
            out.rowsPlaced += rowsPlaced
            out.rejectedRows += rejectedRows
            out.rejectedRowSamples.append(contentsOf: samples.prefix(max(0, Self.itemSampleLimit - out.rejectedRowSamples.count)))
            if pendingBytes >= chunkBytes { try flush() }
        }
        try flush()
        do { try writeHistogram(histogram, input: item.first) } catch {
            discardRuns()
            throw RunError.writing(files.histogramFile(item.first), error)
        }
        return out
    }

    /// Brings a batch to the unified schema (casts, missing columns as nulls, column selection).
    func conform(_ batch: RecordBatch, path: String) throws -> RecordBatch {
        // Select what exists by name (zero-copy); only a batch that then still differs is cast.
        let present = inputSchema.fields.compactMap { batch.schema.index(of: $0.name) }
        let selected = batch.selecting(present)
        if selected.schema.fields.map(\.name) == inputSchema.fields.map(\.name),
           selected.schema.fields.map(\.type) == inputSchema.fields.map(\.type) {
            return RecordBatch(schema: inputSchema, columns: selected.columns, length: selected.length)
        }
        do {
            let cast = try ArrowCompute.cast(Self.strippingMetadata(selected), to: inputSchema)
            return RecordBatch(schema: inputSchema, columns: cast.columns, length: cast.length)
        } catch {
            throw FormatError(.corruptInput, "cannot convert to the planned schema: \(error)", path: path)
        }
    }

    static func strippingMetadata(_ b: RecordBatch) -> RecordBatch {
        RecordBatch(schema: Schema(b.schema.fields), columns: b.columns, length: b.length)
    }

    /// `_healpix_29` of every row, the valid rows (nil when all are), and the rejected rows.
    func coordinates(_ batch: RecordBatch, path: String, rowBase: Int64) throws
        -> (hpx: [Int64], valid: [Int32]?, rejected: [Rejection])
    {
        guard let raCol = batch.column(config.raName), let decCol = batch.column(config.decName),
              let (ra, raValid) = raCol.doubles(), let (dec, decValid) = decCol.doubles() else {
            throw FormatError(.corruptInput, "ra/dec columns '\(config.raName)'/'\(config.decName)' missing or not numeric", path: path)
        }
        let n = batch.length
        var hpx = [Int64](repeating: 0, count: n)
        var rejected: [Rejection] = []
        var bad: [Int] = []
        for i in 0..<n {
            let nullCoord = (raValid.map { !$0[i] } ?? false) || (decValid.map { !$0[i] } ?? false)
            if nullCoord {
                bad.append(i)
                rejected.append(Rejection(input: path, position: "row \(rowBase + Int64(i))", reason: "ra or dec is null"))
            } else if let problem = SkyCoordinateCheck.validate(ra: ra[i], dec: dec[i]) {
                bad.append(i)
                rejected.append(Rejection(input: path, position: "row \(rowBase + Int64(i))",
                                          reason: "\(problem) (ra=\(ra[i]), dec=\(dec[i]))"))
            }
        }
        if bad.isEmpty {
            ra.withUnsafeBufferPointer { r in
                dec.withUnsafeBufferPointer { d in
                    hpx.withUnsafeMutableBufferPointer { h in
                        HEALPix.nestedIndices(ra: r, dec: d, order: 29, into: h)
                    }
                }
            }
            return (hpx, nil, [])
        }
        var valid: [Int32] = []
        valid.reserveCapacity(n - bad.count)
        var b = 0
        for i in 0..<n {
            if b < bad.count && bad[b] == i { b += 1; continue }
            valid.append(Int32(i))
            hpx[i] = HEALPix.nestedIndex(ra: ra[i], dec: dec[i], order: 29)
        }
        return (hpx, valid, rejected)
    }

    /// Sorts the pending batches' valid rows by `_healpix_29` (ties: input order) and writes them
    /// as one run file in fixed-size batches.
    func writeRun(_ pending: [(batch: RecordBatch, hpx: [Int64], valid: [Int32]?)], input: Int, chunk: Int,
                  histogram: inout [Int64: Int64], shift: Int64) throws -> SpillRun? {
        // Global positions of valid rows in the concatenation, and their keys.
        var keys: [Int64] = []
        var positions: [Int64] = []
        var base: Int64 = 0
        for p in pending {
            if let valid = p.valid {
                for v in valid { keys.append(p.hpx[Int(v)]); positions.append(base + Int64(v)) }
            } else {
                keys.append(contentsOf: p.hpx)
                positions.append(contentsOf: (0..<Int64(p.hpx.count)).map { base + $0 })
            }
            base += Int64(p.batch.length)
        }
        guard !keys.isEmpty else { return nil }
        let order = RowSort.stableOrder(keys)
        var sortedPositions = [Int64](repeating: 0, count: order.count)
        var sortedKeys = [Int64](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() {
            sortedPositions[i] = positions[Int(o)]
            sortedKeys[i] = keys[Int(o)]
        }
        // Histogram at the mapping order from the sorted keys (run-length counts).
        var i = 0
        while i < sortedKeys.count {
            let pixel = sortedKeys[i] >> shift
            var j = i + 1
            while j < sortedKeys.count && sortedKeys[j] >> shift == pixel { j += 1 }
            histogram[pixel, default: 0] += Int64(j - i)
            i = j
        }
        // Prepend the `_healpix_29` column (unsorted, per batch) and take in sorted order.
        var withHpx: [RecordBatch] = []
        for p in pending {
            withHpx.append(p.batch.inserting(Self.healpixField, .primitive(.int64, p.hpx), at: 0))
        }
        let table = try ChunkedTable(withHpx, schema: leafSchema)
        let name = ImportWorkFiles.runName(input: input, chunk: chunk)
        // Spill runs are scratch: no fsync (a killed process keeps them; after a power cut the
        // resume check finds a damaged run and maps its input again).
        let writer = try IPCFileWriter(path: files.runFile(name), schema: leafSchema, durable: false)
        var run = SpillRun(file: name, batchFirst: [], batchLast: [], batchRows: [])
        try sortedPositions.withUnsafeBufferPointer { positions in
            var start = 0
            while start < positions.count {
                let end = min(start + Self.runBatchRows, positions.count)
                try writer.write(try table.take(UnsafeBufferPointer(rebasing: positions[start..<end])))
                run.batchFirst.append(sortedKeys[start])
                run.batchLast.append(sortedKeys[end - 1])
                run.batchRows.append(end - start)
                start = end
            }
        }
        try writer.close()
        return run
    }

    func writeHistogram(_ histogram: [Int64: Int64], input: Int) throws {
        var flat: [Int64] = []
        flat.reserveCapacity(histogram.count * 2)
        for (k, v) in histogram.sorted(by: { $0.key < $1.key }) { flat.append(k); flat.append(v) }
        try AtomicFile.write(flat.withUnsafeBytes { Array($0) }, to: files.histogramFile(input))
    }

    /// Approximate bytes held by a batch's buffers.
    static func estimateBytes(_ batch: RecordBatch) -> Int {
        func size(_ a: ArrayData) -> Int {
            a.buffers.reduce(0) { $0 + ($1?.byteCount ?? 0) } + a.children.reduce(0) { $0 + size($1) }
        }
        return batch.columns.reduce(0) { $0 + size($1) }
    }
}

/// Sorting helpers for `_healpix_29` keys.
enum RowSort {
    /// The permutation that sorts `keys` ascending, equal keys keeping their positions' order.
    /// LSD radix sort on the 64-bit keys (8 passes of 8 bits, skipping constant bytes).
    static func stableOrder(_ keys: [Int64]) -> [Int32] {
        let n = keys.count
        var idx = [Int32](unsafeUninitializedCapacity: n) { buf, c in
            for i in 0..<n { buf[i] = Int32(i) }
            c = n
        }
        guard n > 1 else { return idx }
        var tmp = [Int32](repeating: 0, count: n)
        keys.withUnsafeBufferPointer { k in
            var counts = [Int](repeating: 0, count: 256)
            for pass in 0..<8 {
                let shift = UInt64(pass * 8)
                for b in 0..<256 { counts[b] = 0 }
                for i in 0..<n { counts[Int((UInt64(bitPattern: k[i]) >> shift) & 0xff)] += 1 }
                if counts.contains(n) { continue }  // all keys share this byte
                var sum = 0
                for b in 0..<256 { let c = counts[b]; counts[b] = sum; sum += c }
                idx.withUnsafeBufferPointer { src in
                    tmp.withUnsafeMutableBufferPointer { dst in
                        for i in 0..<n {
                            let s = src[i]
                            let b = Int((UInt64(bitPattern: k[Int(s)]) >> shift) & 0xff)
                            dst[counts[b]] = s
                            counts[b] += 1
                        }
                    }
                }
                swap(&idx, &tmp)
            }
        }
        return idx
    }
}

/// Coordinates read from a struct's child (`--ra candidate.ra`): added to each batch as top-level
/// columns named by their last component, so the catalog has them where lsdb looks.
enum CoordinatePromotion {
    /// The top-level field `path` (`struct.child`) becomes, or nil when the schema has no such child.
    static func field(_ path: String, in schema: Schema) -> Field? {
        let parts = path.split(separator: ".").map(String.init)
        guard parts.count >= 2, let top = schema.fields.first(where: { $0.name == parts[0] }) else { return nil }
        var type = top.type
        for p in parts.dropFirst() {
            guard case .structure(let fs) = type, let f = fs.first(where: { $0.name == p }) else { return nil }
            type = f.type
        }
        return Field(parts[parts.count - 1], type)
    }

    /// `batch` with the promoted coordinate columns appended (unchanged when ra/dec are top-level).
    static func promote(_ batch: RecordBatch, config: ImportConfig, path: String) throws -> RecordBatch {
        var fields = batch.schema.fields, columns = batch.columns
        for name in [config.ra, config.dec] where batch.schema.index(of: name) == nil && name.contains(".") {
            let parts = name.split(separator: ".").map(String.init)
            guard let k = batch.schema.index(of: parts[0]) else {
                throw FormatError(.corruptInput, "no column '\(parts[0])' for the coordinate '\(name)'", path: path)
            }
            var data = batch.columns[k], type = batch.schema.fields[k].type
            // A struct child's row i is at the parent's offset + i.
            var offset = 0
            for p in parts.dropFirst() {
                guard case .structure(let fs) = type, let j = fs.firstIndex(where: { $0.name == p }) else {
                    throw FormatError(.corruptInput, "'\(name)' is not a struct child in this file", path: path)
                }
                offset += data.offset
                data = data.children[j]
                type = fs[j].type
            }
            columns.append(data.slice(offset..<offset + batch.length))
            fields.append(Field(parts[parts.count - 1], type))
        }
        guard columns.count != batch.columns.count else { return batch }
        return RecordBatch(schema: Schema(fields, metadata: batch.schema.metadata), columns: columns, length: batch.length)
    }
}
