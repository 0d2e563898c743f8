import Foundation
import Testing
@testable import Sky

// Partition plans (the import's bin stage) against hats / hats-import themselves: the project venv's
// Python builds histograms with hats' own HEALPix code (cdshealpix) from the fixture CSVs and from
// random clustered skies, and records what hats-import's binning makes of them; AstroPile must give
// the same pixels, in the same order, with the same counts. Python or hats missing is a failure.

// MARK: - Known answers (hats-import test data, DESIGN.md §6)

@Suite struct PartitionPlanKnownAnswerTests {
    @Test(arguments: [
        ("small_sky_parts", AlignmentConfig(highestOrder: 0), [Partition(0, 11, 131)]),
        ("small_sky_parts", AlignmentConfig(highestOrder: 1), [Partition(0, 11, 131)]),
        ("small_sky_parts", AlignmentConfig(highestOrder: 1, constantOrder: 1),
         [Partition(1, 44, 42), Partition(1, 45, 29), Partition(1, 46, 42), Partition(1, 47, 18)]),
        ("small_sky", AlignmentConfig(highestOrder: 5), [Partition(0, 11, 131)]),
    ])
    func smallSky(fixture: String, config: AlignmentConfig, expected: [Partition]) throws {
        let reference = try ReferenceSet.fixtures.get()
        let plan = try PartitionPlan.align(try reference.histogram(fixture), config: config)
        #expect(Partition.list(plan) == expected)
    }

    /// The shipped `small_sky_source_catalog` (threshold 3000, drop_empty_siblings=False; its
    /// hats_skymap_order says it was mapped at order 5, DESIGN.md says 2: both give the same pixels).
    @Test(arguments: [2, 5])
    func smallSkySourceCatalog(highestOrder: Int) throws {
        let reference = try ReferenceSet.fixtures.get()
        let config = AlignmentConfig(highestOrder: highestOrder, threshold: 3000, dropEmptySiblings: false)
        let plan = try PartitionPlan.align(try reference.histogram("small_sky_source"), config: config)
        #expect(plan.count == 14)
        #expect(plan.rowCount(of: HealpixPixel(order: 1, index: 47)) == 2395)
        #expect(plan.totalRows == 17161)
        #expect(plan.maxPixelOrder == 2)
        // The shipped file (hats-import 0.6.6) lists pixels by (Norder, Npix); hats 0.11.1 writes
        // them breadth-first, (1, 47) after (2, 187), which is the plan's order.
        let shipped = try shippedPartitionInfo("small_sky_source_catalog")
        #expect(plan.pixels == shipped.sorted())
        #expect(shipped == plan.pixels.sorted { ($0.order, $0.index) < ($1.order, $1.index) })
        #expect(plan.pixels.last == HealpixPixel(order: 1, index: 47))
    }

    @Test func smallSkyObjectCatalog() throws {
        let reference = try ReferenceSet.fixtures.get()
        let plan = try PartitionPlan.align(try reference.histogram("small_sky"), config: AlignmentConfig(highestOrder: 5))
        #expect(plan.pixels == (try shippedPartitionInfo("small_sky_object_catalog")))
    }

    /// With the default drop_empty_siblings=True the 50 rows of (0, 4) land in a smaller pixel.
    @Test func smallSkySourceDroppingEmptySiblings() throws {
        let reference = try ReferenceSet.fixtures.get()
        let config = AlignmentConfig(highestOrder: 2, threshold: 3000)
        let plan = try PartitionPlan.align(try reference.histogram("small_sky_source"), config: config)
        #expect(plan.count == 14)
        #expect(plan.destination(of: HealpixPixel(order: 0, index: 4)) == nil)
        #expect(plan.rowCount(of: HealpixPixel(order: 2, index: 66)) == 50)
    }

    /// Every fixture configuration hats-import was asked about, compared case by case.
    @Test func fixturesMatchHats() throws {
        let reference = try ReferenceSet.fixtures.get()
        #expect(reference.cases.count > 1000)
        reference.checkAll()
    }
}

// MARK: - Random clustered skies against hats

@Suite struct PartitionPlanRandomSkyTests {
    @Test(arguments: 1...8)
    func randomSkiesMatchHats(order: Int) throws {
        let reference = try ReferenceSet.load(["random", String(order)])
        #expect(reference.cases.count >= 30)
        #expect(reference.cases.contains { $0.expected.error != nil })
        #expect(reference.cases.contains { $0.expected.error == nil })
        reference.checkAll()
    }
}

// MARK: - Pure unit tests

@Suite struct PartitionPlanUnitTests {
    /// 25 rows in each of four order-5 pixels, one per order-4 child of (3, 100).
    static func spreadHistogram() -> PixelHistogram {
        var histogram = PixelHistogram(order: 5)
        for index: Int64 in [1600, 1604, 1608, 1612] { histogram.add(25, to: HealpixPixel(order: 5, index: index)) }
        return histogram
    }

    @Test func overThresholdNamesPixelAndSuggestsOrder() throws {
        let error = #expect(throws: AlignmentError.self) {
            try PartitionPlan.align(Self.spreadHistogram(), config: AlignmentConfig(highestOrder: 3, threshold: 30))
        }
        guard case .pixelOverThreshold(let over) = error else { Issue.record("wrong error \(String(describing: error))"); return }
        #expect(over.pixel == HealpixPixel(order: 3, index: 100))
        #expect(over.count == 100 && over.threshold == 30 && over.measure == .rows)
        #expect(over.pixelsOverThreshold == 1)
        #expect(over.suggestedHighestOrder == 4)
        let message = String(describing: error!)
        #expect(message.contains("pixel (order 3, index 100) holds 100 rows, over the threshold of 30"))
        #expect(message.contains("with a highest order of 4 no pixel exceeds it"))
    }

    @Test func overThresholdWithNoFittingOrder() throws {
        let error = #expect(throws: AlignmentError.self) {
            try PartitionPlan.align(Self.spreadHistogram(), config: AlignmentConfig(highestOrder: 3, threshold: 20))
        }
        guard case .pixelOverThreshold(let over) = error else { Issue.record("wrong error"); return }
        #expect(over.suggestedHighestOrder == nil)
        #expect(over.fullestAtHistogramOrder == HealpixPixel(order: 5, index: 1600))
        #expect(over.fullestCountAtHistogramOrder == 25)
        let message = String(describing: error!)
        #expect(message.contains("no highest order up to 5"))
        #expect(message.contains("raise the threshold to at least 25"))

        let coarse = #expect(throws: AlignmentError.self) {
            try PartitionPlan.align(Self.spreadHistogram().degraded(to: 3), config: AlignmentConfig(highestOrder: 3, threshold: 30))
        }
        #expect(String(describing: coarse!).contains("no order finer than 3 can be evaluated"))
    }

    @Test func overThresholdInBytes() throws {
        var sizes = PixelHistogram(order: 5)
        sizes.add(5000, to: HealpixPixel(order: 5, index: 7))
        let error = #expect(throws: AlignmentError.self) {
            try PartitionPlan.align(Self.spreadHistogram(), sizes: sizes,
                                    config: AlignmentConfig(highestOrder: 5, byteThreshold: 4000))
        }
        guard case .pixelOverThreshold(let over) = error else { Issue.record("wrong error"); return }
        #expect(over.pixel == HealpixPixel(order: 5, index: 7) && over.measure == .bytes)
        #expect(String(describing: error!).contains("5000 bytes"))
    }

    @Test func constantOrderIgnoresThreshold() throws {
        let histogram = Self.spreadHistogram()
        for config in [AlignmentConfig(highestOrder: 3, threshold: 1, constantOrder: 4),
                       AlignmentConfig(highestOrder: 4, lowestOrder: 4, threshold: 1)] {
            let plan = try PartitionPlan.align(histogram, config: config)
            #expect(plan.pixels == (400...403).map { HealpixPixel(order: 4, index: $0) })
            #expect(plan.rowCounts == [25, 25, 25, 25])
            #expect(plan.highestOrder == 4 && plan.alignmentOrder == 4)
        }
        #expect(throws: AlignmentError.histogramTooCoarse(histogramOrder: 5, requiredOrder: 6)) {
            try PartitionPlan.align(histogram, config: AlignmentConfig(constantOrder: 6))
        }
    }

    @Test(arguments: [
        AlignmentConfig(highestOrder: 6), AlignmentConfig(highestOrder: 6, dropEmptySiblings: false),
        AlignmentConfig(highestOrder: 6, lowestOrder: 2, useLowerOrder: false), AlignmentConfig(constantOrder: 3),
        AlignmentConfig(highestOrder: 6, byteThreshold: 10),
    ])
    func emptyHistogram(config: AlignmentConfig) throws {
        let empty = PixelHistogram(order: 6)
        let plan = try PartitionPlan.align(empty, sizes: empty, config: config)
        #expect(plan.isEmpty && plan.totalRows == 0 && plan.maxPixelOrder == nil)
        #expect(plan.destination(ofHealpix29: 12345) == nil)
        #expect(plan.destination(ofHighestOrderIndex: 0) == nil)
    }

    /// One pixel alone: hats-import keeps it at the coarsest order above the lowest that fits
    /// (use_lower_order) when dropping empty siblings, at order 0 otherwise.
    @Test(arguments: [
        (true, true, Partition(1, 4, 10)), (true, false, Partition(5, 1234, 10)),
        (false, true, Partition(0, 1, 10)), (false, false, Partition(0, 1, 10)),
    ])
    func lonePixel(drop: Bool, useLowerOrder: Bool, expected: Partition) throws {
        var histogram = PixelHistogram(order: 5)
        histogram.add(10, to: HealpixPixel(order: 5, index: 1234))
        let config = AlignmentConfig(highestOrder: 5, threshold: 100, dropEmptySiblings: drop, useLowerOrder: useLowerOrder)
        let plan = try PartitionPlan.align(histogram, config: config)
        #expect(Partition.list(plan) == [expected])
        #expect(plan.destination(ofHighestOrderIndex: 1234) == HealpixPixel(order: expected.order, index: expected.index))
        #expect(plan.destination(ofHighestOrderIndex: 1233) == (expected.order < 5 ? plan.pixels[0] : nil))
    }

    @Test func histogramFromHealpix29() {
        let pixel = HealpixPixel(order: 2, index: 177)
        let range = pixel.healpix29Range
        #expect(range == (177 << 54) ..< (178 << 54))
        var values: [Int64] = [range.lowerBound, range.upperBound - 1, range.lowerBound + 12345, range.upperBound, 0]
        var histogram = PixelHistogram(order: 2)
        values.withUnsafeBufferPointer { histogram.add($0) }
        #expect(histogram.counts[177] == 3 && histogram.counts[178] == 1 && histogram.counts[0] == 1)
        #expect(histogram.total == 5 && histogram.nonEmptyCount == 3)
        var fine = PixelHistogram(order: 4)
        fine.add(contentsOf: values)
        var merged = PixelHistogram(order: 2)
        merged.merge(fine)
        merged.merge(fine.degraded(to: 2))
        #expect(merged.counts == histogram.counts.map { $0 * 2 })
        #expect(fine[pixel] == 3 && fine[HealpixPixel(order: 0, index: 11)] == 4)
        values.sort()
        values.withUnsafeBufferPointer { #expect(pixel.rows(inSortedHealpix29: $0) == 1 ..< 4) }
    }

    @Test func pixelsSortLikePartitionInfo() throws {
        let shuffled = [Partition(1, 47, 1), Partition(2, 187, 1), Partition(0, 4, 1), Partition(2, 176, 1), Partition(1, 0, 1), Partition(0, 0, 1)]
            .map { HealpixPixel(order: $0.order, index: $0.index) }
        #expect(shuffled.sorted().map(\.description) == ["(0, 0)", "(1, 0)", "(0, 4)", "(2, 176)", "(2, 187)", "(1, 47)"])
        let pixel = HealpixPixel(order: 3, index: 709)
        #expect(pixel.parent == HealpixPixel(order: 2, index: 177))
        #expect(pixel.ancestor(atOrder: 0) == HealpixPixel(order: 0, index: 11))
        #expect(HealpixPixel(order: 0, index: 11).contains(pixel) && !pixel.contains(HealpixPixel(order: 0, index: 11)))
        #expect(pixel.children.map(\.index) == [2836, 2837, 2838, 2839])
        let decoded = try JSONDecoder().decode(HealpixPixel.self, from: Data(#"{"order":3,"index":709}"#.utf8))
        #expect(decoded == pixel)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(HealpixPixel.self, from: Data(#"{"order":0,"index":12}"#.utf8))
        }
    }

    @Test func planFromPartitionList() throws {
        let pixels = [HealpixPixel(order: 1, index: 47), HealpixPixel(order: 0, index: 4), HealpixPixel(order: 2, index: 176)]
        let plan = try PartitionPlan(pixels: pixels, rowCounts: [2395, 50, 385], highestOrder: 5)
        #expect(plan.pixels == [pixels[1], pixels[2], pixels[0]] && plan.rowCounts == [50, 385, 2395])
        #expect(plan.destination(of: HealpixPixel(order: 3, index: 47 * 16 + 3)) == pixels[0])
        #expect(plan.destination(of: HealpixPixel(order: 4, index: 47 * 64 + 63)) == pixels[0])
        #expect(plan.destination(ofHealpix29: HealpixPixel(order: 2, index: 177).healpix29Range.lowerBound) == nil)
        #expect(plan.partitionIndex(ofHealpix29: pixels[1].healpix29Range.upperBound - 1) == 0)
        #expect(throws: AlignmentError.overlappingPixels(HealpixPixel(order: 1, index: 44), HealpixPixel(order: 2, index: 176))) {
            try PartitionPlan(pixels: [pixels[2], HealpixPixel(order: 1, index: 44)], rowCounts: [1, 1], highestOrder: 5)
        }
        #expect(throws: AlignmentError.self) { try PartitionPlan(pixels: pixels, rowCounts: [1], highestOrder: 5) }
        #expect(throws: AlignmentError.self) { try PartitionPlan(pixels: pixels, rowCounts: [1, 1, 1], highestOrder: 1) }
    }

    @Test func configDefaultsAndValidation() throws {
        let decoded = try JSONDecoder().decode(AlignmentConfig.self, from: Data(#"{"highestOrder": 7}"#.utf8))
        #expect(decoded == AlignmentConfig(highestOrder: 7))
        #expect(decoded.lowestOrder == 0 && decoded.threshold == 1_000_000 && decoded.dropEmptySiblings && decoded.useLowerOrder)
        #expect(AlignmentConfig().highestOrder == 10 && AlignmentConfig().mappingOrder == 10)
        #expect(AlignmentConfig(highestOrder: 4, lowestOrder: 4).effectiveConstantOrder == 4)
        let histogram = Self.spreadHistogram()
        #expect(throws: AlignmentError.invalidOrder(name: "lowestOrder", value: 4, allowed: 0...3)) {
            try PartitionPlan.align(histogram, config: AlignmentConfig(highestOrder: 3, lowestOrder: 4))
        }
        #expect(throws: AlignmentError.invalidThreshold(0, measure: .rows)) {
            try PartitionPlan.align(histogram, config: AlignmentConfig(highestOrder: 3, threshold: 0))
        }
        #expect(throws: AlignmentError.histogramTooCoarse(histogramOrder: 5, requiredOrder: 6)) {
            try PartitionPlan.align(histogram, config: AlignmentConfig(highestOrder: 6))
        }
        #expect(throws: AlignmentError.missingSizeHistogram) {
            try PartitionPlan.align(histogram, config: AlignmentConfig(highestOrder: 5, byteThreshold: 100))
        }
        #expect(throws: AlignmentError.histogramOrderMismatch(rowsOrder: 5, sizesOrder: 4)) {
            try PartitionPlan.align(histogram, sizes: PixelHistogram(order: 4), config: AlignmentConfig(highestOrder: 4, byteThreshold: 100))
        }
    }

    /// Rows whose size is 0 bytes fit no partition in hats either; that is an error, not a loss.
    @Test func rowsWithoutSizeAreReported() throws {
        var sizes = PixelHistogram(order: 5)
        for index: Int64 in [1600, 1604, 1608] { sizes.add(100, to: HealpixPixel(order: 5, index: index)) }
        #expect(throws: AlignmentError.unplacedRows(pixel: HealpixPixel(order: 5, index: 1612), rows: 25)) {
            try PartitionPlan.align(Self.spreadHistogram(), sizes: sizes,
                                    config: AlignmentConfig(highestOrder: 5, byteThreshold: 150, dropEmptySiblings: false))
        }
    }
}

// MARK: - Helpers

/// A partition as (order, index, rows), the shape of the expectations.
struct Partition: Hashable, Sendable, CustomStringConvertible {
    let order: Int
    let index: Int64
    let rows: Int64
    init(_ order: Int, _ index: Int64, _ rows: Int64) { (self.order, self.index, self.rows) = (order, index, rows) }
    static func list(_ plan: PartitionPlan) -> [Partition] {
        zip(plan.pixels, plan.rowCounts).map { Partition($0.order, $0.index, $1) }
    }
    var description: String { "(\(order), \(index)): \(rows)" }
}

enum Locations {
    /// The package root: three levels above this file, symlinks resolved.
    static let packageRoot: URL = {
        var path = #filePath
        if let resolved = realpath(path, nil) { path = String(cString: resolved); free(resolved) }
        return URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()
    static var python: URL { packageRoot.appendingPathComponent(".venv/bin/python") }
    static var fixtures: URL { packageRoot.appendingPathComponent("fixtures") }
}

struct ReferenceFailure: Error, CustomStringConvertible {
    let description: String
}

/// The pixels of a shipped catalog's `partition_info.csv`, in file order.
func shippedPartitionInfo(_ catalog: String) throws -> [HealpixPixel] {
    let file = Locations.fixtures.appendingPathComponent("hats-import/\(catalog)/partition_info.csv")
    let text = try String(contentsOf: file, encoding: .utf8)
    let lines = text.split(whereSeparator: \.isNewline).dropFirst()
    return try lines.map { line in
        let fields = line.split(separator: ",")
        guard fields.count == 2, let order = Int(fields[0]), let index = Int64(fields[1]) else {
            throw ReferenceFailure(description: "bad line \(line) in \(file.path)")
        }
        return HealpixPixel(order: order, index: index)
    }
}

/// One configuration and what hats-import made of it.
struct ReferenceCase: Decodable, Sendable {
    struct Expected: Decodable, Sendable {
        let pixels: [[Int64]]?
        let alignmentOrder: Int?
        let error: String?
        let maxBin: Int64?
        let suggestedOrder: Int?
    }
    let name: String
    let histogramOrder: Int
    let rows: String
    let sizes: String?
    let config: AlignmentConfig
    let expected: Expected
}

/// Cases computed by hats in the project venv, with their histograms loaded.
struct ReferenceSet: Sendable {
    let cases: [ReferenceCase]
    /// Histograms by the name of the file Python wrote them to.
    let histograms: [String: PixelHistogram]

    /// The fixture cases, computed once for all tests that need them.
    static let fixtures = Result { try load(["fixtures", Locations.fixtures.path]) }

    /// The row histogram of a fixture, at the order Python built it.
    func histogram(_ fixture: String) throws -> PixelHistogram {
        guard let found = histograms.first(where: { URL(fileURLWithPath: $0.key).lastPathComponent == "\(fixture).rows.bin" }) else {
            throw ReferenceFailure(description: "no histogram for \(fixture)")
        }
        return found.value
    }

    /// Runs the reference script with `arguments` and reads what it wrote.
    static func load(_ arguments: [String]) throws -> ReferenceSet {
        let python = Locations.python
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw ReferenceFailure(description: "no Python at \(python.path): the project venv with hats and hats-import is required (make setup)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("partition-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("reference.py")
        try referenceScript.write(to: script, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("log.txt")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        defer { try? logHandle.close() }

        let process = Process()
        process.executableURL = python
        process.arguments = [script.path] + arguments + [directory.path]
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw ReferenceFailure(description: "hats reference script failed (status \(process.terminationStatus); are hats and hats-import installed in .venv?):\n\(output)")
        }
        struct Manifest: Decodable { let cases: [ReferenceCase] }
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: directory.appendingPathComponent("manifest.json")))
        var histograms: [String: PixelHistogram] = [:]
        for file in Set(manifest.cases.flatMap { [$0.rows, $0.sizes].compactMap { $0 } }) {
            let order = manifest.cases.first { $0.rows == file || $0.sizes == file }!.histogramOrder
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            let counts = data.withUnsafeBytes { raw in
                (0 ..< raw.count / 8).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
            }
            histograms[file] = PixelHistogram(order: order, counts: counts)
        }
        return ReferenceSet(cases: manifest.cases, histograms: histograms)
    }

    /// Aligns every case and records each disagreement with hats (at most 25).
    func checkAll() {
        var failures = 0
        for item in cases where failures < 25 {
            if let problem = check(item) {
                failures += 1
                Issue.record("\(item.name): \(problem)")
            }
        }
    }

    /// What differs from hats in one case, or `nil`.
    func check(_ item: ReferenceCase) -> String? {
        let rows = histograms[item.rows]!
        let sizes = item.sizes.map { histograms[$0]! }
        let result = Result { () throws(AlignmentError) in try PartitionPlan.align(rows, sizes: sizes, config: item.config) }
        switch (result, item.expected.error) {
        case (.success(let plan), nil):
            let expected = (item.expected.pixels ?? []).map { Partition(Int($0[0]), $0[1], $0[2]) }
            let actual = Partition.list(plan)
            if actual != expected {
                let first = (0 ..< min(actual.count, expected.count)).first { actual[$0] != expected[$0] } ?? min(actual.count, expected.count)
                return "\(actual.count) partitions, hats \(expected.count); first difference at \(first): "
                    + "\(actual.dropFirst(first).first.map(String.init(describing:)) ?? "none") vs hats "
                    + "\(expected.dropFirst(first).first.map(String.init(describing:)) ?? "none")"
            }
            if plan.alignmentOrder != item.expected.alignmentOrder {
                return "alignment order \(plan.alignmentOrder), hats \(item.expected.alignmentOrder ?? -1)"
            }
            return consistency(plan, rows: rows)
        case (.failure(.pixelOverThreshold(let over)), let message?):
            if over.count != item.expected.maxBin || over.threshold != item.config.effectiveThreshold {
                return "over-threshold \(over.count)/\(over.threshold), hats: \(message)"
            }
            if over.suggestedHighestOrder != item.expected.suggestedOrder {
                return "suggested order \(over.suggestedHighestOrder ?? -1), expected \(item.expected.suggestedOrder ?? -1)"
            }
            return nil
        case (.success(let plan), let message?):
            return "AstroPile made \(plan.count) partitions, hats failed: \(message)"
        case (.failure(let error), let message):
            return "AstroPile failed: \(error); hats: \(message ?? "\(item.expected.pixels?.count ?? 0) partitions")"
        }
    }

    /// Every row of the histogram has exactly one destination, and the counts add up.
    func consistency(_ plan: PartitionPlan, rows: PixelHistogram) -> String? {
        guard plan.checkInvariants() else { return "plan invariants broken" }
        let atHighest = rows.degraded(to: plan.highestOrder)
        var sums = [Int64](repeating: 0, count: plan.count)
        for (index, count) in atHighest.counts.enumerated() where count > 0 {
            let pixel = HealpixPixel(order: plan.highestOrder, index: Int64(index))
            guard let found = plan.partitionIndex(ofHealpix29: pixel.healpix29Range.lowerBound),
                  plan.destination(ofHighestOrderIndex: Int64(index)) == plan.pixels[found] else {
                return "no destination for \(pixel)"
            }
            sums[found] += count
        }
        return sums == plan.rowCounts ? nil : "row counts differ from the histogram sums"
    }
}

/// Writes the histograms and hats-import's partitions for them (see `reference` in the script).
let referenceScript = #"""
# Reference partitions from hats / hats-import for PartitionPlanTests.swift.
# usage: ref.py fixtures <fixtures dir> <out dir>  |  ref.py random <order> <out dir>
import glob, json, os, sys, tempfile
import numpy as np
import pandas as pd
import hats.pixel_math.healpix_shim as hp
from hats.catalog import PartitionInfo
from hats.pixel_math.healpix_pixel import HealpixPixel
from hats.pixel_math.partition_stats import generate_alignment
from hats_import.catalog.resume_plan import ResumePlan

def histogram(order, ra, dec, weights=None):
    pix = hp.radec2pix(order, np.asarray(ra, dtype=np.float64), np.asarray(dec, dtype=np.float64))
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    return np.bincount(pix, weights=w, minlength=hp.order2npix(order)).astype(np.int64)

def degrade(hist, order, to):
    return hist.reshape(-1, 4 ** (order - to)).sum(axis=1) if to < order else hist

def reference(hist, k, sizes, cfg):
    """What hats-import's binning stage makes of `hist` (at order k) under `cfg`."""
    high, low = cfg["highestOrder"], cfg["lowestOrder"]
    const = cfg.get("constantOrder")
    if const is None and low == high:  # ImportArguments: lowest == highest means constant order
        const = low
    byte_thr = cfg.get("byteThreshold")
    thr = byte_thr if byte_thr is not None else cfg["threshold"]
    mapping = const if const is not None else high
    rows = degrade(hist, k, mapping)
    supplement = degrade(sizes, k, mapping) if byte_thr is not None else None
    try:
        if cfg["useLowerOrder"] or const is not None:
            # hats-import's own binning: ResumePlan.get_alignment_file (use_lower_order=True).
            with tempfile.TemporaryDirectory() as tmp:
                plan = ResumePlan(tmp_path=tmp, progress_bar=False, input_paths=["unused"])
                _, order = plan.get_alignment_file(
                    rows, -1 if const is None else const, high, low, thr,
                    cfg["dropEmptySiblings"], int(rows.sum()), None, supplement)
                dest = plan.destination_pixel_map
        else:
            alignment = generate_alignment(
                rows, highest_order=high, lowest_order=low, threshold=thr,
                drop_empty_siblings=cfg["dropEmptySiblings"], supplemental_count_histogram=supplement,
                use_lower_order=False)
            order = hp.npix2order(len(alignment))
            alignment = np.array([x if x is not None else [-1, -1, 0] for x in alignment], dtype=np.int64)
            dest = {HealpixPixel(o, p): c for (o, p, c) in np.unique(alignment, axis=0) if int(c) > 0}
    except ValueError as error:
        measured = supplement if supplement is not None else rows
        finest = sizes if supplement is not None else hist
        fits = [o for o in range(high + 1, k + 1) if degrade(finest, k, o).max() <= thr]
        return {"error": str(error), "maxBin": int(measured.max()), "suggestedOrder": fits[0] if fits else None}
    pixels = PartitionInfo.from_healpix(list(dest.keys())).get_healpix_pixels() if dest else []
    return {"pixels": [[int(p.order), int(p.pixel), int(dest[p])] for p in pixels], "alignmentOrder": int(order)}

def config(high, low=0, thr=1_000_000, drop=True, const=None, lower=True, byte_thr=None):
    cfg = {"highestOrder": high, "lowestOrder": low, "threshold": thr, "dropEmptySiblings": drop,
           "useLowerOrder": lower}
    if const is not None:
        cfg["constantOrder"] = const
    if byte_thr is not None:
        cfg["byteThreshold"] = byte_thr
    return cfg

def write(out, name, k, hist, sizes, configs):
    hist_file = os.path.join(out, f"{name}.rows.bin")
    hist.astype("<i8").tofile(hist_file)
    sizes_file = None
    if sizes is not None:
        sizes_file = os.path.join(out, f"{name}.sizes.bin")
        sizes.astype("<i8").tofile(sizes_file)
    return [{"name": f"{name} {json.dumps(cfg, sort_keys=True)}", "histogramOrder": k, "rows": hist_file,
             "sizes": sizes_file, "config": cfg, "expected": reference(hist, k, sizes, cfg)} for cfg in configs]

def fixtures(root, out):
    cases = []
    k = 5
    parts = pd.concat([pd.read_csv(f) for f in sorted(glob.glob(os.path.join(root, "hats-import/small_sky_parts/*.csv")))])
    small = pd.read_csv(os.path.join(root, "hats-import/small_sky/catalog.csv"))
    source = pd.read_csv(os.path.join(root, "hats-import/small_sky_source/small_sky_source.csv"))
    sweep = [config(h, l, t, d) for h in range(0, k + 1) for l in range(0, h + 1)
             for t in (1, 10, 50, 131, 500, 3000, 1_000_000) for d in (False, True)]
    sweep += [config(h, const=c) for h in (0, 3) for c in range(0, k + 1)]
    named = [config(0), config(1), config(5), config(1, const=1), config(2, thr=3000, drop=False),
             config(5, thr=3000, drop=False), config(2, thr=3000), config(1, thr=3000, drop=False),
             config(2, thr=3000, drop=False, lower=False), config(5, thr=3000, lower=False)]
    cases += write(out, "small_sky_parts", k, histogram(k, parts.ra, parts.dec), None, named + sweep)
    cases += write(out, "small_sky", k, histogram(k, small.ra, small.dec), None, named + sweep)
    sweep = [config(h, l, t, d, lower=lo) for h in range(0, k + 1) for l in range(0, h + 1)
             for t in (100, 1000, 3000, 5000, 20000) for d in (False, True) for lo in (True, False)]
    sizes = histogram(k, source.source_ra, source.source_dec, weights=source.source_id % 97 + 40)
    sweep += [config(h, l, byte_thr=b, drop=d) for h in (2, 4, 5) for l in (0, 1)
              for b in (50_000, 200_000, 1_000_000) for d in (False, True)]
    cases += write(out, "small_sky_source", k, histogram(k, source.source_ra, source.source_dec), sizes, named + sweep)
    return cases

def random_sky(k, out):
    cases = []
    for seed in range(3 if k >= 7 else 6):
        rng = np.random.default_rng(1000 * k + seed)
        ras, decs = [], []
        for _ in range(rng.integers(1, 12)):
            n = int(rng.integers(1, 40_000 if k >= 6 else 8_000))
            width = 10 ** rng.uniform(-2.5, 1.5)  # degrees
            ra0, dec0 = rng.uniform(0, 360), np.degrees(np.arcsin(rng.uniform(-1, 1)))
            ras.append((ra0 + rng.normal(0, width, n) / max(np.cos(np.radians(dec0)), 0.05)) % 360)
            decs.append(np.clip(dec0 + rng.normal(0, width, n), -90, 90))
        if rng.random() < 0.5:  # a uniform background
            n = int(rng.integers(1, 5_000))
            ras.append(rng.uniform(0, 360, n))
            decs.append(np.degrees(np.arcsin(rng.uniform(-1, 1, n))))
        if rng.random() < 0.3:  # many rows at one position: no order separates them
            n = int(rng.integers(50, 500))
            ras.append(np.full(n, rng.uniform(0, 360)))
            decs.append(np.full(n, rng.uniform(-90, 90)))
        ra, dec = np.concatenate(ras), np.concatenate(decs)
        hist = histogram(k, ra, dec)
        sizes = histogram(k, ra, dec, weights=rng.integers(20, 400, len(ra)))
        configs = []
        for _ in range(10 if k >= 7 else 16):
            high = int(rng.integers(max(0, k - 3), k + 1))
            low = int(rng.integers(0, high + 1)) if rng.random() < 0.6 else 0
            drop = bool(rng.random() < 0.6)
            lower = bool(rng.random() < 0.8)
            top = int(degrade(hist, k, high).max())
            pick = rng.random()
            if pick < 0.1:
                configs.append(config(high, const=int(rng.integers(0, k + 1))))
                continue
            if pick < 0.3:  # by bytes
                top_bytes = int(degrade(sizes, k, high).max())
                byte_thr = int(top_bytes * rng.choice([0.5, 1.0, 1.5, 4.0, 50.0]))
                configs.append(config(high, low, drop=drop, lower=lower, byte_thr=byte_thr))
                continue
            thr = max(1, int(top * rng.choice([0.3, 0.9, 1.0, 1.2, 2.0, 5.0, 20.0, 1000.0])))
            configs.append(config(high, low, thr, drop, lower=lower))
        cases += write(out, f"random_k{k}_s{seed}", k, hist, sizes, configs)
    return cases

if __name__ == "__main__":
    mode, out = sys.argv[1], sys.argv[-1]
    cases = fixtures(sys.argv[2], out) if mode == "fixtures" else random_sky(int(sys.argv[2]), out)
    with open(os.path.join(out, "manifest.json"), "w") as manifest:
        json.dump({"cases": cases}, manifest)
"""#
