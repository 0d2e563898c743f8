/// The SDSS Science Archive Server (SAS), Data Release 17: built-in URL templates for imaging
/// frames and spectra.
public enum SDSSArchive {
    /// The real archive: `https://data.sdss.org/sas`. A mirror or local server can stand in.
    public static let defaultBase = "https://data.sdss.org/sas"

    /// Calibrated imaging frames (`frame-{band}-{run:06d}-{camcol}-{field:04d}.fits.bz2`), from the
    /// catalog columns run, rerun, camcol, field; `{band}` is each requested band.
    public static let framesTemplate =
        "{base}/dr17/eboss/photoObj/frames/{rerun}/{run}/{camcol}/frame-{band}-{run:06d}-{camcol}-{field:04d}.fits.bz2"

    /// Spectra (the "lite" per-fiber files) from the columns plate, mjd, fiberid, and run2d when
    /// the catalog has it. SDSS-I/II reductions (run2d `26`, `103`, `104`) live under `sdss/`,
    /// BOSS/eBOSS ones (`v5_13_2`) under `eboss/`.
    public static let spectraTemplate =
        "{base}/dr17/{spectro_survey}/spectro/redux/{run2d}/spectra/lite/{plate:04d}/spec-{plate:04d}-{mjd:05d}-{fiberid:04d}.fits"

    /// The five imaging bands.
    public static let bands = ["u", "g", "r", "i", "z"]

    /// The DR17 reduction of a plate when the catalog has no run2d column: plates below 3510 are
    /// SDSS-I/II (`26`), later ones BOSS/eBOSS (`v5_13_2`).
    public static func run2d(forPlate plate: Int64) -> String { plate < 3510 ? "26" : "v5_13_2" }

    /// The frames source for `catalog` and `bands` (a string such as `ugriz`).
    public static func frames(catalog: String, bands: String, base: String = defaultBase) throws -> CatalogTemplateSource {
        let list = bands.map(String.init)
        guard !list.isEmpty, list.allSatisfy({ Self.bands.contains($0) }), Set(list).count == list.count else {
            throw FetchError.input("--bands \(bands)", reason: "bands are letters of 'ugriz', each once")
        }
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        return CatalogTemplateSource(
            catalog: catalog, templates: [try URLTemplate(framesTemplate)],
            constants: list.map { ["base": .text(trimmed), "band": .text($0)] },
            basePath: URLParts(trimmed + "/")?.path ?? "")
    }

    /// The spectra source for `catalog`.
    public static func spectra(catalog: String, base: String = defaultBase) throws -> CatalogTemplateSource {
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        var source = CatalogTemplateSource(
            catalog: catalog, templates: [try URLTemplate(spectraTemplate)],
            constants: [["base": .text(trimmed)]],
            basePath: URLParts(trimmed + "/")?.path ?? "",
            derived: [
                "run2d": { lookup in
                    switch lookup("plate") {
                    case .integer(let p): return .text(run2d(forPlate: p))
                    case .real(let p): return .text(run2d(forPlate: Int64(p)))
                    default: return nil
                    }
                },
                "spectro_survey": { lookup in
                    guard let r = lookup("run2d") else { return nil }
                    if case .text(let s) = r, s.hasPrefix("v") { return .text("eboss") }
                    return .text("sdss")
                },
            ])
        source.derivedInputs = ["run2d"]
        return source
    }
}
