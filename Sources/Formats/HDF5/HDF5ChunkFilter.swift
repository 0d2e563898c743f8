import CZlib

/// HDF5's built-in shuffle + deflate filter pipeline, applied to one chunk outside the
/// library so chunks compress in parallel on the workers (see ``HDF5Dataset/writeChunk``).
/// Shuffle is HDF5's byte transposition (byte k of every element together); deflate is zlib's
/// `compress2`, exactly what HDF5's deflate filter calls, so h5py and HDF5 read the chunk back
/// through the standard filters.
public enum HDF5ChunkFilter {
    /// Shuffles `bytes` (elements of `elementSize` bytes) and deflates them at `level`.
    public static func shuffleDeflate(_ bytes: UnsafeRawBufferPointer, elementSize: Int, level: Int) throws -> [UInt8] {
        let n = bytes.count
        var shuffled = [UInt8](repeating: 0, count: n)
        if elementSize > 1 && n % elementSize == 0 {
            let count = n / elementSize
            shuffled.withUnsafeMutableBufferPointer { out in
                let input = bytes.bindMemory(to: UInt8.self)
                for b in 0..<elementSize {
                    let base = b * count
                    var j = b
                    for i in 0..<count {
                        out[base + i] = input[j]
                        j += elementSize
                    }
                }
            }
        } else {
            shuffled.withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
        }
        var capacity = compressBound(uLong(n))
        var out = [UInt8](repeating: 0, count: Int(capacity))
        let status = out.withUnsafeMutableBufferPointer { o in
            shuffled.withUnsafeBufferPointer { i in
                compress2(o.baseAddress, &capacity, i.baseAddress, uLong(n), CInt(min(max(level, 1), 9)))
            }
        }
        guard status == Z_OK else {
            throw FormatError(.io, "zlib compress2 failed with status \(status)")
        }
        out.removeSubrange(Int(capacity)...)
        return out
    }
}

extension HDF5ChunkFilter {
    /// Inflates a chunk written by ``shuffleDeflate`` and undoes the shuffle; `rawSize` is the
    /// chunk's size before filtering.
    public static func inflateUnshuffle(_ filtered: UnsafeRawBufferPointer, rawSize: Int, elementSize: Int) throws -> [UInt8] {
        var shuffled = [UInt8](repeating: 0, count: rawSize)
        var length = uLong(rawSize)
        let status = shuffled.withUnsafeMutableBufferPointer { o in
            uncompress(o.baseAddress, &length, filtered.bindMemory(to: UInt8.self).baseAddress, uLong(filtered.count))
        }
        guard status == Z_OK, Int(length) == rawSize else {
            throw FormatError(.corruptInput, "a compressed chunk does not inflate to \(rawSize) bytes (zlib status \(status))")
        }
        guard elementSize > 1, rawSize % elementSize == 0 else { return shuffled }
        var out = [UInt8](repeating: 0, count: rawSize)
        let count = rawSize / elementSize
        for b in 0..<elementSize {
            let base = b * count
            var j = b
            for i in 0..<count {
                out[j] = shuffled[base + i]
                j += elementSize
            }
        }
        return out
    }
}
