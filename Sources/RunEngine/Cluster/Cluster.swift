import CMPI
import Foundation

/// The MPI ranks this process runs among (`mpirun -n N astropile …`, `srun astropile …`): Open
/// MPI's COMM_WORLD, wrapped once. Without an MPI launcher there is no cluster (``world`` is `nil`)
/// and every command runs as a single process.
///
/// Every collective is non-blocking underneath and completed by polling, so a wait can notice a
/// rank that stopped: each rank touches `rank-K.alive` in the run's shared work folder every
/// ``heartbeatSeconds`` from a background thread, and a rank waiting in a collective gives up with
/// ``ClusterError/unresponsive(ranks:seconds:during:)`` when a peer's file has not changed for
/// ``timeoutSeconds`` (`ASTROPILE_MPI_TIMEOUT`, default 300 s). A slow rank keeps its heartbeat, so
/// a long stage is never mistaken for a dead rank. Collectives are called from one thread at a time
/// (the run's own thread; MPI_THREAD_SERIALIZED).
public final class Cluster: @unchecked Sendable {
    /// This process's rank, `0..<size`.
    public let rank: Int
    /// How many ranks run the command.
    public let size: Int
    /// Whether this rank is rank 0, which does the run's single steps and its commit and prints.
    public var isLeader: Bool { rank == 0 }
    /// Seconds without a heartbeat after which a waiting rank reports a peer as stopped.
    public let timeoutSeconds: Double
    /// Seconds between heartbeats.
    public let heartbeatSeconds = 2.0

    private let lock = NSLock()
    /// Held for a whole heartbeat, so ``unwatch()`` returns only when no heartbeat writes into
    /// the folder any more (rank 0 removes it next).
    private let beatLock = NSLock()
    private var folder: String?
    private var progress: (stage: String, done: @Sendable () -> Int64)?
    private var seen: [Int: (mtime: timespec, at: Double)] = [:]
    /// Set when a failure was agreed by every rank (each ends with the same status and finalizes);
    /// a failure not agreed ends this rank with MPI_Abort so the others are not left waiting.
    private var agreedFailure = false

    /// The ranks of this process, or `nil` when it was not started by an MPI launcher (or with
    /// one rank). Set by ``start()``.
    nonisolated(unsafe) public private(set) static var world: Cluster?

    private init(rank: Int, size: Int, timeoutSeconds: Double) {
        self.rank = rank
        self.size = size
        self.timeoutSeconds = timeoutSeconds
    }

    /// Whether the environment says an MPI launcher started this process (Open MPI's `mpirun`,
    /// a PMIx or PMI launcher such as Slurm's `srun --mpi=pmix`).
    public static func launchedByMPI(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"].contains { environment[$0] != nil }
    }

    /// Initialises MPI when an MPI launcher started this process and sets ``world`` (when there
    /// are two ranks or more); does nothing otherwise. Called once by the CLI before any command.
    /// - Throws: ``ClusterError`` when MPI cannot start, or `ASTROPILE_MPI_TIMEOUT` is not a
    ///   positive number of seconds.
    public static func start(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard world == nil, launchedByMPI(environment), ap_mpi_is_finalized() == 0 else { return }
        var timeout = 300.0
        if let t = environment["ASTROPILE_MPI_TIMEOUT"] {
            guard let v = Double(t), v > 0, v.isFinite else {
                throw ClusterError.inconsistent("ASTROPILE_MPI_TIMEOUT must be a positive number of seconds, got '\(t)'")
            }
            timeout = v
        }
        var provided: Int32 = 0
        try check(ap_mpi_init(&provided), "MPI_Init_thread")
        guard provided >= ap_mpi_thread_serialized() else {
            throw ClusterError.mpi(call: "MPI_Init_thread", message: "the MPI library grants thread level \(provided), AstroPile needs MPI_THREAD_SERIALIZED")
        }
        var r: Int32 = 0, s: Int32 = 0
        try check(ap_mpi_rank(&r), "MPI_Comm_rank")
        try check(ap_mpi_size(&s), "MPI_Comm_size")
        started = true
        guard s > 1 else { return }
        let c = Cluster(rank: Int(r), size: Int(s), timeoutSeconds: timeout)
        world = c
        c.startHeartbeat()
    }

    nonisolated(unsafe) private static var started = false

    /// Ends MPI for a command that ended with `status`: MPI_Finalize when every rank ends alike
    /// (success, rejected inputs, or a failure all ranks agreed on), else MPI_Abort, which stops
    /// the other ranks instead of leaving them waiting for this one. A no-op without MPI.
    /// `agreed`: every rank knows the status already (rank 0 shared it).
    public static func end(status: ExitStatus, agreed: Bool = false) {
        guard started, ap_mpi_is_finalized() == 0 else { return }
        if let w = world, status != .success, status != .completedWithRejections, !agreed, !w.failureWasAgreed {
            _ = ap_mpi_abort(status.rawValue)
            return
        }
        _ = ap_mpi_finalize()
    }

    /// Whether the ranks agreed on a failure (every rank ends with the same status; rank 0
    /// reports it).
    public var failureWasAgreed: Bool { lock.lock(); defer { lock.unlock() }; return agreedFailure }

    // MARK: The shared folder

    /// The file in the work folder that tells every rank to stop handing out work.
    public static let stopFileName = "stop"

    /// Starts watching the run's shared work folder: heartbeats go to `folder/rank-K.alive`, and
    /// a `stop` file there (``signalStop()``) makes this rank stop handing out work.
    public func watch(folder: String) {
        lock.lock()
        self.folder = folder
        seen = [:]
        lock.unlock()
        beat()   // the first heartbeat now, not up to a beat later
    }

    /// Stops watching (the folder is about to be removed): when this returns no heartbeat of
    /// this rank writes there any more.
    public func unwatch() {
        beatLock.lock(); defer { beatLock.unlock() }
        lock.lock(); defer { lock.unlock() }
        folder = nil
        progress = nil
    }

    /// Tells the other ranks to stop handing out work (this one failed): they finish their
    /// current items and meet at the stage's end, where the failure is agreed.
    public func signalStop() {
        guard let f = watchedFolder else { return }
        let fd = open(f + "/" + Self.stopFileName, O_CREAT | O_WRONLY, 0o644)
        if fd >= 0 { close(fd) }
    }

    /// Publishes this rank's count of finished units of `stage` in its heartbeat, for rank 0's
    /// progress line (`nil` clears it).
    public func publish(stage: String?, done: (@Sendable () -> Int64)?) {
        lock.lock(); defer { lock.unlock() }
        if let stage, let done { progress = (stage, done) } else { progress = nil }
    }

    /// The other ranks' published counts of `stage`, summed (read from their heartbeat files).
    public func peersDone(stage: String) -> Int64 {
        guard let f = watchedFolder else { return 0 }
        var sum: Int64 = 0
        for k in 0..<size where k != rank {
            guard let data = FileManager.default.contents(atPath: f + "/rank-\(k).alive"),
                  let text = String(data: data, encoding: .utf8) else { continue }
            let parts = text.split(separator: "\t")
            if parts.count == 2, parts[0] == stage, let n = Int64(parts[1].trimmingCharacters(in: .whitespacesAndNewlines)) { sum += n }
        }
        return sum
    }

    private var watchedFolder: String? { lock.lock(); defer { lock.unlock() }; return folder }

    private func startHeartbeat() {
        let t = Thread { [self] in
            while true {
                beat()
                usleep(useconds_t(heartbeatSeconds * 1_000_000))
            }
        }
        t.stackSize = 1 << 20
        t.start()
    }

    /// One heartbeat: rewrite `rank-K.alive` (its mtime is the heartbeat, its text the progress)
    /// and look for a `stop` file.
    private func beat() {
        beatLock.lock(); defer { beatLock.unlock() }
        lock.lock()
        let f = folder, p = progress
        lock.unlock()
        guard let f, access(f, F_OK) == 0 else { return }
        let text = p.map { "\($0.stage)\t\($0.done())\n" } ?? "-\t0\n"
        let tmp = f + "/.rank-\(rank).alive"
        let fd = open(tmp, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        rename(tmp, f + "/rank-\(rank).alive")
        if access(f + "/" + Self.stopFileName, F_OK) == 0 { Interruption.stopQuietly() }
    }

    /// Peers whose heartbeat file exists and has not changed for ``timeoutSeconds`` (measured on
    /// this rank's clock from when the change was last seen, so clocks need not agree).
    private func stalePeers() -> [Int] {
        guard let f = watchedFolder else { return [] }
        let now = Self.monotonic()
        var stale: [Int] = []
        lock.lock(); defer { lock.unlock() }
        for k in 0..<size where k != rank {
            // A missing file counts as an unchanging one: a rank stopped before its first beat.
            var st = stat()
            if stat(f + "/rank-\(k).alive", &st) != 0 { st.st_mtim = timespec() }
            if let s = seen[k], s.mtime.tv_sec == st.st_mtim.tv_sec, s.mtime.tv_nsec == st.st_mtim.tv_nsec {
                if now - s.at > timeoutSeconds { stale.append(k) }
            } else {
                seen[k] = (st.st_mtim, now)
            }
        }
        return stale
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    // MARK: Collectives

    /// How ``allreduce(_:_:during:)`` combines values.
    public enum Reduction: Int32, Sendable {
        case sum = 0, max = 1, min = 2
    }

    /// Waits until every rank reached this point.
    public func barrier(during what: String) throws {
        var request = ap_mpi_request_null()
        try Self.check(ap_mpi_ibarrier(&request), "MPI_Ibarrier")
        try wait(&request, what)
    }

    /// Every rank's `values` combined element by element (all ranks pass the same count).
    public func allreduce(_ values: [Int64], _ op: Reduction, during what: String) throws -> [Int64] {
        guard !values.isEmpty else { return [] }
        var out = values
        try out.withUnsafeMutableBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            // Chunks of at most 2^30 values (MPI counts are Int32).
            var start = 0
            while start < buf.count {
                let n = min(buf.count - start, 1 << 30)
                var request = ap_mpi_request_null()
                try Self.check(ap_mpi_iallreduce_int64(base + start, Int32(n), op.rawValue, &request), "MPI_Iallreduce")
                try wait(&request, what)
                start += n
            }
        }
        return out
    }

    /// `bytes` of rank `root`, on every rank (the others pass `nil`).
    public func broadcast(_ bytes: [UInt8]?, from root: Int, during what: String) throws -> [UInt8] {
        var length = [Int64(bytes?.count ?? 0)]
        var request = ap_mpi_request_null()
        try length.withUnsafeMutableBufferPointer { b in
            try Self.check(ap_mpi_ibcast_bytes(b.baseAddress, 8, Int32(root), &request), "MPI_Ibcast")
            try wait(&request, what)
        }
        guard length[0] > 0 else { return [] }
        guard length[0] < Int64(Int32.max) else {
            throw ClusterError.inconsistent("a broadcast of \(length[0]) bytes during \(what) is too large")
        }
        var out = rank == root ? (bytes ?? []) : [UInt8](repeating: 0, count: Int(length[0]))
        try out.withUnsafeMutableBufferPointer { b in
            request = ap_mpi_request_null()
            try Self.check(ap_mpi_ibcast_bytes(b.baseAddress, Int32(b.count), Int32(root), &request), "MPI_Ibcast")
            try wait(&request, what)
        }
        return out
    }

    /// Runs `body` on this rank and agrees with every other rank on the outcome: when every rank
    /// succeeded, returns `body`'s value; otherwise every rank throws — the rank that failed its
    /// own error, the others ``ClusterError/peer(rank:status:message:)`` with its exit status and
    /// message — or, when ranks were only interrupted, ``RunError/interrupted``. A real failure
    /// wins over an interruption (the ranks a failure stopped are interrupted), the lowest rank
    /// over higher ones.
    public func agree<T>(during what: String, _ body: () throws -> T) throws -> T {
        let outcome: Result<T, any Error>
        do { outcome = .success(try body()) } catch { outcome = .failure(error) }
        let none = Int64(2 * size)
        var code = none
        if case .failure(let e) = outcome {
            code = Self.isInterruption(e) ? Int64(size + rank) : Int64(rank)
            if !Self.isInterruption(e) { signalStop() }
        }
        let first = try allreduce([code], .min, during: what)[0]
        if first == none, case .success(let v) = outcome { return v }
        lock.lock(); agreedFailure = true; lock.unlock()
        if first >= Int64(size) { throw RunError.interrupted }
        let failing = Int(first)
        var message: [UInt8]? = nil
        if failing == rank, case .failure(let e) = outcome {
            let status = ExitStatus(error: e).rawValue
            message = withUnsafeBytes(of: status.littleEndian) { Array($0) } + Array("\(e)".utf8)
        }
        let text = try broadcast(message, from: failing, during: what)
        if failing == rank, case .failure(let e) = outcome { throw e }
        let raw = text.count >= 4 ? text.prefix(4).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) } : ExitStatus.failure.rawValue
        let status = ExitStatus(rawValue: Int32(littleEndian: raw)) ?? .failure
        throw ClusterError.peer(rank: failing, status: status, message: String(decoding: text.dropFirst(4), as: UTF8.self))
    }

    /// Rank 0's `body`, on every rank: rank 0 runs it, the ranks agree on its outcome
    /// (``agree(during:_:)``: its failure is everyone's), and its value is broadcast. The other
    /// ranks only check for an interrupt.
    public func fromLeader<T: Codable>(during what: String, _ body: () throws -> T) throws -> T {
        var local: T? = nil
        let message = try agree(during: what) { () -> [UInt8]? in
            guard isLeader else { try Interruption.check(); return nil }
            let value = try body()
            local = value
            return Array(try RecordCoding.encode(value))
        }
        let shared = try broadcast(message, from: 0, during: what)
        if let local { return local }
        guard let value = RecordCoding.decode(T.self, from: Data(shared)) else {
            throw ClusterError.inconsistent("rank \(rank) could not read rank 0's answer during \(what)")
        }
        return value
    }

    /// Runs `body` on rank 0 only and makes every rank wait for it and share its outcome (taking
    /// a lock, recovering what an earlier run left, before the ranks read); without MPI it just
    /// runs `body`.
    public static func onLeader(during what: String, _ body: () throws -> Void) throws {
        guard let world else { return try body() }
        try world.agree(during: what) { if world.isLeader { try body() } }
    }

    private static func isInterruption(_ e: any Error) -> Bool {
        if case RunError.interrupted = e { return true }
        return false
    }

    /// Polls `request` until it completes, giving up when a peer's heartbeat went stale.
    private func wait(_ request: inout UnsafeMutableRawPointer?, _ what: String) throws {
        var done: Int32 = 0
        var pause: useconds_t = 20
        var nextCheck = Self.monotonic() + 1
        while true {
            try Self.check(ap_mpi_test(&request, &done), "MPI_Test")
            if done != 0 { return }
            usleep(pause)
            pause = min(pause * 2, 5_000)
            let now = Self.monotonic()
            if now >= nextCheck {
                nextCheck = now + 1
                let stale = stalePeers()
                if !stale.isEmpty { throw ClusterError.unresponsive(ranks: stale, seconds: timeoutSeconds, during: what) }
            }
        }
    }

    private static func check(_ rc: Int32, _ call: String) throws {
        guard rc != 0 else { return }
        var buffer = [CChar](repeating: 0, count: Int(ap_mpi_max_error_string()) + 1)
        let text: String = buffer.withUnsafeMutableBufferPointer { b in
            guard let base = b.baseAddress, ap_mpi_error_string(rc, base, Int32(b.count)) == 0 else { return "error \(rc)" }
            return String(cString: base)
        }
        throw ClusterError.mpi(call: call, message: text)
    }
}
