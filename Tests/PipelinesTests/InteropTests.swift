import Foundation
import Testing
import Formats
import Pipelines
import TestSupport

/// The Python tools users have open what AstroPile writes.
@Suite struct InteropTests {
    @Test func hatsAndLsdbOpenTheCatalog() throws {
        let input = try TestSupport.fixture("hats-import/small_sky_source/small_sky_source.csv")
        let (_, layout, _) = try ImportHarness.run([input]) {
            $0.ra = "source_ra"; $0.dec = "source_dec"; $0.highestOrder = 2; $0.threshold = 3000
        }
        let out = try TestSupport.runPython("""
            import sys, glob, hats, lsdb, pyarrow.parquet as pq
            from hats.io.validation import is_valid_catalog
            root = sys.argv[1]
            assert is_valid_catalog(root, strict=True), "hats says the catalog is not valid"
            cat = hats.read_hats(root)
            assert cat.catalog_info.total_rows == 17161, cat.catalog_info.total_rows
            leaves = sorted(glob.glob(root + "/dataset/Norder=*/Dir=*/Npix=*.parquet"))
            assert len(leaves) == len(cat.get_healpix_pixels()), (len(leaves), len(cat.get_healpix_pixels()))
            for leaf in leaves:
                s = pq.read_schema(leaf)
                assert s.names[0] == "_healpix_29", leaf
                t = pq.read_table(leaf, columns=["_healpix_29"]).column(0).to_numpy()
                assert (t[1:] >= t[:-1]).all(), leaf
            df = lsdb.open_catalog(root).compute()
            print(len(df), len(leaves))
            """, arguments: [layout.root])
        let parts = out.split(whereSeparator: { $0 == " " || $0 == "\n" })
        #expect(parts.first == "17161")
    }
}
