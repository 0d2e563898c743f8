/// How many sources of a version are in each status at one stage, with the reasons of failures.
public struct StageStatusCount: Sendable, Hashable, Codable {
    public var stage: String
    public var done: Int
    public var pending: Int
    public var running: Int
    public var failed: Int
    /// Pending, but an earlier stage failed for the source (they wait for `--retry-failed`).
    public var blocked: Int
    /// Failed sources and why (up to the limit asked for).
    public var failures: [Failure]

    public struct Failure: Sendable, Hashable, Codable {
        public var source: String
        public var reason: String
    }
}

extension Registry {
    /// The version of a project with this configuration hash, if registered.
    public func versionID(project name: String, configHash: String) throws -> Int64? {
        try db.read { t in
            try t.one("SELECT v.id FROM versions v JOIN projects p ON p.id = v.project_id WHERE p.name = ? AND v.config_hash = ?",
                      [.text(name), .text(configHash)])?["id"].int
        }
    }

    /// Per stage (in `stages` order): sources done, pending, running, failed, and up to
    /// `failureLimit` failures with their reasons.
    public func status(version: Int64, stages: [String], failureLimit: Int = 20) throws -> [StageStatusCount] {
        try db.read { t in
            let rows = try t.query("SELECT stage, status, COUNT(*) AS n FROM stage_status WHERE version_id = ? GROUP BY stage, status", [.int(version)])
            var out: [StageStatusCount] = []
            for (k, stage) in stages.enumerated() {
                var c = StageStatusCount(stage: stage, done: 0, pending: 0, running: 0, failed: 0, blocked: 0, failures: [])
                for r in rows where r["stage"].text == stage {
                    let n = Int(r["n"].int ?? 0)
                    switch r["status"].text {
                    case "done": c.done = n
                    case "pending": c.pending = n
                    case "running": c.running = n
                    case "failed": c.failed = n
                    default: break
                    }
                }
                let earlier = Array(stages.prefix(k))
                if c.pending > 0, !earlier.isEmpty {
                    c.blocked = Int(try t.one("SELECT COUNT(*) AS n FROM stage_status st WHERE st.version_id = ? AND st.stage = ? AND st.status = 'pending'"
                                              + Self.blockedClause(earlier, negated: false), [.int(version), .text(stage)] + earlier.map { .text($0) })?["n"].int ?? 0)
                }
                if c.failed > 0 {
                    c.failures = try t.query("""
                        SELECT s.name, st.reason FROM stage_status st JOIN sources s ON s.id = st.source_id
                        WHERE st.version_id = ? AND st.stage = ? AND st.status = 'failed' ORDER BY s.catalog_row LIMIT ?
                        """, [.int(version), .text(stage), .int(failureLimit)]).map {
                        StageStatusCount.Failure(source: $0["name"].text ?? "?", reason: $0["reason"].text ?? "")
                    }
                }
                out.append(c)
            }
            return out
        }
    }

    /// The version's detections with peak S/N at least `minSNR`, by source (catalog order) and time.
    public func detections(version: Int64, minSNR: Double? = nil) throws -> [DetectionRow] {
        try db.read { t in
            var sql = """
                SELECT s.name, d.filter, d.zp_group, d.season, d.start_mjd, d.end_mjd, d.peak_mjd, d.duration_days, d.amplitude_ujy,
                  d.peak_snr, d.snr, d.epochs
                FROM detections d JOIN products p ON p.id = d.product_id JOIN sources s ON s.id = d.source_id
                WHERE p.version_id = ?
                """
            var args: [SQLValue] = [.int(version)]
            if let minSNR { sql += " AND d.peak_snr >= ?"; args.append(.double(minSNR)) }
            sql += " ORDER BY s.catalog_row, d.filter, d.zp_group, d.season, d.start_mjd"
            return try t.query(sql, args).map { r in
                DetectionRow(source: r["name"].text ?? "", filter: r["filter"].text ?? "", zpGroup: r["zp_group"].int ?? 0, season: r["season"].int ?? 0,
                             startMJD: r["start_mjd"].double ?? .nan, endMJD: r["end_mjd"].double ?? .nan, peakMJD: r["peak_mjd"].double ?? .nan,
                             durationDays: r["duration_days"].double ?? .nan, amplitudeMicroJansky: r["amplitude_ujy"].double ?? .nan,
                             peakSNR: r["peak_snr"].double ?? .nan, snr: r["snr"].double ?? .nan, epochs: r["epochs"].int ?? 0)
            }
        }
    }

    /// A source's detections.
    public func detections(version: Int64, source: String) throws -> [DetectionRow] {
        try detections(version: version).filter { $0.source == source }
    }

    /// Injected and recovered counts over all the version's sources, per template.
    public func injectionCounts(version: Int64) throws -> [InjectionCount] {
        try db.read { t in
            try t.query("""
                SELECT c.amplitude, c.duration_days, CAST(SUM(c.injected) AS BIGINT) AS injected, CAST(SUM(c.recovered) AS BIGINT) AS recovered
                FROM injection_counts c JOIN products p ON p.id = c.product_id WHERE p.version_id = ?
                GROUP BY c.amplitude, c.duration_days ORDER BY c.amplitude, c.duration_days
                """, [.int(version)]).map {
                InjectionCount(amplitude: $0["amplitude"].double ?? .nan, durationDays: $0["duration_days"].double ?? .nan,
                               injected: $0["injected"].int ?? 0, recovered: $0["recovered"].int ?? 0)
            }
        }
    }

    /// The version's histograms summed over its sources, with their declared bins.
    public func histograms(version: Int64) throws -> [String: (bins: HistogramBins, counts: [Int64])] {
        try db.read { t in
            var out: [String: (bins: HistogramBins, counts: [Int64])] = [:]
            for r in try t.query("SELECT statistic, lower, upper, bins FROM histogram_bins WHERE version_id = ?", [.int(version)]) {
                guard let name = r["statistic"].text, let lo = r["lower"].double, let hi = r["upper"].double, let n = r["bins"].int else { continue }
                out[name] = (HistogramBins(lower: lo, upper: hi, count: Int(n)), Array(repeating: 0, count: Int(n)))
            }
            for r in try t.query("SELECT statistic, counts FROM histogram_counts WHERE version_id = ?", [.int(version)]) {
                guard let name = r["statistic"].text, let text = r["counts"].text, var h = out[name] else { continue }
                for (i, part) in text.split(separator: ",").enumerated() where i < h.counts.count { h.counts[i] += Int64(part) ?? 0 }
                out[name] = h
            }
            return out
        }
    }

    /// Every row of every registry table, as text lines (tests compare two of these to show that a
    /// run changed nothing).
    public func dump() throws -> [String] {
        let tables = ["projects", "versions", "sources", "raw_files", "runs", "stage_status", "products", "product_raw_inputs",
                      "product_inputs", "detections", "injection_counts", "histogram_bins", "histogram_counts"]
        return try db.read { t in
            var lines: [String] = []
            for table in tables {
                for r in try t.query("SELECT * FROM \(table) ORDER BY 1, 2", []) {
                    lines.append(table + ": " + zip(r.names, r.values).map { "\($0)=\($1)" }.joined(separator: " "))
                }
            }
            return lines
        }
    }
}
