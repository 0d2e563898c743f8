import Foundation
import Formats
import Table

/// One input file of an import, as planned.
public struct ImportInput: Codable, Sendable, Hashable {
    /// Position in the (sorted) input list; fixes the tie-break order of equal `_healpix_29`.
    public let index: Int
    /// The file.
    public let path: String
    /// Its format.
    public let format: InputFormat
    /// Size in bytes at planning time.
    public let byteCount: Int64
}

/// Opens the right streaming reader for an input.
enum InputReaders {
    /// A reader for `input`; `types` forces CSV column types (from the unified schema).
    /// With `selecting`, a Parquet file reads only those of its columns (others are never decoded).
    static func open(_ input: ImportInput, config: ImportConfig, types: Schema?, batchRows: Int,
                     selecting: [String]? = nil) throws -> any BatchReader {
        switch input.format {
        case .csv:
            return try CSVFileReader(path: input.path, options: config.csv, types: types)
        case .parquet:
            // Read only the planned columns that this file has (all of them while planning).
            var names: [String]? = nil
            if let selecting {
                let available = Set(try ParquetFileReader.info(path: input.path).schema.names)
                names = selecting.filter { available.contains($0) }
            }
            return try ParquetFileReader(path: input.path, columns: names, batchRows: batchRows)
        case .fits:
            let path = try unpackedPath(input, config: config) ?? input.path
            return try FITSTableReader(path: path, hdu: config.hdu ?? .firstTable, columns: nil, batchRows: batchRows)
        }
    }

    /// A compressed FITS input larger than a worker's share of the memory budget is unpacked to
    /// `<work>/unpacked/<index>.fits` (cfitsio would decompress it whole into memory); `nil` when
    /// the file is read as it is. The map stage deletes the unpacked copy when it is done.
    static func unpackedPath(_ input: ImportInput, config: ImportConfig) throws -> String? {
        guard let path = unpackTarget(input, config: config) else { return nil }
        let dir = config.workDirectory + "/unpacked"
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Decompression.unpack(input.path, to: path)
        }
        return path
    }

    /// Where ``unpackedPath(_:config:)`` puts `input`, or `nil` when it is read as it is.
    static func unpackTarget(_ input: ImportInput, config: ImportConfig) -> String? {
        guard input.format == .fits, Compression(path: input.path) != .none else { return nil }
        let share = config.memoryBytes / Int64(2 * config.effectiveJobs)
        guard Decompression.estimatedUncompressedSize(input.path) > share else { return nil }
        return config.workDirectory + "/unpacked/\(input.index).fits"
    }

    /// Expands glob patterns into sorted, de-duplicated file paths.
    static func expand(_ patterns: [String]) throws -> [String] {
        var out: [String] = []
        for pattern in patterns {
            if pattern.contains(where: { "*?[".contains($0) }) {
                var g = glob_t()
                defer { globfree(&g) }
                if glob(pattern, 0, nil, &g) == 0 {
                    for i in 0..<Int(g.gl_pathc) {
                        if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
                    }
                }
            } else {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: pattern, isDirectory: &isDir), isDir.boolValue {
                    let items = (try? FileManager.default.contentsOfDirectory(atPath: pattern)) ?? []
                    out.append(contentsOf: items.filter { InputFormat.detect($0) != nil }.map { pattern + "/" + $0 })
                } else {
                    out.append(pattern)
                }
            }
        }
        var seen = Set<String>()
        return out.sorted().filter { seen.insert($0).inserted }
    }
}
