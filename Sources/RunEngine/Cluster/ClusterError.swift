/// A failure of the MPI layer, or of another rank, as one rank sees it.
public enum ClusterError: Error, CustomStringConvertible, Sendable, ClassifiedError {
    /// An MPI call failed: the call and Open MPI's own message.
    case mpi(call: String, message: String)
    /// Another rank stopped the run: its rank, the exit status it stopped with, its message.
    case peer(rank: Int, status: ExitStatus, message: String)
    /// Other ranks did not answer a collective: the ranks whose heartbeat went stale and for how
    /// long (the collective timeout, `ASTROPILE_MPI_TIMEOUT`).
    case unresponsive(ranks: [Int], seconds: Double, during: String)
    /// The ranks disagree about the run (a work folder that is not shared, a different command).
    case inconsistent(String)

    public var description: String {
        switch self {
        case .mpi(let call, let m): "MPI: \(call) failed: \(m)"
        case .peer(let rank, _, let m): "rank \(rank): \(m)"
        case .unresponsive(let ranks, let s, let during):
            "rank\(ranks.count == 1 ? "" : "s") \(ranks.map(String.init).joined(separator: ", ")) stopped answering (no heartbeat for \(Int(s)) s) during \(during); the state already recorded is kept, re-run to continue"
        case .inconsistent(let m): "the MPI ranks disagree: \(m)"
        }
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .peer(_, let status, _): status
        case .inconsistent: .usage
        case .mpi, .unresponsive: .failure
        }
    }
}
