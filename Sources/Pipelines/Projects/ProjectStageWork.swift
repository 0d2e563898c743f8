import Fetch
import Foundation
import Formats
import Registry
import RunEngine
import Table

/// Says when to look for claims of dead runs again (every 10 s while waiting for other runs).
final class StaleCheck: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date()
    func due() -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard Date().timeIntervalSince(last) > 10 else { return false }
        last = Date()
        return true
    }
}

/// One stage of a project run: claims (source, stage) rows from the registry and does them.
final class ProjectStageWork: @unchecked Sendable {
    let plan: ProjectPlan
    let run: Int64
    let stage: ProjectStage
    let options: ProjectRunOptions
    /// The light-curve catalog of an alert-lake survey (nil for the IRSA service).
    let alerts: AlertLightCurveSource?
    /// Raw files adopted from the disk instead of fetched.
    let adopted = SharedCount()
    var remadeNote: [String] = []
    private var registry: Registry { plan.registry }

    init(plan: ProjectPlan, run: Int64, stage: ProjectStage, options: ProjectRunOptions, alerts: AlertLightCurveSource?) {
        self.plan = plan
        self.alerts = alerts
        self.run = run
        self.stage = stage
        self.options = options
    }

    /// Does every claimable (source, stage) of `rows`; returns how many this run did.
    func run(rows: Range<Int64>) throws -> Int {
        let r = registry, version = plan.version, run = self.run, stage = self.stage
        let after = stage.earlier.map(\.rawValue)
        let total = try r.pending(version: version, stage: stage.rawValue, after: after, rows: rows)
        guard total > 0 else { return 0 }
        let progress = ProgressReporter(stage: "project " + stage.title, unit: "sources", total: Int64(total), enabled: options.run.progress)
        let executor: any Executor = stage == .fetch ? ThreadExecutor(workers: 1) : (options.run.executor ?? ThreadExecutor(workers: options.run.workers))
        let claims = ClaimedStage<ClaimedSource>(
            batch: stage == .fetch ? 64 : max(1, min(32, total / (8 * executor.workers))),
            claim: { n in try r.claim(version: version, stage: stage.rawValue, after: after, run: run, rows: rows, max: n) },
            release: { items in try r.release(items, run: run) },
            remaining: { [stale = StaleCheck()] in
                if stale.due() { try r.releaseStaleClaims(version: version) }
                return try r.remaining(version: version, stage: stage.rawValue, after: after, rows: rows)
            })
        return try claims.run(stage, executor: executor, progress: progress) { [self] items, context in
            if stage == .fetch {
                try fetch(items, progress: context.progress)
                return
            }
            try processBatch(items, progress: context.progress)
        }
    }

    /// A source that cannot be done (its input is bad): recorded as failed, the run goes on.
    struct SourceFailure: Error {
        var reason: String
    }

    /// Runs `body`, turning a problem with the source's own input into a ``SourceFailure``.
    private func reading<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as FormatError {
            let text = "\(e)"
            throw SourceFailure(reason: text.contains(what) ? text : "\(what): \(text)")
        } catch let e as RunError {
            if case .io(let m) = e { throw SourceFailure(reason: "\(what): \(m)") }
            throw e
        }
    }

    // MARK: - Fetch

    /// The ZTF light-curve service's URL for a source: IRSA's `POS=CIRCLE ra dec radius` (degrees).
    func url(_ s: RegisteredSource) -> String {
        let base = plan.config.survey.base
        let radius = plan.config.survey.radiusArcsec / 3600
        let pos = String(format: "CIRCLE%%20%.7f%%20%+.7f%%20%.8f", s.ra, s.dec, radius).replacingOccurrences(of: "+", with: "%2B")
        return base + (base.contains("?") ? "&" : "?") + "POS=" + pos + "&FORMAT=CSV"
    }

    private func fetch(_ claims: [ClaimedSource], progress: ProgressReporter) throws {
        if plan.config.survey.kind == .ztfAlerts {
            try cut(claims, progress: progress)
            return
        }
        let fm = FileManager.default
        var byPath: [String: [ClaimedSource]] = [:]
        var items: [FetchItem] = []
        var onDisk: [(ClaimedSource, String, Bool)] = []
        for c in claims {
            let path = plan.rawPath(c.source)
            let registered = try registry.rawFile(source: c.source.id, survey: plan.survey, downloadKey: plan.downloadKey)
            var st = stat()
            if stat(path, &st) == 0, registered.map({ $0.bytes == Int64(st.st_size) }) ?? true {
                // On disk already (another project or version fetched it, or a run stopped before
                // recording it): adopted.
                onDisk.append((c, path, registered == nil))
                continue
            }
            let name = (path as NSString).lastPathComponent
            if byPath[name] == nil { items.append(FetchItem(url: url(c.source), path: name)) }
            byPath[name, default: []].append(c)
        }
        try recordRaw(onDisk)
        progress.advance(Int64(onDisk.count))
        guard !items.isEmpty else { return }
        var config = FetchConfig(destination: plan.rawFolder)
        config.jobs = max(1, options.fetchJobs)
        config.progress = false
        config.sharesDestination = true  // two runs of a project fetch their own sources into one folder
        let (list, settings) = (items, config)
        let summary = try blockingAsync { try await FetchEngine.run(list, config: settings) }
        var failures: [String: String] = [:]
        for (p, reason) in summary.missing + summary.unauthorized + summary.forbidden + summary.failed { failures[(p as NSString).lastPathComponent] = reason }
        var unfinished: [ClaimedSource] = []
        var fetched: [(ClaimedSource, String, Bool)] = []
        for item in items {
            let cs = byPath[item.path] ?? []
            let path = plan.rawFolder + "/" + item.path
            if let reason = failures[item.path] {
                for c in cs { try registry.markFailed(c, run: run, reason: "fetching \(URLParts.redacted(item.url)): \(reason)") }
                progress.advance(Int64(cs.count))
            } else if fm.fileExists(atPath: path) {
                fetched += cs.map { ($0, path, false) }
            } else {
                unfinished += cs
            }
        }
        try recordRaw(fetched)
        progress.advance(Int64(fetched.count))
        try registry.release(unfinished, run: run)
        if summary.interrupted { throw RunError.interrupted }
        if let stop = summary.stopReason { throw RunError.io("fetching into \(plan.rawFolder): \(stop)") }
    }

    /// The alert-lake survey's "download": each source's detections cut from the light-curve
    /// catalog. A raw file already holding the same bytes is left as it is (adopted when the
    /// registry lacks it), so a second project or an unchanged lake rewrites nothing; new files
    /// are written unflushed and made durable together before the batch is recorded.
    private func cut(_ claims: [ClaimedSource], progress: ProgressReporter) throws {
        guard let alerts else { throw RunError.configuration("survey ztf-alerts: the light-curve catalog was not prepared") }
        do { try FileManager.default.createDirectory(atPath: plan.rawFolder, withIntermediateDirectories: true) } catch {
            throw RunError.writing(plan.rawFolder, error)
        }
        var cut: [(ClaimedSource, String, Bool)] = []
        for c in claims {
            try Interruption.check()
            let bytes = try alerts.cut(ra: c.source.ra, dec: c.source.dec, radiusArcsec: plan.config.survey.radiusArcsec)
            let path = plan.rawPath(c.source)
            if FileManager.default.contents(atPath: path).map({ [UInt8]($0) == bytes }) ?? false {
                let registered = try registry.rawFile(source: c.source.id, survey: plan.survey, downloadKey: plan.downloadKey)
                cut.append((c, path, registered == nil))
            } else {
                do { try AtomicFile.write(bytes, to: path, durable: false) } catch { throw RunError.writing(path, error) }
                cut.append((c, path, false))
            }
        }
        // One flush for the batch's files, before any is recorded.
        AtomicFile.flushAll()
        try recordRaw(cut)
        progress.advance(Int64(cut.count))
    }

    /// Records raw files on disk for their claims and marks the fetches done, in one
    /// transaction; `adopted` (the registry lacked the file) counts toward the adopted files.
    private func recordRaw(_ files: [(claim: ClaimedSource, path: String, adopted: Bool)]) throws {
        guard !files.isEmpty else { return }
        let hashed = try files.map { f in (f, try FileHash.sha256(f.path)) }
        let recorded = try registry.db.write { t in
            var n = 0
            for (f, (sha, bytes)) in hashed {
                // A claim handed back meanwhile (this run was thought dead) is left to its new holder.
                guard try registry.markDone(f.claim, run: run, in: t) else { continue }
                let (_, changed) = try registry.upsertRawFile(source: f.claim.source.id, survey: plan.survey, downloadKey: plan.downloadKey,
                                                              path: f.path, bytes: bytes, sha256: sha.hex, in: t)
                if changed { try registry.invalidate(source: f.claim.source.id, version: plan.version, stages: stage.later.map(\.rawValue), in: t) }
                if f.adopted { n += 1 }
            }
            return n
        }
        adopted.add(recorded)
    }

    // MARK: - Reduce, detect, inject

    private func process(_ c: ClaimedSource) throws -> Written? {
        switch stage {
        case .fetch: return nil
        case .reduce:
            guard let raw = try registry.rawFile(source: c.source.id, survey: plan.survey, downloadKey: plan.downloadKey) else {
                throw SourceFailure(reason: "no raw file is registered (fetch it again with --retry-failed)")
            }
            let points = try reading(raw.path) { try ZTFLightCurveCSV.read(raw.path) }
            let reduced = LightCurveReduction(settings: plan.config.reduction, filters: plan.config.survey.filters).reduce(points).curves
            return try store(c, kind: "lightcurves", rawInputs: [raw.id], productInputs: []) { path in
                try ProjectProducts.writeLightCurves(reduced, to: path)
            } results: { _, _ in }
        case .detect:
            let (input, curves) = try lightCurves(c)
            let finder = EventFinder(plan.config.analysis)
            let bins = plan.config.histograms
            var rows: [DetectionRow] = []
            var hist: [String: [Int64]] = bins.all.mapValues { Array(repeating: 0, count: $0.count) }
            let sign: Double = finder.sign == .flare ? 1 : -1
            for curve in curves {
                let base = EventFinder.baseline(curve.flux)
                for m in curve.mag { if let k = bins.magnitude.bin(m) { hist["magnitude"]?[k] += 1 } }
                guard base.sigma > 0, base.sigma.isFinite else { continue }
                var peak = -Double.infinity
                for f in curve.flux {
                    let snr = sign * (f - base.median) / base.sigma
                    peak = max(peak, snr)
                    if let k = bins.epochSNR.bin(snr) { hist["epochSNR"]?[k] += 1 }
                }
                if let k = bins.peakSNR.bin(peak) { hist["peakSNR"]?[k] += 1 }
                for e in finder.find(mjd: curve.mjd, flux: curve.flux, baseline: base) {
                    rows.append(DetectionRow(source: c.source.name, filter: curve.filter, zpGroup: Int64(curve.group), season: Int64(curve.season),
                                             startMJD: curve.mjd[e.first], endMJD: curve.mjd[e.last], peakMJD: e.peakMJD, durationDays: e.duration,
                                             amplitudeMicroJansky: e.amplitude, peakSNR: e.peakSNR, snr: e.snr, epochs: Int64(e.epochs)))
                }
            }
            return try store(c, kind: "detections", rawInputs: [], productInputs: [input.id]) { path in
                try ProjectProducts.write(schema: ProjectProducts.detectionSchema, rows: rows.count, to: path) { b in
                    for d in rows {
                        ProjectProducts.append(d.filter, to: b[0])
                        b[1].append(d.zpGroup); b[2].append(d.season)
                        for (i, x) in [d.startMJD, d.endMJD, d.peakMJD, d.durationDays, d.amplitudeMicroJansky, d.peakSNR, d.snr].enumerated() { b[3 + i].append(x) }
                        b[10].append(d.epochs)
                    }
                }
            } results: { product, t in
                try self.registry.replaceDetections(product: product, source: c.source.id, version: self.plan.version, rows, histograms: hist, in: t)
            }
        case .inject:
            let (input, curves) = try lightCurves(c)
            let settings = plan.config.injection
            let usable = curves.enumerated().filter { $0.element.mjd.count >= plan.config.analysis.minEpochs }
            var records: [(curve: ReducedLightCurve, record: InjectionRecord)] = []
            var counts: [String: InjectionCount] = [:]
            for (j, (index, curve)) in usable.enumerated() {
                var s = settings
                s.perSource = settings.perSource / usable.count + (j < settings.perSource % usable.count ? 1 : 0)
                guard s.perSource > 0 else { continue }
                let ir = InjectionRecovery(settings: s, finder: EventFinder(plan.config.analysis))
                let result = ir.run(mjd: curve.mjd, flux: curve.flux, curve: Self.seed(c.source.name, index))
                for r in result.records {
                    records.append((curve, r))
                    let key = "\(r.amplitude)/\(r.duration)"
                    var n = counts[key] ?? InjectionCount(amplitude: r.amplitude, durationDays: r.duration, injected: 0, recovered: 0)
                    n.injected += 1
                    if r.recovered { n.recovered += 1 }
                    counts[key] = n
                }
            }
            let table = counts.values.sorted { ($0.amplitude, $0.durationDays) < ($1.amplitude, $1.durationDays) }
            return try store(c, kind: "injections", rawInputs: [], productInputs: [input.id]) { path in
                try ProjectProducts.write(schema: ProjectProducts.injectionSchema, rows: records.count, to: path) { b in
                    for (curve, r) in records {
                        ProjectProducts.append(curve.filter, to: b[0])
                        b[1].append(Int64(curve.group)); b[2].append(Int64(curve.season))
                        b[3].append(r.start); b[4].append(r.amplitude); b[5].append(r.duration); b[6].append(r.recovered)
                    }
                }
            } results: { product, t in
                try self.registry.replaceInjectionCounts(product: product, table, in: t)
            }
        }
    }

    /// A curve's injection seed: FNV-1a of "SOURCE:INDEX" (the same source, the same draws).
    static func seed(_ name: String, _ index: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "\(name):\(index)".utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// The source's light-curve product and its curves.
    private func lightCurves(_ c: ClaimedSource) throws -> (RegisteredFile, [ReducedLightCurve]) {
        guard let lc = try registry.product(version: plan.version, source: c.source.id, kind: "lightcurves") else {
            throw SourceFailure(reason: "no light-curve product is registered")
        }
        let path = plan.products + "/" + lc.path
        return (lc, try reading(path) { try ProjectProducts.readLightCurves(path) })
    }

    /// A product file written for a claim, to be recorded with the batch.
    struct Written {
        let claim: ClaimedSource
        let kind: String
        let relative: String
        let sha256: String
        let bytes: Int64
        let rawInputs: [Int64]
        let productInputs: [Int64]
        let results: (Int64, any SQLTransaction) throws -> Void
    }

    /// Does a batch of claims: each source's product file is written (renamed into place, not
    /// yet flushed), a source with bad input is recorded as failed; then one flush makes the
    /// files durable and one transaction records them all, with their results and "done". An
    /// interrupt or an error records what was finished before it, then stops.
    private func processBatch(_ items: [ClaimedSource], progress: ProgressReporter) throws {
        var written: [Written] = []
        var stop: (any Error)?
        for c in items {
            do {
                try Interruption.check()
                if let w = try process(c) { written.append(w) }
            } catch let failure as SourceFailure {
                try registry.markFailed(c, run: run, reason: failure.reason)
            } catch {
                stop = error
                break
            }
            progress.advance(1)
        }
        if !written.isEmpty {
            AtomicFile.flushAll()
            try registry.db.write { t in
                for w in written {
                    // A claim handed back meanwhile (this run was thought dead) is left to its new holder.
                    guard try registry.markDone(w.claim, run: run, in: t) else { continue }
                    let (id, changed) = try registry.upsertProduct(version: plan.version, source: w.claim.source.id, kind: w.kind, path: w.relative,
                                                                   bytes: w.bytes, sha256: w.sha256, configHash: plan.hash, run: run,
                                                                   rawInputs: w.rawInputs, productInputs: w.productInputs, in: t)
                    try w.results(id, t)
                    if changed { try registry.invalidate(source: w.claim.source.id, version: plan.version, stages: stage.later.map(\.rawValue), in: t) }
                }
            }
        }
        if let stop { throw stop }
    }

    /// Writes a product file (atomically, not yet flushed) for the claim; what to record with it.
    private func store(_ c: ClaimedSource, kind: String, rawInputs: [Int64], productInputs: [Int64],
                       write: (String) throws -> Void, results: @escaping (Int64, any SQLTransaction) throws -> Void) throws -> Written {
        let relative = ProjectProducts.relativePath(kind: kind, source: c.source.id)
        let path = plan.products + "/" + relative
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try write(path)
        } catch { throw RunError.writing(path, error) }
        let (sha, bytes) = try FileHash.sha256(path)
        return Written(claim: c, kind: kind, relative: relative, sha256: sha.hex, bytes: bytes, rawInputs: rawInputs,
                       productInputs: productInputs, results: results)
    }
}
