import Foundation
import Testing
import Pipelines
import TestSupport

/// A damaged or hand-edited catalog tree, and which commands must refuse it.
struct HostileTree: Sendable, CustomTestStringConvertible {
    var name: String
    /// Changes a copy of a good catalog (the folder).
    var damage: @Sendable (String) throws -> Void
    /// Commands (`info`, `cone`, `margin`, `crossmatch`) that must stop with an error; the others must work.
    var failing: Set<String>
    /// Text the error must contain (it names the file, line or setting).
    var says: String
    var testDescription: String { name }
}

/// Catalog trees that are not what they claim: every command gives an error naming the problem
/// (exit 1 or 2), never a trap, and never skips rows silently.
@Suite("Hostile catalog trees", .serialized)
struct HostileCatalogTests {
    static let all: Set<String> = ["info", "cone", "margin", "crossmatch"]
    static let reading: Set<String> = ["cone", "margin", "crossmatch"]

    /// A leaf of the catalog (the first in partition_info.csv order) and its relative path.
    static func someLeaf(_ root: String) throws -> (path: String, order: Int, index: Int64) {
        let lines = try String(contentsOfFile: root + "/partition_info.csv", encoding: .utf8).split(separator: "\n")
        let p = lines[1].split(separator: ",")
        let order = Int(p[0])!, index = Int64(p[1])!
        return (root + "/dataset/Norder=\(order)/Dir=\((index / 10000) * 10000)/Npix=\(index).parquet", order, index)
    }

    static func copyLeaf(_ root: String, to relative: String) throws {
        let target = root + "/dataset/" + relative
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try someLeaf(root).path, toPath: target)
    }

    static func withoutPartitionInfo(_ root: String, then: (String) throws -> Void) throws {
        try then(root)
        try FileManager.default.removeItem(atPath: root + "/partition_info.csv")
    }

    static func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    static func partitionInfo(_ root: String) throws -> [String] {
        try String(contentsOfFile: root + "/partition_info.csv", encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static func rewriteLeaf(_ root: String, _ python: String) throws {
        try TestSupport.runPython("""
            import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
            path = sys.argv[1]
            t = pq.read_table(path)
            cols = {n: t[n].to_numpy().copy() for n in t.column_names}
            \(python)
            pq.write_table(pa.table(cols, schema=t.schema), path)
            """, arguments: [try someLeaf(root).path])
    }

    static let trees: [HostileTree] = [
        HostileTree(name: "stray Npix=12 at order 0, no partition_info.csv", damage: { r in
            try withoutPartitionInfo(r) { try copyLeaf($0, to: "Norder=0/Dir=0/Npix=12.parquet") }
        }, failing: all, says: "Npix=12"),
        HostileTree(name: "Norder=abc folder holding a leaf", damage: { r in
            try withoutPartitionInfo(r) { try copyLeaf($0, to: "Norder=abc/Dir=0/Npix=1.parquet") }
        }, failing: all, says: "Norder=abc"),
        HostileTree(name: "negative Npix", damage: { r in
            try withoutPartitionInfo(r) { try copyLeaf($0, to: "Norder=1/Dir=0/Npix=-3.parquet") }
        }, failing: all, says: "Npix=-3"),
        HostileTree(name: "Npix not a number", damage: { r in
            try withoutPartitionInfo(r) { try copyLeaf($0, to: "Norder=1/Dir=0/Npix=4x.parquet") }
        }, failing: all, says: "Npix=4x"),
        HostileTree(name: "leaf in the wrong Dir", damage: { r in
            try withoutPartitionInfo(r) { root in
                let leaf = try someLeaf(root)
                let target = root + "/dataset/Norder=\(leaf.order)/Dir=10000/Npix=\(leaf.index).parquet"
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileManager.default.moveItem(atPath: leaf.path, toPath: target)
            }
        }, failing: all, says: "Dir=10000"),
        HostileTree(name: "a Parquet file outside the leaf layout", damage: { r in
            try withoutPartitionInfo(r) { try copyLeaf($0, to: "stray.parquet") }
        }, failing: all, says: "stray.parquet"),
        HostileTree(name: "order 31", damage: { r in
            try withoutPartitionInfo(r) { try copyLeaf($0, to: "Norder=31/Dir=0/Npix=0.parquet") }
        }, failing: all, says: "Norder=31"),
        HostileTree(name: "no partition_info.csv (the leaves are read)", damage: { r in
            try FileManager.default.removeItem(atPath: r + "/partition_info.csv")
        }, failing: [], says: ""),
        HostileTree(name: "partition_info.csv cut inside a line", damage: { r in
            var lines = try partitionInfo(r)
            lines[lines.count - 1] = String(lines[lines.count - 1].split(separator: ",")[0]) + ","
            try write(lines.joined(separator: "\n"), r + "/partition_info.csv")
        }, failing: all, says: "partition_info.csv line"),
        HostileTree(name: "partition_info.csv cut inside the header", damage: { r in
            try write("Norder,Np", r + "/partition_info.csv")
        }, failing: all, says: "Norder,Npix header"),
        HostileTree(name: "partition_info.csv empty", damage: { r in
            try write("", r + "/partition_info.csv")
        }, failing: all, says: "Norder,Npix header"),
        HostileTree(name: "partition_info.csv naming a missing leaf", damage: { r in
            var lines = try partitionInfo(r)
            let last = lines[lines.count - 1].split(separator: ",")
            lines[lines.count - 1] = "\(last[0]),\(String(last[1]).dropLast())"  // "8,12345" cut to "8,1234"
            try write(lines.joined(separator: "\n") + "\n", r + "/partition_info.csv")
        }, failing: all, says: "is not a HATS catalog"),
        HostileTree(name: "partition_info.csv with an impossible pixel", damage: { r in
            try write(try partitionInfo(r).joined(separator: "\n") + "\n40,1\n", r + "/partition_info.csv")
        }, failing: all, says: "40,1"),
        HostileTree(name: "partition_info.csv with a 20-digit pixel", damage: { r in
            try write(try partitionInfo(r).joined(separator: "\n") + "\n3,99999999999999999999\n", r + "/partition_info.csv")
        }, failing: all, says: "99999999999999999999"),
        HostileTree(name: "no hats.properties", damage: { r in
            try FileManager.default.removeItem(atPath: r + "/hats.properties")
            try FileManager.default.removeItem(atPath: r + "/properties")
        }, failing: all, says: "hats.properties"),
        HostileTree(name: "hats.properties not UTF-8", damage: { r in
            for f in ["hats.properties", "properties"] { try Data([0xff, 0xfe, 0x00, 0xc3, 0x28]).write(to: URL(fileURLWithPath: r + "/" + f)) }
        }, failing: all, says: "hats.properties"),
        HostileTree(name: "hats.properties a folder", damage: { r in
            for f in ["hats.properties", "properties"] {
                try FileManager.default.removeItem(atPath: r + "/" + f)
                try FileManager.default.createDirectory(atPath: r + "/" + f, withIntermediateDirectories: false)
            }
        }, failing: all, says: "hats.properties"),
        HostileTree(name: "hats.properties cut short (defaults apply)", damage: { r in
            let text = try String(contentsOfFile: r + "/hats.properties", encoding: .utf8)
            try write(String(text.prefix(40)), r + "/hats.properties")
        }, failing: [], says: ""),
        HostileTree(name: "hats.properties with absurd numbers", damage: { r in
            let text = try String(contentsOfFile: r + "/hats.properties", encoding: .utf8)
            try write(text + "hats_nrows=-99999999999999999999\nhats_margin_threshold=nan\n", r + "/hats.properties")
        }, failing: [], says: ""),
        HostileTree(name: "leaves stored as folders (hats_npix_suffix=/)", damage: { r in
            let text = try String(contentsOfFile: r + "/hats.properties", encoding: .utf8)
            try write(text.replacingOccurrences(of: "hats_npix_suffix=.parquet", with: "hats_npix_suffix=/"), r + "/hats.properties")
        }, failing: all, says: "hats_npix_suffix"),
        HostileTree(name: "_common_metadata truncated", damage: { r in
            let path = r + "/dataset/_common_metadata"
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        }, failing: all, says: "_common_metadata"),
        HostileTree(name: "_metadata garbage (AstroPile does not need it)", damage: { r in
            try Data(repeating: 0x41, count: 100).write(to: URL(fileURLWithPath: r + "/dataset/_metadata"))
        }, failing: [], says: ""),
        HostileTree(name: "a leaf truncated", damage: { r in
            let path = try someLeaf(r).path
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        }, failing: reading, says: "Npix="),
        HostileTree(name: "NaN and |dec| > 90 positions in a leaf", damage: { r in
            try rewriteLeaf(r, "cols['ra'][:3] = np.nan\ncols['dec'][3:5] = 95.0")
        }, failing: [], says: ""),
        HostileTree(name: "_healpix_29 outside its partition", damage: { r in
            try rewriteLeaf(r, "cols['_healpix_29'][0] = -5")
        }, failing: ["margin"], says: "outside its partition"),
    ]

    @Test(arguments: trees)
    func commandsRefuseWithAnErrorNotATrap(_ tree: HostileTree) throws {
        let f = try StopFixture.get()
        let dir = try TestSupport.temporaryDirectory("hostile").path
        let root = dir + "/cat"
        try FileManager.default.copyItem(atPath: f.catalog, toPath: root)
        try tree.damage(root)
        let commands: [(String, [String])] = [
            ("info", ["info", root]),
            ("cone", ["cone", root, "--ra", "10.5", "--dec", "-4.5", "--radius", "180deg", "--count"]),
            ("margin", ["margin", root, "--radius", "5arcsec", "--output", dir + "/margin", "--quiet"]),
            ("crossmatch", ["crossmatch", root, f.catalog, "--radius", "5arcsec", "--margin", f.margin, "--output", dir + "/x", "--quiet"]),
        ]
        for (name, args) in commands {
            let r = try TestSupport.runProcess(TestSupport.executable, args)
            #expect(!r.signaled, "\(name) trapped (signal \(r.status)) on '\(tree.name)': \(r.stderr.suffix(500))")
            if tree.failing.contains(name) {
                #expect(r.status == 1 || r.status == 2, "\(name) should refuse '\(tree.name)', exited \(r.status)")
                #expect(r.stderr.contains(tree.says), "\(name) on '\(tree.name)' should say '\(tree.says)': \(r.stderr.suffix(500))")
            } else {
                #expect(r.status == 0, "\(name) should work on '\(tree.name)': \(r.stderr.suffix(500))")
            }
        }
    }

    /// The hats-import fixture whose leaves are folders is refused clearly.
    @Test func leavesAsFoldersAreRefused() throws {
        let root = try TestSupport.fixture("hats-import/small_sky_source_npix_dir_catalog")
        let r = try TestSupport.runProcess(TestSupport.executable, ["info", root])
        #expect(!r.signaled && r.status == 1)
        #expect(r.stderr.contains("hats_npix_suffix=/"), "\(r.stderr)")
    }
}

/// FITS headers with absurd numbers (sizes whose products overflow, huge repeat counts and
/// dimensions): never a trap; a file that cannot be read is rejected with a message naming it.
@Suite("Hostile FITS headers", .serialized)
struct HostileFITSTests {
    static let edits: [[String: String]] = [
        ["NAXIS2": "4294967296", "PCOUNT": "9223372036854775807"],
        ["NAXIS2": "9223372036854775807"],
        ["NAXIS1": "9223372036854775807"],
        ["PCOUNT": "-5"],
        ["THEAP": "-9223372036854775807"],
        ["TFORM1": "'99999999999999999K'"],
        ["TFORM1": "'1099511627776K'"],
        ["TFORM2": "'1PD(9223372036854775807)'"],
        ["TDIM1": "'(4294967296,4294967296)'"],
        ["TFORM1": "'3K'", "TDIM1": "'(99999999999999999999)'"],
        ["TSCAL2": "1E400", "TZERO2": "NAN"],
        ["TNULL1": "99999999999999999999"],
        ["TFIELDS": "99999"],
    ]

    @Test(arguments: edits.indices)
    func absurdHeaderNumbersAreRejected(_ k: Int) throws {
        let dir = try TestSupport.temporaryDirectory("fits-hostile").path
        let source = try TestSupport.fixture("hats-import/test_formats/small_sky.fits")
        let bad = dir + "/bad.fits"
        let pairs = Self.edits[k].map { "\($0.key)=\($0.value)" }
        try TestSupport.runPython("""
            import sys
            data = bytearray(open(sys.argv[1], 'rb').read())
            for pair in sys.argv[3:]:
                key, value = pair.split('=', 1)
                for i in range(0, len(data), 80):
                    if data[i:i + 8] == key.ljust(8).encode():
                        data[i:i + 80] = (key.ljust(8) + '= ' + value.rjust(20)).ljust(80).encode()
                        break
            open(sys.argv[2], 'wb').write(data)
            """, arguments: [source, bad] + pairs)
        let r = try TestSupport.runProcess(TestSupport.executable, ["import", "--input", bad, "--output", dir + "/cat", "--quiet"])
        #expect(!r.signaled, "\(pairs): trapped (signal \(r.status)): \(r.stderr.suffix(600))")
        #expect([0, 1, 2, 3].contains(r.status), "\(pairs): exit \(r.status)")
        // Rejected whole (or nothing readable left): the message names the file. (A header key
        // the file does not have is not edited, and the file imports as it is.)
        if r.status == 3 || r.status == 2 {
            #expect(r.stderr.contains("bad.fits"), "\(pairs): the message names the file: \(r.stderr.suffix(400))")
        }
    }
}
