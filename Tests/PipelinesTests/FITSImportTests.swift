import Foundation
import Testing
import Formats
import Pipelines
import TestSupport

/// The SDSS photoObj fixture imports with its 5-band array columns as fixed-size lists whose
/// values equal astropy's reading.
@Suite struct FITSImportTests {
    @Test func sdssPhotoObjArrayColumnsSurviveImport() throws {
        let input = try TestSupport.fixture("sdss/photoObj-001000-1-0100.fits")
        let (report, layout, _) = try ImportHarness.run([input]) { $0.ra = "RA"; $0.dec = "DEC"; $0.highestOrder = 5 }
        #expect(report.counts.written == 19)
        let out = try TestSupport.runPython("""
            import sys, glob, numpy as np, pyarrow as pa, pyarrow.parquet as pq
            from astropy.io import fits
            root, src = sys.argv[1], sys.argv[2]
            t = pa.concat_tables([pq.read_table(f) for f in sorted(glob.glob(root + "/dataset/Norder=*/Dir=*/Npix=*.parquet"))])
            assert t.num_rows == 19, t.num_rows
            assert t.schema.names[0] == "_healpix_29"
            assert t.num_columns == 140, t.num_columns
            ref = fits.open(src)[1].data
            order = {oid.strip(): i for i, oid in enumerate(ref["OBJID"])}
            idx = [order[o.strip()] for o in t.column("OBJID").to_pylist()]
            checked = 0
            for name in ["PSFFLUX", "MODELMAG", "FLAGS", "PETROTHETA", "COLC", "RA", "DEC", "RUN"]:
                col = t.column(name)
                expected = np.asarray(ref[name])[idx]
                if expected.ndim == 2:
                    assert pa.types.is_fixed_size_list(col.type), (name, col.type)
                    assert col.type.list_size == expected.shape[1], (name, col.type)
                    got = np.stack([np.asarray(v) for v in col.to_pylist()])
                else:
                    got = np.asarray(col.to_pylist())
                assert np.array_equal(got, expected.astype(got.dtype)), name
                checked += 1
            print("ok", checked)
            """, arguments: [layout.root, input])
        #expect(out.hasPrefix("ok 8"))
    }
}

/// A compressed FITS file larger than a worker's share of `--memory` is unpacked to the work
/// folder (streamed, bounded memory) rather than into memory by cfitsio, and imports the same.
@Suite struct CompressedFITSTests {
    @Test func largeGzipFITSIsUnpackedToDiskAndImportsTheSame() throws {
        let dir = try TestSupport.temporaryDirectory("fitsgz")
        try TestSupport.runPython("""
            import sys, gzip, shutil, numpy as np
            from astropy.table import Table
            rng = np.random.default_rng(5)
            n = 1_200_000
            t = Table({"id": np.arange(n, dtype=np.int64), "ra": rng.uniform(0, 360, n), "dec": rng.uniform(-90, 90, n),
                       "flux": rng.normal(0, 1, (n, 3))})
            t.write(sys.argv[1] + "/big.fits")
            with open(sys.argv[1] + "/big.fits", "rb") as f, gzip.open(sys.argv[1] + "/big.fits.gz", "wb", compresslevel=1) as g:
                shutil.copyfileobj(f, g)
            """, arguments: [dir.path])
        let plain = try ImportHarness.run([dir.path + "/big.fits"]) { $0.highestOrder = 4; $0.threshold = 200_000 }
        let packed = try ImportHarness.run([dir.path + "/big.fits.gz"]) {
            $0.highestOrder = 4; $0.threshold = 200_000; $0.memoryBytes = 64 << 20
        }
        #expect(packed.report.details.unpackedInputs == [dir.path + "/big.fits.gz"])
        #expect(plain.report.details.unpackedInputs == [])
        #expect(packed.report.counts.written == 1_200_000)
        #expect(try ImportHarness.partitions(packed.layout.root) == (try ImportHarness.partitions(plain.layout.root)))
        for p in try ImportHarness.partitions(plain.layout.root).prefix(5) {
            #expect(try ImportHarness.integers(packed.layout.leafPath(p), column: "id")
                    == (try ImportHarness.integers(plain.layout.leafPath(p), column: "id")))
        }
        #expect(!FileManager.default.fileExists(atPath: try packed.config.workFolder().path))
    }
}
