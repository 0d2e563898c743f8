import Sky
import Formats
import Foundation
import Registry
import RunEngine
import Table

/// The PNGs of `project efficiency --png` and `project show --png`, drawn by hand into an RGB
/// buffer with ``SpectrumPlot``'s digit glyphs and tick rules (no plotting or font library is on
/// the dependency list; the pictures need lines, dots, bands and numbers only).
enum ProjectPlots {
    /// An RGB canvas with a plot frame.
    struct Canvas {
        let width: Int, height: Int
        let left = 80, right = 150, top = 20, bottom = 50
        var rgb: [UInt8]
        init(width: Int, height: Int) {
            self.width = width
            self.height = height
            rgb = [UInt8](repeating: 255, count: width * height * 3)
        }
        var pw: Int { width - left - right }
        var ph: Int { height - top - bottom }
        mutating func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            let k = (y * width + x) * 3
            rgb[k] = c.0; rgb[k + 1] = c.1; rgb[k + 2] = c.2
        }
        mutating func line(_ a: (Int, Int), _ b: (Int, Int), _ c: (UInt8, UInt8, UInt8)) {
            let n = max(abs(b.0 - a.0), abs(b.1 - a.1), 1)
            for k in 0...n { set(a.0 + (b.0 - a.0) * k / n, a.1 + (b.1 - a.1) * k / n, c) }
        }
        mutating func dot(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8), radius: Int = 2) {
            for dy in -radius...radius { for dx in -radius...radius where dx * dx + dy * dy <= radius * radius { set(x + dx, y + dy, c) } }
        }
        mutating func text(_ s: String, x: Int, y: Int) { SpectrumPlot.text(s, x: x, y: y) { self.set($0, $1, $2) } }
        mutating func text(_ s: String, centeredAt x: Int, y: Int) { SpectrumPlot.text(s, centeredAt: x, y: y) { self.set($0, $1, $2) } }
        mutating func text(_ s: String, rightAt x: Int, y: Int) { SpectrumPlot.text(s, rightAt: x, y: y) { self.set($0, $1, $2) } }
        /// The frame, x ticks at `xt` (pixel, label) and y ticks.
        mutating func frame(xTicks: [(Int, String)], yTicks: [(Int, String)]) {
            for x in left..<(left + pw) { set(x, top, (0, 0, 0)); set(x, top + ph - 1, (0, 0, 0)) }
            for y in top..<(top + ph) { set(left, y, (0, 0, 0)); set(left + pw - 1, y, (0, 0, 0)) }
            for (x, label) in xTicks {
                for y in (top + ph)..<(top + ph + 8) { set(x, y, (0, 0, 0)) }
                text(label, centeredAt: x, y: top + ph + 14)
            }
            for (y, label) in yTicks {
                for x in (left - 8)..<left { set(x, y, (0, 0, 0)) }
                text(label, rightAt: left - 12, y: y - 5)
            }
        }
        func write(_ path: String) throws { try PNGWriter.write(rgb, width: width, height: height, channels: .rgb, to: path) }
    }

    static let palette: [(UInt8, UInt8, UInt8)] = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (23, 190, 207)]

    /// A pixel coordinate computed from data, clamped to `range`: `nil` for NaN, so no NaN,
    /// infinity or 1e300 reaches an `Int` conversion.
    static func pixel(_ v: Double, _ range: ClosedRange<Int>) -> Int? {
        guard !v.isNaN else { return nil }
        return Int(flooring: v.rounded(.towardZero), clampedTo: range)
    }

    /// Efficiency (0…1) against amplitude (robust σ, log axis), one line per duration; the legend
    /// on the right gives each line's duration in days. Amplitudes that are not positive numbers,
    /// and cells the table lacks, are not drawn.
    static func efficiency(_ t: EfficiencyTable, to path: String, width: Int = 900, height: Int = 500) throws {
        guard !t.amplitudes.isEmpty, !t.durations.isEmpty else {
            throw FormatError(.invalidArgument, "the project has no injection templates (injection.amplitudes, injection.durationsDays)", path: path)
        }
        var c = Canvas(width: width, height: height)
        let logs = t.amplitudes.filter { $0 > 0 && $0.isFinite }.map { log10($0) }
        let lo = logs.min() ?? 0, hi = logs.max() ?? 1
        let span = hi > lo ? hi - lo : 1
        let xs = c.left...(c.left + c.pw - 1), ys = c.top...(c.top + c.ph - 1)
        func px(_ a: Double) -> Int? {
            guard a > 0, a.isFinite else { return nil }
            return pixel(Double(c.left + 10) + Double(c.pw - 21) * (log10(a) - (hi > lo ? lo : lo - 0.5)) / span, xs)
        }
        func py(_ e: Double) -> Int? { pixel(Double(c.top + c.ph - 1) - Double(c.ph - 1) * e, ys) }
        for k in 1...4 {
            guard let y = py(Double(k) / 5) else { continue }
            for x in stride(from: c.left, to: c.left + c.pw, by: 4) { c.set(x, y, (200, 200, 200)) }
        }
        for (d, days) in t.durations.enumerated() {
            let colour = palette[d % palette.count]
            var previous: (Int, Int)?
            for (a, amp) in t.amplitudes.enumerated() {
                guard a < t.injected.count, a < t.recovered.count, d < t.injected[a].count, d < t.recovered[a].count, t.injected[a][d] > 0,
                      let x = px(amp), let y = py(Double(t.recovered[a][d]) / Double(t.injected[a][d])) else { continue }
                let p = (x, y)
                if let q = previous { c.line(q, p, colour) }
                c.dot(p.0, p.1, colour, radius: 3)
                previous = p
            }
            let ly = c.top + 10 + d * 20
            for x in (c.left + c.pw + 12)..<(c.left + c.pw + 40) { c.set(x, ly, colour); c.set(x, ly + 1, colour) }
            c.text(SpectrumPlot.label(Float(days)), x: c.left + c.pw + 48, y: ly - 4)
        }
        c.frame(xTicks: t.amplitudes.compactMap { a in px(a).map { ($0, SpectrumPlot.label(Float(a))) } },
                yTicks: (0...5).compactMap { k in py(Double(k) / 5).map { ($0, SpectrumPlot.label(Float(k) / 5)) } })
        try c.write(path)
    }

    /// A source's light curves: flux (µJy) against MJD, one colour per filter (zg green, zr red, zi
    /// dark red), error bars, detection windows shaded yellow, injection start times ticked grey
    /// under the axis (recovered ones black). Points without a finite MJD and flux are not drawn
    /// (every flux NaN: an empty frame); values far outside the axes are drawn on its edge.
    /// Returns the number of points drawn.
    @discardableResult
    static func lightCurves(_ curves: [ReducedLightCurve], detections: [DetectionRow], injections: [(start: Double, recovered: Bool)],
                            to path: String, width: Int = 1200, height: Int = 500) throws -> Int {
        let t = curves.flatMap(\.mjd).filter(\.isFinite)
        guard let t0 = t.min(), let t1 = t.max() else {
            throw FormatError(.invalidArgument, "the source has no light-curve points after the cuts", path: path)
        }
        var c = Canvas(width: width, height: height)
        // The y axis: the 0.5 and 99.5 percentiles of the finite fluxes, held within ±1e300 so the
        // range and its padding stay finite; no finite flux: 0…1.
        let sorted = curves.flatMap(\.flux).filter(\.isFinite).map { min(max($0, -1e300), 1e300) }.sorted()
        var ymin = sorted.isEmpty ? 0 : sorted[sorted.count / 200]
        var ymax = sorted.isEmpty ? 1 : sorted[min(sorted.count - 1, sorted.count * 199 / 200)]
        if !(ymax > ymin) { ymax = ymin + max(1, abs(ymin) * 1e-6) }
        let pad = (ymax - ymin) * 0.15
        ymin -= pad; ymax += pad
        let span = t1 - t0 > 0 && (t1 - t0).isFinite ? t1 - t0 : 1
        let xs = c.left...(c.left + c.pw - 1), ys = c.top...(c.top + c.ph - 1)
        func px(_ x: Double) -> Int? { pixel(Double(c.left + 5) + Double(c.pw - 11) * (x - t0) / span, xs) }
        func py(_ y: Double) -> Int? { pixel(Double(c.top + c.ph - 1) - Double(c.ph - 1) * (y - ymin) / (ymax - ymin), ys) }
        for d in detections {
            guard let a = px(d.startMJD), let b = px(d.endMJD) else { continue }
            for x in a...max(a, b) { for y in ys { c.set(x, y, (255, 240, 160)) } }
        }
        let colours: [String: (UInt8, UInt8, UInt8)] = ["zg": (30, 150, 60), "zr": (210, 40, 40), "zi": (120, 20, 20)]
        var drawn = 0
        for curve in curves {
            let colour = colours[curve.filter] ?? (60, 60, 60)
            for i in curve.mjd.indices where i < curve.flux.count {
                let (mjd, flux) = (curve.mjd[i], curve.flux[i])
                guard mjd.isFinite, flux.isFinite, let x = px(mjd), let y = py(flux) else { continue }
                if i < curve.fluxErr.count, curve.fluxErr[i].isFinite,
                   let low = py(flux - curve.fluxErr[i]), let high = py(flux + curve.fluxErr[i]) {
                    c.line((x, low), (x, high), (190, 190, 190))
                }
                c.dot(x, y, colour)
                drawn += 1
            }
        }
        for inj in injections {
            guard inj.start.isFinite, let x = px(inj.start) else { continue }
            for y in (c.top + c.ph + 2)..<(c.top + c.ph + 7) { c.set(x, y, inj.recovered ? (0, 0, 0) : (170, 170, 170)) }
        }
        var legend = 0
        for (name, colour) in colours.sorted(by: { $0.key < $1.key }) where curves.contains(where: { $0.filter == name }) {
            let y = c.top + 10 + legend * 20
            c.dot(c.left + c.pw + 20, y, colour, radius: 4)
            legend += 1
        }
        c.frame(xTicks: SpectrumPlot.ticks(Float(t0), Float(t1)).compactMap { v in px(Double(v)).map { ($0, SpectrumPlot.label(v)) } },
                yTicks: SpectrumPlot.ticks(Float(ymin), Float(ymax)).compactMap { v in py(Double(v)).map { ($0, SpectrumPlot.label(v)) } })
        try c.write(path)
        return drawn
    }
}

extension ProjectQueries {
    /// Draws the efficiency table to `png`.
    public static func efficiencyPNG(_ table: EfficiencyTable, to png: String) throws {
        try ProjectPlots.efficiency(table, to: png)
    }

    /// Draws a source's light curves with its detections and injections to `png`; returns the
    /// numbers drawn (curves, points, detections, injections) and the points drawn (those with a
    /// finite MJD and flux; 0 when every flux is NaN: the plot is an empty frame).
    @discardableResult
    public static func show(yaml: String, database: String?, source: String, png: String)
        throws -> (curves: Int, points: Int, detections: Int, injections: Int, drawn: Int) {
        try opened(yaml, database) { p in
            guard let sid = try p.registry.db.read({ t in
                try t.one("SELECT s.id FROM sources s JOIN versions v ON v.project_id = s.project_id WHERE v.id = ? AND s.name = ?",
                          [.int(p.version), .text(source)])?["id"].int
            }) else { throw RunError.configuration("\(yaml): no source named \(source)") }
            guard let lc = try p.registry.product(version: p.version, source: sid, kind: "lightcurves") else {
                throw RunError.configuration("\(source) has no light curves yet (see `astropile project status \(yaml)`)")
            }
            let curves = try ProjectProducts.readLightCurves(p.products + "/" + lc.path)
            let detections = try p.registry.detections(version: p.version, source: source)
            var injections: [(start: Double, recovered: Bool)] = []
            if let inj = try p.registry.product(version: p.version, source: sid, kind: "injections") {
                let reader = try ParquetFileReader(path: p.products + "/" + inj.path, columns: ["start_mjd", "recovered"])
                while let b = try reader.next() {
                    guard let s = b.column("start_mjd"), s.type == .float64, let r = b.column("recovered"), r.type == .bool else { break }
                    withExtendedLifetime(s) {   // the values are `s`'s buffer
                        let starts = s.values(Double.self)
                        for i in 0..<b.length { injections.append((starts[i], Self.bit(r, i))) }
                    }
                }
            }
            let drawn = try ProjectPlots.lightCurves(curves, detections: detections, injections: injections, to: png)
            return (curves.count, curves.reduce(0) { $0 + $1.mjd.count }, detections.count, injections.count, drawn)
        }
    }

    static func bit(_ a: ArrayData, _ i: Int) -> Bool {
        guard a.buffers.count >= 2, let b = a.buffers[1], let base = b.base else { return false }
        let k = a.offset + i
        return base.load(fromByteOffset: k >> 3, as: UInt8.self) & (1 << UInt8(k & 7)) != 0
    }
}
