import Foundation

/// Fault injection for the resume tests, owned by the engine so that every stage of every
/// pipeline has it: `ASTROPILE_CRASH_AFTER=STAGE:N` makes the process SIGKILL itself right after
/// the N-th work item of that stage is durably recorded (exactly as a crash or `kill -9` would stop
/// it); `ASTROPILE_INTERRUPT_AFTER=STAGE:N` sends it a SIGINT (a Ctrl-C) instead, and returns only
/// once the handler has seen it; `ASTROPILE_PAUSE_AFTER=STAGE:N` with `ASTROPILE_PAUSE_FOLDER=DIR`
/// makes it write `DIR/paused-<pid>` there and wait until `DIR/resume` exists or an interrupt
/// comes, so a test can stop, signal or freeze a run at a known point instead of after a guessed
/// sleep. `STAGE` is a stage's raw value (`map`, `reduce`, `margin-map`, `crossmatch`, …). Unset in
/// normal use: every hook does nothing then.
public enum FaultHooks {
    private static func parse(_ name: String) -> (stage: String, count: Int)? {
        guard let v = ProcessInfo.processInfo.environment[name] else { return nil }
        let p = v.split(separator: ":")
        guard p.count == 2, let n = Int(p[1]), n > 0 else { return nil }
        return (String(p[0]), n)
    }
    private static let crash = parse("ASTROPILE_CRASH_AFTER")
    private static let interrupt = parse("ASTROPILE_INTERRUPT_AFTER")
    private static let pause = parse("ASTROPILE_PAUSE_AFTER")
    private static let pauseFolder: String? = ProcessInfo.processInfo.environment["ASTROPILE_PAUSE_FOLDER"].flatMap { $0.isEmpty ? nil : $0 }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var counts: [String: Int] = [:]

    /// The file in `ASTROPILE_PAUSE_FOLDER` whose creation ends a pause.
    public static let resumeFileName = "resume"

    /// The marker a process paused by `ASTROPILE_PAUSE_AFTER` writes in `ASTROPILE_PAUSE_FOLDER`.
    public static func pausedMarkerName(pid: Int32) -> String { "paused-\(pid)" }

    /// Records one durably completed item of `stage`; kills, interrupts or pauses the process when
    /// the configured count is reached.
    public static func itemRecorded(stage: String) {
        guard crash?.stage == stage || interrupt?.stage == stage || pause?.stage == stage else { return }
        lock.lock()
        let n = counts[stage, default: 0] + 1
        counts[stage] = n
        lock.unlock()
        if let crash, crash.stage == stage, n >= crash.count { kill(getpid(), SIGKILL) }
        if let interrupt, interrupt.stage == stage, n == interrupt.count {
            kill(getpid(), SIGINT)
            waitForInterruptHandler()
        }
        if let pause, pause.stage == stage, n == pause.count, let pauseFolder {
            pauseUntilResumed(folder: pauseFolder, point: "\(stage):\(n)")
        }
    }

    /// Returns once the SIGINT handler has run. `kill` may hand a signal to the own process to
    /// another thread, which runs the handler later; waiting here makes the caller's next check
    /// see the interrupt, as it sees a Ctrl-C that came while the item ran, however loaded the
    /// machine. At most 60 s (a process that does not handle SIGINT goes on as before).
    private static func waitForInterruptHandler() {
        let end = ContinuousClock.now + .seconds(60)
        while !Interruption.requested, ContinuousClock.now < end { usleep(1_000) }
    }

    /// Writes `folder/paused-<pid>` (holding `point` and a newline; written beside it and renamed,
    /// so it never appears half written), then waits until `folder/resume` exists or an interrupt
    /// was received (the stage then stops at its next check); at most 600 s.
    private static func pauseUntilResumed(folder: String, point: String) {
        let marker = folder + "/" + pausedMarkerName(pid: getpid())
        let temporary = folder + "/." + pausedMarkerName(pid: getpid()) + ".tmp"
        let fd = open(temporary, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
        if fd >= 0 {
            let text = point + "\n"
            _ = text.withCString { write(fd, $0, strlen($0)) }
            close(fd)
            rename(temporary, marker)
        }
        let resume = folder + "/" + resumeFileName
        let end = ContinuousClock.now + .seconds(600)
        while access(resume, F_OK) != 0, !Interruption.requested, ContinuousClock.now < end { usleep(20_000) }
    }
}
