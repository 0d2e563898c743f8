import Foundation
import Testing
import Formats
import Pipelines
import Sky
import TestSupport

/// Conformance with hats-import on its own test data (DESIGN.md §6 known answers).
@Suite struct ImportConformanceTests {
    @Test func smallSkyPartsAtHighestOrder1IsOnePixel() throws {
        let (report, layout, _) = try ImportHarness.run(try ImportHarness.smallSkyParts()) { $0.highestOrder = 1 }
        #expect(try ImportHarness.partitions(layout.root) == [HealpixPixel(order: 0, index: 11)])
        #expect(try ImportHarness.rowCounts(layout)[HealpixPixel(order: 0, index: 11)] == 131)
        #expect(report.counts.written == 131)
        #expect(report.status == .complete)
    }

    @Test(arguments: [(44, 42), (45, 29), (46, 42), (47, 18)])
    func smallSkyPartsConstantOrder1(pixel: Int64, rows: Int) throws {
        let (_, layout, _) = try ImportHarness.run(try ImportHarness.smallSkyParts()) { $0.constantOrder = 1 }
        let counts = try ImportHarness.rowCounts(layout)
        #expect(counts.count == 4)
        #expect(counts[HealpixPixel(order: 1, index: pixel)] == rows)
    }

    @Test func smallSkyPartsConstantOrder2() throws {
        let (_, layout, _) = try ImportHarness.run(try ImportHarness.smallSkyParts()) { $0.constantOrder = 2 }
        #expect(try ImportHarness.rowCounts(layout)[HealpixPixel(order: 2, index: 178)] == 14)
    }

    @Test func smallSkyPartsLowest2Highest4Gives14Pixels() throws {
        let (_, layout, _) = try ImportHarness.run(try ImportHarness.smallSkyParts()) {
            $0.lowestOrder = 2
            $0.highestOrder = 4
        }
        let pixels = try ImportHarness.partitions(layout.root)
        #expect(pixels.count == 14)
        #expect(pixels.allSatisfy { (2...4).contains($0.order) })
        #expect(try ImportHarness.rowCounts(layout).values.reduce(0, +) == 131)
    }

    /// small_sky_source at highest order 2, threshold 3000, drop_empty_siblings false: the
    /// shipped small_sky_source_catalog, pixel for pixel and id for id.
    @Test func smallSkySourceMatchesShippedCatalog() throws {
        let input = try TestSupport.fixture("hats-import/small_sky_source/small_sky_source.csv")
        let expected = try TestSupport.fixture("hats-import/small_sky_source_catalog")
        let (report, layout, _) = try ImportHarness.run([input]) {
            $0.ra = "source_ra"; $0.dec = "source_dec"
            $0.highestOrder = 2; $0.threshold = 3000; $0.dropEmptySiblings = false
            $0.catalogType = "source"
        }
        let pixels = try ImportHarness.partitions(layout.root)
        #expect(Set(pixels) == Set(try ImportHarness.partitions(expected)))
        #expect(pixels.count == 14)
        #expect(try ImportHarness.rowCounts(layout)[HealpixPixel(order: 1, index: 47)] == 2395)
        let expectedLayout = HATSLayout(root: expected)
        for p in pixels {
            let ours = try ImportHarness.integers(layout.leafPath(p), column: "source_id")
            let theirs = try ImportHarness.integers(expectedLayout.leafPath(p), column: "source_id")
            #expect(Set(ours) == Set(theirs), "ids differ in \(p)")
            let hpx = try ImportHarness.integers(layout.leafPath(p), column: "_healpix_29")
            #expect(hpx == hpx.sorted(), "\(p) not sorted by _healpix_29")
            #expect(hpx == (try ImportHarness.integers(expectedLayout.leafPath(p), column: "_healpix_29")).sorted())
        }
        #expect(report.counts.written == 17161)
    }

    @Test func smallSkyObjectMatchesShippedCatalog() throws {
        let input = try TestSupport.fixture("hats-import/small_sky/catalog.csv")
        let expected = HATSLayout(root: try TestSupport.fixture("hats-import/small_sky_object_catalog"))
        let (_, layout, _) = try ImportHarness.run([input]) { $0.highestOrder = 5; $0.threshold = 1_000_000 }
        let pixels = try ImportHarness.partitions(layout.root)
        #expect(Set(pixels) == Set(try ImportHarness.partitions(expected.root)))
        for p in pixels {
            #expect(Set(try ImportHarness.integers(layout.leafPath(p), column: "id"))
                    == Set(try ImportHarness.integers(expected.leafPath(p), column: "id")))
        }
    }

    @Test func issue538Reproducer() throws {
        let input = try TestSupport.fixture("hats-import/reproducers/issue_538.csv")
        let (report, layout, _) = try ImportHarness.run([input]) {
            $0.ra = "RA"; $0.dec = "DEC"; $0.highestOrder = 5; $0.threshold = 100
        }
        #expect(report.counts.written == 132)
        let ours = try ImportHarness.partitions(layout.root)
        #expect(ours.count == 12)
        let reference = try HatsImportReference.partitionInfo(inputs: [input], ra: "RA", dec: "DEC", highestOrder: 5, threshold: 100)
        #expect(ours == reference)
    }

    @Test func testFormatsImport() throws {
        let gz = try TestSupport.fixture("hats-import/test_formats/catalog.csv.gz")
        let (r1, l1, _) = try ImportHarness.run([gz]) { $0.highestOrder = 1 }
        #expect(r1.counts.written == 131)
        #expect(try ImportHarness.partitions(l1.root) == [HealpixPixel(order: 0, index: 11)])

        let pandas = try TestSupport.fixture("hats-import/test_formats/pandasindex.parquet")
        let (r2, l2, _) = try ImportHarness.run([pandas]) { $0.highestOrder = 1 }
        let columns = try ParquetFileReader.info(path: l2.commonMetadataFile).schema.names
        #expect(columns.first == "_healpix_29")
        #expect(columns.contains("obs_id"))
        #expect(!columns.contains("__index_level_0__"))
        #expect(r2.counts.written > 0)

        let fits = try TestSupport.fixture("hats-import/test_formats/small_sky.fits")
        let (r3, l3, _) = try ImportHarness.run([fits]) { $0.highestOrder = 1 }
        #expect(r3.counts.written == 131)
        #expect(try ImportHarness.partitions(l3.root) == [HealpixPixel(order: 0, index: 11)])
    }
}

/// Runs hats-import (from the project venv) for reference answers.
enum HatsImportReference {
    static func partitionInfo(inputs: [String], ra: String, dec: String, highestOrder: Int, threshold: Int,
                              dropEmptySiblings: Bool = true, fileReader: String = "csv") throws -> [HealpixPixel] {
        let dir = try TestSupport.temporaryDirectory("hatsimport")
        try TestSupport.runPython("""
            import sys, json
            from hats_import.catalog.arguments import ImportArguments
            from hats_import.pipeline import pipeline_with_client
            from dask.distributed import Client
            inputs = json.loads(sys.argv[1])
            args = ImportArguments(output_artifact_name="ref", input_file_list=inputs, file_reader=sys.argv[7],
                ra_column=sys.argv[2], dec_column=sys.argv[3], output_path=sys.argv[4],
                highest_healpix_order=int(sys.argv[5]), pixel_threshold=int(sys.argv[6]),
                drop_empty_siblings=sys.argv[8] == "1", progress_bar=False, resume=False)
            with Client(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as client:
                pipeline_with_client(args, client)
            """, arguments: [String(decoding: try JSONEncoder().encode(inputs), as: UTF8.self), ra, dec, dir.path,
                             String(highestOrder), String(threshold), fileReader, dropEmptySiblings ? "1" : "0"])
        return try ImportHarness.partitions(dir.appendingPathComponent("ref").path)
    }
}
