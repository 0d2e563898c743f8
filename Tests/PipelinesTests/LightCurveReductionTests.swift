import Foundation
import Testing
import Formats
import Pipelines
import TestSupport

/// The reduction of the shared ZTF light curve, against the same steps in pandas.
@Suite("Light-curve reduction") struct LightCurveReductionTests {
    static let pandas = """
        import sys, json, numpy as np, pandas as pd
        d = pd.read_csv(sys.argv[1])
        mask, gap, tol = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
        d = d[d.filtercode.isin(["zg", "zr", "zi"])]
        d = d[(d.catflags & mask) == 0]
        d = d[d.mag.notna() & (d.mag <= d.limitmag)]
        out = []
        for f in ["zg", "zr", "zi"]:
            x = d[d.filtercode == f]
            zps = sorted((float(np.median(g.magzp)), int(o)) for o, g in x.groupby("oid"))
            groups, first = [], None
            for zp, o in zps:
                if not groups or zp - first > tol:
                    groups.append([o]); first = zp
                else:
                    groups[-1].append(o)
            for gi, oids in enumerate(groups):
                p = x[x.oid.isin(oids)].sort_values(["mjd", "oid"])
                season = np.concatenate([[0], np.cumsum(np.diff(p.mjd.values) > gap)])
                for s in np.unique(season):
                    q = p[season == s]
                    flux = 10 ** (-0.4 * (q.mag.values - 23.9))
                    out.append([f, gi, int(s), len(q), float(q.mjd.min()), float(q.mjd.max()), float(flux.sum()),
                                float((flux * q.magerr.values * np.log(10) / 2.5).sum()), sorted(oids)])
        print(json.dumps(out))
        """

    @Test(arguments: [(65535, 60.0, 0.05), (32768, 30.0, 0.1)])
    func seasonsFiltersAndCountsEqualPandas(_ mask: Int, _ gap: Double, _ tolerance: Double) throws {
        let csv = try TestSupport.fixture("ztf-lightcurves/ZTF_lightcurve.csv")
        var settings = ProjectConfig.Reduction()
        settings.catflagsMask = mask
        settings.seasonGapDays = gap
        settings.zeroPointTolerance = tolerance
        let points = try ZTFLightCurveCSV.read(csv)
        #expect(points.count == 1852)
        let (curves, counts) = LightCurveReduction(settings: settings, filters: ["zg", "zr", "zi"]).reduce(points)
        #expect(counts.kept == curves.reduce(0) { $0 + $1.mjd.count })
        #expect(counts.points == counts.kept + counts.flagged + counts.fainterThanLimit + counts.noMagnitude + counts.otherFilter)
        let out = try TestSupport.runPython(Self.pandas, arguments: [csv, String(mask), String(gap), String(tolerance)])
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[Any]])
        #expect(curves.count == expected.count, "\(curves.count) light curves, pandas \(expected.count)")
        for (c, e) in zip(curves, expected) {
            #expect(c.filter == e[0] as? String && c.group == e[1] as? Int && c.season == e[2] as? Int)
            #expect(c.mjd.count == e[3] as? Int, "\(c.filter) group \(c.group) season \(c.season)")
            #expect(c.mjd.first == e[4] as? Double && c.mjd.last == e[5] as? Double)
            let flux = try #require(e[6] as? Double), err = try #require(e[7] as? Double)
            #expect(abs(c.flux.reduce(0, +) - flux) <= 1e-9 * flux)
            #expect(abs(c.fluxErr.reduce(0, +) - err) <= 1e-9 * err)
            #expect(c.oids == (e[8] as? [Int])?.map(Int64.init))
            #expect(zip(c.mjd, c.mjd.dropFirst()).allSatisfy { $0 <= $1 })
        }
        if mask == 65535 {
            // zg: fields 736 and 805 have zero points 0.06 mag apart — kept apart; zr: 0.03 — merged.
            #expect(Set(curves.filter { $0.filter == "zg" }.map(\.group)) == [0, 1])
            #expect(curves.filter { $0.filter == "zr" }.allSatisfy { $0.oids.count == 2 })
        }
    }

    @Test func aCSVWithoutTheColumnsIsAnErrorNamingFileAndColumn() throws {
        let dir = try TestSupport.temporaryDirectory("lc-bad").path
        let path = dir + "/bad.csv"
        try "oid,mjd,mag\n1,58000.5,18.2\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try ZTFLightCurveCSV.read(path)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("no column magerr")
        }
    }
}
