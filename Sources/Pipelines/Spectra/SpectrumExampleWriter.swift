import Formats
import Foundation
import RunEngine
import Sky

/// Turns spectrum files into data set rows and writes one HEALPix pixel's files: Multimodal
/// Universe HDF5 (`healpix=N/001-of-00K.hdf5`) and/or the pixel's HATS leaf.
struct SpectrumExampleWriter: Sendable {
    let config: SpectraConfig
    /// Pixels every spectrum is padded to.
    let length: Int
    /// Object-table columns stored.
    let objectColumns: [ColumnSignature]
    let integerIDs: Bool
    let provenance: [(String, String)]

    static let fluxUnits = "1e-17 erg/s/cm^2/Angstrom"

    /// Units and descriptions of the columns the pipeline writes itself.
    static let notes: [String: (units: String?, description: String)] = [
        "object_id": (nil, "SPECOBJID of the spectrum"),
        "ra": ("deg", "PLUG_RA: right ascension of the fibre"),
        "dec": ("deg", "PLUG_DEC: declination of the fibre"),
        "healpix": (nil, "nested HEALPix index of (ra, dec) at the folder's order"),
        "spectrum_flux": (fluxUnits, "coadded flux per pixel; padded past spectrum_true_length with the last value"),
        "spectrum_ivar": ("(1e-17 erg/s/cm^2/Angstrom)^-2", "inverse variance of the flux; 0 in padding"),
        "spectrum_lsf_sigma": ("Angstrom", "line-spread sigma: wdisp * ln(10) * dloglam * lambda; padded with the last value"),
        "spectrum_lambda": ("Angstrom", "vacuum wavelength, 10^loglam; NaN in padding"),
        "spectrum_mask": (nil, "true = bad pixel: and_mask != 0 or ivar <= 0, and padding (Multimodal Universe spectra convention)"),
        "spectrum_true_length": (nil, "pixels of the spectrum before padding"),
        "z": (nil, "redshift (Z)"),
        "z_err": (nil, "redshift error (Z_ERR)"),
        "spectrum_file": (nil, "the spec file the row was read from"),
    ]

    /// Every column of the data set, in storage order.
    var signatures: [ColumnSignature] {
        let probe = columns(rows: [])
        return probe.map(ColumnSignature.init)
    }

    /// One spectrum's row, or why it cannot be one.
    struct Row {
        var id: String
        var ra: Double
        var dec: Double
        var healpix29: Int64
        var spectrum: SDSSSpectrum
        var object: [ExampleColumn]
        var file: String
    }

    func row(_ s: ScannedSpectrum) throws -> Row {
        let spectrum = try SDSSSpectrum(path: s.path)
        guard spectrum.length <= length else {
            throw FormatError(.corruptInput, "the coadd has \(spectrum.length) pixels, \(s.length) when scanned", path: s.path)
        }
        let object = try ObjectRow(spectrum.object, path: s.path)
        var byName: [String: ExampleColumn] = [:]
        for c in object.columns { byName[c.name] = c }
        let kept = try objectColumns.map { sig -> ExampleColumn in
            guard let c = byName[sig.name], c.values.kind == sig.kind, c.rowShape == sig.rowShape else {
                throw FormatError(.corruptInput, "object table column \(sig.name) changed since the scan", path: s.path)
            }
            var k = c
            k.units = sig.units
            return k
        }
        return Row(id: object.id, ra: object.ra, dec: object.dec, healpix29: object.healpix29, spectrum: spectrum, object: kept,
                   file: (s.path as NSString).lastPathComponent)
    }

    /// The data set columns of `rows`, each spectrum padded to ``length``.
    func columns(rows: [Row]) -> [ExampleColumn] {
        let n = rows.count, L = length
        var flux = [Float](), ivar = [Float](), lsf = [Float](), lambda = [Float](), mask = [Bool]()
        flux.reserveCapacity(n * L)
        ivar.reserveCapacity(n * L)
        lsf.reserveCapacity(n * L)
        lambda.reserveCapacity(n * L)
        mask.reserveCapacity(n * L)
        for r in rows {
            let s = r.spectrum, pad = L - s.length
            flux.append(contentsOf: s.flux)
            flux.append(contentsOf: repeatElement(s.flux.last ?? 0, count: pad))
            ivar.append(contentsOf: s.ivar)
            ivar.append(contentsOf: repeatElement(0, count: pad))
            let wavelength = s.wavelength
            let sigma = s.lsfSigma(wavelength: wavelength)
            lsf.append(contentsOf: sigma)
            lsf.append(contentsOf: repeatElement(sigma.last ?? 0, count: pad))
            lambda.append(contentsOf: wavelength)
            lambda.append(contentsOf: repeatElement(.nan, count: pad))
            mask.append(contentsOf: s.badPixels)
            mask.append(contentsOf: repeatElement(true, count: pad))
        }
        func z(_ name: String) -> [Float] {
            rows.map { r in
                r.spectrum.object.schema.fields.firstIndex { $0.name.uppercased() == name }
                    .flatMap { r.spectrum.object.columns[$0].doubles()?.values.first }.map { Float($0) } ?? .nan
            }
        }
        let ids: ExampleValues = integerIDs ? .int64(rows.map { Int64($0.id) ?? 0 }) : .string(rows.map(\.id))
        let shift = Int64(2 * (29 - config.healpixOrder))
        var out: [ExampleColumn] = [
            ExampleColumn("object_id", ids),
            ExampleColumn("ra", .float64(rows.map(\.ra))),
            ExampleColumn("dec", .float64(rows.map(\.dec))),
            ExampleColumn("healpix", .int64(rows.map { $0.healpix29 >> shift })),
            ExampleColumn("spectrum_flux", .float32(flux), rowShape: [L]),
            ExampleColumn("spectrum_ivar", .float32(ivar), rowShape: [L]),
            ExampleColumn("spectrum_lsf_sigma", .float32(lsf), rowShape: [L]),
            ExampleColumn("spectrum_lambda", .float32(lambda), rowShape: [L]),
            ExampleColumn("spectrum_mask", .bool(mask), rowShape: [L]),
            ExampleColumn("spectrum_true_length", .int32(rows.map { Int32(clamping: $0.spectrum.length) })),
            ExampleColumn("z", .float32(z("Z"))),
            ExampleColumn("z_err", .float32(z("Z_ERR"))),
            ExampleColumn("spectrum_file", .string(rows.map(\.file))),
        ]
        for k in out.indices {
            if let note = Self.notes[out[k].name] {
                out[k].units = note.units
                out[k].description = note.description
            }
        }
        for (k, sig) in objectColumns.enumerated() {
            let parts = rows.map { $0.object[k].values }
            let values = ExampleValues.concatenated(parts) ?? .empty(sig.kind)
            out.append(ExampleColumn(sig.name, values, rowShape: sig.rowShape, units: sig.units, description: "object table column \(sig.name)"))
        }
        return out
    }

    /// Writes pixel `pixel`'s spectra (sorted as they are to be stored): HDF5 files of at most
    /// `--objects-per-file` rows and/or the HATS leaf, one file's rows in memory at a time. A
    /// file that fails to read now is a rejection and the rest are written; the file count is
    /// fixed by the scanned spectra, so a file whose every spectrum failed is left out.
    func write(pixel: Int64, spectra: [ScannedSpectrum], output: String, progress: ProgressReporter) throws -> SpectraPixelRecord {
        var rejected: [Rejection] = []
        var files: [DataSetFile] = []
        let directory = output + "/healpix=\(pixel)"
        let per = config.objectsPerFile
        let count = (spectra.count + per - 1) / per
        let hpx = HealpixPixel(order: config.healpixOrder, index: pixel)
        var leaf: ExampleHATS.Leaf?
        var hatsIDs: [String] = []
        if config.format.writesHDF5 && count > 0 {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw RunError.writing(directory, error)
            }
        }
        for k in 0..<count {
            var rows: [Row] = []
            for s in spectra[(k * per)..<min(spectra.count, (k + 1) * per)] {
                if rows.count % 16 == 0 { try Interruption.check() }
                do {
                    rows.append(try row(s))
                } catch let e as FormatError {
                    rejected.append(SpectraPipeline.rejection(s.path, e))
                }
                progress.advance(1)
            }
            guard !rows.isEmpty else { continue }
            let columns = columns(rows: rows)
            if config.format.writesHDF5 {
                let relative = "healpix=\(pixel)/" + StampsPipeline.fileName(k, of: count)
                do {
                    try ExampleFile.write(columns, attributes: provenance, to: output + "/" + relative, deflate: config.deflateLevel)
                } catch let e as HDF5Error {
                    throw RunError.writing(output + "/" + relative, e)
                }
                files.append(DataSetFile(path: relative, ids: rows.map(\.id)))
            }
            if config.format.writesHATS {
                if leaf == nil { leaf = try ExampleHATS.Leaf(root: output, pixel: hpx, schema: ExampleHATS.schema(signatures)) }
                try leaf?.append(columns, healpix29: rows.map(\.healpix29))
                hatsIDs.append(contentsOf: rows.map(\.id))
            }
        }
        try leaf?.close()
        if !config.format.writesHDF5, leaf != nil {
            files.append(DataSetFile(path: "dataset/" + HATSLayout.leafRelativePath(hpx), ids: hatsIDs))
        }
        return SpectraPixelRecord(healpix: pixel, files: files, hatsRows: leaf?.rows ?? 0, rejected: rejected)
    }
}
