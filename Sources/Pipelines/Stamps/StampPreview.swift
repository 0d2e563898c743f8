import Formats
import Foundation
import RunEngine

/// Pictures of an image data set (`astropile show`): one object's colour composite with a
/// panel per band, or a grid of composites. North of the frame is drawn up as matplotlib's
/// `origin="lower"` does (row 0 of a stamp is the bottom row of the picture).
public struct StampPreview {
    /// Bands for red, green and blue, by name (default i, r, g when present).
    public var rgb: [String]?
    /// Lupton stretch parameters (nanomaggies).
    public var stretch: Float = 0.5
    public var q: Float = 8
    /// Pixels per stamp pixel in the picture.
    public var zoom: Int?

    public init() {}

    func channels(_ e: ImageExample) throws -> (Int, Int, Int) {
        guard !e.bands.isEmpty, e.flux.count == e.bands.count * e.size * e.size else {
            throw RunError.io("\(e.file), row \(e.row): the example's bands and image sizes do not agree")
        }
        let want = rgb ?? (["i", "r", "g"].allSatisfy(e.bands.contains) ? ["i", "r", "g"]
                           : [e.bands.last ?? "", e.bands[e.bands.count / 2], e.bands.first ?? ""])
        guard want.count == 3 else { throw RunError.configuration("--rgb needs three bands, e.g. i,r,g") }
        let idx = try want.map { b -> Int in
            guard let i = e.bands.firstIndex(of: b) else {
                throw RunError.configuration("--rgb: the data set has no band \(b) (bands: \(e.bands.joined()))")
            }
            return i
        }
        return (idx[0], idx[1], idx[2])
    }

    /// A canvas of RGB bytes.
    struct Canvas {
        var width: Int, height: Int
        var pixels: [UInt8]
        init(width: Int, height: Int) {
            self.width = width; self.height = height
            pixels = [UInt8](repeating: 40, count: width * height * 3)
        }
        /// Draws a size×size RGB (or grey, `channels` 1) image at (left, top), flipped vertically, zoomed.
        mutating func draw(_ image: [UInt8], size: Int, channels: Int, left: Int, top: Int, zoom: Int) {
            for y in 0..<size {
                for x in 0..<size {
                    let src = ((size - 1 - y) * size + x) * channels
                    for dy in 0..<zoom {
                        for dx in 0..<zoom {
                            let px = left + x * zoom + dx, py = top + y * zoom + dy
                            guard px < width, py < height else { continue }
                            for c in 0..<3 { pixels[(py * width + px) * 3 + c] = image[src + (channels == 3 ? c : 0)] }
                        }
                    }
                }
            }
        }
    }

    /// One object: the composite, then one panel per band, in a row.
    public func object(_ e: ImageExample, to path: String) throws {
        let (ri, gi, bi) = try channels(e)
        let zoom = self.zoom ?? max(1, 192 / max(e.size, 1))
        let side = e.size * zoom, gap = 4
        var canvas = Canvas(width: (side + gap) * (e.bands.count + 1) - gap, height: side)
        canvas.draw(LuptonRGB.make(r: e.plane(ri), g: e.plane(gi), b: e.plane(bi), stretch: stretch, q: q),
                    size: e.size, channels: 3, left: 0, top: 0, zoom: zoom)
        for b in 0..<e.bands.count {
            canvas.draw(LuptonRGB.gray(e.plane(b), stretch: stretch, q: q), size: e.size, channels: 1,
                        left: (side + gap) * (b + 1), top: 0, zoom: zoom)
        }
        try PNGWriter.write(canvas.pixels, width: canvas.width, height: canvas.height, channels: .rgb, to: path)
    }

    /// The first `rows × columns` examples as composites.
    public func grid(_ examples: [ImageExample], rows: Int, columns: Int, to path: String) throws {
        guard let first = examples.first else { throw RunError.configuration("the data set has no examples to show") }
        let (ri, gi, bi) = try channels(first)
        let zoom = self.zoom ?? max(1, 96 / max(first.size, 1))
        let side = first.size * zoom, gap = 2
        var canvas = Canvas(width: (side + gap) * columns - gap, height: (side + gap) * rows - gap)
        for (k, e) in examples.prefix(rows * columns).enumerated() where e.size == first.size {
            canvas.draw(LuptonRGB.make(r: e.plane(ri), g: e.plane(gi), b: e.plane(bi), stretch: stretch, q: q),
                        size: e.size, channels: 3, left: (k % columns) * (side + gap), top: (k / columns) * (side + gap), zoom: zoom)
        }
        try PNGWriter.write(canvas.pixels, width: canvas.width, height: canvas.height, channels: .rgb, to: path)
    }

    /// The metadata `show --object` prints.
    public static func describe(_ e: ImageExample) -> String {
        var lines = ["object \(e.id)  ra \(String(format: "%.7f", e.ra))  dec \(String(format: "%.7f", e.dec))  (\(e.file), row \(e.row))",
                     "band  psf_fwhm\"  scale\"/px  noise(nmgy)  extinction  good px  frame"]
        let perBand = e.size * e.size
        for (b, name) in e.bands.enumerated() {
            let good = e.mask[(b * perBand)..<((b + 1) * perBand)].filter { $0 }.count
            lines.append(String(format: "%-4@  %9.3f  %10.4f  %11.4f  %10.3f  %7d  %@", name, e.psf[b], e.scale[b], e.noise[b],
                                e.extinction[b], good, e.frames[b]))
        }
        return lines.joined(separator: "\n")
    }
}
