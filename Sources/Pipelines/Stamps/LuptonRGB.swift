/// The asinh colour composite of Lupton et al. (2004, PASP 116, 133), as astropy's
/// `make_lupton_rgb` computes it: subtract `minimum`; intensity I = (r + g + b)/3;
/// f(I) = asinh(Q·I/stretch) · 0.1/asinh(0.1·Q); each channel times f(I)/I (0 where I ≤ 0),
/// clipped at 0; a pixel whose largest channel exceeds 1 is scaled down by it; then ×255 and
/// truncated to 8 bits. NaN (masked) pixels become 0.
public enum LuptonRGB {
    /// RGB bytes, row-major in the input's order (row 0 first), 3 per pixel.
    public static func make(r: ArraySlice<Float>, g: ArraySlice<Float>, b: ArraySlice<Float>,
                            minimum: Float = 0, stretch: Float = 5, q: Float = 8) -> [UInt8] {
        let n = min(r.count, g.count, b.count)
        var q = q
        if abs(q) < 1.0 / Float(1 << 23) { q = 0.1 } else if q > 1e10 { q = 1e10 }
        let slope = 0.1 / asinhf(0.1 * q)
        let soften = q / stretch
        var out = [UInt8](repeating: 0, count: 3 * n)
        var (ri, gi, bi) = (r.startIndex, g.startIndex, b.startIndex)
        for k in 0..<n {
            defer { ri += 1; gi += 1; bi += 1 }
            var (cr, cg, cb) = (r[ri] - minimum, g[gi] - minimum, b[bi] - minimum)
            guard cr.isFinite, cg.isFinite, cb.isFinite else { continue }
            let intensity = (cr + cg + cb) / 3
            let f = intensity <= 0 ? 0 : asinhf(intensity * soften) * slope / intensity
            (cr, cg, cb) = (max(cr * f, 0), max(cg * f, 0), max(cb * f, 0))
            let top = max(cr, cg, cb)
            if top > 1 { (cr, cg, cb) = (cr / top, cg / top, cb / top) }
            out[3 * k] = UInt8(max(0, min(255, cr * 255)))
            out[3 * k + 1] = UInt8(max(0, min(255, cg * 255)))
            out[3 * k + 2] = UInt8(max(0, min(255, cb * 255)))
        }
        return out
    }

    /// One band as grey levels with the same stretch: asinh(Q·x/stretch)·slope clipped to
    /// [0, 1], ×255.
    public static func gray(_ x: ArraySlice<Float>, minimum: Float = 0, stretch: Float = 5, q: Float = 8) -> [UInt8] {
        let slope = 0.1 / asinhf(0.1 * q)
        let soften = q / stretch
        return x.map { v in
            let s = v - minimum
            guard s.isFinite else { return 0 }
            return UInt8(max(0, min(255, asinhf(s * soften) * slope * 255)))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
