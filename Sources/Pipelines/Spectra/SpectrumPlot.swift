import Sky
import Formats
import Foundation

/// A PNG of one spectrum (`astropile show` on a spectra or paired data set): flux against
/// wavelength, the ±1σ band from ivar shaded behind it, masked pixels (spectrum_mask true)
/// shaded red with a red tick under the axis, padding left out, numbered ticks on both axes.
///
/// Drawn by hand into an RGB buffer (a few lines, a band and digit glyphs): no plotting or
/// font library is on the dependency list, and the picture needs nothing more.
public struct SpectrumPlot {
    public var width = 1200
    public var height = 420

    public init() {}

    /// One spectrum's arrays (padding already cut off). Wavelength in Å.
    public struct Spectrum {
        public var lambda: [Float]
        public var flux: [Float]
        public var ivar: [Float]
        /// true = bad pixel.
        public var mask: [Bool]

        public init(lambda: [Float], flux: [Float], ivar: [Float], mask: [Bool]) {
            self.lambda = lambda
            self.flux = flux
            self.ivar = ivar
            self.mask = mask
        }
    }

    /// The spectrum of one example's columns (`spectrum_*`, cut at `spectrum_true_length`
    /// when present), or `nil` without `spectrum_flux`/`spectrum_lambda`.
    public static func spectrum(_ columns: [ExampleColumn]) -> Spectrum? {
        func floats(_ name: String) -> [Float]? {
            guard let c = columns.first(where: { $0.name == name }) else { return nil }
            if case .float32(let v) = c.values { return v }
            return c.values.doubles?.map { Float($0) }
        }
        guard let flux = floats("spectrum_flux"), let lambda = floats("spectrum_lambda"), flux.count == lambda.count else { return nil }
        var n = flux.count
        if let t = columns.first(where: { $0.name == "spectrum_true_length" })?.values.doubles?.first, t >= 0 { n = Int(flooring: t, clampedTo: 0...n) }
        let ivar = floats("spectrum_ivar").flatMap { $0.count == flux.count ? $0 : nil } ?? [Float](repeating: 0, count: flux.count)
        var mask = [Bool](repeating: false, count: flux.count)
        if let c = columns.first(where: { $0.name == "spectrum_mask" }), case .bool(let m) = c.values, m.count == flux.count { mask = m }
        // Padding and NaN wavelengths are not drawn.
        let keep = (0..<n).filter { lambda[$0].isFinite }
        return Spectrum(lambda: keep.map { lambda[$0] }, flux: keep.map { flux[$0] }, ivar: keep.map { ivar[$0] }, mask: keep.map { mask[$0] })
    }

    /// Draws `s` to `path`.
    public func write(_ s: Spectrum, to path: String) throws {
        guard s.lambda.count >= 2, let lo = s.lambda.min(), let hi = s.lambda.max(), hi > lo else {
            throw FormatError(.invalidArgument, "the spectrum has fewer than two pixels with a wavelength", path: path)
        }
        let left = 80, right = 20, top = 20, bottom = 50
        let pw = width - left - right, ph = height - top - bottom
        var rgb = [UInt8](repeating: 255, count: width * height * 3)
        func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            let k = (y * width + x) * 3
            rgb[k] = c.0; rgb[k + 1] = c.1; rgb[k + 2] = c.2
        }
        // Flux range: 1st–99th percentile of good pixels, widened by 15%.
        let good = s.flux.indices.filter { !s.mask[$0] && s.flux[$0].isFinite }.map { s.flux[$0] }.sorted()
        let pool = good.isEmpty ? s.flux.filter(\.isFinite).sorted() : good
        var ymin = pool.isEmpty ? -1 : pool[pool.count / 100], ymax = pool.isEmpty ? 1 : pool[min(pool.count - 1, pool.count * 99 / 100)]
        if ymax <= ymin { ymax = ymin + 1 }
        let pad = (ymax - ymin) * 0.15
        ymin -= pad; ymax += pad
        // Positions are clamped to a band around the picture: a flux or wavelength range past
        // Float's (±3e38 at both ends) makes NaN or ±inf here, which must not trap.
        let band = -(2 * height)...(2 * height)
        func px(_ l: Float) -> Int { left + Int(flooring: Float(pw - 1) * (l - lo) / (hi - lo), clampedTo: band) }
        func py(_ f: Float) -> Int { top + ph - 1 - Int(flooring: (Float(ph - 1) * (f - ymin) / (ymax - ymin)).rounded(), clampedTo: band) }
        func clampY(_ y: Int) -> Int { min(max(y, top), top + ph - 1) }
        // Masked columns, then the ±1σ band, then the flux line.
        for i in s.lambda.indices where s.mask[i] {
            let x = px(s.lambda[i])
            for y in top..<(top + ph) { set(x, y, (255, 215, 215)) }
            for y in (top + ph + 2)..<(top + ph + 8) { set(x, y, (220, 30, 30)) }
        }
        for i in s.lambda.indices where s.ivar[i] > 0 && s.flux[i].isFinite {
            let sigma = 1 / s.ivar[i].squareRoot()
            let x = px(s.lambda[i])
            let y0 = clampY(py(s.flux[i] + sigma)), y1 = clampY(py(s.flux[i] - sigma))
            if y0 <= y1 { for y in y0...y1 { set(x, y, (190, 205, 235)) } }
        }
        var previous: (Int, Int)?
        for i in s.lambda.indices where s.flux[i].isFinite {
            let point = (px(s.lambda[i]), clampY(py(s.flux[i])))
            let colour: (UInt8, UInt8, UInt8) = s.mask[i] ? (200, 40, 40) : (20, 40, 110)
            if let p = previous { line(p, point, colour, set) } else { set(point.0, point.1, colour) }
            previous = point
        }
        // Frame, zero line, ticks and labels.
        for x in left..<(left + pw) { set(x, top, (0, 0, 0)); set(x, top + ph - 1, (0, 0, 0)) }
        for y in top..<(top + ph) { set(left, y, (0, 0, 0)); set(left + pw - 1, y, (0, 0, 0)) }
        if ymin < 0 && ymax > 0 { let y = py(0); for x in stride(from: left, to: left + pw, by: 4) { set(x, y, (120, 120, 120)) } }
        for t in Self.ticks(lo, hi) {
            let x = px(t)
            for y in (top + ph)..<(top + ph + 10) { set(x, y, (0, 0, 0)) }
            Self.text(Self.label(t), centeredAt: x, y: top + ph + 16, set)
        }
        for t in Self.ticks(ymin, ymax) {
            let y = py(t)
            for x in (left - 8)..<left { set(x, y, (0, 0, 0)) }
            Self.text(Self.label(t), rightAt: left - 12, y: y - 5, set)
        }
        try PNGWriter.write(rgb, width: width, height: height, channels: .rgb, to: path)
    }

    func line(_ a: (Int, Int), _ b: (Int, Int), _ c: (UInt8, UInt8, UInt8), _ set: (Int, Int, (UInt8, UInt8, UInt8)) -> Void) {
        let n = max(abs(b.0 - a.0), abs(b.1 - a.1), 1)
        for k in 0...n {
            set(a.0 + (b.0 - a.0) * k / n, a.1 + (b.1 - a.1) * k / n, c)
        }
    }

    /// Round tick values between `lo` and `hi` (about 6).
    static func ticks(_ lo: Float, _ hi: Float) -> [Float] {
        let raw = Double(hi - lo) / 6
        guard raw > 0, raw.isFinite else { return [] }
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2.0, 5.0, 10.0].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var out: [Float] = []
        var t = ceil(Double(lo) / step) * step
        while t <= Double(hi) && out.count < 20 { out.append(Float(t)); t += step }
        return out
    }

    static func label(_ v: Float) -> String {
        // invariant: integral and under 1e6 when converted.
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        return String(format: abs(v) >= 0.1 ? "%.1f" : "%.2g", v)
    }

    /// 3×5 glyphs of the characters tick labels use, one row per string, scaled 2×.
    static let glyphs: [Character: [String]] = [
        "0": ["###", "#.#", "#.#", "#.#", "###"], "1": [".#.", "##.", ".#.", ".#.", "###"],
        "2": ["###", "..#", "###", "#..", "###"], "3": ["###", "..#", "###", "..#", "###"],
        "4": ["#.#", "#.#", "###", "..#", "..#"], "5": ["###", "#..", "###", "..#", "###"],
        "6": ["###", "#..", "###", "#.#", "###"], "7": ["###", "..#", "..#", "..#", "..#"],
        "8": ["###", "#.#", "###", "#.#", "###"], "9": ["###", "#.#", "###", "..#", "###"],
        "-": ["...", "...", "###", "...", "..."], ".": ["...", "...", "...", "...", ".#."],
        "e": ["...", "###", "###", "#..", "###"], "+": ["...", ".#.", "###", ".#.", "..."],
    ]

    static func text(_ s: String, x: Int, y: Int, _ set: (Int, Int, (UInt8, UInt8, UInt8)) -> Void) {
        for (k, ch) in s.enumerated() {
            guard let g = glyphs[ch] else { continue }
            for (row, bits) in g.enumerated() {
                for (col, bit) in bits.enumerated() where bit == "#" {
                    for dy in 0..<2 { for dx in 0..<2 { set(x + k * 8 + col * 2 + dx, y + row * 2 + dy, (0, 0, 0)) } }
                }
            }
        }
    }

    static func text(_ s: String, centeredAt x: Int, y: Int, _ set: (Int, Int, (UInt8, UInt8, UInt8)) -> Void) {
        text(s, x: x - s.count * 4, y: y, set)
    }

    static func text(_ s: String, rightAt x: Int, y: Int, _ set: (Int, Int, (UInt8, UInt8, UInt8)) -> Void) {
        text(s, x: x - s.count * 8, y: y, set)
    }
}
