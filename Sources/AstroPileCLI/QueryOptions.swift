import ArgumentParser
import Foundation
import Pipelines

/// Output options shared by `cone`, `box` and `lookup`.
struct QueryOutputOptions: ParsableArguments {
    @Option(name: .long, help: "Write the rows to this file: .parquet, or .csv (default: CSV on standard output).")
    var output: String?

    @Flag(name: .long, help: "CSV on standard output (the default when --output is not given).")
    var csv = false

    @Flag(name: .long, help: "Only print the number of rows.")
    var count = false

    @Option(name: .long, help: "Columns to keep, comma-separated (ra/dec always kept; default: all).")
    var columns: String?

    var selectedColumns: [String]? {
        columns.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    func destination() throws -> QueryOutput {
        if count { return .countOnly }
        guard let output else { return .csvStandardOutput }
        if csv { throw ValidationError("--csv writes to standard output; with --output the file name's extension decides") }
        if output.hasSuffix(".parquet") || output.hasSuffix(".pq") { return .parquet(output) }
        if output.hasSuffix(".csv") { return .csv(output) }
        throw ValidationError("--output must end in .parquet or .csv")
    }

    /// The summary line, on stderr unless only counting.
    func finish(_ report: QueryReport) {
        let line = "\(report.rows) rows; read \(report.partitionsRead) of \(report.partitions) partitions, \(report.rowGroupsRead) of \(report.rowGroups) row groups in them"
        if count {
            print(report.rows)
            FileHandle.standardError.write(Data((line + "\n").utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
