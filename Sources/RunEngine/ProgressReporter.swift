import Foundation

/// Per-stage progress on stderr: a self-overwriting line with count, rate and ETA on a terminal,
/// plain lines every few seconds otherwise. Thread-safe.
public final class ProgressReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let stage: String
    private let unit: String
    private let total: Int64?
    private var done: Int64 = 0
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let isTTY: Bool
    private let interval: TimeInterval
    private let enabled: Bool
    /// Secondary counts shown after the main one with their rates (e.g. alerts beside bytes).
    private var tallies: [(name: String, count: Int64)] = []
    /// The other MPI ranks' counts, added to this one's on rank 0's line.
    private var peers: (@Sendable () -> Int64)?

    /// Starts reporting `stage`, counting `unit`s out of `total` (if known).
    public init(stage: String, unit: String, total: Int64?, enabled: Bool = true) {
        self.stage = stage
        self.unit = unit
        self.total = total
        isTTY = isatty(2) != 0
        interval = isTTY ? 0.2 : 10
        self.enabled = enabled
    }

    /// Adds `n` finished units.
    public func advance(_ n: Int64) {
        lock.lock(); defer { lock.unlock() }
        done += n
        let now = Date()
        if enabled, now.timeIntervalSince(lastPrint) >= interval {
            lastPrint = now
            emit(final: false)
        }
    }

    /// The units finished here (this process's own count, without peers).
    public var count: Int64 {
        lock.lock(); defer { lock.unlock() }
        return done
    }

    /// Adds the other MPI ranks' counts (read by `peers`) to the printed count.
    public func addPeers(_ peers: @escaping @Sendable () -> Int64) {
        lock.lock(); defer { lock.unlock() }
        self.peers = peers
    }

    /// Sets the count to the stage's final total, counted from every rank's records (the peers'
    /// heartbeats may lag); the final line then shows it.
    public func settle(_ total: Int64) {
        lock.lock(); defer { lock.unlock() }
        done = total
        peers = nil
    }

    /// Adds `n` to a secondary count shown on the line as "N name (R/s)", e.g. the alerts decoded
    /// while the main count is bytes read.
    public func tally(_ name: String, _ n: Int64) {
        lock.lock(); defer { lock.unlock() }
        if let k = tallies.firstIndex(where: { $0.name == name }) { tallies[k].count += n } else { tallies.append((name, n)) }
    }

    /// Prints the final line of the stage.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        if enabled { emit(final: true) }
    }

    /// A rate as a whole count, 0 for NaN and Int64.max past it (a count over a microsecond).
    static func perSecond(_ rate: Double) -> Int64 {
        guard rate.isFinite, rate > 0 else { return 0 }
        // invariant: finite, positive and checked against the bound before converting.
        return rate < 9.2e18 ? Int64(rate) : Int64.max
    }

    private func emit(final: Bool) {
        let elapsed = max(Date().timeIntervalSince(start), 1e-6)
        let done = self.done + (peers?() ?? 0)
        let rate = Double(done) / elapsed
        let bytes = unit == "bytes"
        var line = "\(stage): " + show(done, bytes)
        if let total { line += "/" + show(total, bytes) }
        line += bytes ? " MB, " + show(Self.perSecond(rate), true) + " MB/s"
            : " \(unit), " + show(Self.perSecond(rate), false) + "/s"
        for t in tallies {
            let r = Self.perSecond(Double(t.count) / elapsed)
            line += ", " + Self.format(t.count) + " " + t.name + " (" + Self.format(r) + "/s)"
        }
        if let total, !final, rate > 0, total > done {
            line += ", ETA \(Self.duration(Double(total - done) / rate))"
        }
        if final { line += ", \(Self.duration(elapsed))" }
        let text = isTTY ? "\r\u{1B}[2K" + line + (final ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    private func show(_ n: Int64, _ megabytes: Bool) -> String {
        megabytes ? String(format: "%.1f", Double(n) / 1e6) : Self.format(n)
    }

    static func format(_ n: Int64) -> String {
        if n >= 10_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
        if n >= 10_000 { return String(format: "%.1fk", Double(n) / 1e3) }
        return "\(n)"
    }

    /// `42.0s`, `3m07s`, `2h05m`.
    public static func duration(_ s: Double) -> String {
        if s < 60 { return String(format: "%.1fs", s) }
        if s < 3600 { return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) }
        return String(format: "%dh%02dm", Int(s) / 3600, (Int(s) % 3600) / 60)
    }
}
