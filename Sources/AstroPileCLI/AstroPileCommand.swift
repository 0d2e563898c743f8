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
        do {
            var c = command
            if let runnable = c as? StatusReturningCommand {
                return try runnable.runReturningStatus().rawValue
            }
            try c.run()
            return ExitStatus.success.rawValue
        } catch let e as ValidationError {
            FileHandle.standardError.write(Data("astropile: \(e.message)\n".utf8))
            return ExitStatus.usage.rawValue
        } catch {
            // `--help` on a subcommand parses into a help command whose `run` throws the request.
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                return 0
            }
            let status = ExitStatus(error: error)
            let prefix = status == .interrupted ? "astropile: " : "astropile: error: "
            FileHandle.standardError.write(Data((prefix + "\(error)\n").utf8))
            return status.rawValue
        }
    }
}

/// A subcommand that decides its own exit status.
protocol StatusReturningCommand {
    func runReturningStatus() throws -> ExitStatus
}
