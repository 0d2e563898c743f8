import Formats
import Foundation
import RunEngine
import Sky

/// Pairs one left folder at a time and writes its output files.
struct PairMatcher: Sendable {
    let config: PairConfig
    let plan: PairPlan
    let right: RightPositions
    let provenance: [(String, String)]

    /// One pair: left index within the folder, right global index, separation in arcsec.
    struct Pair {
        var left: Int
        var right: Int
        var arcsec: Double
    }

    static let notes: [String: (units: String?, description: String)] = [
        "object_id": (nil, "the left object's id (with several pairs per left object: LEFT_RIGHT ids)"),
        "ra": ("deg", "the left object's right ascension"),
        "dec": ("deg", "the left object's declination"),
        "healpix": (nil, "the left object's nested HEALPix folder index"),
        "pair_dist_arcsec": ("arcsec", "angular separation of the pair"),
    ]

    /// Each pair's id: the left id when every left object pairs at most once.
    var uniqueLeft: Bool { if case .nearest(1) = config.mode { true } else { false } }

    /// The output columns, in storage order.
    var signatures: [ColumnSignature] {
        let leftID = plan.left.columns.first { $0.name == "object_id" }
        var out = [
            ColumnSignature(name: "object_id", kind: uniqueLeft ? (leftID?.kind ?? .string) : .string, rowShape: [], units: nil),
            ColumnSignature(name: "ra", kind: .float64, rowShape: [], units: "deg"),
            ColumnSignature(name: "dec", kind: .float64, rowShape: [], units: "deg"),
            ColumnSignature(name: "healpix", kind: .int64, rowShape: [], units: nil),
            ColumnSignature(name: "pair_dist_arcsec", kind: .float64, rowShape: [], units: "arcsec"),
        ]
        for n in plan.naming {
            let side = n.side == 0 ? plan.left : plan.right
            if var s = side.columns.first(where: { $0.name == n.source }) {
                s.name = n.output
                out.append(s)
            }
        }
        return out
    }

    func pair(_ folder: PairFolder, output: String) throws -> PairFolderRecord {
        let r = try right.get()
        // The folder's left positions, in file order.
        var fileOf: [Int] = [], rowOf: [Int] = [], ids: [String] = [], ra: [Double] = [], dec: [Double] = []
        var idParts: [ExampleColumn] = []
        // Each left file is read once, every column: most of its rows pair.
        var leftFiles: [[ExampleColumn]] = []
        for (k, f) in folder.files.enumerated() {
            try Interruption.check()
            let path = plan.left.root + "/" + f
            let all = try plan.left.read(file: f, rows: nil)
            leftFiles.append(all)
            let (idColumn, x, y) = try PairInput.positions(all, path: path)
            for i in 0..<x.count {
                fileOf.append(k); rowOf.append(i); ids.append(idColumn.values.text(at: i))
            }
            ra.append(contentsOf: x)
            dec.append(contentsOf: y)
            idParts.append(idColumn)
        }
        let maxChord = SphericalGeometry.chordLength(forAngle: config.radiusArcsec / 3600)
        var pairs: [Pair] = []
        var unpaired: [UnpairedObject] = []
        var found: [KDTree.Neighbor] = []
        for i in ra.indices {
            if i % 4096 == 0 { try Interruption.check() }
            let v = UnitVector(ra: ra[i], dec: dec[i])
            found.removeAll(keepingCapacity: true)
            switch config.mode {
            case .nearest(let k):
                r.tree.nearest(x: v.x, y: v.y, z: v.z, k: k, maxChord: maxChord, into: &found)
            case .allPairs:
                r.tree.forEachWithin(x: v.x, y: v.y, z: v.z, maxChord: maxChord) { found.append(KDTree.Neighbor(index: $0, chordSquared: $1)) }
                found.sort { $0.chordSquared != $1.chordSquared ? $0.chordSquared < $1.chordSquared : $0.index < $1.index }
            }
            if found.isEmpty { unpaired.append(UnpairedObject(id: ids[i], file: folder.files[fileOf[i]], row: rowOf[i])) }
            for nb in found {
                pairs.append(Pair(left: i, right: nb.index, arcsec: SphericalGeometry.angle(forChordLength: nb.chordSquared.squareRoot()) * 3600))
            }
        }
        // Rows sorted by the left object's position (HATS needs it; HDF5 files follow suit).
        let h29 = ra.indices.map { HEALPix.nestedIndex(ra: ra[$0], dec: dec[$0], order: 29) }
        pairs.sort { a, b in (h29[a.left], a.left) < (h29[b.left], b.left) }   // stable: nearest first within a left object

        let per = config.objectsPerFile
        let count = (pairs.count + per - 1) / per
        var files: [DataSetFile] = []
        var leaf: ExampleHATS.Leaf?
        let order = plan.left.healpixOrder ?? 4
        // The folder's pixel, else (an MMU folder not named by a pixel) the first object's.
        let pixel = folder.pixel ?? (h29.first.map { $0 >> Int64(2 * (29 - order)) } ?? 0)
        let hpx = HealpixPixel(checkedOrder: order, index: pixel)
        let allIDs = try ExampleColumn.concatenated(idParts.map { [$0] }, context: plan.left.root).first
        if count > 0 && config.format.writesHDF5 {
            let directory = output + "/" + folder.name
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw RunError.writing(directory, error)
            }
        }
        var hatsIDs: [String] = []
        for k in 0..<count {
            try Interruption.check()
            let part = Array(pairs[(k * per)..<min(pairs.count, (k + 1) * per)])
            let leftColumns = try gather(plan.left, files: folder.files, fileOf: part.map { fileOf[$0.left] }, rowOf: part.map { rowOf[$0.left] },
                                         loaded: leftFiles)
            let rightColumns = try gather(plan.right, files: r.files, fileOf: part.map { Int(r.file[$0.right]) }, rowOf: part.map { Int(r.row[$0.right]) })
            let pairIDs: [String] = part.map { uniqueLeft ? ids[$0.left] : ids[$0.left] + "_" + r.ids[$0.right] }
            var columns: [ExampleColumn] = [
                uniqueLeft ? (allIDs?.selecting(part.map(\.left)) ?? ExampleColumn("object_id", .string(pairIDs))) : ExampleColumn("object_id", .string(pairIDs)),
                ExampleColumn("ra", .float64(part.map { ra[$0.left] })),
                ExampleColumn("dec", .float64(part.map { dec[$0.left] })),
                ExampleColumn("healpix", .int64(Array(repeating: pixel, count: part.count))),
                ExampleColumn("pair_dist_arcsec", .float64(part.map(\.arcsec))),
            ]
            for j in columns.indices {
                columns[j].units = Self.notes[columns[j].name]?.units
                columns[j].description = Self.notes[columns[j].name]?.description
            }
            for n in plan.naming {
                let source = n.side == 0 ? leftColumns : rightColumns
                guard let c = source.first(where: { $0.name == n.source }) else {
                    throw FormatError(.corruptInput, "column \(n.source) is missing from a file of the \(n.side == 0 ? "left" : "right") data set",
                                      path: n.side == 0 ? plan.left.root : plan.right.root)
                }
                var renamed = c.renamed(n.output)
                if renamed.description == nil { renamed.description = "\(n.side == 0 ? plan.left.name : plan.right.name): \(n.source)" }
                columns.append(renamed)
            }
            if config.format.writesHDF5 {
                let relative = folder.name + "/" + StampsPipeline.fileName(k, of: count)
                do {
                    // Made durable with the rest of its group (PairPipeline), before the group's record.
                    try ExampleFile.write(columns, attributes: provenance, to: output + "/" + relative, deflate: config.deflateLevel,
                                          durable: false)
                } catch let e as HDF5Error {
                    throw RunError.writing(output + "/" + relative, e)
                }
                files.append(DataSetFile(path: relative, ids: pairIDs))
            }
            if config.format.writesHATS {
                guard let hpx else { throw RunError.configuration("\(folder.name) of the left data set is not a HEALPix pixel at order \(order)") }
                if leaf == nil { leaf = try ExampleHATS.Leaf(root: output, pixel: hpx, schema: ExampleHATS.schema(signatures)) }
                try leaf?.append(columns, healpix29: part.map { h29[$0.left] })
                hatsIDs.append(contentsOf: pairIDs)
            }
        }
        try leaf?.close()
        if !config.format.writesHDF5, leaf != nil, let hpx {
            files.append(DataSetFile(path: "dataset/" + HATSLayout.leafRelativePath(hpx), ids: hatsIDs))
        }
        return PairFolderRecord(folder: folder.name, files: files, pairs: Int64(pairs.count), hatsRows: leaf?.rows ?? 0,
                                hatsPixel: leaf != nil ? hpx?.index : nil,
                                unpairedLeft: unpaired, pairedRight: Array(Set(pairs.map { Int32($0.right) })).sorted())
    }

    /// The side's columns for rows (`fileOf[i]`, `rowOf[i]`) in that order, each file read once
    /// for just the rows it gives.
    func gather(_ side: PairInput, files: [String], fileOf: [Int], rowOf: [Int], loaded: [[ExampleColumn]]? = nil) throws -> [ExampleColumn] {
        var rowsByFile: [Int: [Int]] = [:]
        for (f, r) in zip(fileOf, rowOf) { rowsByFile[f, default: []].append(r) }
        var parts: [[ExampleColumn]] = []
        var position: [Int: [Int: Int]] = [:]
        var offset = 0
        for f in rowsByFile.keys.sorted() {
            let rows = Array(Set(rowsByFile[f] ?? [])).sorted()
            if let loaded, loaded.indices.contains(f) {
                parts.append(loaded[f].map { $0.selecting(rows) })
            } else {
                parts.append(try side.read(file: files[f], rows: rows))
            }
            var here: [Int: Int] = [:]
            for (j, r) in rows.enumerated() { here[r] = offset + j }
            position[f] = here
            offset += rows.count
        }
        let joined = try ExampleColumn.concatenated(parts, context: side.root)
        let order = zip(fileOf, rowOf).map { position[$0]?[$1] ?? 0 }
        return joined.map { $0.selecting(order) }
    }
}
