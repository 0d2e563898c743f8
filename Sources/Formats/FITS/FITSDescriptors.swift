import Table

/// The array descriptors (element count, heap offset) of one variable-length column for a
/// batch of rows, and where each row's elements land once gathered out of the heap.
struct FITSDescriptors {
    /// Elements per row.
    private(set) var counts: [Int]
    /// Heap offset per row.
    private(set) var offsets: [Int]
    /// Heap bytes per row.
    private(set) var bytes: [Int]
    /// Start of each row's bytes in the gathered buffer.
    private(set) var starts: [Int]
    /// Sum of `bytes`.
    private(set) var totalBytes: Int
    /// Sum of `counts`.
    private(set) var totalCount: Int

    /// Reads the descriptors of `column` from `count` rows and checks them against the heap.
    init(_ column: FITSColumn, rows base: UnsafeRawPointer, count: Int, stride: Int, firstRow: Int,
         heapSize: Int, path: String, location: String) throws {
        counts = []; offsets = []; bytes = []; starts = []
        counts.reserveCapacity(count); offsets.reserveCapacity(count)
        bytes.reserveCapacity(count); starts.reserveCapacity(count)
        totalBytes = 0
        totalCount = 0
        let wide = column.storage == .variableQ
        let elementSize = column.elementType.byteSize
        for r in 0..<count {
            var n = 0, offset = 0
            if column.repeatCount > 0 {
                let p = base + r * stride + column.byteOffset
                if wide {
                    n = Int(Int64(bigEndian: p.loadUnaligned(as: Int64.self)))
                    offset = Int(Int64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: Int64.self)))
                } else {
                    // P descriptors are unsigned 32-bit in practice (astropy reads them so too).
                    n = Int(UInt32(bigEndian: p.loadUnaligned(as: UInt32.self)))
                    offset = Int(UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
                }
            }
            // Descriptors are data: a count whose byte size overflows is out of the heap too.
            let (elementBytes, overflow) = n.multipliedReportingOverflow(by: elementSize)
            let size = column.elementType == .bit ? n / 8 + (n % 8 == 0 ? 0 : 1) : (overflow ? Int.max : elementBytes)
            if n > 0 {
                guard offset >= 0, size >= 0, offset <= heapSize, size <= heapSize - offset else {
                    throw FormatError(.corruptInput,
                                      "array descriptor (\(n) elements at heap offset \(offset)) points outside the \(heapSize)-byte heap",
                                      path: path, location: "\(location), column \(column.name), row \(firstRow + r + 1)")
                }
            } else if n < 0 {
                throw FormatError(.corruptInput, "negative array length \(n)", path: path,
                                  location: "\(location), column \(column.name), row \(firstRow + r + 1)")
            }
            counts.append(n)
            offsets.append(offset)
            bytes.append(size)
            starts.append(totalBytes)
            totalBytes += size
            totalCount += n
        }
    }

    /// The descriptors of the first `rows` rows.
    func prefix(_ rows: Int) -> FITSDescriptors {
        guard rows < counts.count else { return self }
        var d = self
        d.counts = Array(counts[..<rows])
        d.offsets = Array(offsets[..<rows])
        d.bytes = Array(bytes[..<rows])
        d.starts = Array(starts[..<rows])
        d.totalBytes = d.bytes.reduce(0, +)
        d.totalCount = d.counts.reduce(0, +)
        return d
    }

    /// How many of the first `rows` rows fit in `limit` heap bytes (at least one), keeping every
    /// column's element count within 32-bit list offsets.
    static func rowsWithin(_ limit: Int, _ all: [FITSDescriptors], rows: Int) -> Int {
        var bytes = 0
        var elements = [Int](repeating: 0, count: all.count)
        for r in 0..<rows {
            for (i, d) in all.enumerated() {
                bytes += d.bytes[r]
                elements[i] += d.counts[r]
                if r > 0 && (bytes > limit || elements[i] > Int(Int32.max)) { return r }
            }
        }
        return rows
    }

    /// Gathers every row's heap bytes, in row order, into one buffer: one read when the rows'
    /// arrays lie in order in the heap (the usual layout) or close together, else one per row.
    func readHeap(_ file: FITSFile, heapOffset: Int) throws -> OwnedMemory {
        let memory = OwnedMemory(byteCount: totalBytes)
        guard totalBytes > 0 else { return memory }
        var inOrder = true
        var expected: Int? = nil
        var low = Int.max, high = 0
        for r in bytes.indices where bytes[r] > 0 {
            if let e = expected, offsets[r] != e { inOrder = false }
            expected = offsets[r] + bytes[r]
            low = min(low, offsets[r])
            high = max(high, offsets[r] + bytes[r])
        }
        if inOrder {
            try file.readDataBytes(offset: heapOffset + low, into: UnsafeMutableRawBufferPointer(start: memory.pointer, count: totalBytes))
        } else if high - low <= 2 * totalBytes + (1 << 20) {
            let span = UnsafeMutableRawBufferPointer.allocate(byteCount: high - low, alignment: 64)
            defer { span.deallocate() }
            try file.readDataBytes(offset: heapOffset + low, into: span)
            for r in bytes.indices where bytes[r] > 0 {
                (memory.pointer + starts[r]).copyMemory(from: span.baseAddress! + (offsets[r] - low), byteCount: bytes[r])
            }
        } else {
            for r in bytes.indices where bytes[r] > 0 {
                try file.readDataBytes(offset: heapOffset + offsets[r],
                                       into: UnsafeMutableRawBufferPointer(start: memory.pointer + starts[r], count: bytes[r]))
            }
        }
        return memory
    }
}
