import Foundation
import Table

/// One SDSS `spec-PLATE-MJD-FIBER.fits` file (SDSS-I/II, BOSS, eBOSS; lite or full), read with
/// cfitsio: the coadded spectrum of HDU 1 (`COADD`) and the one-row table describing the
/// object (`SPECOBJ` in SDSS-I/II files, `SPALL` in BOSS/eBOSS ones), found by position (HDU 2)
/// and by its columns, not by name. Per-exposure HDUs of full files are not read.
public struct SDSSSpectrum: Sendable {
    /// Columns the object table must have.
    public static let requiredObjectColumns = ["SPECOBJID", "PLUG_RA", "PLUG_DEC", "Z", "Z_ERR", "CLASS"]
    /// Columns the coadd table must have.
    public static let coaddColumns = ["flux", "loglam", "ivar", "and_mask", "wdisp"]

    public let path: String
    /// Coadded flux per pixel, 1e-17 erg/s/cm²/Å.
    public var flux: [Float]
    /// log10 of the vacuum wavelength in Å.
    public var loglam: [Float]
    /// Inverse variance of `flux`, (1e-17 erg/s/cm²/Å)⁻².
    public var ivar: [Float]
    /// The AND of the exposures' pixel masks (0 = no problem).
    public var andMask: [Int32]
    /// Line-spread σ, in pixels of the log-wavelength grid.
    public var wdisp: [Float]
    /// The object's table, one row, every column as the file stores it.
    public var object: RecordBatch
    /// The HDU the object table was found in (astropy numbering).
    public var objectHDU: Int

    /// Pixels of the spectrum.
    public var length: Int { flux.count }

    /// Reads the coadd and the object table. Throws ``FormatError`` naming the file and HDU:
    /// a file that is not FITS or is truncated, a missing HDU or column, columns of different
    /// lengths.
    public init(path: String) throws {
        self.path = path
        let coadd = try FITSTableReader(path: path, hdu: .number(1), columns: Self.coaddColumns)
        let (object, hdu) = try Self.readObject(path: path)
        self.object = object
        self.objectHDU = hdu
        var columns: [[ArrayData]] = Array(repeating: [], count: Self.coaddColumns.count)
        while let batch = try coadd.next() {
            for k in 0..<Self.coaddColumns.count { columns[k].append(batch.columns[k]) }
        }
        func floats(_ k: Int) throws -> [Float] {
            var out: [Float] = []
            out.reserveCapacity(coadd.rowCount)
            for part in columns[k] {
                guard let d = part.doubles() else {
                    throw FormatError(.corruptInput, "column \(Self.coaddColumns[k]) is not numeric (\(part.type))", path: path, location: coadd.location)
                }
                if part.type == .float32 {
                    out.append(contentsOf: part.values(Float.self))
                } else {
                    out.append(contentsOf: d.values.map { Float($0) })
                }
            }
            return out
        }
        flux = try floats(0)
        loglam = try floats(1)
        ivar = try floats(2)
        andMask = try floats(3).map { Int32(exactly: $0) ?? Int32.max }
        if let part = columns[3].first, part.type == .int32 {
            andMask = columns[3].flatMap { Array($0.values(Int32.self)) }
        }
        wdisp = try floats(4)
        guard !flux.isEmpty else { throw FormatError(.corruptInput, "the coadd has no pixels", path: path, location: coadd.location) }
    }

    /// The object table and its HDU: HDU 2 when it has ``requiredObjectColumns``, else the first
    /// later table that does.
    public static func readObject(path: String) throws -> (RecordBatch, Int) {
        func attempt(_ hdu: Int) throws -> (RecordBatch, Int)? {
            let reader = try FITSTableReader(path: path, hdu: .number(hdu))
            let names = Set(reader.schema.fields.map { $0.name.uppercased() })
            guard requiredObjectColumns.allSatisfy(names.contains) else { return nil }
            guard reader.rowCount == 1, let batch = try reader.next(), batch.length == 1 else {
                throw FormatError(.corruptInput, "the object table has \(reader.rowCount) rows, expected 1", path: path, location: reader.location)
            }
            return (batch, hdu)
        }
        if let found = try attempt(2) { return found }
        let count = try FITSFile.withOpened(path) { try $0.hduCount() }
        for hdu in 3..<max(3, count) {
            if let found = try? attempt(hdu) { return found }
        }
        throw FormatError(.notFound, "no object table: no table with \(requiredObjectColumns.joined(separator: ", ")) (HDU 2 is not one)", path: path,
                          location: "HDU 2")
    }

    /// Vacuum wavelength per pixel, Å (10^loglam).
    public var wavelength: [Float] { loglam.map { Float(pow(10, Double($0))) } }

    /// The log-wavelength step per pixel (dex), from the first and last pixel (SDSS: 1e-4).
    public var logStep: Double {
        guard loglam.count > 1, let first = loglam.first, let last = loglam.last else { return 1e-4 }
        return Double(last - first) / Double(loglam.count - 1)
    }

    /// Line-spread σ per pixel in Å: wdisp (pixels) × ln 10 × Δlog10λ × λ.
    public var lsfSigma: [Float] { lsfSigma(wavelength: wavelength) }

    /// ``lsfSigma`` from the ``wavelength`` already computed.
    public func lsfSigma(wavelength: [Float]) -> [Float] {
        let step = logStep * M_LN10
        return zip(wdisp, wavelength).map { w, l in Float(Double(w) * step * Double(l)) }
    }

    /// true = bad pixel: `and_mask` ≠ 0 or ivar ≤ 0 (the Multimodal Universe spectra convention).
    public var badPixels: [Bool] { zip(andMask, ivar).map { m, v in m != 0 || !(v > 0) } }
}
