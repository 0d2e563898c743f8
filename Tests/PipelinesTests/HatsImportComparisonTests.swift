import Foundation
import Testing
import Formats
import Pipelines
import Sky
import TestSupport

/// A generated, clustered 200k-row catalog: dense spots forcing deep orders, points on the poles
/// and at RA 0/360 — the same partition_info.csv and the same ids per pixel as hats-import.
@Suite struct HatsImportComparisonTests {
    @Test func clusteredCatalogMatchesHatsImport() throws {
        let dir = try TestSupport.temporaryDirectory("clustered")
        try TestSupport.runPython("""
            import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
            rng = np.random.default_rng(2024)
            n_files, per = 4, 50_000
            for f in range(n_files):
                parts = []
                u = per - 4 * (per // 10) - 80
                parts.append((rng.uniform(0, 360, u), np.degrees(np.arcsin(rng.uniform(-1, 1, u)))))
                for c_ra, c_dec, s in [(150.0, 2.0, 0.5), (10.0, -45.0, 0.3), (359.99, 0.0, 0.4), (270.0, 66.5, 0.3)]:
                    k = per // 10
                    parts.append(((rng.normal(c_ra, s, k)) % 360, np.clip(rng.normal(c_dec, s, k), -90, 90)))
                k = per - sum(len(p[0]) for p in parts)
                special_ra = np.array([0.0, 360.0, 359.9999999999, 0.0, 90.0, 180.0, 45.0, 0.0])
                special_dec = np.array([90.0, -90.0, 0.0, 0.0, 0.0, 41.810314895778596, -41.810314895778596, 89.9999])
                reps = int(np.ceil(k / len(special_ra)))
                parts.append((np.tile(special_ra, reps)[:k], np.tile(special_dec, reps)[:k]))
                ra = np.concatenate([p[0] for p in parts]); dec = np.concatenate([p[1] for p in parts])
                ids = np.arange(f * per, (f + 1) * per, dtype=np.int64)
                pq.write_table(pa.table({"id": ids, "ra": ra, "dec": dec, "mag": rng.normal(20, 1, per).astype(np.float32)}),
                               f"{sys.argv[1]}/part_{f}.parquet")
            """, arguments: [dir.path])
        let inputs = (0..<4).map { dir.path + "/part_\($0).parquet" }
        let (report, layout, _) = try ImportHarness.run(inputs) { $0.highestOrder = 8; $0.threshold = 3000 }
        #expect(report.counts.written == 200_000)
        let ref = dir.appendingPathComponent("ref")
        try TestSupport.runPython("""
            import sys, json
            from hats_import.catalog.arguments import ImportArguments
            from hats_import.pipeline import pipeline_with_client
            from dask.distributed import Client
            args = ImportArguments(output_artifact_name="ref", input_file_list=json.loads(sys.argv[1]), file_reader="parquet",
                ra_column="ra", dec_column="dec", output_path=sys.argv[2], highest_healpix_order=8,
                pixel_threshold=3000, progress_bar=False, resume=False)
            with Client(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as client:
                pipeline_with_client(args, client)
            """, arguments: [String(decoding: try JSONEncoder().encode(inputs), as: UTF8.self), ref.path])
        let refRoot = ref.appendingPathComponent("ref").path
        let ours = try ImportHarness.partitions(layout.root)
        let theirs = try ImportHarness.partitions(refRoot)
        #expect(ours == theirs, "partition_info.csv differs")
        #expect(ours.contains { $0.order >= 6 })
        let refLayout = HATSLayout(root: refRoot)
        var mismatched: [HealpixPixel] = []
        for p in ours where Set(try ImportHarness.integers(layout.leafPath(p), column: "id"))
            != Set(try ImportHarness.integers(refLayout.leafPath(p), column: "id")) {
            mismatched.append(p)
        }
        #expect(mismatched.isEmpty, "ids differ in \(mismatched.prefix(5))")
    }
}
