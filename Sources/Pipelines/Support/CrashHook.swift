import Foundation

/// Fault injection for the resume tests: `ASTROPILE_CRASH_AFTER=map:N` (or `reduce:N`) makes the
/// process SIGKILL itself right after the N-th input (pixel) of that stage is durably recorded,
/// exactly as a crash or `kill -9` would stop it; `ASTROPILE_INTERRUPT_AFTER=map:N` sends it a
/// SIGINT (a Ctrl-C) instead. Unset in normal use.
enum CrashHook {
    private static func parse(_ name: String) -> (stage: String, count: Int)? {
        guard let v = ProcessInfo.processInfo.environment[name] else { return nil }
        let p = v.split(separator: ":")
        guard p.count == 2, let n = Int(p[1]) else { return nil }
        return (String(p[0]), n)
    }
    private static let setting = parse("ASTROPILE_CRASH_AFTER")
    private static let interrupt = parse("ASTROPILE_INTERRUPT_AFTER")
    private static let lock = NSLock()
    nonisolated(unsafe) private static var counts: [String: Int] = [:]

    /// Records one completed item of `stage`; kills the process when the configured count is reached.
    static func completed(_ stage: String) {
        guard setting?.stage == stage || interrupt?.stage == stage else { return }
        lock.lock()
        counts[stage, default: 0] += 1
        let n = counts[stage]!
        lock.unlock()
        if let setting, setting.stage == stage, n >= setting.count { kill(getpid(), SIGKILL) }
        if let interrupt, interrupt.stage == stage, n == interrupt.count { kill(getpid(), SIGINT) }
    }
}
