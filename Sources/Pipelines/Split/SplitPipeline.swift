import Formats
import Foundation
import RunEngine
import Table

/// What assigning one data file did.
struct SplitFileRecord: Codable, Sendable {
    var file: String
    var ids: [String]
    /// Split index per row.
    var splits: [Int]
}

/// What a split run wrote beyond the common counts.
public struct SplitDetails: Codable, Sendable, Hashable {
    public var seed: UInt64
    public var fractions: [SplitFraction]
    /// Objects per split, in `fractions` order.
    public var counts: [Int]
    /// Per-split index files, relative to the splits folder.
    public var indexFiles: [String]
    public var columnWritten: Bool
}

public typealias SplitReport = RunReport<SplitDetails>

/// `astropile split`: a train/val/test assignment of a data set's objects, written as a `split`
/// dataset in every HDF5 file (each file updated atomically: a copy is changed and renamed
/// over the original) and as one index per split, `DATASET/splits/NAME.parquet` (object_id,
/// file, row). The seed and fractions are recorded in the files' attributes and the report.
public enum SplitPipeline {
    public static func run(_ config: SplitConfig, progress: Bool = true) throws -> RunOutcome<SplitDetails> {
        try config.validate()
        let root = config.dataset.hasSuffix("/") ? String(config.dataset.dropLast()) : config.dataset
        let files = FileMatcher.walk(root).filter { rel in
            rel.hasPrefix("healpix=") && (rel.hasSuffix(".hdf5") || rel.hasSuffix(".h5"))
        }
        guard !files.isEmpty else { throw RunError.configuration("the data set \(root) has no healpix=N/*.hdf5 files") }
        // The data set's files are part of what decides the output: a data set that has grown
        // is split again, not taken as done.
        // (Rows, not bytes: the split column itself changes the files' sizes.)
        let listing = try files.map { f in "\(f) \(try ExampleFile.rowCount(path: root + "/" + f))" }
        let hash = CanonicalHash.fnv1a(config.configHash + "\n" + listing.joined(separator: "\n"))
        // An earlier split of this data set with other settings, or before the data set grew, is
        // replaced: it is derived entirely from the ids and the seed, so nothing is lost.
        // (Under MPI by rank 0 alone, before any rank begins.)
        try Cluster.onLeader(during: "split: an earlier split") {
            if let data = FileManager.default.contents(atPath: Run.reportPath(output: config.output)),
               let old = RecordCoding.decode(SplitReport.self, from: data), old.pipeline == "split", old.configHash != hash {
                do { try FileManager.default.removeItem(atPath: config.output) } catch { throw RunError.writing(config.output, error) }
            }
        }
        let run: Run
        switch try Run.begin(pipeline: "split", output: config.output, configHash: hash, stages: SplitStage.self,
                             options: RunOptions(jobs: config.jobs, tmp: config.tmp, progress: progress), details: SplitDetails.self) {
        case .complete(let report): return .alreadyComplete(report)
        case .started(let r): run = r
        }
        let names = config.fractions.map(\.name).joined(separator: ",")
        let fractions = config.fractions.map { "\($0.name)=\($0.fraction)" }.joined(separator: ",")
        let records = try run.stage(SplitStage.assign, items: files, key: { $0 },
                                    progress: StageProgress(unit: "files", total: Int64(files.count)) { _, _ in 1 }) { file, context in
            try Interruption.check()
            let path = root + "/" + file
            guard let idColumn = try ExampleFile.read(path: path, names: ["object_id"]).first else {
                throw FormatError(.corruptInput, "no object_id dataset", path: path)
            }
            let ids = (0..<idColumn.values.count).map { idColumn.values.text(at: $0) }
            let splits = ids.map { SplitAssignment.split(id: $0, seed: config.seed, fractions: config.fractions) }
            if config.writeColumn {
                do {
                    let h5 = try HDF5File(path: path, mode: .update)
                    try h5.removeDataset("split")
                    let d = try h5.writeStrings("split", splits.map { config.fractions[$0].name }, shape: [ids.count])
                    try h5.setAttribute("description", "split of the object (astropile split: seed \(config.seed), \(fractions))", on: d)
                    try h5.setAttribute("split_seed", String(config.seed))
                    try h5.setAttribute("split_fractions", fractions)
                    try h5.setAttribute("split_names", names)
                    try h5.close()
                } catch let e as HDF5Error {
                    throw RunError.writing(path, e)
                }
            }
            context.progress.advance(1)
            return SplitFileRecord(file: file, ids: ids, splits: splits)
        }
        let report = try run.step(SplitStage.finish) { () -> SplitReport in
            let staging = try run.stagingDirectory()
            var counts = [Int](repeating: 0, count: config.fractions.count)
            var indexFiles: [String] = []
            let integerIDs = records.allSatisfy { $0.ids.allSatisfy { Int64($0) != nil } }
            for (k, f) in config.fractions.enumerated() {
                var entries: [DataSetIndex.Entry] = []
                for r in records {
                    for (row, s) in r.splits.enumerated() where s == k { entries.append(.init(id: r.ids[row], file: r.file, row: row)) }
                }
                counts[k] = entries.count
                let name = f.name + ".parquet"
                try DataSetIndex.write(entries, integerIDs: integerIDs, to: staging + "/" + name)
                indexFiles.append(name)
            }
            let total = counts.reduce(0, +)
            return SplitReport(pipeline: "split", output: run.output, configHash: hash, inputs: files.count,
                               counts: RunCounts(unit: "objects", read: Int64(total), written: Int64(total)),
                               details: SplitDetails(seed: config.seed, fractions: config.fractions, counts: counts, indexFiles: indexFiles,
                                                     columnWritten: config.writeColumn))
        }
        return .written(try run.commit(report))
    }
}
