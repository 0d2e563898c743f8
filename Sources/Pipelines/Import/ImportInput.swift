import Foundation
import Formats
import RunEngine
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

/// Opens the streaming reader of an input (through the one format dispatch, ``TableReaders``)
/// and unpacks large compressed FITS inputs first.
enum InputReaders {
    /// A reader for `input`; `types` forces CSV column types (from the unified schema).
    /// With `selecting`, readers that can skip columns read only those (others are never decoded).
    /// `unpacked` is where a large compressed FITS input is unpacked to (`nil`: read as it is).
    static func open(_ input: ImportInput, config: ImportConfig, types: Schema?, batchRows: Int,
                     selecting: [String]? = nil, unpacked: String? = nil) throws -> any BatchReader {
        var options = TableReadOptions()
        options.csv = config.csv
        options.csvTypes = types
        options.hdu = config.hdu ?? .firstTable
        options.batchRows = batchRows
        let path = unpacked ?? input.path
        // CSV and FITS read every column as before; Parquet only the planned ones the file has.
        return try TableReaders.open(path, format: input.format, options: options,
                                     columns: input.format == .parquet ? selecting : nil)
    }

    /// Unpacks `input` to `target` unless it is there already. A failure to write (full disk)
    /// is a ``RunError`` that stops the run; a failure to read the input is its own error.
    static func unpack(_ input: ImportInput, to target: String) throws {
        guard !FileManager.default.fileExists(atPath: target) else { return }
        let dir = AtomicFile.directory(of: target)
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw RunError.writing(dir, error)
        }
        do {
            try Decompression.unpack(input.path, to: target)
        } catch let e as FormatError where e.code == .noSpace || e.code == .io {
            throw RunError.writing(target, e)
        }
    }

    /// Whether `input` is a compressed FITS file larger than a worker's share of the memory
    /// budget (cfitsio would decompress it whole into memory): such inputs are unpacked to the
    /// work folder and the copy deleted when mapped.
    static func needsUnpacking(_ input: ImportInput, config: ImportConfig) -> Bool {
        guard input.format == .fits, Compression(path: input.path) != .none else { return false }
        let share = config.memoryBytes / Int64(2 * config.effectiveJobs)
        return Decompression.estimatedUncompressedSize(input.path) > share
    }

    /// Expands glob patterns into sorted, de-duplicated file paths. `**` in a pattern stands for
    /// any number of folders (`/data/zubercal/**/*.parquet`); a folder gives the files directly in
    /// it whose names tell a format.
    static func expand(_ patterns: [String]) throws -> [String] {
        var out: [String] = []
        for pattern in patterns {
            if pattern.contains("**") {
                out.append(contentsOf: try FileMatcher.expand([pattern], accept: { _ in true }))
            } else if FileMatcher.isPattern(pattern) {
                out.append(contentsOf: FileMatcher.glob(pattern))
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
        return FileMatcher.sortedUnique(out)
    }
}
