import Foundation
import Formats
import RunEngine
import Table

/// The inputs of an import as the list step found them: an Arrow IPC file in the work folder
/// (`<work>/inputs.arrow`), one row per file — path, format, size in bytes — in batches of
/// ``batchRows`` rows. Work items are ranges of list positions; a worker reads its item's inputs
/// from the memory-mapped file when it starts the item, so no rank holds an object per input file
/// for the run (500,000 files: ~50 MB of paths on disk and in the page cache, and the sizes as
/// one array of 4 MB).
final class ImportInputList: @unchecked Sendable {
    /// Rows per batch of the file.
    static let batchRows = 4096
    /// The file's columns.
    static let schema = Schema([Field("path", .string), Field("format", .string), Field("bytes", .int64)])

    /// The file.
    let path: String
    /// Number of inputs.
    var count: Int { byteCounts.count }
    /// Each input's size in bytes at listing time, in list order.
    let byteCounts: [Int64]
    private let file: IPCFile
    /// Arrow's IPC file reader is not shared across threads: reads take turns.
    private let lock = NSLock()

    /// Opens the list the list step wrote at `path`.
    init(path: String) throws {
        self.path = path
        do { file = try IPCFile(path: path) } catch {
            throw RunError.io("the work folder lacks its input list \(path) (\(error)); remove the work folder to start over")
        }
        let damaged = RunError.io("the input list \(path) is damaged; remove the work folder to start over")
        guard file.schema.names == Self.schema.names, file.schema.fields.map(\.type) == Self.schema.fields.map(\.type) else {
            throw damaged
        }
        var sizes: [Int64] = []
        for b in 0..<file.batchCount {
            let batch = try file.batch(b)
            guard batch.length == Self.batchRows || (b == file.batchCount - 1 && batch.length > 0) else { throw damaged }
            let column = batch.columns[2]
            withExtendedLifetime(column) { sizes.append(contentsOf: column.values(Int64.self)) }
        }
        byteCounts = sizes
    }

    /// The inputs at list positions `range` (clipped to the list), in order, but those at the
    /// positions in `skipping` (the plan's rejections).
    func inputs(_ range: Range<Int>, skipping: Set<Int> = []) throws -> [ImportInput] {
        let range = range.clamped(to: 0..<count)
        var out: [ImportInput] = []
        out.reserveCapacity(range.count)
        lock.lock(); defer { lock.unlock() }
        var i = range.lowerBound
        while i < range.upperBound {
            let b = i / Self.batchRows
            let base = b * Self.batchRows
            let batch = try file.batch(b)
            let paths = batch.columns[0], formats = batch.columns[1]
            let end = min(range.upperBound, base + batch.length)
            for j in i..<end where !skipping.contains(j) {
                guard let p = paths.string(at: j - base), let f = formats.string(at: j - base).flatMap(InputFormat.init(rawValue:)) else {
                    throw RunError.io("the input list \(path) is damaged at row \(j); remove the work folder to start over")
                }
                out.append(ImportInput(index: j, path: p, format: f, byteCount: byteCounts[j]))
            }
            i = end
        }
        return out
    }

    /// Writes the list of `paths` (sorted; the format from `format` or each name, the size from
    /// `stat`) to `path` one batch at a time; returns the number of inputs and their bytes.
    static func write(paths: [String], format: InputFormat?, to path: String) throws -> ImportListRecord {
        let writer: IPCFileWriter
        do { writer = try IPCFileWriter(path: path, schema: schema) } catch { throw RunError.writing(path, error) }
        var total: Int64 = 0
        var start = 0
        while start < paths.count {
            try Interruption.check()
            let chunk = paths[start..<min(paths.count, start + batchRows)]
            var formats: [String?] = [], sizes: [Int64] = []
            formats.reserveCapacity(chunk.count)
            sizes.reserveCapacity(chunk.count)
            for p in chunk {
                guard let f = format ?? InputFormat.detect(p) else {
                    throw RunError.configuration("cannot tell the format of \(p) from its name; pass --format csv|parquet|fits")
                }
                var st = stat()
                guard stat(p, &st) == 0 else { throw ImportError.noInputs([p]) }
                formats.append(f.rawValue)
                sizes.append(Int64(st.st_size))
                total += Int64(st.st_size)
            }
            let batch = RecordBatch(schema: schema, columns: [.strings(chunk.map { $0 }), .strings(formats), .primitive(.int64, sizes)],
                                    length: chunk.count)
            do { try writer.write(batch) } catch { throw RunError.writing(path, error) }
            start += chunk.count
        }
        do { try writer.close() } catch { throw RunError.writing(path, error) }
        return ImportListRecord(count: paths.count, bytes: total)
    }
}
