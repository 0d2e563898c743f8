/// A contiguous, immutable region of memory in Arrow layout, kept alive by `owner`.
///
/// The memory belongs either to Swift (``OwnedMemory``) or to a producer across the Arrow C Data
/// Interface (the imported array's release callback runs when the last buffer referring to it
/// goes away).
public struct Buffer: @unchecked Sendable {
    /// Start of the data; `nil` only for an empty buffer.
    public let base: UnsafeRawPointer?
    /// Size in bytes (as far as known; imported buffers report the size implied by the layout).
    public let byteCount: Int
    /// Keeps the memory alive.
    public let owner: AnyObject?

    /// Wraps memory owned by `owner`.
    public init(base: UnsafeRawPointer?, byteCount: Int, owner: AnyObject?) {
        self.base = base
        self.byteCount = byteCount
        self.owner = owner
    }

    /// Copies `bytes` into new Swift-owned, 64-byte aligned memory.
    public init(copying bytes: UnsafeRawBufferPointer) {
        let memory = OwnedMemory(uninitializedByteCount: bytes.count)
        if let src = bytes.baseAddress, bytes.count > 0 {
            memory.pointer.copyMemory(from: src, byteCount: bytes.count)
        }
        self.init(base: UnsafeRawPointer(memory.pointer), byteCount: bytes.count, owner: memory)
    }

    /// Copies the values of `array` into a new buffer.
    public init<T: BitwiseCopyable>(copying array: [T]) {
        self = array.withUnsafeBytes { Buffer(copying: $0) }
    }

    /// Wraps Swift-owned memory.
    public init(_ memory: OwnedMemory) {
        self.init(base: UnsafeRawPointer(memory.pointer), byteCount: memory.byteCount, owner: memory)
    }

    /// The bytes as a raw buffer.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }

    /// The buffer's values as `T` (the first `count` of them).
    public func typed<T>(_: T.Type, count: Int) -> UnsafeBufferPointer<T> {
        UnsafeBufferPointer(start: base?.assumingMemoryBound(to: T.self), count: count)
    }
}

/// Swift-owned, zero-initialised, 64-byte aligned memory (Arrow's recommended alignment).
public final class OwnedMemory: @unchecked Sendable {
    /// Start of the memory.
    public let pointer: UnsafeMutableRawPointer
    /// Size in bytes.
    public let byteCount: Int

    /// Allocates `byteCount` zeroed bytes.
    public init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
    }

    /// Allocates `byteCount` bytes the caller fills at once (no zeroing pass).
    public init(uninitializedByteCount byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: min(max(byteCount, 1), 64) )
    }

    /// The memory as typed values.
    public func typed<T>(_: T.Type) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: pointer.assumingMemoryBound(to: T.self), count: byteCount / MemoryLayout<T>.stride)
    }

    deinit { pointer.deallocate() }
}
