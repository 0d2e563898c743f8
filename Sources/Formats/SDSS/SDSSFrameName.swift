/// The name of one SDSS imaging frame: `frame-{band}-{run6}-{camcol}-{field4}.fits[.bz2]`
/// (the SDSS data model's naming convention).
public struct SDSSFrameName: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    /// The filter, one of `u g r i z`.
    public var band: String
    /// The imaging run.
    public var run: Int
    /// The camera column, 1...6.
    public var camcol: Int
    /// The field (frame sequence number within the run).
    public var field: Int

    /// The five SDSS filters, in wavelength order.
    public static let bands = ["u", "g", "r", "i", "z"]

    /// Creates a name; `nil` when a part is out of the data model's ranges.
    public init?(band: String, run: Int, camcol: Int, field: Int) {
        guard Self.bands.contains(band), (0...999_999).contains(run), (1...6).contains(camcol), (0...9999).contains(field) else { return nil }
        self.band = band
        self.run = run
        self.camcol = camcol
        self.field = field
    }

    /// Parses a file name (a path's last component), `nil` when it is not a frame's name.
    public init?(fileName: String) {
        let base = fileName.split(separator: "/").last.map(String.init) ?? fileName
        var stem = Substring(base)
        for suffix in [".bz2", ".gz"] where stem.hasSuffix(suffix) { stem = stem.dropLast(suffix.count) }
        guard stem.hasSuffix(".fits") || stem.hasSuffix(".fit") else { return nil }
        stem = stem.hasSuffix(".fits") ? stem.dropLast(5) : stem.dropLast(4)
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "frame", parts[2].count == 6, parts[4].count == 4,
              let run = Int(parts[2]), let camcol = Int(parts[3]), let field = Int(parts[4]) else { return nil }
        self.init(band: String(parts[1]), run: run, camcol: camcol, field: field)
    }

    /// `frame-r-002583-2-0136.fits.bz2`, the name the SAS serves.
    public var fileName: String { "frame-\(band)-\(Self.pad(run, 6))-\(camcol)-\(Self.pad(field, 4)).fits.bz2" }

    /// The field this frame belongs to, whatever the band.
    public var fieldID: SDSSFieldID { SDSSFieldID(run: run, camcol: camcol, field: field) }

    public var description: String { "frame-\(band)-\(Self.pad(run, 6))-\(camcol)-\(Self.pad(field, 4))" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.run, a.camcol, a.field, Self.bands.firstIndex(of: a.band) ?? 9) < (b.run, b.camcol, b.field, Self.bands.firstIndex(of: b.band) ?? 9)
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

/// One SDSS field: run, camera column and field number (all bands).
public struct SDSSFieldID: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    public var run: Int
    public var camcol: Int
    public var field: Int

    public init(run: Int, camcol: Int, field: Int) {
        self.run = run
        self.camcol = camcol
        self.field = field
    }

    /// `002583-2-0136`: run, camcol and field as frame names spell them.
    public var description: String { "\(SDSSFrameName.pad(run, 6))-\(camcol)-\(SDSSFrameName.pad(field, 4))" }

    public static func < (a: Self, b: Self) -> Bool { (a.run, a.camcol, a.field) < (b.run, b.camcol, b.field) }
}
