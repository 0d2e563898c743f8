import Formats
import Foundation
import RunEngine

/// How each band's stamp is placed on the sky.
public enum StampAlignment: String, Codable, Sendable, CaseIterable {
    /// Each band's own frame pixels around the object, no resampling (the object's sub-pixel
    /// offset from the stamp centre is stored per band).
    case none
    /// Every band resampled with a Lanczos-3 kernel onto one TAN grid centred exactly on the
    /// object at the reference band's pixel scale and orientation.
    case lanczos3
}

/// Where the examples are written.
public enum StampFormat: String, Codable, Sendable, CaseIterable {
    /// Multimodal Universe HDF5: `healpix=N/001-of-00K.hdf5`.
    case hdf5
    /// A HATS catalog with fixed-size-list image columns (MMU v1.5), in `<output>/hats`.
    case hats
    /// Both.
    case both

    var writesHDF5: Bool { self != .hats }
    var writesHATS: Bool { self != .hdf5 }
}

/// The stages of `astropile stamps`. Raw values name records and fault hooks.
public enum StampsStage: String, RunStage {
    case plan = "stamps-plan"
    case cut = "stamps-cut"
    case write = "stamps-write"
    case finish = "stamps-finish"
}

/// Settings of `astropile stamps`: multi-band image stamps per catalog object, cut from SDSS
/// frames on disk.
public struct StampsConfig: Codable, Sendable, Hashable {
    /// The object catalog (CSV, Parquet or FITS).
    public var catalog: String
    /// The folder holding the frames (`frame-*.fits[.bz2]`, searched recursively) and the runs'
    /// `photoField-*.fits`.
    public var frames: String
    /// The data set folder.
    public var output: String
    /// Bands, in the order they are stored.
    public var bands: [String] = ["u", "g", "r", "i", "z"]
    /// Stamp side, pixels.
    public var size: Int = 64
    /// The object id column; default the first of objID, objid, object_id, specObjID, id.
    public var idColumn: String?
    /// Right ascension column (degrees); default ra / RA.
    public var raColumn: String?
    /// Declination column (degrees); default dec / DEC.
    public var decColumn: String?
    /// Pixel placement.
    public var align: StampAlignment = .none
    /// The band whose pixel grid the aligned stamps use; default r (else the middle band).
    public var referenceBand: String?
    /// Output layout.
    public var format: StampFormat = .hdf5
    /// HEALPix order of the `healpix=N` folders (nested).
    public var healpixOrder: Int = 4
    /// The most objects in one HDF5 file.
    public var objectsPerFile: Int = 1000
    /// Catalog columns copied into every example.
    public var columns: [String] = []
    /// Per-band extinction columns (magnitudes), one per band in band order, or one name with
    /// `{band}` in it (e.g. `extinction_{band}`).
    public var extinctionColumns: [String]?
    /// Per-band PSF FWHM columns (arcsec), as for extinction; default the runs' photoField
    /// `PSF_WIDTH`.
    public var psfColumns: [String]?
    /// Deflate level (1...9) of the image chunks.
    public var deflateLevel: Int = 4
    /// Worker threads; default the number of cores.
    public var jobs: Int?
    /// Memory budget, bytes; bounds the fields held at once.
    public var memoryBytes: Int64 = 1 << 30
    /// A folder for the work folder instead of the output's parent.
    public var tmp: String?

    public init(catalog: String, frames: String, output: String) {
        self.catalog = catalog
        self.frames = frames
        self.output = output
    }

    /// The hash of what decides the output (not jobs, memory, tmp or where the output is).
    public var configHash: String {
        var c = self
        c.output = ""
        c.jobs = nil
        c.tmp = nil
        c.memoryBytes = 0
        c.catalog = Self.absolute(catalog)
        c.frames = Self.absolute(frames)
        return CanonicalHash.of(c)
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// The band the aligned grid follows.
    public var effectiveReferenceBand: String {
        if let referenceBand { return referenceBand }
        return bands.contains("r") ? "r" : bands[bands.count / 2]
    }

    /// The most pixels a stamp side may have.
    public static let maximumSize = 1024

    /// Checks every value a user gives, before anything is read or written.
    public func validate() throws {
        guard !bands.isEmpty else { throw RunError.configuration("--bands must name at least one band") }
        for b in bands where !SDSSFrameName.bands.contains(b) {
            throw RunError.configuration("--bands: unknown SDSS band '\(b)' (expected some of ugriz)")
        }
        guard Set(bands).count == bands.count else { throw RunError.configuration("--bands names a band twice: \(bands.joined())") }
        guard (2...Self.maximumSize).contains(size) else {
            throw RunError.configuration("--size must be in 2...\(Self.maximumSize) pixels, got \(size)")
        }
        try DataSetOptions.validate(healpixOrder: healpixOrder, objectsPerFile: objectsPerFile, deflateLevel: deflateLevel)
        if let referenceBand, !bands.contains(referenceBand) {
            throw RunError.configuration("--reference-band \(referenceBand) is not one of --bands \(bands.joined())")
        }
        for (option, names) in [("--extinction-columns", extinctionColumns), ("--psf-columns", psfColumns)] {
            if let names, !(names.count == bands.count || (names.count == 1 && names[0].contains("{band}"))) {
                throw RunError.configuration("\(option) needs one column per band (\(bands.count)) or one name with {band}, got \(names.joined(separator: ","))")
            }
        }
        if let jobs, let problem = RunOptions.problem(jobs: jobs) { throw RunError.configuration(problem) }
        guard memoryBytes >= 64 << 20 else { throw RunError.configuration("--memory must be at least 64MiB") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: frames, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError.configuration("--frames \(frames) is not a folder")
        }
        guard FileManager.default.fileExists(atPath: catalog) else {
            throw RunError.configuration("--catalog \(catalog) does not exist")
        }
    }

    /// Per-band column names from a list or a `{band}` pattern.
    func perBand(_ names: [String]?) -> [String]? {
        guard let names else { return nil }
        if names.count == 1 && names[0].contains("{band}") {
            return bands.map { names[0].replacingOccurrences(of: "{band}", with: $0) }
        }
        return names
    }
}
