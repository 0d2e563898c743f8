import Foundation
import Testing
@testable import Formats

/// `skymap.fits` / `point_map.fits` as hats writes and reads them.
@Suite("FITS HEALPix skymaps")
struct FITSSkymapTests {
    /// hats 0.11 writing (`file_io.write_fits_image`) and reading (`file_io.read_fits_image`,
    /// `skymap.read_skymap`), and healpy reading.
    static let script = #"""
import sys, json, warnings
from types import SimpleNamespace
import numpy as np
warnings.simplefilter('ignore')
from hats.io.file_io import file_io
from hats.io.skymap import read_skymap

cmd = sys.argv[1]
if cmd == 'write':  # write <{name: counts} json> <folder>: <folder>/<index>.fits per map, in order
    for i, counts in enumerate(json.load(open(sys.argv[2]))):
        file_io.write_fits_image(np.array(counts, dtype=np.int64), f'{sys.argv[3]}/{i}.fits')
elif cmd == 'read':  # read <path>...: per path, hats' and healpy's reading
    import healpy
    out = []
    for path in sys.argv[2:]:
        hats = file_io.read_fits_image(path)
        hp = healpy.read_map(path, nest=True, dtype=None)
        unseen = [None if v == healpy.UNSEEN else int(v) for v in hp]
        out.append({'hats': [int(v) for v in hats], 'healpy': unseen, 'hatsDtype': str(hats.dtype)})
    json.dump(out, sys.stdout)
elif cmd == 'read_skymap':
    base, order, alts = sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
    cat = SimpleNamespace(catalog_base_dir=base, catalog_info=SimpleNamespace(skymap_order=order, skymap_alt_orders=alts))
    out = {str(k): [int(v) for v in read_skymap(cat, k)] for k in json.loads(sys.argv[5])}
    json.dump(out, sys.stdout)
"""#

    struct Read: Decodable {
        let hats: [Int64]
        let healpy: [Int64?]
        let hatsDtype: String
    }

    /// Count maps covering both layouts and the edges of hats' choice between them.
    static let maps: [(name: String, order: Int, counts: [Int64])] = [
        ("ramp order 0", 0, (0..<12).map { Int64($0) + 5 }),
        ("all zero", 0, [Int64](repeating: 0, count: 12)),
        ("exactly half zero", 0, (0..<12).map { $0 < 6 ? 3 : 0 }),
        ("just over half zero", 0, (0..<12).map { $0 < 5 ? 3 : 0 }),
        ("sparse order 1", 1, (0..<48).map { $0 == 3 ? 7 : $0 == 40 ? 1 : 0 }),
        ("dense order 3", 3, (0..<768).map { Int64(($0 * 7919) % 5) * 1_000_003 }),
        ("huge values order 2", 2, (0..<192).map { $0 % 3 == 0 ? 0 : Int64(1) << 62 - Int64($0) }),
        ("sparse order 5", 5, (0..<12288).map { $0 % 97 == 0 ? Int64($0) : 0 }),
    ]

    /// hats' files for every map of ``maps`` (one Python run for all of them).
    static let hatsFiles: Result<[[UInt8]], any Error> = Result {
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("maps.json")
        try JSONEncoder().encode(maps.map(\.counts)).write(to: json)
        _ = try FITSTestSupport.python(script, ["write", json.path, dir.path], in: dir)
        return try maps.indices.map { [UInt8](try Data(contentsOf: dir.appendingPathComponent("\($0).fits"))) }
    }

    /// hats' and healpy's reading of every map of ``maps`` written by ``HEALPixMapWriter``, and
    /// what was left in the folder besides the files (one Python run for all of them).
    static let roundTrips: Result<(reads: [Read], leftovers: [String]), any Error> = Result {
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = maps.indices.map { dir.appendingPathComponent("skymap-\($0).fits").path }
        for (m, path) in zip(maps, paths) { try HEALPixMapWriter.write(counts: m.counts, order: m.order, to: path) }
        let leftovers = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)).subtracting(paths.map { ($0 as NSString).lastPathComponent })
        let reads = try JSONDecoder().decode([Read].self, from: FITSTestSupport.python(script, ["read"] + paths, in: dir))
        return (reads, leftovers.sorted())
    }

    static func counts(named name: String) -> (order: Int, counts: [Int64]) {
        let m = maps.first { $0.name == name }!
        return (m.order, m.counts)
    }

    /// Offset of the `CREATOR` card in the table header (cards start at multiples of 80).
    private func creatorCard(_ bytes: [UInt8]) -> Int? {
        stride(from: 2880, to: min(bytes.count, 5760), by: 80).first { Array(bytes[$0..<($0 + 8)]) == Array("CREATOR ".utf8) }
    }

    @Test(arguments: maps.map(\.name))
    func bytesMatchHats(map: String) throws {
        let (order, counts) = Self.counts(named: map)
        let theirs = try Self.hatsFiles.get()[Self.maps.firstIndex { $0.name == map }!]
        let ours = try HEALPixMapWriter.encode(counts: counts, order: order)
        #expect(ours.count == theirs.count)
        let c1 = try #require(creatorCard(ours)), c2 = try #require(creatorCard(theirs))
        #expect(c1 == c2)
        #expect(String(decoding: ours[c1..<(c1 + 80)], as: UTF8.self).hasPrefix("CREATOR = 'AstroPile'"))
        var masked = ours
        masked.replaceSubrange(c1..<(c1 + 80), with: theirs[c2..<(c2 + 80)])
        if let first = zip(masked, theirs).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            Issue.record("\(map): first differing byte at \(first)")
        }
        #expect(masked == theirs)
    }

    @Test(arguments: maps.map(\.name))
    func roundTripThroughHatsAndHealpy(map: String) throws {
        let (order, counts) = Self.counts(named: map)
        let (reads, leftovers) = try Self.roundTrips.get()
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        let read = reads[Self.maps.firstIndex { $0.name == map }!]
        #expect(read.hats == counts)
        #expect(read.hatsDtype == "int64")
        let explicit = 2 * counts.filter { $0 == 0 }.count > counts.count
        // healpy fills the pixels an explicit map leaves out with UNSEEN.
        #expect(read.healpy == counts.map { explicit && $0 == 0 ? nil : $0 })
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("skymap.fits").path
        try HEALPixMapWriter.write(counts: counts, order: order, to: path)
        let back = try HEALPixMapReader.read(path: path)
        #expect(back.order == order && back.counts == counts)
    }

    @Test(arguments: [HEALPixMapWriter.Layout.implicit, .explicit])
    func forcedLayoutsReadBack(layout: HEALPixMapWriter.Layout) throws {
        let (order, counts) = Self.counts(named: "dense order 3")
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("map.fits").path
        try HEALPixMapWriter.write(counts: counts, order: order, to: path, layout: layout)
        let read = try JSONDecoder().decode([Read].self, from: FITSTestSupport.python(Self.script, ["read", path], in: dir))[0]
        #expect(read.hats == counts)
        let reader = try FITSTableReader(path: path)
        #expect(try reader.stringKeyword("INDXSCHM") == (layout == .implicit ? "IMPLICIT" : "EXPLICIT"))
        #expect(reader.schema.names == (layout == .implicit ? ["VALUE"] : ["PIXEL", "VALUE"]))
    }

    @Test func catalogMapsWithAlternativeOrders() throws {
        let (order, counts) = Self.counts(named: "dense order 3")
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try HEALPixMapWriter.writeCatalogMaps(counts: counts, order: order, alternativeOrders: [0, 2], catalogDirectory: dir.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
                == ["point_map.fits", "skymap.0.fits", "skymap.2.fits", "skymap.fits"])
        let out = try FITSTestSupport.python(Self.script, ["read_skymap", dir.path, "3", "[0, 2]", "[0, 1, 2, 3]"], in: dir)
        let maps = try JSONDecoder().decode([String: [Int64]].self, from: out)
        for k in 0...3 {
            #expect(maps[String(k)] == HEALPixMapWriter.downsample(counts, from: 3, to: k), "order \(k)")
        }
        // Without skymap_order, hats falls back to point_map.fits.
        let fallback = try JSONDecoder().decode([String: [Int64]].self,
                                                from: FITSTestSupport.python(Self.script, ["read_skymap", dir.path, "null", "null", "[3, 1]"], in: dir))
        #expect(fallback["3"] == counts)
        #expect(fallback["1"] == HEALPixMapWriter.downsample(counts, from: 3, to: 1))
        #expect(try HEALPixMapReader.read(path: dir.appendingPathComponent("skymap.2.fits").path).counts
                == HEALPixMapWriter.downsample(counts, from: 3, to: 2))
    }

    @Test(arguments: ["small_sky_object_catalog/skymap.fits", "small_sky_source_catalog/point_map.fits"])
    func readsHatsImportFixtureMaps(file: String) throws {
        let path = try FITSTestSupport.fixture("hats-import/" + file)
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let read = try JSONDecoder().decode([Read].self, from: FITSTestSupport.python(Self.script, ["read", path], in: dir))[0]
        let ours = try HEALPixMapReader.read(path: path)
        #expect(ours.order == 5)
        #expect(ours.counts == read.hats)
        #expect(ours.counts.reduce(0, +) > 0)
    }

    @Test func invalidArguments() throws {
        let dir = try FITSTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.fits").path
        func code(_ body: () throws -> Void) -> FormatError.Code? {
            do { try body(); return nil } catch let e as FormatError { return e.code } catch { return nil }
        }
        #expect(code { try HEALPixMapWriter.write(counts: [1, 2, 3], order: 0, to: path) } == .invalidArgument)
        #expect(code { try HEALPixMapWriter.write(counts: [Int64](repeating: -1, count: 12), order: 0, to: path) } == .invalidArgument)
        #expect(code { try HEALPixMapWriter.write(counts: [], order: 30, to: path) } == .invalidArgument)
        #expect(code {
            try HEALPixMapWriter.writeCatalogMaps(counts: [Int64](repeating: 1, count: 48), order: 1, alternativeOrders: [2],
                                                  catalogDirectory: dir.path)
        } == .invalidArgument)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        #expect(HEALPixMapWriter.fileName(order: nil) == "skymap.fits")
        #expect(HEALPixMapWriter.fileName(order: 4) == "skymap.4.fits")
    }
}
