import Foundation

/// Injected vs recovered events over a grid of amplitudes × durations.
public struct EfficiencyTable: Codable, Sendable, Hashable {
    /// Amplitudes (robust sigmas) and durations (days) of the grid.
    public var amplitudes: [Double]
    public var durations: [Double]
    /// `injected[a][d]`, `recovered[a][d]`: counts per grid cell.
    public var injected: [[Int]]
    public var recovered: [[Int]]

    /// Recovered / injected per cell (NaN where nothing was injected).
    public var efficiency: [[Double]] {
        zip(injected, recovered).map { zip($0, $1).map { $0 > 0 ? Double($1) / Double($0) : .nan } }
    }

    /// The efficiency at one amplitude over every duration.
    public func efficiency(amplitude a: Int) -> Double {
        let n = injected[a].reduce(0, +)
        return n > 0 ? Double(recovered[a].reduce(0, +)) / Double(n) : .nan
    }

    /// Adds another table of the same grid.
    public mutating func add(_ other: EfficiencyTable) {
        for a in injected.indices {
            for d in injected[a].indices {
                injected[a][d] += other.injected[a][d]
                recovered[a][d] += other.recovered[a][d]
            }
        }
    }
}

/// One injection and whether the finder recovered it.
public struct InjectionRecord: Codable, Sendable, Hashable {
    /// Start of the injected event (an observed epoch), MJD.
    public var start: Double
    public var amplitude: Double
    public var duration: Double
    public var recovered: Bool
}

/// Injection-recovery: events from a template bank added to real light curves, searched with
/// the same finder.
///
/// For each of `perSource` draws, a start time (an observed epoch, so the efficiency measures
/// the finder and the cadence within a season rather than the seasonal gaps) and a duration are
/// drawn; the event is injected at that time at every amplitude of the bank (the same times for
/// every amplitude, so efficiency against amplitude is compared on equal terms). Amplitudes are
/// in units of the light curve's robust σ; the shape is a flare (instant rise, e-folding decay
/// over the duration), a Gaussian (FWHM = duration) or a boxcar. An injection is recovered when
/// the finder, measuring against the real curve's baseline, reports an event whose window meets
/// the injection's window (flare: 3 e-folds; Gaussian: ±1 FWHM; boxcar: its span) and that is not
/// already an event of the real curve. Random numbers: SplitMix64 from the seed and the curve's
/// index, so a run is reproducible.
public struct InjectionRecovery: Sendable {
    public var settings: ProjectConfig.Injection
    public var finder: EventFinder

    public init(settings: ProjectConfig.Injection, finder: EventFinder) {
        self.settings = settings
        self.finder = finder
    }

    /// The injection profile at `dt` days after the start, for a duration `d` (peak 1).
    func profile(_ dt: Double, _ d: Double) -> Double {
        switch settings.shape {
        case .flare: return dt < 0 ? 0 : exp(-dt / d)
        case .gaussian: return exp(-4 * log(2.0) * (dt / d) * (dt / d))
        case .boxcar: return dt >= 0 && dt < d ? 1 : 0
        }
    }

    func window(_ t0: Double, _ d: Double) -> ClosedRange<Double> {
        switch settings.shape {
        case .flare: return t0...(t0 + 3 * d)
        case .gaussian: return (t0 - d)...(t0 + d)
        case .boxcar: return t0...(t0 + d)
        }
    }

    /// Injects into one light curve (`mjd` ascending) and returns the records and the table.
    public func run(mjd: [Double], flux: [Double], curve: UInt64) -> (records: [InjectionRecord], table: EfficiencyTable) {
        let amps = settings.amplitudes, durs = settings.durationsDays
        var table = EfficiencyTable(amplitudes: amps, durations: durs,
                                    injected: amps.map { _ in durs.map { _ in 0 } }, recovered: amps.map { _ in durs.map { _ in 0 } })
        var records: [InjectionRecord] = []
        let base = EventFinder.baseline(flux)
        guard mjd.count == flux.count, !mjd.isEmpty, base.sigma > 0, base.sigma.isFinite else { return (records, table) }
        let sign: Double = finder.sign == .flare ? 1 : -1
        let real = finder.find(mjd: mjd, flux: flux, baseline: base).map { mjd[$0.first]...mjd[$0.last] }
        var rng = SplitMix64(seed: UInt64(bitPattern: Int64(settings.seed)) &* 0x9E37_79B9_7F4A_7C15 ^ curve)
        var injected = flux
        for _ in 0..<settings.perSource {
            let t0 = mjd[Int(rng.next() % UInt64(mjd.count))]
            let di = Int(rng.next() % UInt64(durs.count))
            let d = durs[di]
            let w = window(t0, d)
            for (ai, a) in amps.enumerated() {
                for k in mjd.indices { injected[k] = flux[k] + sign * a * base.sigma * profile(mjd[k] - t0, d) }
                let found = finder.find(mjd: mjd, flux: injected, baseline: base).contains { e in
                    let span = mjd[e.first]...mjd[e.last]
                    return span.overlaps(w) && !real.contains { $0.overlaps(span) }
                }
                table.injected[ai][di] += 1
                if found { table.recovered[ai][di] += 1 }
                records.append(InjectionRecord(start: t0, amplitude: a, duration: d, recovered: found))
            }
        }
        return (records, table)
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast, reproducible generator.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
