import Foundation
import Formats
import RunEngine
import Sky
import Table

/// Raw photometry of a project's sources from an alert lake (`survey.kind: ztf-alerts`).
///
/// `survey.lake` names either an alert lake (`astropile alerts ingest` output) or a light-curve
/// catalog (`astropile alerts lightcurves` output: a HATS catalog of objects with the nested
/// light curve `lc`). For a lake, the light-curve catalog is brought up to date first, in the
/// shared raw cache (`<raw folder>/_catalog`; a lake that has not changed costs a look at its
/// nights). A source's "download" is then a cone search of that catalog: the detections of every
/// object within `survey.radiusArcsec` of the source, written as the raw file in the IRSA CSV
/// layout (``ZTFLightCurveCSV``) so that reduction treats both surveys alike:
///
/// - `oid`: 1, 2, … for each (objectId, field, rcid, fid) — one ZTF object per field, CCD
///   quadrant and filter, as IRSA's oids are, so fields stay apart unless their zero points agree;
/// - `mjd` = jd − 2400000.5; `mag`/`magerr` = `magpsf`/`sigmapsf` (the difference-image PSF
///   magnitude: alert light curves are difference fluxes); `diffsign` −1 where `isdiffpos` is
///   `f` or `0`, else +1; `limitmag` = `diffmaglim`; `magzp` = `magzpsci` (empty before schema
///   3.3); `catflags` 0 (alerts carry no such flags); `filtercode` zg/zr/zi from `fid` 1/2/3.
///
/// Rows are sorted by oid, then jd, so the same catalog gives the same bytes.
final class AlertLightCurveSource: @unchecked Sendable {
    /// The light-curve catalog searched.
    let catalog: HATSCatalog
    /// Identity of the catalog's contents (its properties, partitions and file sizes): when it
    /// changes, every source is cut again.
    let state: String
    private let columns: [String]
    private static let pointFields = ["jd", "fid", "field", "rcid", "magpsf", "sigmapsf", "diffmaglim", "isdiffpos", "magzpsci"]

    /// Opens (for a lake: first builds or updates) the light-curve catalog of the project's lake.
    static func prepare(plan: ProjectPlan, options: ProjectRunOptions) throws -> AlertLightCurveSource {
        guard let named = plan.config.survey.lake else {
            throw RunError.configuration("survey.lake: name the alert lake for survey ztf-alerts")
        }
        let base = (StampsConfig.absolute(plan.yamlPath) as NSString).deletingLastPathComponent
        let path = named.hasPrefix("/") ? named : base + "/" + named
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError.configuration("survey.lake: \(path) is not a folder (an alert lake or an `alerts lightcurves` catalog)")
        }
        var root = path
        if FileManager.default.fileExists(atPath: path + "/_lake.json") {
            root = plan.rawFolder + "/_catalog"
            do { try FileManager.default.createDirectory(atPath: plan.rawFolder, withIntermediateDirectories: true) } catch {
                throw RunError.writing(plan.rawFolder, error)
            }
            _ = try AlertLightCurves.run(lake: path, output: root, threshold: nil, highestOrder: 10, jobs: options.run.jobs,
                                         tmp: options.run.tmp, progress: options.run.progress)
        }
        return try AlertLightCurveSource(catalog: root)
    }

    init(catalog root: String) throws {
        let catalog = try HATSCatalog.open(root)
        self.catalog = catalog
        let schema = try catalog.schema()
        guard let i = schema.index(of: "lc"), case .structure(let fields) = schema.fields[i].type, let id = schema.index(of: "objectId"),
              schema.fields[id].type == .string || schema.fields[id].type == .largeString else {
            throw RunError.configuration("\(root) is not a light-curve catalog of `astropile alerts lightcurves` (no string objectId and struct lc columns)")
        }
        for name in Self.pointFields where !fields.contains(where: { $0.name == name }) {
            throw RunError.configuration("\(root): the light curves lc have no \(name)")
        }
        columns = schema.names.filter { ["objectId", "lc", catalog.raColumn, catalog.decColumn].contains($0) }
        var text = catalog.properties.map { $0.key + "=" + $0.value }.joined(separator: "\n")
        for pixel in catalog.partitions.pixels {
            let p = catalog.leafPath(pixel)
            var st = stat()
            text += "\n" + p + " " + (stat(p, &st) == 0 ? String(st.st_size) : "missing")
        }
        state = CanonicalHash.fnv1a(text)
    }

    /// When the catalog changed since this version last cut from it (a lake with new nights),
    /// sends every done fetch of the version back to pending — first, then the state is saved
    /// (`alert_catalog.state` in the products folder), so a stop in between only cuts twice.
    /// True when fetches were sent back.
    func sendBackIfChanged(plan: ProjectPlan) throws -> Bool {
        let statePath = plan.products + "/alert_catalog.state"
        let saved = FileManager.default.contents(atPath: statePath).map { String(decoding: $0, as: UTF8.self) }
        guard saved != state else { return false }
        let sent = saved == nil ? 0
            : try plan.registry.resetDone(version: plan.version, stage: ProjectStage.fetch.rawValue, reason: "the alert lake changed")
        do { try AtomicFile.write(Array(state.utf8), to: statePath) } catch { throw RunError.writing(statePath, error) }
        return sent > 0
    }

    /// One detection on its way to the CSV.
    private struct Row {
        var key: Key
        var jd: Double
        var mag: String, magErr: String, limit: String, zp: String
        var sign: Int
    }

    private struct Key: Hashable, Comparable {
        var objectId: String
        var field: Int64?
        var rcid: Int64?
        var fid: Int64
        static func < (a: Key, b: Key) -> Bool {
            (a.objectId, a.field ?? -1, a.rcid ?? -1, a.fid) < (b.objectId, b.field ?? -1, b.rcid ?? -1, b.fid)
        }
    }

    /// The raw CSV of the objects within `radiusArcsec` of (ra, dec) (degrees): the header alone
    /// when there are none.
    func cut(ra: Double, dec: Double, radiusArcsec: Double) throws -> [UInt8] {
        var rows: [Row] = []
        _ = try CatalogQuery.scan(.cone(ra: ra, dec: dec, radius: radiusArcsec / 3600), in: catalog, columns: columns) { batch, keep in
            guard let idColumn = batch.column("objectId"), idColumn.type == .string || idColumn.type == .largeString,
                  let lc = batch.column("lc"), case .structure(let fields) = lc.type else {
                throw RunError.configuration("\(catalog.root): a partition lacks objectId or lc")
            }
            func child(_ name: String) -> ArrayData? { fields.firstIndex { $0.name == name }.map { lc.children[$0] } }
            let lists = Self.pointFields.map(child)
            for i in keep.map(Int.init) {
                guard let objectId = idColumn.string(at: i), lc.isValid(i) else { continue }
                let j = lc.offset + i
                guard let jd = lists[0].flatMap({ Self.list($0, j) }), let fid = lists[1].flatMap({ Self.list($0, j) }) else {
                    throw RunError.configuration("\(catalog.root): object \(objectId): lc.jd and lc.fid are not lists")
                }
                let n = jd.range.count
                let others = lists.dropFirst(2).map { $0.flatMap { Self.list($0, j) } }
                guard fid.range.count == n, others.allSatisfy({ $0?.range.count == n }) else {
                    throw RunError.configuration("\(catalog.root): object \(objectId): the lists of lc differ in length")
                }
                for k in 0..<n {
                    guard let t = ZTFLightCurveCSV.number(jd.child, jd.range.lowerBound + k),
                          let f = ZTFLightCurveCSV.integer(fid.child, fid.range.lowerBound + k) else { continue }
                    func at(_ m: Int) -> (ArrayData, Int)? { others[m].map { ($0.child, $0.range.lowerBound + k) } }
                    func int(_ m: Int) -> Int64? { at(m).flatMap { ZTFLightCurveCSV.integer($0.0, $0.1) } }
                    func text(_ m: Int) -> String {
                        guard let (a, x) = at(m), a.isValid(x) else { return "" }
                        switch a.type {
                        case .float32: return "\(a.values(Float.self)[x])"
                        case .float64: return "\(a.values(Double.self)[x])"
                        default: return ZTFLightCurveCSV.number(a, x).map { "\($0)" } ?? ""
                        }
                    }
                    var negative = false
                    if let (a, x) = at(5), a.type == .string || a.type == .largeString, let s = a.string(at: x) {
                        negative = s == "f" || s == "0"
                    }
                    // others: field, rcid, magpsf, sigmapsf, diffmaglim, isdiffpos, magzpsci
                    rows.append(Row(key: Key(objectId: objectId, field: int(0), rcid: int(1), fid: f), jd: t, mag: text(2), magErr: text(3),
                                    limit: text(4), zp: text(6), sign: negative ? -1 : 1))
                }
            }
        }
        let oids = Dictionary(uniqueKeysWithValues: Set(rows.map(\.key)).sorted().enumerated().map { ($0.element, $0.offset + 1) })
        rows.sort { (oids[$0.key] ?? 0, $0.jd) < (oids[$1.key] ?? 0, $1.jd) }
        var out = "oid,objectid,mjd,mag,magerr,catflags,filtercode,field,rcid,limitmag,magzp,diffsign\n"
        for r in rows {
            let filter = [1: "zg", 2: "zr", 3: "zi"][r.key.fid] ?? "fid\(r.key.fid)"
            out += "\(oids[r.key] ?? 0),\(r.key.objectId),\(r.jd - 2_400_000.5),\(r.mag),\(r.magErr),0,\(filter),"
            out += "\(r.key.field.map(String.init) ?? ""),\(r.key.rcid.map(String.init) ?? ""),\(r.limit),\(r.zp),\(r.sign)\n"
        }
        return Array(out.utf8)
    }

    /// The child and element range of element `i` of a list column (`i` logical: a struct
    /// parent's offset already added); an empty range for a null list.
    private static func list(_ a: ArrayData, _ i: Int) -> (child: ArrayData, range: Range<Int>)? {
        guard case .list = a.type, let base = a.buffer1Base, let child = a.children.first, i >= 0, i < a.length else { return nil }
        guard a.isValid(i) else { return (child, 0..<0) }
        let offsets = base.assumingMemoryBound(to: Int32.self) + a.offset
        let lo = Int(offsets[i]), hi = Int(offsets[i + 1])
        guard lo >= 0, hi >= lo, hi <= child.length else { return nil }
        return (child, lo..<hi)
    }
}
