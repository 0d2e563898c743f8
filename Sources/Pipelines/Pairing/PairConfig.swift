import Foundation
import RunEngine
import Sky

/// The stages of `astropile pair`. Raw values name records and fault hooks.
public enum PairStage: String, RunStage {
    case plan = "pair-plan"
    case match = "pair-match"
    case finish = "pair-finish"
}

/// Settings of `astropile pair`: two data sets (AstroPile's or the Multimodal Universe's HDF5
/// layout) paired by position into one data set with both modalities per pair.
public struct PairConfig: Codable, Sendable, Hashable {
    /// The left data set: the output is partitioned like it.
    public var left: String
    public var right: String
    public var output: String
    /// Pair radius, arcseconds.
    public var radiusArcsec: Double
    /// The nearest right object (or k nearest) within the radius, or every pair within it.
    public var mode: CrossmatchMode = .nearest(1)
    /// Prefixes for columns both sides have (left, right); default the modality names
    /// (`image_`, `spectrum_`) when the sides differ in modality, else the data set folder names.
    public var prefixes: [String]?
    /// Output layout.
    public var format: StampFormat = .hdf5
    /// The most pairs in one HDF5 file.
    public var objectsPerFile: Int = 1000
    /// Deflate level (1...9) of array columns.
    public var deflateLevel: Int = 4
    public var jobs: Int?
    public var tmp: String?

    public init(left: String, right: String, output: String, radiusArcsec: Double) {
        self.left = left
        self.right = right
        self.output = output
        self.radiusArcsec = radiusArcsec
    }

    /// The hash of what decides the output (not jobs, tmp or where the output is).
    public var configHash: String {
        var c = self
        c.output = ""
        c.jobs = nil
        c.tmp = nil
        c.left = StampsConfig.absolute(left)
        c.right = StampsConfig.absolute(right)
        return CanonicalHash.of(c)
    }

    /// The largest radius: pairing is for the same object seen twice.
    public static let maximumRadiusArcsec = 3600.0

    /// Checks every value a user gives, before anything is read or written.
    public func validate() throws {
        guard radiusArcsec > 0, radiusArcsec.isFinite, radiusArcsec <= Self.maximumRadiusArcsec else {
            throw RunError.configuration("--radius must be a positive angle up to 1deg, got \(radiusArcsec) arcsec")
        }
        if case .nearest(let k) = mode, !(1...100).contains(k) {
            throw RunError.configuration("--neighbors must be in 1...100, got \(k)")
        }
        if let prefixes {
            guard prefixes.count == 2, prefixes.allSatisfy({ !$0.isEmpty }), prefixes[0] != prefixes[1] else {
                throw RunError.configuration("--prefixes needs two different non-empty prefixes, LEFT,RIGHT (e.g. image_,spectrum_)")
            }
        }
        try DataSetOptions.validate(healpixOrder: nil, objectsPerFile: objectsPerFile, deflateLevel: deflateLevel)
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw RunError.configuration(problem) }
        for (option, path) in [("left", left), ("right", right)] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw RunError.configuration("the \(option) data set \(path) is not a folder")
            }
        }
        guard StampsConfig.absolute(left) != StampsConfig.absolute(output), StampsConfig.absolute(right) != StampsConfig.absolute(output) else {
            throw RunError.configuration("--output must not be one of the inputs")
        }
    }
}
