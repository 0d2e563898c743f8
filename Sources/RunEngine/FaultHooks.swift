import Foundation

/// Fault injection for the resume tests, owned by the engine so that every stage of every
/// pipeline has it: `ASTROPILE_CRASH_AFTER=STAGE:N` makes the process SIGKILL itself right after
/// the N-th work item of that stage is durably recorded (exactly as a crash or `kill -9` would stop
/// it); `ASTROPILE_INTERRUPT_AFTER=STAGE:N` sends it a SIGINT (a Ctrl-C) instead. `STAGE` is a
/// stage's raw value (`map`, `reduce`, `margin-map`, `crossmatch`, …). Unset in normal use.
public enum FaultHooks {
    private static func parse(_ name: String) -> (stage: String, count: Int)? {
        guard let v = ProcessInfo.processInfo.environment[name] else { return nil }
        let p = v.split(separator: ":")
        guard p.count == 2, let n = Int(p[1]), n > 0 else { return nil }
        return (String(p[0]), n)
    }
    private static let crash = parse("ASTROPILE_CRASH_AFTER")
    private static let interrupt = parse("ASTROPILE_INTERRUPT_AFTER")
    private static let lock = NSLock()
    nonisolated(unsafe) private static var counts: [String: Int] = [:]

    /// Records one durably completed item of `stage`; kills or interrupts the process when the
    /// configured count is reached.
    public static func itemRecorded(stage: String) {
        guard crash?.stage == stage || interrupt?.stage == stage else { return }
        lock.lock()
        let n = counts[stage, default: 0] + 1
        counts[stage] = n
        lock.unlock()
        if let crash, crash.stage == stage, n >= crash.count { kill(getpid(), SIGKILL) }
        if let interrupt, interrupt.stage == stage, n == interrupt.count { kill(getpid(), SIGINT) }
    }
}
