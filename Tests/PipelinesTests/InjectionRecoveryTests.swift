import Foundation
import Testing
import Pipelines
import TestSupport

/// The event finder and injection-recovery on the shared ZTF light curve.
@Suite("Events and injection-recovery") struct InjectionRecoveryTests {
    static func curves() throws -> [ReducedLightCurve] {
        let points = try ZTFLightCurveCSV.read(try TestSupport.fixture("ztf-lightcurves/ZTF_lightcurve.csv"))
        return LightCurveReduction(settings: ProjectConfig.Reduction(), filters: ["zg", "zr", "zi"]).reduce(points).curves
    }

    @Test func farAboveIsRecoveredFarBelowIsNotAndEfficiencyRisesWithAmplitude() throws {
        var bank = ProjectConfig.Injection()
        bank.amplitudes = [0.5, 2, 5, 8, 12, 50]
        bank.durationsDays = [10, 30]
        bank.perSource = 40
        let recovery = InjectionRecovery(settings: bank, finder: EventFinder(threshold: 5, minEpochs: 2))
        let curves = try Self.curves()
        #expect(curves.count == 14)
        var total: EfficiencyTable?
        for (k, c) in curves.enumerated() {
            let (records, table) = recovery.run(mjd: c.mjd, flux: c.flux, curve: UInt64(k))
            #expect(records.count == 40 * 6)
            if total == nil { total = table } else { total?.add(table) }
        }
        let t = try #require(total)
        let injectedTotal: Int = t.injected.flatMap { $0 }.reduce(0, +)
        #expect(injectedTotal == 14 * 40 * 6)
        print("injection-recovery on the fixture: amplitudes \(t.amplitudes) sigma x durations \(t.durations) d:", t.efficiency)
        let far = t.efficiency(amplitude: 5), below = t.efficiency(amplitude: 0)
        #expect(far >= 0.95, "50 sigma flares recovered \(far)")
        #expect(below <= 0.05, "0.5 sigma flares recovered \(below)")
        for d in t.durations.indices {
            let e = t.efficiency.map { $0[d] }
            #expect(zip(e, e.dropFirst()).allSatisfy { $0 <= $1 }, "efficiency not monotonic in amplitude at \(t.durations[d]) d: \(e)")
        }
        // Reproducible: the same seed, the same table; another seed, other injection times.
        let again = recovery.run(mjd: curves[0].mjd, flux: curves[0].flux, curve: 0)
        #expect(again.records == recovery.run(mjd: curves[0].mjd, flux: curves[0].flux, curve: 0).records)
        var other = recovery
        other.settings.seed = 2
        #expect(other.run(mjd: curves[0].mjd, flux: curves[0].flux, curve: 0).records.map(\.start) != again.records.map(\.start))
    }

    @Test func aSingleEpochOutlierIsNotAnEventBelowTheMinimumEpochs() throws {
        let c = try #require(try Self.curves().first { $0.mjd.count > 100 })
        let base = EventFinder.baseline(c.flux)
        var flux = c.flux
        let k = flux.count / 2
        flux[k] += 100 * base.sigma
        let two = EventFinder(threshold: 5, minEpochs: 2).find(mjd: c.mjd, flux: flux)
        #expect(!two.contains { $0.first <= k && k <= $0.last }, "\(two)")
        let one = EventFinder(threshold: 5, minEpochs: 1).find(mjd: c.mjd, flux: flux)
        let e = try #require(one.first { $0.first == k })
        #expect(e.last == k && e.epochs == 1 && e.peakMJD == c.mjd[k] && e.peakSNR >= 90)
        // Two consecutive epochs: an event with a contiguous window, peak, duration and S/N.
        flux[k + 1] += 20 * base.sigma
        let pair = try #require(EventFinder(threshold: 5, minEpochs: 2).find(mjd: c.mjd, flux: flux).first { $0.first == k })
        #expect(pair.last == k + 1 && pair.epochs == 2 && pair.duration == c.mjd[k + 1] - c.mjd[k])
        #expect(abs(pair.amplitude - (flux[k] - EventFinder.baseline(flux).median)) < 1e-9 && pair.snr > pair.peakSNR / 2)
        // Dips are found only by a dip finder.
        var dip = c.flux
        dip[k] -= 50 * base.sigma
        dip[k + 1] -= 50 * base.sigma
        #expect(EventFinder(threshold: 5, minEpochs: 2, sign: .dip).find(mjd: c.mjd, flux: dip).contains { $0.first == k && $0.amplitude < 0 })
        #expect(!EventFinder(threshold: 5, minEpochs: 2).find(mjd: c.mjd, flux: dip).contains { $0.first == k })
    }
}
