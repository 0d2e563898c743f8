import Foundation
import RunEngine
import Sky

/// Which right rows a left row is paired with.
public enum CrossmatchMode: Codable, Sendable, Hashable {
    /// The `k` nearest right rows within the radius (nearest first).
    case nearest(Int)
    /// Every right row within the radius (nearest first).
    case allPairs
}

/// What happens to left rows without a match.
public enum CrossmatchJoin: String, Codable, Sendable, Hashable, CaseIterable {
    /// Dropped.
    case inner
    /// Kept once, with null right columns and a null `_dist_arcsec`.
    case left
}

/// Settings of `astropile crossmatch`.
public struct CrossmatchConfig: Codable, Sendable, Hashable {
    /// The left HATS catalog; the output is partitioned like it.
    public var left: String
    /// The right HATS catalog.
    public var right: String
    /// The right catalog's margin catalog; default: the narrowest `<right>_margin_<R>arcsec`
    /// beside it with R ≥ the radius.
    public var margin: String?
    /// The output HATS catalog folder.
    public var output: String
    /// Match radius, arcseconds.
    public var radiusArcsec: Double
    /// Pairs closer than this are ignored, arcseconds.
    public var minRadiusArcsec: Double = 0
    /// Nearest-k (default 1) or all pairs.
    public var mode: CrossmatchMode = .nearest(1)
    /// Inner or left join.
    public var join: CrossmatchJoin = .inner
    /// Suffix of left column names in the output.
    public var leftSuffix: String = "_left"
    /// Suffix of right column names in the output.
    public var rightSuffix: String = "_right"
    /// Left columns to keep (ra, dec and `_healpix_29` are always kept); `nil` keeps all.
    public var leftColumns: [String]?
    /// Right columns to keep (ra and dec are always kept); `nil` keeps all.
    public var rightColumns: [String]?
    /// `obs_collection` of the output; default the folder name.
    public var catalogName: String?
    /// Worker threads; default the number of cores.
    public var jobs: Int?
    /// A folder to hold the work folder instead of the output's parent (default:
    /// `<output>.astropile-work` beside the output).
    public var tmp: String?

    /// A cross-match of `left` with `right` within `radiusArcsec`, written to `output`.
    public init(left: String, right: String, output: String, radiusArcsec: Double) {
        self.left = left
        self.right = right
        self.output = output
        self.radiusArcsec = radiusArcsec
    }

    /// A stable hash of the settings that decide the output (not jobs, tmp or where the output is).
    public var configHash: String {
        var c = self
        c.output = ""
        c.jobs = nil
        c.tmp = nil
        return CanonicalHash.of(c)
    }

    /// The most neighbours `--neighbors` takes.
    public static let maximumNeighbors = 1_000_000

    /// Checks the settings a user gives.
    /// - Throws: ``RunError/configuration(_:)`` naming the setting.
    public func validate() throws {
        guard radiusArcsec > 0, radiusArcsec.isFinite else {
            throw RunError.configuration("--radius must be a positive angle, got \(radiusArcsec) arcsec")
        }
        guard radiusArcsec <= MarginFinder.maximumThresholdArcsec else {
            throw RunError.configuration("--radius \(radiusArcsec) arcsec is too wide; the largest is \(Int(MarginFinder.maximumThresholdArcsec)) arcsec (the widest margin)")
        }
        guard minRadiusArcsec >= 0, minRadiusArcsec < radiusArcsec else {
            throw RunError.configuration("--min-radius must be at least 0 and below the radius")
        }
        if case .nearest(let k) = mode, !(1...Self.maximumNeighbors).contains(k) {
            throw RunError.configuration("--neighbors must be in 1...\(Self.maximumNeighbors), got \(k)")
        }
        guard leftSuffix != rightSuffix else {
            throw RunError.configuration("the left and right suffixes must differ")
        }
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw RunError.configuration(problem) }
    }
}
