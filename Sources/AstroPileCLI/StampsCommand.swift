import ArgumentParser
import Foundation
import Pipelines
import RunEngine

/// `astropile stamps`: multi-band image stamps per catalog object, cut from SDSS frames.
struct StampsCommand: ParsableCommand, StatusReturningCommand {
    static let configuration = CommandConfiguration(
        commandName: "stamps",
        abstract: "Cut N×N multi-band stamps per catalog object from SDSS frames into a Multimodal Universe HDF5 data set (and/or HATS).",
        discussion: """
            Frames are frame-{band}-{run6}-{camcol}-{field4}.fits[.bz2] anywhere under --frames (as `astropile fetch \
            sdss-frames` lays them out), with the runs' photoField-{run6}-{camcol}.fits for gain, dark variance and PSF \
            width (without it, the SDSS data model's gain/dark-variance table is used and the PSF is unknown unless \
            --psf-columns names it). Each object goes to the field its run/camcol/field columns name, or else the field \
            whose frame contains it farthest from an edge.

            Output: OUTPUT/healpix=N/001-of-00K.hdf5 (nested HEALPix at --healpix-order), datasets object_id, ra, dec, \
            healpix, image_band (N,B), image_array (N,B,H,W) float32 nanomaggies, image_ivar, image_mask (true = good \
            pixel), image_psf_fwhm (arcsec), image_scale (arcsec/pixel), image_noise, image_extinction (mag), \
            image_offset (pixels), image_frame, plus --columns; OUTPUT/object_index.parquet maps each id to its file \
            and row. --align none keeps each band's own pixels (the object within half a pixel of the centre, offset \
            stored); --align lanczos3 resamples every band onto one grid centred on the object. Objects without a \
            stamp are listed with the reason in OUTPUT/astropile_report.json (exit status 3). A stopped run continues \
            where it stopped; a finished one is a no-op.
            """)

    @Option(name: .long, help: "The object catalog (CSV, Parquet or FITS).")
    var catalog: String

    @Option(name: .long, help: "The folder holding the frames (searched recursively).")
    var frames: String

    @Option(name: .long, help: "The data set folder.")
    var output: String

    @Option(name: .long, help: "Bands, in storage order (default: ugriz).")
    var bands: String = "ugriz"

    @Option(name: .long, help: "Stamp side in pixels (default: 64).")
    var size: Int = 64

    @Option(name: .long, help: "Object id column (default: objID, objid, object_id, specObjID or id).")
    var id: String?

    @Option(name: .long, help: "Right ascension column, degrees (default: ra).")
    var ra: String?

    @Option(name: .long, help: "Declination column, degrees (default: dec).")
    var dec: String?

    @Option(name: .long, help: "none: each band's own pixels; lanczos3: all bands resampled onto one grid (default: none).")
    var align: StampAlignment = .none

    @Option(name: .long, help: "The band whose pixel grid aligned stamps use (default: r).")
    var referenceBand: String?

    @Option(name: .long, help: "hdf5, hats or both (default: hdf5).")
    var format: StampFormat = .hdf5

    @Option(name: .long, help: "HEALPix order of the healpix=N folders (default: 4).")
    var healpixOrder: Int = 4

    @Option(name: .long, help: "The most objects per HDF5 file (default: 1000).")
    var objectsPerFile: Int = 1000

    @Option(name: .long, help: "Catalog columns copied into the data set, comma-separated.")
    var columns: String?

    @Option(name: .long, help: "Extinction columns (mag), one per band comma-separated, or one name with {band}: extinction_{band}.")
    var extinctionColumns: String?

    @Option(name: .long, help: "PSF FWHM columns (arcsec), as --extinction-columns (default: photoField PSF_WIDTH).")
    var psfColumns: String?

    @Option(name: .long, help: "Deflate level of the image chunks, 1-9 (default: 4).")
    var deflate: Int = 4

    @Option(name: .long, help: "Memory budget (default: 1GiB); bounds the fields held at once.")
    var memory: String?

    @OptionGroup var runOptions: RunOptionsGroup

    func makeConfig() throws -> StampsConfig {
        var c = StampsConfig(catalog: catalog, frames: frames, output: output)
        let list = { (s: String) in s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        c.bands = bands.contains(",") ? list(bands) : bands.map(String.init)
        c.size = size
        c.idColumn = id
        c.raColumn = ra
        c.decColumn = dec
        c.align = align
        c.referenceBand = referenceBand
        c.format = format
        c.healpixOrder = healpixOrder
        c.objectsPerFile = objectsPerFile
        c.columns = columns.map(list) ?? []
        c.extinctionColumns = extinctionColumns.map(list)
        c.psfColumns = psfColumns.map(list)
        c.deflateLevel = deflate
        if let memory {
            guard let bytes = ByteSize.parse(memory), bytes > 0 else {
                throw ValidationError("--memory: cannot read '\(memory)' as a size between 1 byte and 1EiB (e.g. 4GiB)")
            }
            c.memoryBytes = bytes
        }
        c.jobs = runOptions.jobs
        c.tmp = runOptions.tmp
        return c
    }

    func run() throws { _ = try runReturningStatus() }

    func runReturningStatus() throws -> ExitStatus {
        let config = try makeConfig()
        Interruption.install()
        let outcome = try StampsPipeline.run(config, progress: !runOptions.quiet)
        let r = outcome.report
        var text = outcome.wasAlreadyComplete
            ? "astropile: \(r.output) is already complete with these settings; nothing to do.\n" : ""
        text += String(format: "stamps %@: %lld of %lld objects, %d×%d×%d (%@), %d files in %d fields (%.1f s)",
                       r.output, r.counts.written, r.counts.read, config.size, config.size, config.bands.count,
                       config.align.rawValue, r.details.files, r.details.fields, r.seconds)
        if r.hasRejections { text += "\n" + r.rejectionSummary }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return r.exitStatus
    }
}

extension StampAlignment: ExpressibleByArgument {}
extension StampFormat: ExpressibleByArgument {}
