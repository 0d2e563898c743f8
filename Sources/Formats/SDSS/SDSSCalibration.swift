/// Gain (electrons per count) and dark variance (counts²) of one SDSS CCD.
public struct SDSSDetectorNoise: Codable, Sendable, Equatable {
    public var gain: Double
    public var darkVariance: Double

    public init(gain: Double, darkVariance: Double) {
        self.gain = gain
        self.darkVariance = darkVariance
    }

    /// The SDSS frame data model's table of gain and dark variance by camera column and band,
    /// for frames without their run's `photoField` file. (Several CCDs read out through two
    /// amplifiers; the table gives an intermediate value, so photoField's per-field values are
    /// preferred whenever they are on disk.) `nil` for a camcol or band outside the table.
    public static func dataModelTable(run: Int, camcol: Int, band: String) -> SDSSDetectorNoise? {
        guard let b = SDSSFrameName.bands.firstIndex(of: band), (1...6).contains(camcol) else { return nil }
        let gains: [[Double]] = [
            [1.62, 3.32, 4.71, 5.165, 4.745],
            [run > 1100 ? 1.825 : 1.595, 3.855, 4.6, 6.565, 5.155],
            [1.59, 3.845, 4.72, 4.86, 4.885],
            [1.6, 3.995, 4.76, 4.885, 4.775],
            [1.47, 4.05, 4.725, 4.64, 3.48],
            [2.17, 4.035, 4.895, 4.76, 4.69],
        ]
        let late = run > 1500
        let dark: [[Double]] = [
            [9.61, 15.6025, 1.8225, 7.84, 0.81],
            [12.6025, 1.44, 1.00, late ? 6.25 : 5.76, 1.0],
            [8.7025, 1.3225, 1.3225, 4.6225, 1.0],
            [12.6025, 1.96, 1.3225, late ? 7.5625 : 6.25, late ? 12.6025 : 9.61],
            [9.3025, 1.1025, 0.81, 7.84, late ? 2.1025 : 1.8225],
            [7.0225, 1.8225, 0.9025, 5.0625, 1.21],
        ]
        return SDSSDetectorNoise(gain: gains[camcol - 1][b], darkVariance: dark[camcol - 1][b])
    }
}

/// A run's `photoField-{run6}-{camcol}.fits`: per field and band, the gain, dark variance and
/// PSF width the photometric pipeline measured (HDU 1, one row per field).
public struct SDSSPhotoField: Sendable {
    /// Per field: the five bands' values, in `u g r i z` order.
    public struct FieldValues: Sendable, Equatable {
        public var gain: [Double]
        public var darkVariance: [Double]
        /// PSF FWHM per band, arcsec (`PSF_WIDTH`).
        public var psfWidth: [Double]
    }

    public let path: String
    public let run: Int
    public let camcol: Int
    public let fields: [Int: FieldValues]

    /// Reads the file's `FIELD`, `GAIN`, `DARK_VARIANCE` and `PSF_WIDTH` columns.
    public init(path: String) throws {
        self.path = path
        let file = try FITSFile(path: path)
        try file.moveTo(hdu: 1)
        let rows = try file.rowCount()
        var fields: [Int: FieldValues] = [:]
        var run = 0, camcol = 0
        for row in 0..<rows {
            let field = try file.readFloatCell(column: "FIELD", row: row)
            let gain = try file.readFloatCell(column: "GAIN", row: row)
            let dark = try file.readFloatCell(column: "DARK_VARIANCE", row: row)
            let psf = try file.readFloatCell(column: "PSF_WIDTH", row: row)
            guard field.count == 1, let number = Int(exactly: field[0]), gain.count == 5, dark.count == 5, psf.count == 5 else {
                throw FormatError(.corruptInput, "expected FIELD and 5-band GAIN, DARK_VARIANCE, PSF_WIDTH", path: path, location: "HDU 1, row \(row + 1)")
            }
            if row == 0 {
                run = (try file.readFloatCell(column: "RUN", row: 0).first).flatMap { Int(exactly: $0) } ?? 0
                camcol = (try file.readFloatCell(column: "CAMCOL", row: 0).first).flatMap { Int(exactly: $0) } ?? 0
            }
            fields[number] = FieldValues(gain: gain.map(Double.init), darkVariance: dark.map(Double.init), psfWidth: psf.map(Double.init))
        }
        self.run = run
        self.camcol = camcol
        self.fields = fields
    }

    /// `photoField-002583-2.fits`.
    public static func fileName(run: Int, camcol: Int) -> String {
        "photoField-\(SDSSFrameName.pad(run, 6))-\(camcol).fits"
    }
}
