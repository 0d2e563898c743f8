import Foundation
import RunEngine

/// The stages of `astropile spectra`. Raw values name records and fault hooks.
public enum SpectraStage: String, RunStage {
    case scan = "spectra-scan"
    case write = "spectra-write"
    case finish = "spectra-finish"
}

/// Settings of `astropile spectra`: SDSS `spec-*.fits` files as a spectra data set of
/// per-object examples, padded to one length across the data set.
public struct SpectraConfig: Codable, Sendable, Hashable {
    /// Files, folders (searched recursively for `spec-*.fits`, also `.gz`/`.bz2`) or glob patterns
    /// (`**` matches any number of folders).
    public var files: [String]
    /// The data set folder.
    public var output: String
    /// Output layout.
    public var format: StampFormat = .hdf5
    /// HEALPix order of the `healpix=N` folders (nested).
    public var healpixOrder: Int = 4
    /// The most objects in one HDF5 file.
    public var objectsPerFile: Int = 1000
    /// Deflate level (1...9) of the spectrum arrays.
    public var deflateLevel: Int = 4
    /// Worker threads; default the number of cores.
    public var jobs: Int?
    /// A folder for the work folder instead of the output's parent.
    public var tmp: String?

    public init(files: [String], output: String) {
        self.files = files
        self.output = output
    }

    /// The hash of what decides the output (not jobs, tmp or where the output is).
    public var configHash: String {
        var c = self
        c.output = ""
        c.jobs = nil
        c.tmp = nil
        c.files = files.map { StampsConfig.absolute($0) }
        return CanonicalHash.of(c)
    }

    /// Checks every value a user gives, before anything is read or written.
    public func validate() throws {
        guard !files.isEmpty else { throw RunError.configuration("--files must name at least one file, folder or pattern") }
        try DataSetOptions.validate(healpixOrder: healpixOrder, objectsPerFile: objectsPerFile, deflateLevel: deflateLevel)
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw RunError.configuration(problem) }
    }
}
