import Formats
import Foundation
import RunEngine

/// Writes one Multimodal Universe image file (`healpix=N/00k-of-00K.hdf5`): one dataset per
/// column, rows on the first axis, image arrays chunked one object per chunk with shuffle +
/// deflate (chunks filtered by the cut stage), units and conventions as attributes.
struct ImageDataSetWriter {
    let config: StampsConfig
    let catalog: StampCatalog
    let provenance: [(String, String)]

    /// Units of each dataset, stored as its `units` attribute.
    static let units: [String: String] = [
        "ra": "deg", "dec": "deg",
        "image_array": "nanomaggies", "image_ivar": "nanomaggies^-2", "image_psf_fwhm": "arcsec",
        "image_scale": "arcsec/pixel", "image_noise": "nanomaggies", "image_extinction": "mag", "image_offset": "pixel",
    ]

    /// Descriptions stored as each dataset's `description` attribute.
    static let descriptions: [String: String] = [
        "object_id": "the catalog's object id",
        "healpix": "nested HEALPix index of (ra, dec) at the folder's order",
        "image_band": "band of each image plane",
        "image_array": "flux per pixel, (object, band, y, x); NaN outside the source frame",
        "image_ivar": "inverse variance per pixel (SDSS frame data model noise recipe); 0 outside the frame",
        "image_mask": "true = good pixel (Multimodal Universe image convention); false outside the frame or without valid ivar",
        "image_psf_fwhm": "PSF FWHM per band",
        "image_scale": "pixel scale per band (square root of the pixel's solid angle)",
        "image_noise": "typical pixel noise per band: sqrt(median(1/ivar)) over good pixels",
        "image_extinction": "Galactic extinction per band from the catalog (NaN when not given)",
        "image_offset": "object position minus the stamp's geometric centre ((size-1)/2), (x, y), 0-based pixels; 0 for aligned stamps",
        "image_frame": "source frame file per band",
    ]

    /// Writes `stamps` (sorted as they are to be stored) to `path`.
    func write(_ stamps: [SpilledStamp], healpix: Int64, to path: String) throws {
        let n = stamps.count, b = config.bands.count, s = config.size
        let file = try HDF5File(path: path, mode: .create)
        let objects = stamps.map { catalog.objects[$0.objectIndex] }
        func note(_ d: HDF5Dataset) throws {
            if let u = Self.units[d.name] { try file.setAttribute("units", u, on: d) }
            if let t = Self.descriptions[d.name] { try file.setAttribute("description", t, on: d) }
        }
        if catalog.integerIDs {
            try note(try file.write("object_id", objects.map { Int64($0.id) ?? 0 }, type: .int64, shape: [n]))
        } else {
            try note(try file.writeStrings("object_id", objects.map(\.id), shape: [n]))
        }
        try note(try file.write("ra", objects.map(\.ra), type: .float64, shape: [n]))
        try note(try file.write("dec", objects.map(\.dec), type: .float64, shape: [n]))
        try note(try file.write("healpix", [Int64](repeating: healpix, count: n), type: .int64, shape: [n]))
        try note(try file.writeStrings("image_band", Array(repeating: config.bands, count: n).flatMap { $0 }, shape: [n, b]))
        for (name, type, keyPath) in [("image_array", HDF5ElementType.float32, \SpilledStamp.flux),
                                      ("image_ivar", .float32, \SpilledStamp.ivar),
                                      ("image_mask", .bool, \SpilledStamp.mask)] {
            let d = try file.createDataset(name, type: type, shape: [n, b, s, s], layout: .rowChunks(deflate: config.deflateLevel), bytes: nil)
            for (row, stamp) in stamps.enumerated() { try d.writeChunk(row: row, filtered: stamp[keyPath: keyPath]) }
            try note(d)
        }
        try note(try file.write("image_psf_fwhm", stamps.flatMap(\.psf), type: .float32, shape: [n, b]))
        try note(try file.write("image_scale", stamps.flatMap(\.scale), type: .float32, shape: [n, b]))
        try note(try file.write("image_noise", stamps.flatMap(\.noise), type: .float32, shape: [n, b]))
        try note(try file.write("image_extinction", stamps.flatMap(\.extinction), type: .float32, shape: [n, b]))
        try note(try file.write("image_offset", stamps.flatMap { st in (0..<b).flatMap { [st.offsetX[$0], st.offsetY[$0]] } },
                                type: .float32, shape: [n, b, 2]))
        try note(try file.writeStrings("image_frame", stamps.flatMap(\.frames), shape: [n, b]))
        let rows = stamps.map(\.objectIndex)
        for extra in catalog.storedExtras(reserved: ["object_id", "ra", "dec", "healpix"]) {
            switch extra.values.selecting(rows) {
            case .int64(let v): try file.write(extra.name, v, type: .int64, shape: [n])
            case .float64(let v): try file.write(extra.name, v, type: .float64, shape: [n])
            case .string(let v): try file.writeStrings(extra.name, v, shape: [n])
            }
        }
        for (key, value) in provenance { try file.setAttribute(key, value) }
        try file.close()
    }
}
