import Foundation
import Testing
import TestSupport

@testable import Sky

/// chealpix (Debian's libchealpix0, called from the venv's Python through ctypes) agrees with
/// AstroPile's order-29 indices on random points; it differs from cdshealpix — and so from hats —
/// only on some points exactly on pixel boundaries (DESIGN.md §5), which are compared with
/// cdshealpix in HEALPixTests.
@Suite struct CHEALPixTests {
    @Test func order29MatchesChealpixOnRandomPoints() throws {
        let out = try TestSupport.runPython("""
            import ctypes, ctypes.util, numpy as np, sys
            lib = ctypes.CDLL("libchealpix.so.0")
            lib.ang2pix_nest64.argtypes = [ctypes.c_int64, ctypes.c_double, ctypes.c_double, ctypes.POINTER(ctypes.c_int64)]
            rng = np.random.default_rng(11)
            n = 20000
            ra = rng.uniform(0, 360, n); dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
            ip = ctypes.c_int64()
            for r, d in zip(ra, dec):
                lib.ang2pix_nest64(1 << 29, np.radians(90.0 - d), np.radians(r), ctypes.byref(ip))
                print(repr(float(r)), repr(float(d)), ip.value)
            """)
        var compared = 0
        for line in out.split(separator: "\n") {
            let p = line.split(separator: " ")
            guard p.count == 3, let ra = Double(p[0]), let dec = Double(p[1]), let expected = Int64(p[2]) else { continue }
            #expect(HEALPix.nestedIndex(ra: ra, dec: dec, order: 29) == expected, "ra=\(ra) dec=\(dec)")
            compared += 1
        }
        #expect(compared == 20000)
    }
}
