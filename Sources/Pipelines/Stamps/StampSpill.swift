import Formats
import Foundation
import RunEngine

/// One object's stamp as the cut stage hands it to the write stage: per-band scalars plus the
/// three image arrays already filtered (shuffled and deflated) for HDF5's row chunks, so the
/// compression runs on the cut stage's workers.
struct SpilledStamp: Sendable {
    var objectIndex: Int
    var offsetX: [Float], offsetY: [Float], scale: [Float], psf: [Float], noise: [Float], extinction: [Float]
    var frames: [String]
    var flux: [UInt8], ivar: [UInt8], mask: [UInt8]

    init(_ s: ObjectStamp, level: Int) throws {
        objectIndex = s.objectIndex
        offsetX = s.offsetX; offsetY = s.offsetY; scale = s.scale; psf = s.psf; noise = s.noise; extinction = s.extinction
        frames = s.frames
        flux = try s.flux.withUnsafeBytes { try HDF5ChunkFilter.shuffleDeflate($0, elementSize: 4, level: level) }
        ivar = try s.ivar.withUnsafeBytes { try HDF5ChunkFilter.shuffleDeflate($0, elementSize: 4, level: level) }
        mask = try s.mask.withUnsafeBytes { try HDF5ChunkFilter.shuffleDeflate($0, elementSize: 1, level: level) }
    }

    init(objectIndex: Int, offsetX: [Float], offsetY: [Float], scale: [Float], psf: [Float], noise: [Float], extinction: [Float],
         frames: [String], flux: [UInt8], ivar: [UInt8], mask: [UInt8]) {
        self.objectIndex = objectIndex
        self.offsetX = offsetX; self.offsetY = offsetY; self.scale = scale; self.psf = psf; self.noise = noise
        self.extinction = extinction; self.frames = frames; self.flux = flux; self.ivar = ivar; self.mask = mask
    }
}

/// The cut stage's per-field scratch file: `APSTAMP1`, then records
/// `[u32 length][payload]`, little-endian. It is private to one run (written and read by this
/// file only, inside the work folder), so a flat record stream needs no library; it is
/// written atomically before the field's completion record, and a damaged one is an error
/// naming it.
enum StampSpill {
    static let magic = Array("APSTAMP1".utf8)

    static func write(_ stamps: [SpilledStamp], bands: Int, to path: String) throws {
        var out = magic
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
        func floats(_ v: [Float]) { for f in v { withUnsafeBytes(of: f.bitPattern.littleEndian) { out.append(contentsOf: $0) } } }
        u32(stamps.count)
        for s in stamps {
            var record: [UInt8] = []
            swap(&out, &record)
            u32(s.objectIndex)
            for a in [s.offsetX, s.offsetY, s.scale, s.psf, s.noise, s.extinction] { floats(a) }
            for f in s.frames { let b = Array(f.utf8); u32(b.count); out.append(contentsOf: b) }
            for a in [s.flux, s.ivar, s.mask] { u32(a.count); out.append(contentsOf: a) }
            swap(&out, &record)
            u32(record.count)
            out.append(contentsOf: record)
        }
        do { try AtomicFile.write(out, to: path) } catch { throw RunError.writing(path, error) }
    }

    /// The records of a spill file, read and decoded one at a time on demand (positioned reads,
    /// no mapping: gathering one output file's stamps holds only those in memory).
    final class Reader {
        let path: String
        let bands: Int
        private let handle: FileHandle
        private let size: Int
        /// Object index → (offset, length) of its record payload.
        private(set) var records: [Int: (Int, Int)] = [:]

        init(_ path: String, bands: Int) throws {
            self.path = path
            self.bands = bands
            do {
                handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                size = Int(try handle.seekToEnd())
            } catch {
                throw RunError.io("cannot read the work file \(path): \(error.localizedDescription); delete the work folder to start over")
            }
            guard size >= 12, try bytes(0, 8) == StampSpill.magic else { throw damaged(0) }
            var at = 8
            let count = try word(at)
            at += 4
            for _ in 0..<count {
                let length = try word(at)
                at += 4
                guard at + length <= size, length >= 4 else { throw damaged(at) }
                records[try word(at)] = (at, length)
                at += length
            }
        }

        deinit { try? handle.close() }

        private func bytes(_ offset: Int, _ count: Int) throws -> [UInt8] {
            guard offset >= 0, offset + count <= size else { throw damaged(offset) }
            do {
                try handle.seek(toOffset: UInt64(offset))
                let data = try handle.read(upToCount: count) ?? Data()
                guard data.count == count else { throw damaged(offset) }
                return [UInt8](data)
            } catch let e as RunError { throw e } catch { throw damaged(offset) }
        }

        private func word(_ offset: Int) throws -> Int {
            let b = try bytes(offset, 4)
            return Int(UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
        }

        private func damaged(_ at: Int) -> RunError {
            RunError.io("the work file \(path) is damaged at byte \(at); delete the work folder to start over")
        }

        /// Decodes the stamp of object `index`, `nil` when the file has none.
        func stamp(_ index: Int) throws -> SpilledStamp? {
            guard let (offset, length) = records[index] else { return nil }
            let record = try bytes(offset, length)
            var at = 0
            func u32() throws -> Int {
                guard at + 4 <= record.count else { throw damaged(offset + at) }
                defer { at += 4 }
                return Int(UInt32(record[at]) | UInt32(record[at + 1]) << 8 | UInt32(record[at + 2]) << 16 | UInt32(record[at + 3]) << 24)
            }
            func floats() throws -> [Float] { try (0..<bands).map { _ in Float(bitPattern: UInt32(try u32())) } }
            func blob() throws -> [UInt8] {
                let n = try u32()
                guard at + n <= record.count else { throw damaged(offset + at) }
                defer { at += n }
                return Array(record[at..<(at + n)])
            }
            let objectIndex = try u32()
            let ox = try floats(), oy = try floats(), sc = try floats(), ps = try floats(), no = try floats(), ex = try floats()
            let frames = try (0..<bands).map { _ in String(decoding: try blob(), as: UTF8.self) }
            return SpilledStamp(objectIndex: objectIndex, offsetX: ox, offsetY: oy, scale: sc, psf: ps, noise: no, extinction: ex,
                                frames: frames, flux: try blob(), ivar: try blob(), mask: try blob())
        }
    }
}
