import ArgumentParser
import Foundation
import Pipelines
import RunEngine

/// `astropile show`: a picture of one object of an image data set, or a grid of the first ones.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Write a PNG of an image data set: one object's colour composite and bands, or a grid of examples.",
        discussion: """
            The composite is the asinh colour image of Lupton et al. (2004), as astropy's make_lupton_rgb computes it, \
            from three bands (default i,r,g as red, green, blue); each band panel uses the same stretch. Row 0 of a \
            stamp is drawn at the bottom. --object prints the example's metadata too.
            """)

    @Argument(help: "The data set folder (an astropile stamps output).")
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
}
