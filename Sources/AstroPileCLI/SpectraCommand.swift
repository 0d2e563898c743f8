import ArgumentParser
import Foundation
import Pipelines
import RunEngine

/// `astropile spectra`: SDSS spectra as a data set of per-object examples.
struct SpectraCommand: ParsableCommand, StatusReturningCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectra",
        abstract: "Turn SDSS spec-PLATE-MJD-FIBER.fits files into a Multimodal Universe spectra data set (HDF5 by HEALPix and/or HATS).",
        discussion: """
            Reads SDSS-I/II and BOSS/eBOSS spec files, lite or full: the coadd (HDU 1: flux, loglam, ivar, and_mask, \
            wdisp) and the object table (HDU 2, SPECOBJ or SPALL, found by its columns). Each spectrum becomes one \
            example with object_id (SPECOBJID), ra/dec (PLUG_RA/PLUG_DEC), healpix, spectrum_flux (1e-17 erg/s/cm²/Å), \
            spectrum_ivar, spectrum_lambda (vacuum Å), spectrum_lsf_sigma (Å, from wdisp), spectrum_mask (true = bad \
            pixel: and_mask ≠ 0 or ivar ≤ 0), spectrum_true_length, z, z_err, spectrum_file, and every object-table \
            column all files share. Spectra are padded to the longest in the whole data set (flux and lsf_sigma with \
            their last value, ivar 0, mask true, lambda NaN), so every file has one shape and Hugging Face datasets' \
            HDF5 loader reads them all alike.

            Output: OUTPUT/healpix=N/001-of-00K.hdf5 (nested HEALPix at --healpix-order) and OUTPUT/object_index.parquet. \
            Bad files (not FITS, truncated, a missing HDU or column) are listed with the reason in \
            OUTPUT/astropile_report.json and the run goes on (exit status 3). A stopped run continues where it \
            stopped; a finished one is a no-op.
            """)

    @Option(name: .long, parsing: .upToNextOption,
            help: "Spec files, folders (searched recursively for spec-*.fits) or quoted patterns ('data/**/spec-*.fits').")
    var files: [String]

    @Option(name: .long, help: "The data set folder.")
    var output: String

    @Option(name: .long, help: "hdf5, hats or both (default: hdf5).")
    var format: StampFormat = .hdf5

    @Option(name: .long, help: "HEALPix order of the healpix=N folders (default: 4).")
    var healpixOrder: Int = 4

    @Option(name: .long, help: "The most spectra per HDF5 file (default: 1000).")
    var objectsPerFile: Int = 1000

    @Option(name: .long, help: "Deflate level of the spectrum arrays, 1-9 (default: 4).")
    var deflate: Int = 4

    @OptionGroup var runOptions: RunOptionsGroup

    func makeConfig() -> SpectraConfig {
        var c = SpectraConfig(files: files, output: output)
        c.format = format
        c.healpixOrder = healpixOrder
        c.objectsPerFile = objectsPerFile
        c.deflateLevel = deflate
        c.jobs = runOptions.jobs
        c.tmp = runOptions.tmp
        return c
    }

    func run() throws { _ = try runReturningStatus() }

    func runReturningStatus() throws -> ExitStatus {
        let config = makeConfig()
        Interruption.install()
        let outcome = try SpectraPipeline.run(config, progress: !runOptions.quiet)
        let r = outcome.report
        var text = outcome.wasAlreadyComplete
            ? "astropile: \(r.output) is already complete with these settings; nothing to do.\n" : ""
        text += String(format: "spectra %@: %lld of %lld files, padded to %d pixels (true lengths %d–%d), %d files (%.1f s)",
                       r.output, r.counts.written, r.counts.read, r.details.length, r.details.shortest, r.details.longest,
                       r.details.files, r.seconds)
        if r.hasRejections { text += "\n" + r.rejectionSummary }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return r.exitStatus
    }
}
