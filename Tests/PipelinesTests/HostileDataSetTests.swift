import Foundation
import Testing
import Pipelines
import TestSupport

/// Data sets a hostile archive or a careless user could hand the data-set commands: each gets a
/// clear error or a right result, never a trap.
@Suite("Hostile data sets") struct HostileDataSetTests {
    /// A paired input whose `ra` dataset is (n, 2): refused naming the file and the shape (it
    /// was indexed past its rows before).
    @Test func pairedInputWithTwoColumnRA() throws {
        let f = try SpectraFixture.get()
        let bad = f.dir + "/ra-n-2"
        try TestSupport.runPython("""
            import os, sys, h5py, numpy as np
            d = os.path.join(sys.argv[1], "healpix=100"); os.makedirs(d, exist_ok=True)
            with h5py.File(os.path.join(d, "001-of-001.hdf5"), "w") as h:
                h["object_id"] = np.arange(5, dtype=np.int64)
                h["ra"] = np.full((5, 2), 10.0)
                h["dec"] = np.zeros(5)
            """, arguments: [bad])
        for (left, right) in [(bad, f.pairRight), (f.pairLeft, bad)] {
            let r = try f.astropile(["pair", left, right, "--radius", "1arcsec", "--output", f.dir + "/ra-n-2-out-\(left == bad)"])
            #expect(!r.signaled && (r.status == 1 || r.status == 2 || r.status == 3), "\(r.status) \(r.stderr)")
            #expect(r.stderr.contains("001-of-001.hdf5") && r.stderr.contains("ra has shape (5, 2)"), "\(r.stderr)")
        }
    }

    /// An infinite or NaN `spectrum_true_length` and fluxes that are all NaN, or ±3e38 (the
    /// ends of Float), or converted from 1e300: the spectrum is cut sensibly and drawn, no trap.
    static let absurdFluxes: [[Float]] = {
        let nan = [Float](repeating: .nan, count: 64)
        let ends: [Float] = (0..<64).map { (i: Int) -> Float in i % 2 == 0 ? Float.greatestFiniteMagnitude : -Float.greatestFiniteMagnitude }
        let huge: [Float] = (0..<64).map { (i: Int) -> Float in Float(Double(i) * 1e300) }
        let spike: [Float] = (0..<64).map { (i: Int) -> Float in i == 10 ? 1e30 : Float(i) }
        return [nan, ends, huge, spike]
    }()

    @Test(arguments: absurdFluxes)
    func absurdSpectraAreDrawn(_ flux: [Float]) throws {
        let dir = try TestSupport.temporaryDirectory("spectrum-plot").path
        for length in [Double.infinity, .nan, 1e300, -1, 20] {
            let lambda = (0..<64).map { Float(4000 + 10 * $0) }
            let columns = [
                ExampleColumn("spectrum_flux", .float32(flux), rowShape: [64]),
                ExampleColumn("spectrum_lambda", .float32(lambda), rowShape: [64]),
                ExampleColumn("spectrum_ivar", .float32([Float](repeating: 1e-30, count: 64)), rowShape: [64]),
                ExampleColumn("spectrum_true_length", .float64([length])),
            ]
            let s = try #require(SpectrumPlot.spectrum(columns))
            #expect(s.lambda.count == (length == 20 ? 20 : 64), "true length \(length)")
            let png = dir + "/s.png"
            try SpectrumPlot().write(s, to: png)
            let bytes = try #require(FileManager.default.contents(atPath: png))
            #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
    }
}
