import Foundation
import RunEngine

/// The stages of `astropile split`. Raw values name records and fault hooks.
public enum SplitStage: String, RunStage {
    case assign = "split-assign"
    case finish = "split-finish"
}

/// One named split and its share of the objects.
public struct SplitFraction: Codable, Sendable, Hashable {
    public var name: String
    public var fraction: Double

    public init(name: String, fraction: Double) {
        self.name = name
        self.fraction = fraction
    }

    /// Parses `train=0.8,val=0.1,test=0.1`.
    public static func parse(_ text: String) throws -> [SplitFraction] {
        try text.split(separator: ",").map { part in
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let f = Double(kv[1]) else {
                throw RunError.configuration("--fractions: '\(part)' is not NAME=FRACTION (e.g. train=0.8,val=0.1,test=0.1)")
            }
            return SplitFraction(name: kv[0], fraction: f)
        }
    }
}

/// Settings of `astropile split`: a deterministic train/val/test assignment of a data set's
/// objects from a hash of each object id and the seed.
public struct SplitConfig: Codable, Sendable, Hashable {
    /// The data set folder (its `healpix=N/*.hdf5` files).
    public var dataset: String
    public var fractions: [SplitFraction]
    public var seed: UInt64
    /// Also store the assignment as a `split` dataset in every HDF5 file.
    public var writeColumn: Bool = true
    public var jobs: Int?
    public var tmp: String?

    public init(dataset: String, fractions: [SplitFraction], seed: UInt64) {
        self.dataset = dataset
        self.fractions = fractions
        self.seed = seed
    }

    /// The per-split index files' folder: `DATASET/splits`.
    public var output: String { (dataset.hasSuffix("/") ? String(dataset.dropLast()) : dataset) + "/splits" }

    public var configHash: String {
        var c = self
        c.jobs = nil
        c.tmp = nil
        c.dataset = StampsConfig.absolute(dataset)
        return CanonicalHash.of(c)
    }

    public func validate() throws {
        guard !fractions.isEmpty else { throw RunError.configuration("--fractions must name at least one split") }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
        for f in fractions {
            guard !f.name.isEmpty, f.name.allSatisfy(allowed.contains) else {
                throw RunError.configuration("--fractions: split name '\(f.name)' must be letters, digits, _ or -")
            }
            guard f.fraction >= 0, f.fraction <= 1, f.fraction.isFinite else {
                throw RunError.configuration("--fractions: \(f.name)=\(f.fraction) is not in [0, 1]")
            }
        }
        guard Set(fractions.map(\.name)).count == fractions.count else { throw RunError.configuration("--fractions names a split twice") }
        let total = fractions.reduce(0) { $0 + $1.fraction }
        guard abs(total - 1) < 1e-9 else { throw RunError.configuration("--fractions must add up to 1, not \(total)") }
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw RunError.configuration(problem) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataset, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError.configuration("the data set \(dataset) is not a folder")
        }
    }
}

/// The assignment: `u = splitmix64(fnv1a64("<seed>:<object_id>")) / 2⁶⁴`, and the object goes
/// to the first split whose cumulative fraction exceeds `u`. It depends on nothing but the id
/// and the seed, so adding objects never moves existing ones. (Hand-written: a dozen lines any
/// language reproduces; `docs/DATASETS.md` gives the Python.)
public enum SplitAssignment {
    /// FNV-1a 64 of the UTF-8 bytes, then the splitmix64 finaliser, as a fraction in [0, 1).
    public static func unit(id: String, seed: UInt64) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "\(seed):\(id)".utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        return Double(h >> 11) * 0x1.0p-53
    }

    /// The index of the split `id` belongs to.
    public static func split(id: String, seed: UInt64, fractions: [SplitFraction]) -> Int {
        let u = unit(id: id, seed: seed)
        var cumulative = 0.0
        for (k, f) in fractions.enumerated() {
            cumulative += f.fraction
            if u < cumulative { return k }
        }
        return max(0, fractions.count - 1)
    }
}
