import CArrowShim
import CArrowData
import Table

/// Calls a shim function that reports failure through `char** error`, turning it into a
/// ``FormatError`` carrying Arrow's message. A failure the shim returns with an OS error number
/// (`AP_ERRNO_BASE + errno`) is ``FormatError/Code/noSpace`` for ENOSPC/EDQUOT; any other keeps
/// the caller's `code` (an unreadable input is still that input's problem, not the run's).
func shimCall(_ code: FormatError.Code = .corruptInput, path: String? = nil,
              _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt) throws {
    var error: UnsafeMutablePointer<CChar>? = nil
    let status = body(&error)
    if status != 0 {
        let message = error.map { String(cString: $0) } ?? "Arrow call failed (status \(status))"
        if let error { ap_string_free(error) }
        let base = CInt(AP_ERRNO_BASE)
        let full = status > base && FormatError.code(errno: status - base) == .noSpace
        throw FormatError(full ? .noSpace : code, message, path: path)
    }
}

/// Runs `body` with a freshly exported C schema (consumed or released by the callee/after).
func withExportedSchema<R>(_ schema: Schema, _ body: (UnsafeMutablePointer<ArrowSchema>) throws -> R) rethrows -> R {
    let c = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
    ArrowCExport.export(schema, to: c)
    defer {
        carrow_release_schema(c)  // no-op when the callee moved it
        c.deallocate()
    }
    return try body(c)
}

/// Runs `body` with a freshly exported C array of `batch` (moved into the callee or released).
func withExportedBatch<R>(_ batch: RecordBatch, _ body: (UnsafeMutablePointer<ArrowArray>) throws -> R) rethrows -> R {
    let c = UnsafeMutablePointer<ArrowArray>.allocate(capacity: 1)
    ArrowCExport.export(batch, to: c)
    defer {
        carrow_release_array(c)
        c.deallocate()
    }
    return try body(c)
}

/// Imports (and releases) a C schema produced by the shim.
func importSchema(_ body: (UnsafeMutablePointer<ArrowSchema>) throws -> Void) throws -> Schema {
    let c = UnsafeMutablePointer<ArrowSchema>.allocate(capacity: 1)
    c.initialize(to: ArrowSchema())
    defer {
        carrow_release_schema(c)
        c.deallocate()
    }
    try body(c)
    do {
        return try ArrowCImport.schema(from: c)
    } catch let e as TableError {
        throw FormatError(.unsupported, e.message)
    }
}

/// Imports a C record batch produced by the shim (zero-copy).
func importBatch(schema: Schema, _ body: (UnsafeMutablePointer<ArrowArray>) throws -> Bool) throws -> RecordBatch? {
    let c = UnsafeMutablePointer<ArrowArray>.allocate(capacity: 1)
    c.initialize(to: ArrowArray())
    defer {
        carrow_release_array(c)
        c.deallocate()
    }
    guard try body(c) else { return nil }
    do {
        return try ArrowCImport.recordBatch(moving: c, schema: schema)
    } catch let e as TableError {
        throw FormatError(.unsupported, e.message)
    }
}
