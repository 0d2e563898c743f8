import ArgumentParser
import Foundation
import Pipelines

/// The `astropile` command: survey data from the archive to an analysis-ready HATS lake.
public struct AstroPileCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "astropile",
        abstract: "Survey data from the archive to HEALPix-partitioned HATS catalogs (LSDB/hats-readable): bulk fetch, import, margins, cross-matches, cone/box/id queries — fast and resumable.",
        version: AstroPileVersion.string,
        subcommands: [ImportCommand.self, InfoCommand.self, FetchCommand.self, MarginCommand.self, CrossmatchCommand.self, ConeCommand.self, BoxCommand.self, LookupCommand.self, IndexCommand.self])

    public init() {}

    /// Parses `arguments`, runs the command and returns the process exit status:
    /// 0 success, 3 completed with rejected inputs, 1 failure, 2 usage error.
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
            return ExitStatus.usage
        }
        do {
            var c = command
            if let runnable = c as? StatusReturningCommand {
                return try runnable.runReturningStatus()
            }
            try c.run()
            return 0
        } catch let e as ValidationError {
            FileHandle.standardError.write(Data("astropile: \(e.message)\n".utf8))
            return ExitStatus.usage
        } catch let e as CatalogError {
            FileHandle.standardError.write(Data("astropile: error: \(e)\n".utf8))
            switch e {
            case .configuration, .marginMissing: return ExitStatus.usage
            default: return ExitStatus.failure
            }
        } catch {
            // `--help` on a subcommand parses into a help command whose `run` throws the request.
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                return 0
            }
            FileHandle.standardError.write(Data("astropile: error: \(error)\n".utf8))
            return ExitStatus.failure
        }
    }
}

/// Exit statuses of `astropile`.
public enum ExitStatus {
    /// Everything placed.
    public static let success: Int32 = 0
    /// Failed.
    public static let failure: Int32 = 1
    /// Bad command line or configuration.
    public static let usage: Int32 = 2
    /// Completed, with rejected rows or files (listed in the report).
    public static let completedWithRejections: Int32 = 3
}

/// A subcommand that decides its own exit status.
protocol StatusReturningCommand {
    func runReturningStatus() throws -> Int32
}
