#if canImport(Glibc)
import Glibc
#endif

/// glibc's `mallopt` (declared in `<malloc.h>`, which Swift's Glibc module does not import, so
/// it is looked up by name; a no-op where it is missing).
public enum MallocTuning {
    private typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    private static let mallopt: Mallopt? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return nil }
        return unsafeBitCast(sym, to: Mallopt.self)
    }()

    /// Serves allocations up to `mmapThreshold` bytes from the heap rather than fresh mappings,
    /// and returns free heap memory to the system only past `trimThreshold` bytes
    /// (`M_MMAP_THRESHOLD` = -3, `M_TRIM_THRESHOLD` = -1).
    public static func keepLargeBlocks(mmapThreshold: Int32, trimThreshold: Int32) {
        _ = mallopt?(-3, mmapThreshold)
        _ = mallopt?(-1, trimThreshold)
    }
}
