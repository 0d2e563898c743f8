import ArgumentParser
import Foundation
import Pipelines
import RunEngine

/// The `astropile` command: survey data from the archive to an analysis-ready HATS lake.
public struct AstroPileCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "astropile",
        abstract: "Survey data from the archive to HEALPix-partitioned HATS catalogs (LSDB/hats-readable): bulk fetch, import, margins, cross-matches, cone/box/id queries — fast and resumable.",
        version: AstroPileVersion.string,
        subcommands: [ImportCommand.self, InfoCommand.self, StampsCommand.self, SpectraCommand.self, PairCommand.self, SplitCommand.self, AlertsCommand.self, ProjectCommand.self, ShowCommand.self, FetchCommand.self, MarginCommand.self, CrossmatchCommand.self, ConeCommand.self, BoxCommand.self, LookupCommand.self, IndexCommand.self])

    public init() {}

    /// Parses `arguments`, runs the command and returns the process exit status (``ExitStatus``):
    /// 0 complete, 3 complete with rejected inputs, 1 failed (or a full disk), 2 usage error,
    /// 130 interrupted — the same for every subcommand.
    public static func main(arguments: [String]) -> Int32 {
        let command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return 0
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            return ExitStatus.usage.rawValue
        }
        // Under an MPI launcher (mpirun, srun) the ranks start MPI together; rank 0 prints, the
        // others stay quiet but for errors of their own that the ranks did not agree on.
        var errors = FileHandle.standardError
        do {
            try Cluster.start()
        } catch {
            errors.write(Data("astropile: error: \(error)\n".utf8))
            return ExitStatus(error: error).rawValue
        }
        if let world = Cluster.world, !world.isLeader {
            errors = FileHandle(fileDescriptor: dup(2), closeOnDealloc: true)
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, 1); dup2(null, 2); close(null) }
        }
        var status: ExitStatus
        var agreed = false
        if let world = Cluster.world, !(command is DistributedCommand) {
            // A command that does not split its work runs on rank 0 alone (a fetch or an index
            // written by every rank would race); the others wait for its exit status.
            do {
                let raw = try world.fromLeader(during: "waiting for rank 0") { run(command, errors: errors).rawValue }
                status = ExitStatus(rawValue: raw) ?? .failure
                agreed = true
            } catch {
                errors.write(Data("astropile: error: \(error)\n".utf8))
                status = ExitStatus(error: error)
            }
        } else {
            status = run(command, errors: errors)
        }
        Cluster.end(status: status, agreed: agreed)
        return status.rawValue
    }

    private static func run(_ command: ParsableCommand, errors: FileHandle) -> ExitStatus {
        do {
            var c = command
            if let runnable = c as? StatusReturningCommand {
                return try runnable.runReturningStatus()
            }
            try c.run()
            return .success
        } catch let e as ValidationError {
            if Cluster.world?.isLeader ?? true { errors.write(Data("astropile: \(e.message)\n".utf8)) }
            return .usage
        } catch {
            // `--help` on a subcommand parses into a help command whose `run` throws the request.
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                return .success
            }
            let status = ExitStatus(error: error)
            var prefix = status == .interrupted ? "astropile: " : "astropile: error: "
            if let world = Cluster.world, !world.isLeader {
                // Rank 0 reports what the ranks agreed on; this rank speaks only before an abort.
                guard !world.failureWasAgreed else { return status }
                prefix += "rank \(world.rank): "
            }
            errors.write(Data((prefix + "\(error)\n").utf8))
            return status
        }
    }
}

/// A command whose work the MPI ranks split between them (it runs on the run engine); any other
/// command runs on rank 0 alone under MPI.
protocol DistributedCommand {}

extension ImportCommand: DistributedCommand {}
extension MarginCommand: DistributedCommand {}
extension CrossmatchCommand: DistributedCommand {}
extension StampsCommand: DistributedCommand {}
extension SpectraCommand: DistributedCommand {}
extension PairCommand: DistributedCommand {}
extension SplitCommand: DistributedCommand {}
extension AlertsIngestCommand: DistributedCommand {}
extension AlertsCatalogCommand: DistributedCommand {}
extension AlertsLightCurvesCommand: DistributedCommand {}

/// A subcommand that decides its own exit status.
protocol StatusReturningCommand {
    func runReturningStatus() throws -> ExitStatus
}
