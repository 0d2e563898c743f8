import Foundation
import Testing
import Formats
import Pipelines
import TestSupport

/// Inputs for the stamps tests: catalogs over the real field 2583-2-136 and synthetic frames,
/// made once with astropy from the venv.
final class StampsFixture: Sendable {
    let dir: String
    let frames: String
    /// Stars, random positions and positions within 10 px of each edge, plus one object off every frame.
    let mixed: String
    /// Bright isolated stars at their r-band centroids.
    let stars: String
    /// Synthetic frames of 4 fields with known offsets and rotations, and their sources.
    let synthetic: String
    let syntheticCatalog: String

    static let shared: Result<StampsFixture, any Error> = Result { try StampsFixture() }
    static func get() throws -> StampsFixture { try shared.get() }

    static func script(_ name: String) -> String { TestSupport.root.appendingPathComponent("Tests/PipelinesTests/Python/\(name)").path }

    init() throws {
        dir = try TestSupport.temporaryDirectory("stamps").path
        frames = try TestSupport.fixture("sdss-2583")
        mixed = dir + "/mixed.csv"
        stars = dir + "/stars.csv"
        synthetic = dir + "/synthetic"
        syntheticCatalog = dir + "/synthetic.csv"
        try TestSupport.run(TestSupport.python, [Self.script("stamps_catalog.py"), frames, mixed, "mixed"])
        try "999,10.0,10.0,off\n".appendLine(to: mixed)
        try TestSupport.run(TestSupport.python, [Self.script("stamps_catalog.py"), frames, stars, "stars"])
        try FileManager.default.createDirectory(atPath: synthetic, withIntermediateDirectories: true)
        try TestSupport.run(TestSupport.python, [Self.script("stamps_synthetic.py"), synthetic, syntheticCatalog, "4"])
    }

    /// Runs `astropile stamps` with `arguments`, returning the process result.
    func stamps(_ arguments: [String], environment: [String: String]? = nil) throws -> TestSupport.Finished {
        try TestSupport.runProcess(TestSupport.executable, ["stamps", "--quiet"] + arguments, environment: environment)
    }

    func python(_ script: String, _ arguments: [String]) throws -> String {
        try TestSupport.run(TestSupport.python, [Self.script(script)] + arguments)
    }
}

extension String {
    func appendLine(to path: String) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? h.close() }
        try h.seekToEnd()
        h.write(Data(utf8))
    }
}

/// Every HDF5 file and the index of a data set, relative path → bytes.
func dataSetBytes(_ root: String) throws -> [String: Data] {
    var out: [String: Data] = [:]
    guard let e = FileManager.default.enumerator(atPath: root) else { throw TestSupportError("no data set at \(root)") }
    while let item = e.nextObject() as? String {
        if item.hasSuffix(".hdf5") || item.hasSuffix(".parquet") { out[item] = FileManager.default.contents(atPath: root + "/" + item) }
    }
    return out
}

@Suite("Image stamps") struct StampsTests {
    /// `--align none` on the real frames: every stamp pixel is the frame pixel astropy.wcs puts
    /// there, ivar is the data model's formula, pixels outside the frame are NaN / 0 / masked;
    /// for an even and an odd size. The object off every frame is reported.
    @Test(arguments: [64, 15])
    func unalignedStampsAreTheFramePixelsAstropyFinds(_ size: Int) throws {
        let f = try StampsFixture.get()
        let out = f.dir + "/none-\(size)"
        let r = try f.stamps(["--catalog", f.mixed, "--frames", f.frames, "--output", out, "--size", String(size)])
        #expect(r.status == 3, "one object is off every frame: exit 3 \(r.stderr)")
        #expect(r.stderr.contains("object 999") && r.stderr.contains("off every r-band frame"), "\(r.stderr)")
        let checked = try f.python("stamps_check_none.py", [out, f.mixed, f.frames, String(size)])
        let parts = checked.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/astropile_report.json"))) as? [String: Any])
        let counts = try #require(report["counts"] as? [String: Any])
        let written = counts["written"] as? Int ?? -1
        let reasons = (report["rejectedRecords"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
        #expect(parts.count == 2 && parts[0] == written, "every object written was checked: \(checked) vs \(written)")
        #expect(written >= 40, "\(written) of 42 placed objects have stamps")
        #expect(parts.count == 2 && parts[1] > 0, "edge stamps have pixels outside the frame: \(checked)")
        #expect(reasons.contains { $0.contains("off every r-band frame") }, "\(reasons)")
        // The only other reason an object lacks a stamp: a band (offset by up to 11 px) misses it entirely.
        #expect(reasons.count == 1 + (42 - written) && reasons.filter { !$0.contains("off every") }.allSatisfy { $0.contains("are masked") }, "\(reasons)")
    }

    /// `--align lanczos3` registers the bands: bright stars' centroids in g and i within 0.25 px of
    /// r's (median), r's at the grid centre; cutting each band at its own nearest pixel does not.
    @Test func lanczosRegistersTheBandsOfRealFrames() throws {
        let f = try StampsFixture.get()
        var medians: [String: [String: Double]] = [:]
        for align in ["lanczos3", "none"] {
            let out = f.dir + "/stars-\(align)"
            let r = try f.stamps(["--catalog", f.stars, "--frames", f.frames, "--output", out, "--size", "32", "--align", align])
            #expect(r.status == 0, "\(r.stderr)")
            let json = try f.python("stamps_check_aligned.py", [out, "g", "i"])
            medians[align] = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Double]
        }
        let aligned = try #require(medians["lanczos3"]), plain = try #require(medians["none"])
        #expect((aligned["objects"] ?? 0) >= 20, "enough stars: \(aligned)")
        #expect((aligned["g"] ?? 9) < 0.25 && (aligned["i"] ?? 9) < 0.25, "g, i registered to r: \(aligned)")
        #expect((aligned["r_center"] ?? 9) < 0.25, "r at the grid centre: \(aligned)")
        #expect(max(plain["g"] ?? 0, plain["i"] ?? 0) > 0.3, "unaligned stamps are misregistered (the problem lanczos3 solves): \(plain)")
    }

    /// Synthetic frames with known sub-pixel offsets and rotations: every band centred to < 0.05 px.
    @Test func lanczosCentresSyntheticSourcesInEveryBand() throws {
        let f = try StampsFixture.get()
        let out = f.dir + "/synthetic-aligned"
        let r = try f.stamps(["--catalog", f.syntheticCatalog, "--frames", f.synthetic, "--output", out, "--size", "24", "--align", "lanczos3"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try f.python("stamps_check_centered.py", [out])
        let worst = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Double])
        #expect(worst.count == 5, "\(worst)")
        for (band, d) in worst { #expect(d < 0.05, "band \(band): \(d) px from the centre") }
    }

    /// h5py reads every dataset with the documented shapes and attributes; Hugging Face
    /// `datasets` loads the files with its HDF5 loader.
    @Test func h5pyAndHuggingFaceDatasetsReadTheFiles() throws {
        let f = try StampsFixture.get()
        let out = f.dir + "/interop"
        let r = try f.stamps(["--catalog", f.syntheticCatalog, "--frames", f.synthetic, "--output", out, "--size", "16",
                              "--objects-per-file", "30"])
        #expect(r.status == 0, "\(r.stderr)")
        let printed = try TestSupport.runPython("""
            import sys, glob, h5py, numpy as np, datasets
            root = sys.argv[1]
            files = sorted(glob.glob(root + "/healpix=*/*.hdf5"))
            assert len(files) >= 5, files
            total = 0
            for p in files:
                f = h5py.File(p, "r")
                n = f["object_id"].shape[0]; total += n
                assert n <= 30
                shapes = {"object_id": (n,), "ra": (n,), "dec": (n,), "healpix": (n,), "image_band": (n, 5),
                          "image_array": (n, 5, 16, 16), "image_ivar": (n, 5, 16, 16), "image_mask": (n, 5, 16, 16),
                          "image_psf_fwhm": (n, 5), "image_scale": (n, 5), "image_noise": (n, 5), "image_extinction": (n, 5),
                          "image_offset": (n, 5, 2), "image_frame": (n, 5)}
                for k, s in shapes.items():
                    assert f[k].shape == s, (p, k, f[k].shape, s)
                assert f["image_array"].dtype == np.float32 and f["image_mask"].dtype == bool
                assert f["image_array"].compression == "gzip" and f["image_array"].shuffle and f["image_array"].chunks == (1, 5, 16, 16)
                assert f["image_array"].attrs["units"] == b"nanomaggies" and f["image_scale"].attrs["units"] == b"arcsec/pixel"
                assert b"true = good pixel" in f.attrs["mask_convention"]
                assert f.attrs["astropile_pipeline"] == b"stamps" and len(f.attrs["astropile_config_hash"]) == 16
                assert [b.decode() for b in f["image_band"][0]] == list("ugriz")
                hp = f["healpix"][:]
                assert (hp == int(p.split("healpix=")[1].split("/")[0])).all()
                assert np.isfinite(f["image_array"][:][f["image_mask"][:]]).all()
            ds = datasets.load_dataset("hdf5", data_files=files, split="train")
            assert ds.num_rows == total, (ds.num_rows, total)
            a = np.array(ds[0]["image_array"], dtype=np.float32)
            assert a.shape == (5, 16, 16), a.shape
            first = h5py.File(files[0], "r")["image_array"][0]
            assert np.array_equal(a, first, equal_nan=True)
            print(total, len(files))
            """, arguments: [out])
        #expect(printed.hasPrefix("140 "), "\(printed)")
    }

    /// `--format both`: hats says the catalog is valid, lsdb opens it, and pyarrow reads image
    /// arrays equal to the HDF5 ones; `show` reads a `--format hats` data set too.
    @Test func theHATSVariantOpensInLsdbWithTheSameArrays() throws {
        let f = try StampsFixture.get()
        let out = f.dir + "/hats-both", hatsOnly = f.dir + "/hats-only"
        for (o, format) in [(out, "both"), (hatsOnly, "hats")] {
            let r = try f.stamps(["--catalog", f.syntheticCatalog, "--frames", f.synthetic, "--output", o, "--size", "16",
                                  "--objects-per-file", "25", "--format", format, "--columns", "objID"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let printed = try TestSupport.runPython("""
            import sys, glob, h5py, numpy as np, lsdb, pyarrow.parquet as pq
            from hats.io.validation import is_valid_catalog
            root = sys.argv[1]
            assert is_valid_catalog(root, strict=True)
            df = lsdb.open_catalog(root).compute()
            assert len(df) == 140, len(df)
            idx = {e["object_id"]: e for e in pq.read_table(root + "/object_index.parquet").to_pylist()}
            n = 0
            for leaf in glob.glob(root + "/dataset/Norder=*/Dir=*/Npix=*.parquet"):
                t = pq.read_table(leaf)
                assert t.schema.names[0] == "_healpix_29"
                assert t.schema.field("image_array").metadata[b"shape"] == b"5,16,16"
                arr = np.stack(t.column("image_array").to_numpy(zero_copy_only=False)).reshape(-1, 5, 16, 16)
                ivar = np.stack(t.column("image_ivar").to_numpy(zero_copy_only=False)).reshape(-1, 5, 16, 16)
                mask = np.stack(t.column("image_mask").to_numpy(zero_copy_only=False)).reshape(-1, 5, 16, 16)
                for k, i in enumerate(t.column("object_id").to_pylist()):
                    e = idx[i]
                    with h5py.File(root + "/" + e["file"], "r") as h:
                        assert np.array_equal(h["image_array"][e["row"]], arr[k], equal_nan=True)
                        assert np.array_equal(h["image_ivar"][e["row"]], ivar[k])
                        assert np.array_equal(h["image_mask"][e["row"]], mask[k])
                    n += 1
            print(n)
            """, arguments: [out])
        #expect(printed.trimmingCharacters(in: .whitespacesAndNewlines) == "140")
        let a = try ImageDataSet(root: out), b = try ImageDataSet(root: hatsOnly)
        let x = try #require(try a.example(id: "77")), y = try #require(try b.example(id: "77"))
        #expect(x.file.hasSuffix(".hdf5") && y.file.hasSuffix(".parquet"))
        #expect(x.flux.elementsEqual(y.flux) { $0 == $1 || ($0.isNaN && $1.isNaN) } && x.mask == y.mask && x.frames == y.frames)
    }

    /// 1,000 random object ids, each read by opening exactly one data file (the index names it).
    @Test func randomAccessOpensOneFilePerObject() throws {
        let f = try StampsFixture.get()
        let catalog = f.dir + "/many.csv"
        try TestSupport.runPython("""
            import sys, warnings, numpy as np
            from astropy.io import fits
            from astropy.wcs import WCS, FITSFixedWarning
            warnings.simplefilter("ignore", FITSFixedWarning)
            w = WCS(fits.open(sys.argv[1] + "/frame-r-002583-2-0136.fits.bz2")[0].header)
            rng = np.random.default_rng(5)
            ra, dec = w.all_pix2world(rng.uniform(20, 2028, 1200), rng.uniform(20, 1469, 1200), 0)
            with open(sys.argv[2], "w") as o:
                o.write("id,ra,dec\\n")
                for i, (a, d) in enumerate(zip(ra, dec)):
                    o.write(f"obj-{i:05d},{a:.10f},{d:.10f}\\n")
            """, arguments: [f.frames, catalog])
        let out = f.dir + "/many"
        let r = try f.stamps(["--catalog", catalog, "--frames", f.frames, "--output", out, "--size", "8", "--objects-per-file", "40",
                              "--healpix-order", "9", "--bands", "gri"])
        #expect(r.status == 0, "\(r.stderr)")
        let set = try ImageDataSet(root: out)
        #expect(set.count == 1200)
        #expect(set.files.count >= 30, "\(set.files.count) files")
        var rng = SplitMix64(seed: 9)
        let ids = (0..<1000).map { _ in String(format: "obj-%05d", Int(rng.next() % 1200)) }
        for id in ids {
            let before = set.filesOpened
            let e = try #require(try set.example(id: id))
            #expect(e.id == id && set.filesOpened == before + 1, "\(id) read from \(e.file)")
        }
        // From the other side: pyarrow reads the index, h5py opens only the file it names.
        let checked = try TestSupport.runPython("""
            import sys, random, h5py, pyarrow.parquet as pq
            root = sys.argv[1]
            t = pq.read_table(root + "/object_index.parquet").to_pylist()
            random.seed(3)
            for e in random.sample(t, 1000):
                with h5py.File(root + "/" + e["file"], "r") as f:
                    assert f["object_id"][e["row"]].decode() == e["object_id"], e
            print(len(t))
            """, arguments: [out])
        #expect(checked.trimmingCharacters(in: .whitespacesAndNewlines) == "1200")
    }

    /// A corrupt frame among good ones: its field's objects are reported with the frame's name,
    /// the other fields are written, the exit status is 3; a finished run is a no-op.
    @Test func aCorruptFrameIsNamedAndTheRunGoesOn() throws {
        let f = try StampsFixture.get()
        let frames = f.dir + "/corrupt-frames"
        try? FileManager.default.removeItem(atPath: frames)
        try FileManager.default.copyItem(atPath: f.synthetic, toPath: frames)
        let bad = frames + "/frame-g-000100-1-0011.fits"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: bad))
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: bad))
        let out = f.dir + "/corrupt"
        let args = ["--catalog", f.syntheticCatalog, "--frames", frames, "--output", out, "--size", "16"]
        let r = try f.stamps(args)
        #expect(r.status == 3, "\(r.stderr)")
        let report = try String(contentsOfFile: out + "/astropile_report.json", encoding: .utf8)
        #expect(report.contains("frame-g-000100-1-0011.fits"), "the bad frame is named: \(report.prefix(800))")
        #expect(report.contains("\"written\" : 105") && report.contains("\"rejected\" : 35"), "\(report.prefix(400))")
        let again = try f.stamps(args)
        #expect(again.status == 3 && again.stderr.contains("already complete"), "\(again.stderr)")
    }

    /// Where frames overlap, an object goes to the field whose frame holds it farthest from an
    /// edge (as astropy.wcs measures it); catalog run/camcol/field columns name the field directly,
    /// and a field not on disk is reported.
    @Test func objectsGoToTheFieldFarthestFromAnEdgeOrTheOneTheCatalogNames() throws {
        let f = try StampsFixture.get()
        let frames = f.dir + "/overlap", catalog = f.dir + "/overlap.csv"
        try FileManager.default.createDirectory(atPath: frames, withIntermediateDirectories: true)
        try f.python("stamps_synthetic.py", [frames, catalog, "2", "0.025"])
        let out = f.dir + "/overlap-out"
        let r = try f.stamps(["--catalog", catalog, "--frames", frames, "--output", out, "--size", "8"])
        #expect(r.status == 0, "\(r.stderr)")
        let checked = try TestSupport.runPython("""
            import sys, glob, warnings, h5py, numpy as np
            from astropy.io import fits
            from astropy.wcs import WCS, FITSFixedWarning
            warnings.simplefilter("ignore", FITSFixedWarning)
            frames, catalog, out = sys.argv[1:4]
            ws = {k: fits.open(f"{frames}/frame-r-000100-1-{10 + k:04d}.fits") for k in (0, 1)}
            cat = {int(l.split(",")[0]): tuple(map(float, l.split(",")[1:3])) for l in open(catalog).read().splitlines()[1:]}
            both = 0
            for p in glob.glob(out + "/healpix=*/*.hdf5"):
                h = h5py.File(p, "r")
                for oid, fr in zip(h["object_id"][:], h["image_frame"][:, 2]):
                    ra, dec = cat[int(oid)]
                    edge = {}
                    for k, hd in ws.items():
                        x, y = WCS(hd[0].header).all_world2pix(ra, dec, 0)
                        H, W = hd[0].data.shape
                        e = min(x + 0.5, W - 0.5 - x, y + 0.5, H - 0.5 - y)
                        if e >= 0: edge[k] = e
                    best = max(edge, key=edge.get)
                    both += len(edge) == 2
                    assert fr.decode() == f"frame-r-000100-1-{10 + best:04d}.fits", (oid, fr, edge)
            print(both)
            """, arguments: [frames, catalog, out])
        #expect((Int(checked.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 5, "objects in the overlap: \(checked)")

        // Catalog columns: every object names field 11, one names field 99 (not on disk).
        let named = f.dir + "/named.csv"
        var text = "objID,ra,dec,run,camcol,field\n"
        for line in try String(contentsOfFile: catalog, encoding: .utf8).split(separator: "\n").dropFirst() {
            text += line + ",100,1,11\n"
        }
        text += "5000,150.01,2.0,100,1,99\n"
        try text.write(toFile: named, atomically: true, encoding: .utf8)
        let out2 = f.dir + "/named-out"
        let r2 = try f.stamps(["--catalog", named, "--frames", frames, "--output", out2, "--size", "8"])
        #expect(r2.status == 3, "\(r2.stderr)")
        #expect(r2.stderr.contains("object 5000") && r2.stderr.contains("no frame of field 000100-1-0099"), "\(r2.stderr)")
        let frameNames = try TestSupport.runPython("""
            import sys, glob, h5py
            print(sorted({x.decode() for p in glob.glob(sys.argv[1] + "/healpix=*/*.hdf5") for x in h5py.File(p)["image_frame"][:, 2]}))
            """, arguments: [out2])
        #expect(frameNames.contains("frame-r-000100-1-0011.fits") && !frameNames.contains("-0010.fits"), "\(frameNames)")
    }

    /// Options a user can get wrong are usage errors naming the option; nothing is written.
    @Test(arguments: [["--size", "0"], ["--bands", "ugxz"], ["--healpix-order", "30"], ["--objects-per-file", "0"],
                      ["--reference-band", "u", "--bands", "gri"], ["--extinction-columns", "a,b"], ["--id", "nosuch"]])
    func badOptionsAreUsageErrors(_ extra: [String]) throws {
        let f = try StampsFixture.get()
        let out = f.dir + "/bad-\(extra.joined().filter { $0.isLetter || $0.isNumber })"
        let r = try f.stamps(["--catalog", f.syntheticCatalog, "--frames", f.synthetic, "--output", out] + extra)
        #expect(r.status == 2, "\(extra): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains(extra[0]), "the message names \(extra[0]): \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/astropile_report.json"))
    }

    /// `show` writes the Lupton composite astropy's make_lupton_rgb computes from the same arrays.
    @Test func showDrawsAstropysLuptonComposite() throws {
        let f = try StampsFixture.get()
        let out = f.dir + "/show"
        let r = try f.stamps(["--catalog", f.syntheticCatalog, "--frames", f.synthetic, "--output", out, "--size", "16"])
        #expect(r.status == 0, "\(r.stderr)")
        let png = f.dir + "/show.png", grid = f.dir + "/grid.png"
        let shown = try TestSupport.runProcess(TestSupport.executable, ["show", out, "--object", "7", "--png", png, "--zoom", "1"])
        #expect(shown.status == 0 && shown.stdout.contains("object 7"), "\(shown.stderr)")
        let gridRun = try TestSupport.runProcess(TestSupport.executable, ["show", out, "--grid", "4x3", "--png", grid, "--zoom", "2"])
        #expect(gridRun.status == 0, "\(gridRun.stderr)")
        let diff = try TestSupport.runPython("""
            import sys, numpy as np, h5py, pyarrow.parquet as pq
            from PIL import Image
            from astropy.visualization import make_lupton_rgb
            root, png, grid = sys.argv[1:4]
            idx = {e["object_id"]: e for e in pq.read_table(root + "/object_index.parquet").to_pylist()}
            e = idx[7]
            a = h5py.File(root + "/" + e["file"], "r")["image_array"][e["row"]]
            want = make_lupton_rgb(a[3], a[2], a[1], stretch=0.5, Q=8)[::-1]   # i, r, g; row 0 drawn at the bottom
            got = np.asarray(Image.open(png).convert("RGB"))[:, :16]
            assert got.shape == want.shape, (got.shape, want.shape)
            g = np.asarray(Image.open(grid))
            assert g.shape == (3 * 32 + 4, 4 * 32 + 6, 3), g.shape
            print(int(np.abs(got.astype(int) - want.astype(int)).max()), int(want.max()))
            """, arguments: [out, png, grid])
        let parts = diff.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(parts.count == 2 && parts[0] <= 1, "composite differs from astropy's by \(diff)")
        #expect(parts.count == 2 && parts[1] > 100, "the composite is not blank: \(diff)")
        let info = try TestSupport.runProcess(TestSupport.executable, ["info", out])
        #expect(info.status == 0 && info.stdout.contains("objects: 140") && info.stdout.contains("ugriz"), "\(info.stdout)")
    }
}
