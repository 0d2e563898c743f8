import CArrowData

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Export of ``Schema`` and ``ArrayData`` through the Arrow C Data Interface. The consumer
/// (Arrow C++ in the shim) calls the release callbacks; buffers stay zero-copy and are kept alive
/// by the exported structs until then.
public enum ArrowCExport {
    /// Fills `out` with a struct schema describing `schema` (a record batch).
    public static func export(_ schema: Schema, to out: UnsafeMutablePointer<ArrowSchema>) {
        export(Field("", .structure(schema.fields), nullable: false, metadata: schema.metadata), to: out)
    }

    /// Fills `out` with `field` (recursively).
    public static func export(_ field: Field, to out: UnsafeMutablePointer<ArrowSchema>) {
        let children = field.type.children
        var childPointers: UnsafeMutablePointer<UnsafeMutablePointer<ArrowSchema>?>? = nil
        if !children.isEmpty {
            childPointers = .allocate(capacity: children.count)
            for (i, child) in children.enumerated() {
                let c = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
                export(child, to: c)
                childPointers![i] = c
            }
        }
        var flags: Int64 = field.nullable ? Int64(ARROW_FLAG_NULLABLE) : 0
        if case .map(_, true) = field.type { flags |= Int64(ARROW_FLAG_MAP_KEYS_SORTED) }
        out.initialize(to: ArrowSchema(
            format: UnsafePointer(strdup(field.type.formatString)),
            name: UnsafePointer(strdup(field.name)),
            metadata: encodeMetadata(field.metadata),
            flags: flags,
            n_children: Int64(children.count),
            children: childPointers,
            dictionary: nil,
            release: releaseExportedSchema,
            private_data: nil))
    }

    /// Encodes key/value metadata in the C Data Interface binary form (malloc'd), `nil` if empty.
    static func encodeMetadata(_ pairs: [(key: String, value: String)]) -> UnsafePointer<CChar>? {
        guard !pairs.isEmpty else { return nil }
        var bytes: [UInt8] = []
        func int32(_ v: Int) { withUnsafeBytes(of: Int32(v)) { bytes.append(contentsOf: $0) } }
        int32(pairs.count)
        for (k, v) in pairs {
            int32(k.utf8.count); bytes.append(contentsOf: k.utf8)
            int32(v.utf8.count); bytes.append(contentsOf: v.utf8)
        }
        let p = malloc(bytes.count)!
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }

    /// Fills `out` with a struct array holding the batch's columns.
    public static func export(_ batch: RecordBatch, to out: UnsafeMutablePointer<ArrowArray>) {
        let top = ArrayData(type: .structure(batch.schema.fields), length: batch.length, nullCount: 0,
                            buffers: [nil], children: batch.columns)
        export(top, to: out)
    }

    /// Fills `out` with `array` (recursively), keeping its buffers alive until released.
    public static func export(_ array: ArrayData, to out: UnsafeMutablePointer<ArrowArray>) {
        let n = array.buffers.count
        let bufferPointers = UnsafeMutablePointer<UnsafeRawPointer?>.allocate(capacity: max(n, 1))
        for (i, b) in array.buffers.enumerated() { bufferPointers[i] = b?.base }
        var childPointers: UnsafeMutablePointer<UnsafeMutablePointer<ArrowArray>?>? = nil
        if !array.children.isEmpty {
            childPointers = .allocate(capacity: array.children.count)
            for (i, child) in array.children.enumerated() {
                let c = UnsafeMutablePointer<ArrowArray>.allocate(capacity: 1)
                export(child, to: c)
                childPointers![i] = c
            }
        }
        let keep = Unmanaged.passRetained(ExportedArrayBox(array)).toOpaque()
        out.initialize(to: ArrowArray(
            length: Int64(array.length),
            null_count: array.nullCount.map(Int64.init) ?? -1,
            offset: Int64(array.offset),
            n_buffers: Int64(n),
            n_children: Int64(array.children.count),
            buffers: UnsafeMutablePointer(mutating: bufferPointers).withMemoryRebound(to: UnsafeRawPointer?.self, capacity: max(n, 1)) { UnsafeMutablePointer($0) },
            children: childPointers,
            dictionary: nil,
            release: releaseExportedArray,
            private_data: keep))
    }
}

/// Keeps an exported array's buffers alive.
final class ExportedArrayBox {
    let array: ArrayData
    init(_ array: ArrayData) { self.array = array }
}

private func releaseExportedSchema(_ s: UnsafeMutablePointer<ArrowSchema>?) {
    guard let s, s.pointee.release != nil else { return }
    free(UnsafeMutableRawPointer(mutating: s.pointee.format))
    free(UnsafeMutableRawPointer(mutating: s.pointee.name))
    free(UnsafeMutableRawPointer(mutating: s.pointee.metadata))
    if let children = s.pointee.children {
        for i in 0..<Int(s.pointee.n_children) {
            if let c = children[i] {
                carrow_release_schema(c)
                c.deallocate()
            }
        }
        children.deallocate()
    }
    s.pointee.release = nil
}

private func releaseExportedArray(_ a: UnsafeMutablePointer<ArrowArray>?) {
    guard let a, a.pointee.release != nil else { return }
    if let children = a.pointee.children {
        for i in 0..<Int(a.pointee.n_children) {
            if let c = children[i] {
                carrow_release_array(c)
                c.deallocate()
            }
        }
        children.deallocate()
    }
    if let buffers = a.pointee.buffers { UnsafeMutablePointer(mutating: buffers).deallocate() }
    if let keep = a.pointee.private_data { Unmanaged<ExportedArrayBox>.fromOpaque(keep).release() }
    a.pointee.release = nil
}
