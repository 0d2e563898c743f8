/// One SDSS corrected frame (`frame-*.fits.bz2`), as the SDSS frame data model describes it:
/// HDU 0 the calibrated, sky-subtracted image in nanomaggies with its WCS; HDU 1 the calibration
/// vector (nanomaggies per count, one value per column); HDU 2 the sky grid (`ALLSKY`, counts)
/// with the positions (`XINTERP`, `YINTERP`) at which to interpolate it for each column and row.
///
/// Pixels are indexed 0-based, `x` along NAXIS1 (columns), `y` along NAXIS2 (rows);
/// ``image`` is row-major: pixel (x, y) is `image[y * width + x]`.
public final class SDSSFrame {
    public let path: String
    public let name: SDSSFrameName?
    public let width: Int
    public let height: Int
    /// Nanomaggies per pixel.
    public let image: [Float]
    /// Nanomaggies per count, per column (`cimg` of the data model).
    public let calibration: [Float]
    /// The frame's WCS (wcslib).
    public let wcs: WorldCoordinates
    /// Sky in counts at every pixel, interpolated from the `ALLSKY` grid (`simg`).
    private let skyGrid: [Float]
    private let skyWidth: Int
    private let skyHeight: Int
    private let xInterp: [Float]
    private let yInterp: [Float]

    /// Reads the frame. `cfitsio` decompresses `.bz2` in memory. Throws a ``FormatError``
    /// naming the file and HDU for a corrupt file, a missing HDU or an unreadable WCS.
    public init(path: String) throws {
        self.path = path
        name = SDSSFrameName(fileName: path)
        let file = try FITSFile(path: path)
        try file.moveTo(hdu: 0)
        let shape = try file.imageShape()
        guard shape.count == 2, shape[0] > 0, shape[1] > 0 else {
            throw FormatError(.corruptInput, "HDU 0 is not a two-dimensional image (shape \(shape))", path: path, location: "HDU 0")
        }
        width = shape[0]
        height = shape[1]
        wcs = try WorldCoordinates(header: try file.headerText(), path: path, hdu: 0)
        image = try file.readImageFloats(expected: width * height)
        guard try file.moveTo(hdu: 1) == .image else {
            throw FormatError(.corruptInput, "HDU 1 is not the calibration vector image", path: path, location: "HDU 1")
        }
        calibration = try file.readImageFloats(expected: width)
        guard try file.moveTo(hdu: 2) == .binaryTable else {
            throw FormatError(.corruptInput, "HDU 2 is not the sky table", path: path, location: "HDU 2")
        }
        let sky = try file.readFloatCell(column: "ALLSKY")
        xInterp = try file.readFloatCell(column: "XINTERP")
        yInterp = try file.readFloatCell(column: "YINTERP")
        guard xInterp.count == width, yInterp.count == height else {
            throw FormatError(.corruptInput, "XINTERP/YINTERP have \(xInterp.count)/\(yInterp.count) values for a \(width)×\(height) image",
                              path: path, location: "HDU 2")
        }
        // ALLSKY's TDIM gives (nx, ny); the data model says "approximately 256x192".
        let dims = try Self.skyDimensions(file, count: sky.count)
        skyWidth = dims.0
        skyHeight = dims.1
        skyGrid = sky
    }

    private static func skyDimensions(_ file: FITSFile, count: Int) throws -> (Int, Int) {
        var columnNumber = 0
        for i in 1...max(1, try file.columnCount()) {
            if let name = try file.stringKeyword("TTYPE\(i)"), name.uppercased() == "ALLSKY" { columnNumber = i; break }
        }
        if columnNumber > 0, let tdim = try file.stringKeyword("TDIM\(columnNumber)") {
            let numbers = tdim.filter { "0123456789,".contains($0) }.split(separator: ",").compactMap { Int($0) }
            if numbers.count == 2, numbers[0] > 0, numbers[1] > 0, numbers[0] * numbers[1] == count { return (numbers[0], numbers[1]) }
        }
        guard count == 256 * 192 else {
            throw FormatError(.corruptInput, "ALLSKY has \(count) values and no usable TDIM", path: file.path, location: "HDU 2")
        }
        return (256, 192)
    }

    /// The sky in counts at pixel (x, y): `ALLSKY` interpolated bilinearly at
    /// (`XINTERP[x]`, `YINTERP[y]`), positions beyond the grid taking the edge value (IDL's
    /// `interpolate(..., /grid)`, which the data model uses).
    @inline(__always)
    public func sky(x: Int, y: Int) -> Float {
        func split(_ v: Float, _ n: Int) -> (Int, Float) {
            let clamped = min(max(v, 0), Float(n - 1))
            let i = min(Int(clamped), max(n - 2, 0))
            return (i, n > 1 ? clamped - Float(i) : 0)
        }
        let (i, tx) = split(xInterp[x], skyWidth)
        let (j, ty) = split(yInterp[y], skyHeight)
        let i1 = min(i + 1, skyWidth - 1), j1 = min(j + 1, skyHeight - 1)
        let a = skyGrid[j * skyWidth + i], b = skyGrid[j * skyWidth + i1]
        let c = skyGrid[j1 * skyWidth + i], d = skyGrid[j1 * skyWidth + i1]
        return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty
    }

    /// Inverse variance (1/nanomaggies²) of pixel (x, y), by the data model's noise recipe:
    /// `dn = img/cimg + simg`, `dn_err² = dn/gain + darkVariance`, `ivar = 1/(dn_err·cimg)²`.
    /// Zero where the variance is not positive and finite.
    @inline(__always)
    public func inverseVariance(x: Int, y: Int, noise: SDSSDetectorNoise) -> Float {
        let c = Double(calibration[x])
        let dn = Double(image[y * width + x]) / c + Double(sky(x: x, y: y))
        let variance = (dn / noise.gain + noise.darkVariance) * c * c
        guard variance > 0, variance.isFinite else { return 0 }
        return Float(1 / variance)
    }
}
