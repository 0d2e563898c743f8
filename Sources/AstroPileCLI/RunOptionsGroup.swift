import ArgumentParser
import RunEngine

/// `--jobs`, `--tmp` and `--quiet`: how a pipeline runs, declared once for every command that
/// writes a catalog (import, margin, crossmatch). None of them changes the output.
struct RunOptionsGroup: ParsableArguments {
    @Option(name: .long, help: "Parallel workers (default: all cores; at most \(RunOptions.maximumJobs)).")
    var jobs: Int?

    @Option(name: .long, help: "A folder to hold the work folder (resume state, spill files) instead of the output's parent; it gets a subfolder <output name>-<hash>.astropile-work, removed after success (default: <output>.astropile-work beside the output).")
    var tmp: String?

    @Flag(name: .long, help: "No progress lines.")
    var quiet = false

    func validate() throws {
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw ValidationError(problem) }
    }
}
