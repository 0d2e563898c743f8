import Dispatch
import Formats
import Foundation
import RunEngine
import Sky

/// The SDSS frames and photoField files found under `--frames` (searched recursively).
struct FrameIndex: Sendable {
    /// Frame paths by field, then band.
    var frames: [SDSSFieldID: [String: String]] = [:]
    /// photoField paths by (run, camcol).
    var photoFields: [String: String] = [:]

    static func photoFieldKey(run: Int, camcol: Int) -> String { "\(run)-\(camcol)" }

    /// Lists `root`. Names are parsed, files are not opened.
    static func scan(_ root: String) throws -> FrameIndex {
        var index = FrameIndex()
        guard let walker = FileManager.default.enumerator(atPath: root) else {
            throw RunError.configuration("cannot list --frames \(root)")
        }
        var paths: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix("frame-") || name.hasPrefix("photoField-") { paths.append(relative) }
        }
        for relative in paths.sorted() {
            let name = (relative as NSString).lastPathComponent
            let path = root.hasSuffix("/") ? root + relative : root + "/" + relative
            if name.hasSuffix(".part") { continue }
            if let frame = SDSSFrameName(fileName: name) {
                if index.frames[frame.fieldID]?[frame.band] == nil { index.frames[frame.fieldID, default: [:]][frame.band] = path }
            } else if name.hasPrefix("photoField-"), name.hasSuffix(".fits") {
                let parts = name.dropFirst("photoField-".count).dropLast(".fits".count).split(separator: "-")
                if parts.count == 2, let run = Int(parts[0]), let camcol = Int(parts[1]) {
                    let key = photoFieldKey(run: run, camcol: camcol)
                    if index.photoFields[key] == nil { index.photoFields[key] = path }
                }
            }
        }
        return index
    }
}

/// The sky footprint of one field: its reference-band frame's WCS at the corners and centre.
/// Made on the footprint threads, then used on one thread only.
struct FieldFootprint: @unchecked Sendable {
    var field: SDSSFieldID
    var path: String
    var center: UnitVector
    var centerDec: Double
    /// Radians from the centre to the farthest corner.
    var radius: Double
    var width: Int
    var height: Int
    /// The frame's WCS (not thread-safe: used by the assigning thread alone).
    var wcs: WorldCoordinates
}

/// Assigns catalog objects to fields, either from the catalog's run/camcol/field columns or
/// by the footprints of the frames on disk (where footprints overlap, the field in which the
/// object lies farthest from an edge of the reference band's frame).
enum FrameAssignment {
    struct Assignment {
        var objectsByField: [SDSSFieldID: [Int]]
        var rejected: [Rejection]
        /// Frames whose header could not be read while building footprints.
        var badFrames: [Rejection]
    }

    static func assign(catalog: StampCatalog, index: FrameIndex, referenceBand: String, catalogPath: String,
                       jobs: Int) throws -> Assignment {
        var byField: [SDSSFieldID: [Int]] = [:]
        var rejected: [Rejection] = []
        var needFootprint: [Int] = []
        for (i, object) in catalog.objects.enumerated() {
            if let field = object.field {
                if index.frames[field] != nil {
                    byField[field, default: []].append(i)
                } else {
                    rejected.append(Rejection(input: catalogPath, position: "object \(object.id)",
                                              reason: "no frame of field \(field) (run-camcol-field from the catalog) on disk under --frames"))
                }
            } else {
                needFootprint.append(i)
            }
        }
        var badFrames: [Rejection] = []
        if !needFootprint.isEmpty {
            let (footprints, bad) = try footprints(index: index, referenceBand: referenceBand, jobs: jobs)
            badFrames = bad
            let sorted = footprints.sorted { $0.centerDec < $1.centerDec }
            let maxRadius = sorted.map(\.radius).max() ?? 0
            for i in needFootprint {
                let object = catalog.objects[i]
                let p = UnitVector(ra: object.ra, dec: object.dec)
                let window = maxRadius * 180 / .pi
                let low = lowerBound(sorted, object.dec - window)
                var best: (Int, Double)? = nil
                var k = low
                while k < sorted.count, sorted[k].centerDec <= object.dec + window {
                    let f = sorted[k]
                    if p.angle(to: f.center) <= f.radius * 1.01 {
                        let (x, y) = f.wcs.pixel(ra: object.ra, dec: object.dec)
                        if x.isFinite, y.isFinite {
                            let edge = min(x + 0.5, Double(f.width) - 0.5 - x, y + 0.5, Double(f.height) - 0.5 - y)
                            if edge >= 0, best.map({ edge > $0.1 }) ?? true { best = (k, edge) }
                        }
                    }
                    k += 1
                }
                if let (k, _) = best {
                    byField[sorted[k].field, default: []].append(i)
                } else {
                    rejected.append(Rejection(input: catalogPath, position: "object \(object.id)",
                                              reason: "off every \(referenceBand)-band frame under --frames (\(footprints.count) fields searched)"))
                }
            }
        }
        return Assignment(objectsByField: byField, rejected: rejected, badFrames: badFrames)
    }

    private static func lowerBound(_ a: [FieldFootprint], _ dec: Double) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid].centerDec < dec { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Reads every field's reference-band frame header (in parallel) and measures its footprint.
    static func footprints(index: FrameIndex, referenceBand: String, jobs: Int) throws -> ([FieldFootprint], [Rejection]) {
        let fields = index.frames.keys.sorted().compactMap { f -> (SDSSFieldID, String)? in
            guard let p = index.frames[f]?[referenceBand] else { return nil }
            return (f, p)
        }
        let results = FootprintResults()
        let chunk = max(1, fields.count / max(1, jobs * 4))
        DispatchQueue.concurrentPerform(iterations: (fields.count + chunk - 1) / chunk) { c in
            for i in (c * chunk)..<min(fields.count, (c + 1) * chunk) {
                let (field, path) = fields[i]
                let r: Result<FieldFootprint, FormatError>
                do { r = .success(try footprint(field: field, path: path)) } catch let e as FormatError {
                    r = .failure(e)
                } catch {
                    r = .failure(FormatError(.corruptInput, "\(error)", path: path))
                }
                results.set(i, r)
            }
        }
        var good: [FieldFootprint] = []
        var bad: [Rejection] = []
        let all = results.all
        for i in 0..<fields.count {
            switch all[i] {
            case .success(let f): good.append(f)
            case .failure(let e): bad.append(Rejection(input: fields[i].1, reason: "bad frame, not searched for objects: \(e.message)"))
            case nil: break
            }
        }
        return (good, bad)
    }

    static func footprint(field: SDSSFieldID, path: String) throws -> FieldFootprint {
        let file = try FITSFile(path: path)
        try file.moveTo(hdu: 0)
        let shape = try file.imageShape()
        guard shape.count == 2 else { throw FormatError(.corruptInput, "HDU 0 is not an image", path: path, location: "HDU 0") }
        let wcs = try WorldCoordinates(header: try file.headerText(), path: path, hdu: 0)
        let w = Double(shape[0]), h = Double(shape[1])
        let xs = [(w - 1) / 2, -0.5, w - 0.5, -0.5, w - 0.5]
        let ys = [(h - 1) / 2, -0.5, -0.5, h - 0.5, h - 0.5]
        let world = wcs.world(x: xs, y: ys)
        guard world.ra.allSatisfy(\.isFinite), world.dec.allSatisfy(\.isFinite) else {
            throw FormatError(.corruptInput, "the WCS does not map the frame's corners to the sky", path: path, location: "HDU 0")
        }
        let center = UnitVector(ra: world.ra[0], dec: world.dec[0])
        let radius = (1...4).map { center.angle(to: UnitVector(ra: world.ra[$0], dec: world.dec[$0])) }.max() ?? 0
        return FieldFootprint(field: field, path: path, center: center, centerDec: world.dec[0], radius: radius,
                              width: shape[0], height: shape[1], wcs: wcs)
    }
}

/// Footprints measured by concurrent threads.
private final class FootprintResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Result<FieldFootprint, FormatError>] = [:]
    func set(_ i: Int, _ r: Result<FieldFootprint, FormatError>) { lock.withLock { values[i] = r } }
    var all: [Int: Result<FieldFootprint, FormatError>] { lock.withLock { values } }
}
