import Foundation
import Testing
@testable import Formats
import Table

/// Paths, the project's Python (astropy, hats, healpy) and helpers shared by the FITS tests.
/// Nothing here skips: a missing fixture or Python fails the test that needs it.
enum FITSTestSupport {
    /// The package root: three folders above this file (Tests/FormatsTests/<file>).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `<root>/fixtures` (real data from public projects; provenance in its README).
    static let fixtures: URL = packageRoot.appendingPathComponent("fixtures")

    /// The path of a fixture, failing the test when it is missing.
    static func fixture(_ relative: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let path = fixtures.appendingPathComponent(relative).path
        try #require(FileManager.default.fileExists(atPath: path), "fixture missing: \(path)", sourceLocation: sourceLocation)
        return path
    }

    /// A fresh temporary folder for one test.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("astropile-fits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    struct PythonFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `<root>/.venv/bin/python` on `script` with `arguments` and returns its standard output.
    /// Throws (failing the test) when Python is missing or the script fails.
    static func python(_ script: String, _ arguments: [String], in directory: URL) throws -> Data {
        let python = packageRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw PythonFailure(description: "the project's Python is missing: \(python) (run make setup)")
        }
        let name = "script-\(UUID().uuidString)"
        let scriptURL = directory.appendingPathComponent(name + ".py")
        let outURL = directory.appendingPathComponent(name + ".out")
        let errURL = directory.appendingPathComponent(name + ".err")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scriptURL.path] + arguments
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw PythonFailure(description: "python \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)):\n\(stderr)")
        }
        return try Data(contentsOf: outURL)
    }

    // MARK: - Reading everything

    /// Reads a whole table with ``FITSTableReader`` and returns the schema and all batches.
    static func readAll(_ path: String, hdu: FITSHDUSelector = .firstTable, columns: [String]? = nil,
                        batchRows: Int = 65_536, maxBatchBytes: Int = 64 << 20) throws -> (reader: FITSTableReader, batches: [RecordBatch]) {
        let reader = try FITSTableReader(path: path, hdu: hdu, columns: columns, batchRows: batchRows, maxBatchBytes: maxBatchBytes)
        var batches: [RecordBatch] = []
        while let b = try reader.next() {
            #expect(b.schema == reader.schema)
            batches.append(b)
        }
        #expect(try reader.next() == nil)
        return (reader, batches)
    }

    // MARK: - Flattening Arrow arrays

    /// One leaf value of a column.
    enum Scalar: Equatable, CustomStringConvertible {
        case int(Int64), uint(UInt64), double(Double), bool(Bool), string(String)

        var description: String {
            switch self {
            case .int(let v): "\(v)"
            case .uint(let v): "\(v)"
            case .double(let v): "\(v)"
            case .bool(let v): "\(v)"
            case .string(let v): "\"\(v)\""
            }
        }
    }

    /// Every leaf value of rows `0..<array.length`, in row-major order (nil for nulls), plus the
    /// number of leaves per row for list columns.
    static func leaves(_ array: ArrayData) -> (values: [Scalar?], lengths: [Int]) {
        var values: [Scalar?] = []
        var lengths: [Int] = []
        for i in 0..<array.length {
            let before = values.count
            append(array, i, to: &values)
            lengths.append(values.count - before)
        }
        return (values, lengths)
    }

    private static func append(_ a: ArrayData, _ i: Int, to out: inout [Scalar?]) {
        switch a.type {
        case .fixedSizeList(_, let size):
            for j in 0..<size { append(a.children[0], (a.offset + i) * size + j, to: &out) }
            return
        case .list:
            let o = a.buffers[1]!.base!.assumingMemoryBound(to: Int32.self)
            for j in Int(o[a.offset + i])..<Int(o[a.offset + i + 1]) { append(a.children[0], j, to: &out) }
            return
        default: break
        }
        guard a.isValid(i) else { out.append(nil); return }
        let k = a.offset + i
        func v<T>(_: T.Type) -> T { a.buffers[1]!.base!.assumingMemoryBound(to: T.self)[k] }
        switch a.type {
        case .bool:
            let byte = a.buffers[1]!.base!.load(fromByteOffset: k >> 3, as: UInt8.self)
            out.append(.bool(byte & (1 << UInt8(k & 7)) != 0))
        case .int8: out.append(.int(Int64(v(Int8.self))))
        case .int16: out.append(.int(Int64(v(Int16.self))))
        case .int32: out.append(.int(Int64(v(Int32.self))))
        case .int64: out.append(.int(v(Int64.self)))
        case .uint8: out.append(.uint(UInt64(v(UInt8.self))))
        case .uint16: out.append(.uint(UInt64(v(UInt16.self))))
        case .uint32: out.append(.uint(UInt64(v(UInt32.self))))
        case .uint64: out.append(.uint(v(UInt64.self)))
        case .float32: out.append(.double(Double(v(Float.self))))
        case .float64: out.append(.double(v(Double.self)))
        case .string: out.append(.string(a.string(at: i)!))
        default: Issue.record("unexpected leaf type \(a.type)")
        }
    }
}
