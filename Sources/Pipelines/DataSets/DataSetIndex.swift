import Formats
import Foundation
import RunEngine
import Table

/// `object_index.parquet` of a data set: object_id, file (relative to the data set), row — sorted
/// by id, so one lookup opens the index and then exactly one data file.
public enum DataSetIndex {
    public static let fileName = "object_index.parquet"

    public struct Entry: Sendable {
        public var id: String
        public var file: String
        public var row: Int
    }

    /// Writes the index of `entries`; ids are int64 when `integerIDs`, else strings.
    public static func write(_ entries: [Entry], integerIDs: Bool, to path: String) throws {
        var entries = entries
        if integerIDs {
            let keys = entries.map { Int64($0.id) ?? 0 }
            entries = entries.indices.sorted { keys[$0] < keys[$1] }.map { entries[$0] }
        } else {
            entries.sort { $0.id < $1.id }
        }
        let schema = Schema([Field("object_id", integerIDs ? .int64 : .string, nullable: false),
                             Field("file", .string, nullable: false), Field("row", .int64, nullable: false)])
        let integers: [Int64] = entries.map { Int64($0.id) ?? 0 }
        let ids: ArrayData = integerIDs ? .primitive(.int64, integers) : .strings(entries.map(\.id))
        let batch = RecordBatch(schema: schema, columns: [ids, .strings(entries.map(\.file)), .primitive(.int64, entries.map { Int64($0.row) })],
                                length: entries.count)
        do { try ParquetFileWriter.write([batch], schema: schema, to: path) } catch { throw RunError.writing(path, error) }
    }

    /// Reads an index, in file order.
    public static func read(_ path: String) throws -> [Entry] {
        let reader = try ParquetFileReader(path: path)
        var out: [Entry] = []
        while let batch = try reader.next() {
            guard let ids = batch.column("object_id"), let files = batch.column("file"), let rows = batch.column("row"),
                  [.int64, .string, .largeString].contains(ids.type), files.type == .string, rows.type == .int64 else {
                throw FormatError(.corruptInput, "the object index needs object_id (int64 or string), file (string) and row (int64)", path: path)
            }
            withExtendedLifetime(rows) {   // the values are `rows`'s buffer
                let rowValues = rows.values(Int64.self)
                for i in 0..<batch.length {
                    let id = ids.type == .int64 ? String(ids.values(Int64.self)[i]) : (ids.string(at: i) ?? "")
                    out.append(Entry(id: id, file: files.string(at: i) ?? "", row: Int(rowValues[i])))
                }
            }
        }
        return out
    }
}
