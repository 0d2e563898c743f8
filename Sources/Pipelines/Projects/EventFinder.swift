import Foundation

/// One event the finder found in a light curve.
public struct DetectedEvent: Codable, Sendable, Hashable {
    /// First and last epoch of the event window (indices into the light curve, inclusive).
    public var first: Int
    public var last: Int
    /// MJD of the epoch furthest from the baseline.
    public var peakMJD: Double
    /// Flux at the peak minus the baseline, in the light curve's units (µJy); negative for dips.
    public var amplitude: Double
    /// MJD span of the window, days (0 for one epoch).
    public var duration: Double
    /// Epochs in the window (distinct MJDs: points at one time count once).
    public var epochs: Int
    /// The peak's distance from the baseline in robust sigmas.
    public var peakSNR: Double
    /// The window's combined S/N: Σ z / √n.
    public var snr: Double
}

/// Finds events in a light curve against a robust baseline: the median flux, and the scatter
/// σ = 1.4826 × MAD (the median absolute deviation, scaled to a Gaussian σ). An epoch's
/// z = (flux − median) / σ (negated for dips); an event is a run of consecutive epochs (in time
/// order, no epoch between them below the threshold) with z ≥ the threshold, at least
/// `minEpochs` epochs long. A single epoch far above the baseline is therefore not an event unless
/// `minEpochs` is 1; points at the same MJD (one exposure listed twice) count as one epoch, so
/// they never make an event of no duration out of one exposure.
public struct EventFinder: Sendable, Hashable {
    public var threshold: Double
    public var minEpochs: Int
    public var sign: ProjectEventSign

    public init(threshold: Double, minEpochs: Int, sign: ProjectEventSign = .flare) {
        self.threshold = threshold
        self.minEpochs = minEpochs
        self.sign = sign
    }

    public init(_ analysis: ProjectConfig.Analysis) {
        self.init(threshold: analysis.snrThreshold, minEpochs: analysis.minEpochs, sign: analysis.sign)
    }

    /// The robust baseline of `flux`: (median, 1.4826 × MAD).
    public static func baseline(_ flux: [Double]) -> (median: Double, sigma: Double) {
        let m = LightCurveReduction.median(flux)
        return (m, 1.4826 * LightCurveReduction.median(flux.map { abs($0 - m) }))
    }

    /// The events of a light curve sorted by time (`mjd` ascending, `flux` in any units).
    /// - Parameter baseline: the baseline to measure against (default: the curve's own), so an
    ///   injected event is measured against the real curve's scatter.
    public func find(mjd: [Double], flux: [Double], baseline: (median: Double, sigma: Double)? = nil) -> [DetectedEvent] {
        let (median, sigma) = baseline ?? Self.baseline(flux)
        guard flux.count == mjd.count, sigma > 0, sigma.isFinite else { return [] }
        let s: Double = sign == .flare ? 1 : -1
        var events: [DetectedEvent] = []
        var i = 0
        while i < flux.count {
            guard s * (flux[i] - median) / sigma >= threshold else { i += 1; continue }
            var j = i
            var sum = 0.0, peak = i, epochs = 0
            while j < flux.count {
                let z = s * (flux[j] - median) / sigma
                guard z >= threshold else { break }
                sum += z
                if z > s * (flux[peak] - median) / sigma { peak = j }
                if j == i || mjd[j] != mjd[j - 1] { epochs += 1 }
                j += 1
            }
            let n = j - i
            if epochs >= minEpochs {
                events.append(DetectedEvent(first: i, last: j - 1, peakMJD: mjd[peak], amplitude: flux[peak] - median,
                                            duration: mjd[j - 1] - mjd[i], epochs: epochs, peakSNR: s * (flux[peak] - median) / sigma,
                                            snr: sum / Double(n).squareRoot()))
            }
            i = j
        }
        return events
    }
}
