/// How a finished run ended.
public enum RunStatus: String, Codable, Sendable {
    /// Every input was placed.
    case complete
    /// Finished, but some inputs (files, rows, items) were rejected; they are listed.
    case completeWithRejections
}

/// An input skipped whole, or a record inside one: which, where, why.
public struct Rejection: Codable, Sendable, Hashable {
    /// The input: a file path, a partition, an archive.
    public var input: String
    /// Where in it, for a record: "row 17" (0-based data row), "line 18" (1-based text line,
    /// header counted), "HDU 2", "entry x/y.avro"; `nil` for a whole input.
    public var position: String?
    /// Why (the reader's own message where there is one).
    public var reason: String

    /// A rejection.
    public init(input: String, position: String? = nil, reason: String) {
        self.input = input
        self.position = position
        self.reason = reason
    }
}

/// What a run read and wrote, in one unit (rows, objects, files, alerts).
public struct RunCounts: Codable, Sendable, Hashable {
    /// What is counted.
    public var unit: String
    /// Read from the inputs (rows of inputs rejected whole not included).
    public var read: Int64
    /// Written to the output.
    public var written: Int64
    /// Rejected (and listed, up to a sample per input, in ``RunReport/rejectedRecords``).
    public var rejected: Int64

    /// Counts.
    public init(unit: String, read: Int64, written: Int64, rejected: Int64 = 0) {
        self.unit = unit
        self.read = read
        self.written = written
        self.rejected = rejected
    }
}

/// The one report shape of every pipeline: written as `astropile_report.json` in the output
/// when the run completes (its presence is what "complete" means), summarised on stderr.
/// `Details` holds what only that pipeline knows (partitions per order, the margin threshold, …).
public struct RunReport<Details: Codable & Sendable>: Codable, Sendable {
    /// The pipeline (`import`, `margin`, `crossmatch`, …).
    public var pipeline: String
    /// How the run ended.
    public var status: RunStatus
    /// The output (canonical path).
    public var output: String
    /// Identity of the settings that made the output.
    public var configHash: String
    /// AstroPile version.
    public var astropileVersion: String
    /// Input items planned (files, partitions).
    public var inputs: Int
    /// Read, written, rejected.
    public var counts: RunCounts
    /// Inputs skipped whole, with reasons.
    public var rejectedInputs: [Rejection]
    /// Rejected records inside inputs (a sample per input; all are counted in `counts.rejected`).
    public var rejectedRecords: [Rejection]
    /// Wall-clock seconds per stage of this invocation (a resumed run counts only what it did).
    public var stageSeconds: [String: Double]
    /// The MPI ranks this invocation ran on (`nil`: one process); under MPI `stageSeconds` are
    /// rank 0's.
    public var ranks: Int? = nil
    /// The pipeline's own figures.
    public var details: Details

    /// A report; the status follows from the rejections.
    public init(pipeline: String, output: String, configHash: String, inputs: Int, counts: RunCounts,
                rejectedInputs: [Rejection] = [], rejectedRecords: [Rejection] = [], details: Details) {
        self.pipeline = pipeline
        self.output = output
        self.configHash = configHash
        self.astropileVersion = AstroPileVersion.string
        self.inputs = inputs
        self.counts = counts
        self.rejectedInputs = rejectedInputs
        self.rejectedRecords = rejectedRecords
        self.stageSeconds = [:]
        self.details = details
        status = (counts.rejected > 0 || !rejectedInputs.isEmpty || !rejectedRecords.isEmpty) ? .completeWithRejections : .complete
    }

    /// True when anything was rejected.
    public var hasRejections: Bool { status == .completeWithRejections }

    /// The exit status this report means.
    public var exitStatus: ExitStatus { ExitStatus(status) }

    /// Total seconds of this invocation's stages.
    public var seconds: Double { stageSeconds.values.reduce(0, +) }

    /// Lines listing the rejections (up to 20 of each kind), for a terminal.
    public var rejectionSummary: String {
        var s = ""
        if !rejectedInputs.isEmpty {
            s += "\nrejected \(rejectedInputs.count) input(s):"
            for f in rejectedInputs.prefix(20) { s += "\n  \(f.input): \(f.reason)" }
        }
        if counts.rejected > 0 || !rejectedRecords.isEmpty {
            s += "\nrejected \(counts.rejected) \(counts.unit):"
            for r in rejectedRecords.prefix(20) { s += "\n  \(r.input)\(r.position.map { ", " + $0 } ?? ""): \(r.reason)" }
            if rejectedRecords.count > 20 { s += "\n  … (all listed in \(RunReportFile.name))" }
        }
        return s
    }
}

/// The report's file in the output.
public enum RunReportFile {
    /// `astropile_report.json`.
    public static let name = "astropile_report.json"
}

/// What a run did: wrote (or finished writing) its output, or found it already complete.
public enum RunOutcome<Details: Codable & Sendable>: Sendable {
    /// The output was written, or finished being written after a stop.
    case written(RunReport<Details>)
    /// The output was already complete with these settings; nothing was done.
    case alreadyComplete(RunReport<Details>)

    /// The report either way.
    public var report: RunReport<Details> {
        switch self {
        case .written(let r), .alreadyComplete(let r): r
        }
    }

    /// Whether nothing was done.
    public var wasAlreadyComplete: Bool {
        if case .alreadyComplete = self { return true }
        return false
    }
}

/// Details for a pipeline that has none.
public struct NoDetails: Codable, Sendable, Hashable {
    /// Nothing.
    public init() {}
}
