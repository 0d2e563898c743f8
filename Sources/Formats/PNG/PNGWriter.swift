import CPNG

/// Writes 8-bit PNG images with libpng's simplified API (`png_image_write_to_file`, which
/// reports errors in `png_image.message` instead of libpng's longjmp), atomically: temporary
/// name, fsync, rename.
public enum PNGWriter {
    /// Pixel layouts.
    public enum Channels: Sendable { case gray, rgb }

    /// Writes `pixels` (row-major, the first row is the top of the picture; 1 or 3 bytes per
    /// pixel) to `path`.
    public static func write(_ pixels: [UInt8], width: Int, height: Int, channels: Channels, to path: String) throws {
        let perPixel = channels == .rgb ? 3 : 1
        guard width > 0, height > 0, width <= 1 << 16, height <= 1 << 16, pixels.count == width * height * perPixel else {
            throw FormatError(.invalidArgument, "a \(width)×\(height) PNG needs \(width * height * perPixel) bytes, got \(pixels.count)", path: path)
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        // png.h #defines PNG_FORMAT_RGB as PNG_FORMAT_FLAG_COLOR (0x02) and PNG_FORMAT_GRAY as 0, in
        // forms Swift does not import.
        image.format = channels == .rgb ? 0x02 : 0
        let tmp = AtomicFile.temporaryPath(for: path)
        let ok = pixels.withUnsafeBytes { raw in
            png_image_write_to_file(&image, tmp, 0, raw.baseAddress, Int32(width * perPixel), nil)
        }
        guard ok != 0 else {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            png_image_free(&image)
            AtomicFile.remove(tmp)
            throw FormatError(.io, "libpng: \(message)", path: path)
        }
        try AtomicFile.commit(temporary: tmp, to: path)
    }
}
