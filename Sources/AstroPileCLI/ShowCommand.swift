import ArgumentParser
import Foundation
import Pipelines
import RunEngine

/// `astropile show`: a picture of one object of an image data set, or a grid of the first ones.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Write a PNG of a data set: an image object's colour composite and bands, a grid of examples, or one spectrum.",
        discussion: """
            The composite is the asinh colour image of Lupton et al. (2004), as astropy's make_lupton_rgb computes it, \
            from three bands (default i,r,g as red, green, blue); each band panel uses the same stretch. Row 0 of a \
            stamp is drawn at the bottom. --object prints the example's metadata too.

            On a spectra data set (astropile spectra) or a paired one with spectra (astropile pair), --object draws the \
            spectrum: flux against vacuum wavelength (Å), the ±1σ band from ivar shaded behind it, masked pixels \
            (spectrum_mask) in red, padding left out.
            """)

    @Argument(help: "The data set folder (an astropile stamps, spectra or pair output).")
    var dataset: String

    @Option(name: .long, help: "The object id to show.")
    var object: String?

    @Option(name: .long, help: "A grid of the first examples, COLUMNSxROWS (e.g. 8x8).")
    var grid: String?

    @Option(name: .long, help: "The PNG to write.")
    var png: String

    @Option(name: .long, help: "Bands for red, green, blue (default: i,r,g).")
    var rgb: String?

    @Option(name: .long, help: "Lupton linear stretch, nanomaggies (default: 0.5).")
    var stretch: Float = 0.5

    @Option(name: .customLong("q"), help: "Lupton softening Q (default: 8).")
    var q: Float = 8

    @Option(name: .long, help: "Picture pixels per stamp pixel (default: fit about 192 px per stamp, 96 in a grid).")
    var zoom: Int?

    func validate() throws {
        guard (object == nil) != (grid == nil) else { throw ValidationError("give one of --object ID or --grid COLUMNSxROWS") }
        guard stretch > 0, stretch.isFinite, q > 0, q.isFinite else { throw ValidationError("--stretch and --q must be positive") }
        if let zoom, !(1...32).contains(zoom) { throw ValidationError("--zoom must be in 1...32") }
    }

    func run() throws {
        let examples = try ExampleDataSet(root: dataset)
        if examples.pipeline != "stamps" {
            try showSpectrum(examples)
            return
        }
        let set = try ImageDataSet(root: dataset)
        var preview = StampPreview()
        preview.rgb = rgb.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        preview.stretch = stretch
        preview.q = q
        preview.zoom = zoom
        if let object {
            guard let e = try set.example(id: object) else {
                throw RunError.configuration("\(dataset) has no object \(object)")
            }
            try preview.object(e, to: png)
            print(StampPreview.describe(e))
        } else if let grid {
            let parts = grid.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, (1...64).contains(parts[0]), (1...64).contains(parts[1]) else {
                throw ValidationError("--grid takes COLUMNSxROWS, each 1...64, e.g. 8x8")
            }
            let examples = try set.firstIDs(parts[0] * parts[1]).compactMap { try set.example(id: $0) }
            try preview.grid(examples, rows: parts[1], columns: parts[0], to: png)
            print("\(png): \(examples.count) examples of \(set.count)")
        }
    }

    func showSpectrum(_ set: ExampleDataSet) throws {
        guard let object else { throw ValidationError("--grid draws image stamps; give --object ID to draw a spectrum") }
        guard let row = try set.example(id: object) else { throw RunError.configuration("\(dataset) has no object \(object)") }
        guard let spectrum = SpectrumPlot.spectrum(row) else {
            throw RunError.configuration("\(dataset) has no spectrum_flux and spectrum_lambda to draw")
        }
        try SpectrumPlot().write(spectrum, to: png)
        let scalars = row.filter { $0.rowShape.isEmpty && $0.values.count == 1 }
            .prefix(24).map { "\($0.name)=\($0.values.text(at: 0))" }
        print("\(png): spectrum of \(object), \(spectrum.lambda.count) pixels, \(spectrum.mask.filter { $0 }.count) masked")
        print(scalars.joined(separator: " "))
    }
}
