import Formats
import Foundation
import RunEngine
import Sky
import Table

/// Where an output column comes from.
struct ColumnNaming: Codable, Sendable, Hashable {
    /// 0 left, 1 right.
    var side: Int
    var source: String
    var output: String
}

/// The plan of a pairing run: both sides as listed, and the output's column names.
struct PairPlan: Codable, Sendable {
    var left: PairInput
    var right: PairInput
    var naming: [ColumnNaming]
    var prefixes: [String]
}

/// What pairing one left folder did.
struct PairFolderRecord: Sendable {
    var folder: String
    var files: [DataSetFile]
    var pairs: Int64
    var hatsRows: Int64
    /// The HATS leaf's pixel (at the left side's order), when one was written.
    var hatsPixel: Int64?
    /// Left objects of the folder without a pair.
    var unpairedLeft: [UnpairedObject]
    /// Right objects (global index in the right side's file order) paired here.
    var pairedRight: [Int32]
}

// Records of a 1M-object pairing hold hundreds of thousands of ids and indices: encoded as
// joined text and raw little-endian bytes, not JSON arrays of values.
extension PairFolderRecord: Codable {
    private enum CodingKeys: String, CodingKey { case folder, files, pairs, hatsRows, hatsPixel, unpairedIDs, unpairedFiles, unpairedFileIndex, unpairedRows, pairedRight }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(folder, forKey: .folder)
        try c.encode(files, forKey: .files)
        try c.encode(pairs, forKey: .pairs)
        try c.encode(hatsRows, forKey: .hatsRows)
        try c.encodeIfPresent(hatsPixel, forKey: .hatsPixel)
        try c.encode(DataSetFile(path: "", ids: unpairedLeft.map(\.id)), forKey: .unpairedIDs)
        let names = Array(Set(unpairedLeft.map(\.file))).sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
        try c.encode(names, forKey: .unpairedFiles)
        try c.encode(Self.bytes(unpairedLeft.map { index[$0.file] ?? 0 }), forKey: .unpairedFileIndex)
        try c.encode(Self.bytes(unpairedLeft.map { Int32(clamping: $0.row) }), forKey: .unpairedRows)
        try c.encode(Self.bytes(pairedRight), forKey: .pairedRight)
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        folder = try c.decode(String.self, forKey: .folder)
        files = try c.decode([DataSetFile].self, forKey: .files)
        pairs = try c.decode(Int64.self, forKey: .pairs)
        hatsRows = try c.decode(Int64.self, forKey: .hatsRows)
        hatsPixel = try c.decodeIfPresent(Int64.self, forKey: .hatsPixel)
        let ids = try c.decode(DataSetFile.self, forKey: .unpairedIDs).ids
        let names = try c.decode([String].self, forKey: .unpairedFiles)
        let fileIndex = Self.integers(try c.decode(Data.self, forKey: .unpairedFileIndex))
        let rows = Self.integers(try c.decode(Data.self, forKey: .unpairedRows))
        guard fileIndex.count == ids.count, rows.count == ids.count, fileIndex.allSatisfy({ names.indices.contains(Int($0)) }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "unpaired objects do not line up"))
        }
        unpairedLeft = ids.indices.map { UnpairedObject(id: ids[$0], file: names[Int(fileIndex[$0])], row: Int(rows[$0])) }
        pairedRight = Self.integers(try c.decode(Data.self, forKey: .pairedRight))
    }

    static func bytes(_ v: [Int32]) -> Data { v.map { $0.littleEndian }.withUnsafeBytes { Data($0) } }

    static func integers(_ d: Data) -> [Int32] {
        d.withUnsafeBytes { raw in (0..<(raw.count / 4)).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) } }
    }
}

/// An object without a pair: its id, file and row.
struct UnpairedObject: Codable, Sendable {
    var id: String
    var file: String
    var row: Int
}

/// What a pairing run wrote beyond the common counts (`astropile_report.json`).
public struct PairDetails: Codable, Sendable, Hashable {
    public var left: String
    public var right: String
    public var radiusArcsec: Double
    public var mode: CrossmatchMode
    public var pairs: Int64
    public var leftObjects: Int
    public var rightObjects: Int
    public var leftUnpaired: Int
    public var rightUnpaired: Int
    public var prefixes: [String]
    public var format: StampFormat
    public var healpixOrder: Int?
    public var files: Int
    /// The object-id index and the unpaired objects (relative to the output).
    public var index: String
    public var unpaired: String
}

/// The report of `astropile pair`.
public typealias PairReport = RunReport<PairDetails>

/// `astropile pair`: every pair of a left and a right object within a radius, as a data set
/// with both sides' columns per pair.
///
/// The right side's positions go into one k-d tree, so pairs across HEALPix borders and at
/// RA 0/360 are found like any other (no partition alignment can drop them). Stages: **plan**
/// lists both sides; **match** pairs each left `healpix=N` folder (parallel) and writes its
/// output files, reading only the rows that pair; **finish** writes the object index, the
/// unpaired objects and the report.
public enum PairPipeline {
    public static let unpairedFileName = "unpaired_objects.parquet"
    /// Left folders per work item.
    static let foldersPerItem = 16
    /// Output columns the pipeline writes itself.
    static let own = ["object_id", "ra", "dec", "healpix", "pair_dist_arcsec"]

    public static func run(_ config: PairConfig, progress: Bool = true) throws -> RunOutcome<PairDetails> {
        try config.validate()
        let hash = config.configHash
        let run: Run
        switch try Run.begin(pipeline: "pair", output: config.output, configHash: hash, stages: PairStage.self,
                             options: RunOptions(jobs: config.jobs, tmp: config.tmp, progress: progress), details: PairDetails.self) {
        case .complete(let report): return .alreadyComplete(report)
        case .started(let r): run = r
        }
        let plan = try run.step(PairStage.plan) { try makePlan(config) }
        let right = RightPositions(plan.right)
        let output = run.folder.output
        let matcher = PairMatcher(config: config, plan: plan, right: right, provenance: provenance(config, plan: plan, hash: hash))
        // Work items are groups of folders: their files are flushed to disk together (one flush
        // instead of two fsyncs per file, which dominated 3,072-folder runs) before the group is
        // recorded.
        let groups = stride(from: 0, to: plan.left.folders.count, by: foldersPerItem).map {
            Array(plan.left.folders[$0..<min(plan.left.folders.count, $0 + foldersPerItem)])
        }
        let grouped = try run.stage(PairStage.match, items: groups, key: { CanonicalHash.fnv1a($0.map(\.name).joined(separator: " ")) },
                                    progress: StageProgress(unit: "folders", total: Int64(plan.left.folders.count)) { g, _ in Int64(g.count) }) { group, context in
            var out: [PairFolderRecord] = []
            for folder in group {
                out.append(try matcher.pair(folder, output: output))
                context.progress.advance(1)
            }
            AtomicFile.flushAll()
            return out
        }
        let records = grouped.flatMap { $0 }
        let report = try run.step(PairStage.finish) { () -> PairReport in
            let staging = try run.stagingDirectory()
            var entries: [DataSetIndex.Entry] = []
            for r in records { for f in r.files { for (row, id) in f.ids.enumerated() { entries.append(.init(id: id, file: f.path, row: row)) } } }
            try DataSetIndex.write(entries, integerIDs: !entries.isEmpty && entries.allSatisfy { Int64($0.id) != nil }, to: staging + "/" + DataSetIndex.fileName)
            // Right objects never paired: every right row not named by a folder record.
            var paired = [Bool](repeating: false, count: plan.right.rows)
            for r in records { for i in r.pairedRight where Int(i) < paired.count { paired[Int(i)] = true } }
            let rightUnpaired = try right.unpaired(paired)
            let leftUnpaired = records.flatMap(\.unpairedLeft)
            try writeUnpaired(left: leftUnpaired, right: rightUnpaired, to: staging + "/" + unpairedFileName)
            if config.format.writesHATS {
                let order = plan.left.healpixOrder ?? 4
                let leaves = records.compactMap { r in
                    r.hatsPixel.flatMap { HealpixPixel(checkedOrder: order, index: $0) }.map { HATSCatalogWriter.Leaf(pixel: $0, rows: r.hatsRows) }
                }
                try ExampleHATS.finish(root: output, leaves: leaves, signatures: matcher.signatures,
                                       properties: [("astropile_pipeline", "pair"), ("astropile_config_hash", hash)], staging: staging)
            }
            let pairs = records.reduce(Int64(0)) { $0 + $1.pairs }
            let details = PairDetails(left: plan.left.root, right: plan.right.root, radiusArcsec: config.radiusArcsec, mode: config.mode,
                                      pairs: pairs, leftObjects: plan.left.rows, rightObjects: plan.right.rows,
                                      leftUnpaired: leftUnpaired.count, rightUnpaired: rightUnpaired.count, prefixes: plan.prefixes,
                                      format: config.format, healpixOrder: plan.left.healpixOrder,
                                      files: records.reduce(0) { $0 + $1.files.count }, index: DataSetIndex.fileName, unpaired: unpairedFileName)
            return PairReport(pipeline: "pair", output: run.output, configHash: hash, inputs: 2,
                              counts: RunCounts(unit: "pairs", read: Int64(plan.left.rows + plan.right.rows), written: pairs),
                              details: details)
        }
        return .written(try run.commit(report))
    }

    static func provenance(_ config: PairConfig, plan: PairPlan, hash: String) -> [(String, String)] {
        let mode: String
        switch config.mode {
        case .nearest(let k): mode = k == 1 ? "nearest right object within the radius" : "\(k) nearest right objects within the radius"
        case .allPairs: mode = "every pair within the radius"
        }
        return [("astropile_pipeline", "pair"), ("astropile_version", AstroPileVersion.string), ("astropile_config_hash", hash),
                ("left", plan.left.root), ("right", plan.right.root), ("radius_arcsec", String(config.radiusArcsec)), ("mode", mode),
                ("left_prefix", plan.prefixes[0]), ("right_prefix", plan.prefixes[1]),
                ("pair_position", "ra, dec and healpix are the left object's")]
    }

    // MARK: - Plan

    static func makePlan(_ config: PairConfig) throws -> PairPlan {
        let left = try PairInput.open(config.left, side: "left")
        let right = try PairInput.open(config.right, side: "right")
        guard right.rows <= KDTree.maximumPoints else {
            throw RunError.configuration("the right data set has \(right.rows) objects; at most \(KDTree.maximumPoints) fit one k-d tree")
        }
        let prefixes: [String]
        if let p = config.prefixes {
            prefixes = p
        } else if let a = left.modality, let b = right.modality, a != b {
            prefixes = [a + "_", b + "_"]
        } else if left.name != right.name {
            prefixes = [left.name + "_", right.name + "_"]
        } else {
            prefixes = ["left_", "right_"]
        }
        let leftNames = Set(left.columns.map(\.name)), rightNames = Set(right.columns.map(\.name))
        var naming: [ColumnNaming] = []
        for (side, input, other) in [(0, left, rightNames), (1, right, leftNames)] {
            for c in input.columns {
                let clash = other.contains(c.name) || own.contains(c.name)
                naming.append(ColumnNaming(side: side, source: c.name, output: clash ? prefixes[side] + c.name : c.name))
            }
        }
        var seen = Set(own)
        for n in naming where !seen.insert(n.output).inserted {
            throw RunError.configuration("two output columns would be called \(n.output); choose other --prefixes than \(prefixes.joined(separator: ","))")
        }
        return PairPlan(left: left, right: right, naming: naming, prefixes: prefixes)
    }

    // MARK: - Finish

    static func writeUnpaired(left: [UnpairedObject], right: [UnpairedObject], to path: String) throws {
        let all = left + right
        let schema = Schema([Field("side", .string, nullable: false), Field("object_id", .string, nullable: false),
                             Field("file", .string, nullable: false), Field("row", .int64, nullable: false)])
        let batch = RecordBatch(schema: schema, columns: [
            .strings(Array(repeating: "left", count: left.count) + Array(repeating: "right", count: right.count)),
            .strings(all.map(\.id)), .strings(all.map(\.file)), .primitive(.int64, all.map { Int64($0.row) }),
        ], length: all.count)
        do { try ParquetFileWriter.write([batch], schema: schema, to: path) } catch { throw RunError.writing(path, error) }
    }
}

/// The right side's positions and ids in file order, and their k-d tree: loaded once per
/// process, on first use, shared by the workers.
final class RightPositions: @unchecked Sendable {
    let input: PairInput
    private let lock = NSLock()
    private var loaded: Loaded?

    struct Loaded {
        var tree: KDTree
        /// Per global index: file (index into `files`) and row.
        var file: [Int32]
        var row: [Int32]
        var ids: [String]
        var files: [String]
    }

    init(_ input: PairInput) { self.input = input }

    func get() throws -> Loaded {
        lock.lock()
        defer { lock.unlock() }
        if let loaded { return loaded }
        var file: [Int32] = [], row: [Int32] = [], ids: [String] = []
        var x: [Double] = [], y: [Double] = [], z: [Double] = []
        let files = input.folders.flatMap(\.files)
        for (k, f) in files.enumerated() {
            try Interruption.check()
            let path = input.root + "/" + f
            let c = try input.columns(file: f, rows: nil, names: ["object_id", "ra", "dec"])
            let (idValues, r, d) = try PairInput.positions(c, path: path)
            for i in 0..<r.count {
                let v = UnitVector(ra: r[i], dec: d[i])
                x.append(v.x); y.append(v.y); z.append(v.z)
                file.append(Int32(k)); row.append(Int32(i)); ids.append(idValues.values.text(at: i))
            }
        }
        let l = Loaded(tree: KDTree(x: x, y: y, z: z), file: file, row: row, ids: ids, files: files)
        loaded = l
        return l
    }

    func unpaired(_ paired: [Bool]) throws -> [UnpairedObject] {
        let l = try get()
        return paired.indices.filter { !paired[$0] }.map { UnpairedObject(id: l.ids[$0], file: l.files[Int(l.file[$0])], row: Int(l.row[$0])) }
    }
}
