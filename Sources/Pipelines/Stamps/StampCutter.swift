import Formats
import Foundation
import RunEngine
import Sky

/// One object's stamp in every band, ready to store: arrays are (band, row y, column x),
/// row-major, `size × size` per band.
struct ObjectStamp: Sendable {
    var objectIndex: Int
    /// Nanomaggies per pixel; NaN outside the frame.
    var flux: [Float]
    /// 1/nanomaggies²; 0 outside the frame or where the variance is undefined.
    var ivar: [Float]
    /// 1 = good pixel (MMU's image convention), 0 = outside the frame or no valid ivar.
    var mask: [UInt8]
    /// Per band: the object's position minus the stamp's geometric centre ((size−1)/2), pixels
    /// (x, y); 0 for aligned stamps.
    var offsetX: [Float]
    var offsetY: [Float]
    /// Per band: arcsec per pixel (the square root of the pixel's area on the sky).
    var scale: [Float]
    /// Per band: PSF FWHM, arcsec (NaN when unknown).
    var psf: [Float]
    /// Per band: the typical pixel noise, sqrt(median(1/ivar)) over good pixels, nanomaggies.
    var noise: [Float]
    /// Per band: extinction, magnitudes (NaN when not named).
    var extinction: [Float]
    /// Per band: the source frame's file name.
    var frames: [String]
}

/// A stamp, or why an object has none.
enum CutOutcome {
    case stamp(ObjectStamp)
    case refused(String)
}

/// A field's frames in memory: one per band, with each band's noise parameters and PSF.
struct LoadedField {
    var frames: [SDSSFrame]
    var noise: [SDSSDetectorNoise]
    var psf: [Float]
}

/// Cuts stamps from a field's frames (see ``StampAlignment``).
///
/// With `align none`, the stamp of a band starts at frame pixel
/// `x0 = floor(x − (N−1)/2 + 0.5)`, `y0` likewise, where (x, y) is the object's 0-based pixel
/// position by that band's WCS: the object lies within half a pixel of the stamp's geometric
/// centre (N−1)/2 for odd and even N alike (for N = 64, between pixels 31 and 32), and the
/// remainder `x − x0 − (N−1)/2` ∈ [−0.5, 0.5) is stored as the band's offset.
///
/// With `align lanczos3`, the grid is a TAN projection centred exactly on the object (at
/// pixel ((N−1)/2, (N−1)/2)) whose CD matrix is the reference band's local Jacobian at the
/// object (its pixel scale and orientation). Each band is resampled with a separable Lanczos-3
/// kernel (weights normalised to 1), multiplied by the ratio of output to input pixel area so
/// flux is conserved; the variance is propagated through the same weights
/// (`var = Σ w² / ivar`). An output pixel whose centre falls outside the band's frame is
/// NaN / 0 / masked; taps beyond an edge take the edge pixel. The map from grid to frame pixel
/// is evaluated exactly by wcslib on nodes every 8 output pixels and bilinearly between them
/// (SDSS distortion over 8 pixels is far below 10⁻³ pixel).
struct StampCutter {
    let config: StampsConfig
    let size: Int
    let bands: [String]
    let referenceIndex: Int

    init(config: StampsConfig) {
        self.config = config
        size = config.size
        bands = config.bands
        referenceIndex = config.bands.firstIndex(of: config.effectiveReferenceBand) ?? 0
    }

    /// Cuts one object, or returns why it has no stamp.
    func cut(object: StampObject, index: Int, field: LoadedField) throws -> CutOutcome {
        let n = size, perBand = n * n
        var stamp = ObjectStamp(objectIndex: index,
                                flux: [Float](repeating: .nan, count: perBand * bands.count),
                                ivar: [Float](repeating: 0, count: perBand * bands.count),
                                mask: [UInt8](repeating: 0, count: perBand * bands.count),
                                offsetX: [], offsetY: [], scale: [], psf: [], noise: [],
                                extinction: [], frames: [])
        var grid: WorldCoordinates? = nil
        var gridScale: Float = .nan
        if config.align == .lanczos3 {
            guard let made = try alignedGrid(object: object, reference: field.frames[referenceIndex]) else {
                return .refused("off the \(bands[referenceIndex])-band frame (its WCS cannot place the object)")
            }
            grid = made.grid
            gridScale = made.scale
        }
        for (b, frame) in field.frames.enumerated() {
            let base = b * perBand
            var offset: (Float, Float) = (.nan, .nan)
            var scale = gridScale
            if let grid {
                resample(frame: frame, noise: field.noise[b], grid: grid, into: &stamp, base: base)
                offset = (0, 0)
            } else {
                let (x, y) = frame.wcs.pixel(ra: object.ra, dec: object.dec)
                scale = Self.pixelScale(frame.wcs, x: x, y: y)
                if x.isFinite, y.isFinite, abs(x) < 1e8, abs(y) < 1e8 {
                    let half = Double(n - 1) / 2
                    // invariant: x and y are finite and under 1e8 here.
                    let x0 = Int((x - half + 0.5).rounded(.down)), y0 = Int((y - half + 0.5).rounded(.down))
                    copy(frame: frame, noise: field.noise[b], x0: x0, y0: y0, into: &stamp, base: base)
                    offset = (Float(x - Double(x0) - half), Float(y - Double(y0) - half))
                }
            }
            var good = false
            for k in base..<(base + perBand) where stamp.mask[k] != 0 { good = true; break }
            if !good {
                return .refused("all pixels of the \(bands[b]) band are masked (the object is off \(frame.name?.description ?? frame.path))")
            }
            stamp.offsetX.append(offset.0)
            stamp.offsetY.append(offset.1)
            stamp.scale.append(scale)
            stamp.psf.append(object.psf?[b] ?? field.psf[b])
            stamp.noise.append(Self.typicalNoise(stamp.ivar[base..<(base + perBand)], stamp.mask[base..<(base + perBand)]))
            stamp.extinction.append(object.extinction?[b] ?? .nan)
            stamp.frames.append((frame.path as NSString).lastPathComponent)
        }
        return .stamp(stamp)
    }

    /// Frame pixels [x0, x0+N) × [y0, y0+N); outside the frame NaN / 0 / masked.
    private func copy(frame: SDSSFrame, noise: SDSSDetectorNoise, x0: Int, y0: Int, into stamp: inout ObjectStamp, base: Int) {
        let n = size, w = frame.width, h = frame.height
        frame.image.withUnsafeBufferPointer { image in
            for j in 0..<n {
                let fy = y0 + j
                guard fy >= 0, fy < h else { continue }
                for i in 0..<n {
                    let fx = x0 + i
                    guard fx >= 0, fx < w else { continue }
                    let k = base + j * n + i
                    let value = image[fy * w + fx]
                    let iv = frame.inverseVariance(x: fx, y: fy, noise: noise)
                    stamp.flux[k] = value
                    stamp.ivar[k] = iv
                    stamp.mask[k] = (iv > 0 && value.isFinite) ? 1 : 0
                }
            }
        }
    }

    /// The aligned grid for one object: TAN at the object with the reference band's local CD.
    private func alignedGrid(object: StampObject, reference: SDSSFrame) throws -> (grid: WorldCoordinates, scale: Float)? {
        let (x, y) = reference.wcs.pixel(ra: object.ra, dec: object.dec)
        guard x.isFinite, y.isFinite else { return nil }
        // The reference band's local Jacobian, measured in a TAN plane at the object with
        // 1 arcsec pixels (wcslib does the projection).
        let arcsec = 1.0 / 3600
        let probe = try WorldCoordinates.tangent(ra: object.ra, dec: object.dec, cd: [arcsec, 0, 0, arcsec], centerX: 0, centerY: 0)
        let steps = reference.wcs.world(x: [x + 0.5, x - 0.5, x, x], y: [y, y, y + 0.5, y - 0.5])
        let plane = probe.pixel(ra: steps.ra, dec: steps.dec)
        guard plane.x.allSatisfy(\.isFinite), plane.y.allSatisfy(\.isFinite) else { return nil }
        let cd = [(plane.x[0] - plane.x[1]) * arcsec, (plane.x[2] - plane.x[3]) * arcsec,
                  (plane.y[0] - plane.y[1]) * arcsec, (plane.y[2] - plane.y[3]) * arcsec]
        let det = abs(cd[0] * cd[3] - cd[1] * cd[2])
        guard det > 0 else { return nil }
        let half = Double(size - 1) / 2
        let grid = try WorldCoordinates.tangent(ra: object.ra, dec: object.dec, cd: cd, centerX: half, centerY: half)
        return (grid, Float(det.squareRoot() * 3600))
    }

    /// Lanczos-3 resampling of one band onto `grid`.
    private func resample(frame: SDSSFrame, noise: SDSSDetectorNoise, grid: WorldCoordinates, into stamp: inout ObjectStamp, base: Int) {
        let n = size
        // Exact positions on nodes every `step` output pixels (and the last pixel).
        let step = 8
        var nodes = Array(stride(from: 0, to: n - 1, by: step))
        nodes.append(n - 1)
        let m = nodes.count
        var gx: [Double] = [], gy: [Double] = []
        for j in nodes { for i in nodes { gx.append(Double(i)); gy.append(Double(j)) } }
        let world = grid.world(x: gx, y: gy)
        let pixel = frame.wcs.pixel(ra: world.ra, dec: world.dec)
        guard pixel.x.allSatisfy(\.isFinite), pixel.y.allSatisfy(\.isFinite) else { return }
        // Output-to-input area ratio from the central node cell (flux conservation).
        let c = (m - 1) / 2
        let c1 = min(c + 1, m - 1)
        let span = Double(nodes[c1] - nodes[c])
        var area = 1.0
        if span > 0 {
            let dxdi = (pixel.x[c * m + c1] - pixel.x[c * m + c]) / span, dydi = (pixel.y[c * m + c1] - pixel.y[c * m + c]) / span
            let dxdj = (pixel.x[c1 * m + c] - pixel.x[c * m + c]) / span, dydj = (pixel.y[c1 * m + c] - pixel.y[c * m + c]) / span
            area = abs(dxdi * dydj - dxdj * dydi)
        }
        let w = frame.width, h = frame.height
        // The frame region the taps can reach, with its ivar computed once (not per tap).
        // Pixel positions come from the WCS of the object's position: NaN or far outside the
        // frame when either is wild, so they are clamped before they become indices.
        let reach = -8...(max(w, h) + 8)
        let rx0 = max(0, Int(flooring: pixel.x.min() ?? 0, clampedTo: reach) - 3)
        let rx1 = min(w - 1, Int(flooring: (pixel.x.max() ?? 0).rounded(.up), clampedTo: reach) + 3)
        let ry0 = max(0, Int(flooring: pixel.y.min() ?? 0, clampedTo: reach) - 3)
        let ry1 = min(h - 1, Int(flooring: (pixel.y.max() ?? 0).rounded(.up), clampedTo: reach) + 3)
        guard rx0 <= rx1, ry0 <= ry1 else { return }
        let rw = rx1 - rx0 + 1
        var regionIvar = [Float](repeating: 0, count: rw * (ry1 - ry0 + 1))
        for yy in ry0...ry1 { for xx in rx0...rx1 { regionIvar[(yy - ry0) * rw + (xx - rx0)] = frame.inverseVariance(x: xx, y: yy, noise: noise) } }
        var cell = 0
        var wx = [Double](repeating: 0, count: 6), wy = wx
        frame.image.withUnsafeBufferPointer { image in
            for j in 0..<n {
                while cell < m - 2 && j >= nodes[cell + 1] { cell += 1 }
                let tj = Double(j - nodes[cell]) / Double(max(1, nodes[cell + 1] - nodes[cell]))
                var ci = 0
                for i in 0..<n {
                    while ci < m - 2 && i >= nodes[ci + 1] { ci += 1 }
                    let ti = Double(i - nodes[ci]) / Double(max(1, nodes[ci + 1] - nodes[ci]))
                    let a = cell * m + ci, b = a + 1, d = a + m, e = d + 1
                    let x = (pixel.x[a] * (1 - ti) + pixel.x[b] * ti) * (1 - tj) + (pixel.x[d] * (1 - ti) + pixel.x[e] * ti) * tj
                    let y = (pixel.y[a] * (1 - ti) + pixel.y[b] * ti) * (1 - tj) + (pixel.y[d] * (1 - ti) + pixel.y[e] * ti) * tj
                    guard x >= -0.5, x < Double(w) - 0.5, y >= -0.5, y < Double(h) - 0.5 else { continue }
                    // invariant: the guard above keeps x and y inside the frame (NaN fails it).
                    let fx = Int(x.rounded(.down)), fy = Int(y.rounded(.down))
                    Self.lanczos3(x - Double(fx), into: &wx)
                    Self.lanczos3(y - Double(fy), into: &wy)
                    var sum = 0.0, variance = 0.0
                    var bad = false
                    for q in 0..<6 {
                        let yy = min(max(fy - 2 + q, ry0), ry1)
                        for p in 0..<6 {
                            let weight = wx[p] * wy[q]
                            guard weight != 0 else { continue }
                            let xx = min(max(fx - 2 + p, rx0), rx1)
                            let value = Double(image[yy * w + xx])
                            let iv = Double(regionIvar[(yy - ry0) * rw + (xx - rx0)])
                            if iv <= 0 || !value.isFinite { bad = true; continue }
                            sum += weight * value
                            variance += weight * weight / iv
                        }
                    }
                    let k = base + j * n + i
                    stamp.flux[k] = Float(sum * area)
                    if !bad && variance > 0 {
                        stamp.ivar[k] = Float(1 / (variance * area * area))
                        stamp.mask[k] = 1
                    }
                }
            }
        }
    }

    /// The Lanczos-3 kernel L(d) = sinc(d)·sinc(d/3) on [0, 3], tabulated every 1/4096 pixel
    /// (linear interpolation between entries is exact to ~1e-7, far below float32 data).
    static let kernelSteps = 4096
    static let kernelTable: [Double] = (0...(3 * kernelSteps + 1)).map { i in
        let d = Double(i) / Double(kernelSteps)
        if d < 1e-12 { return 1 }
        if d >= 3 { return 0 }
        let pd = Double.pi * d
        return 3 * sin(pd) * sin(pd / 3) / (pd * pd)
    }

    @inline(__always)
    static func kernel(_ d: Double) -> Double {
        let a = abs(d) * Double(kernelSteps)
        let i = Int(a)
        guard i < 3 * kernelSteps else { return 0 }
        let f = a - Double(i)
        return kernelTable[i] * (1 - f) + kernelTable[i + 1] * f
    }

    /// The six normalised Lanczos-3 weights for taps at offsets −2...3 from `floor(x)`, where
    /// `t = x − floor(x)` ∈ [0, 1).
    @inline(__always)
    static func lanczos3(_ t: Double, into weights: inout [Double]) {
        var total = 0.0
        for k in 0..<6 {
            let v = kernel(t - Double(k - 2))
            weights[k] = v
            total += v
        }
        if total != 0 { for k in 0..<6 { weights[k] /= total } }
    }

    /// Arcsec per pixel at (x, y): the square root of the pixel's solid angle.
    static func pixelScale(_ wcs: WorldCoordinates, x: Double, y: Double) -> Float {
        guard x.isFinite, y.isFinite else { return .nan }
        let w = wcs.world(x: [x, x + 1, x], y: [y, y, y + 1])
        guard w.ra.allSatisfy(\.isFinite), w.dec.allSatisfy(\.isFinite) else { return .nan }
        let p0 = UnitVector(ra: w.ra[0], dec: w.dec[0]), p1 = UnitVector(ra: w.ra[1], dec: w.dec[1]), p2 = UnitVector(ra: w.ra[2], dec: w.dec[2])
        let a = (p1.x - p0.x, p1.y - p0.y, p1.z - p0.z), b = (p2.x - p0.x, p2.y - p0.y, p2.z - p0.z)
        let cross = (a.1 * b.2 - a.2 * b.1, a.2 * b.0 - a.0 * b.2, a.0 * b.1 - a.1 * b.0)
        let area = (cross.0 * cross.0 + cross.1 * cross.1 + cross.2 * cross.2).squareRoot()
        return Float(area.squareRoot() * 180 / .pi * 3600)
    }

    static func typicalNoise(_ ivar: ArraySlice<Float>, _ mask: ArraySlice<UInt8>) -> Float {
        var variances: [Float] = []
        variances.reserveCapacity(ivar.count)
        for (iv, m) in zip(ivar, mask) where m != 0 && iv > 0 { variances.append(1 / iv) }
        guard !variances.isEmpty else { return .nan }
        variances.sort()
        return variances[variances.count / 2].squareRoot()
    }
}
