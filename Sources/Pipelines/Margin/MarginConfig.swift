import Foundation
import RunEngine
import Sky

/// Settings of `astropile margin`: which catalog, how wide a margin, where to write it.
public struct MarginConfig: Codable, Sendable, Hashable {
    /// The primary HATS catalog folder.
    public var catalog: String
    /// The margin threshold, arcseconds: rows within this angular distance of a partition
    /// (and not in it) go into that partition's margin.
    public var radiusArcsec: Double
    /// The margin catalog folder; default `<catalog>_margin_<R>arcsec` beside the catalog.
    public var output: String?
    /// `obs_collection` of the margin catalog; default the folder name.
    public var catalogName: String?
    /// Worker threads; default the number of cores.
    public var jobs: Int?
    /// A folder to hold the work folder instead of the output's parent (default:
    /// `<output>.astropile-work` beside the output).
    public var tmp: String?

    /// A margin of `radiusArcsec` for `catalog`.
    public init(catalog: String, radiusArcsec: Double, output: String? = nil) {
        self.catalog = catalog
        self.radiusArcsec = radiusArcsec
        self.output = output
    }

    /// The output folder.
    public var resolvedOutput: String {
        output ?? Self.defaultOutput(catalog: catalog, radiusArcsec: radiusArcsec)
    }

    /// `<catalog>_margin_<R>arcsec`, R without a trailing `.0` (5 → `5`, 0.5 → `0.5`).
    public static func defaultOutput(catalog: String, radiusArcsec: Double) -> String {
        "\(HATSLayout.trimmingTrailingSlashes(catalog))_margin_\(formatArcsec(radiusArcsec))arcsec"
    }

    /// A radius as written in margin folder names.
    public static func formatArcsec(_ value: Double) -> String {
        // invariant: integral and under 1e15 when converted.
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A stable hash of the settings that decide the output (not jobs or tmp).
    public var configHash: String {
        var c = self
        c.jobs = nil
        c.tmp = nil
        c.output = nil
        return CanonicalHash.of(c)
    }

    /// Checks the settings a user gives.
    /// - Throws: ``RunError/configuration(_:)`` naming the setting.
    public func validate() throws {
        guard radiusArcsec > 0, radiusArcsec.isFinite else {
            throw RunError.configuration("--radius must be a positive angle, got \(radiusArcsec) arcsec")
        }
        guard radiusArcsec <= MarginFinder.maximumThresholdArcsec else {
            throw RunError.configuration(
                "--radius: a margin of \(radiusArcsec) arcsec is too wide; the largest is \(Int(MarginFinder.maximumThresholdArcsec)) arcsec")
        }
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw RunError.configuration(problem) }
    }
}
