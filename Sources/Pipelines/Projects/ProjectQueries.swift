import Foundation
import Formats
import Registry
import RunEngine
import Table

/// What `project status|detections|efficiency` read from the registry (nothing is written).
public enum ProjectQueries {
    /// A project version's status.
    public struct Status: Codable, Sendable {
        public var name: String
        public var hash: String
        public var products: String
        public var database: String
        public var stages: [StageStatusCount]
        public var histograms: [String: HistogramSummary]
    }

    /// A histogram summed over all sources, with its declared bins.
    public struct HistogramSummary: Codable, Sendable {
        public var bins: HistogramBins
        public var counts: [Int64]
    }

    static func opened<T>(_ yaml: String, _ database: String?, _ body: (ProjectPlan) throws -> T) throws -> T {
        let plan = try ProjectPlan(yaml: yaml, database: database, register: false)
        defer { plan.registry.close() }
        return try body(plan)
    }

    public static func status(yaml: String, database: String?) throws -> Status {
        try opened(yaml, database) { p in
            let h = try p.registry.histograms(version: p.version).mapValues { HistogramSummary(bins: $0.bins, counts: $0.counts) }
            return Status(name: p.config.name, hash: p.hash, products: p.products, database: p.registry.db.name,
                          stages: try p.registry.status(version: p.version, stages: ProjectStage.allCases.map(\.rawValue), failureLimit: 1000),
                          histograms: h)
        }
    }

    public static func detections(yaml: String, database: String?, minSNR: Double?) throws -> [DetectionRow] {
        try opened(yaml, database) { p in try p.registry.detections(version: p.version, minSNR: minSNR) }
    }

    /// Recovered over injected, per amplitude × duration of the project's template bank.
    public static func efficiency(yaml: String, database: String?) throws -> EfficiencyTable {
        try opened(yaml, database) { p in
            let counts = try p.registry.injectionCounts(version: p.version)
            let amps = p.config.injection.amplitudes, durs = p.config.injection.durationsDays
            var t = EfficiencyTable(amplitudes: amps, durations: durs, injected: amps.map { _ in durs.map { _ in 0 } },
                                    recovered: amps.map { _ in durs.map { _ in 0 } })
            for c in counts {
                guard let a = amps.firstIndex(of: c.amplitude), let d = durs.firstIndex(of: c.durationDays) else { continue }
                t.injected[a][d] += Int(c.injected)
                t.recovered[a][d] += Int(c.recovered)
            }
            return t
        }
    }

    public static func json<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(value)
    }

    static let detectionColumns = ["source", "filter", "zp_group", "season", "start_mjd", "end_mjd", "peak_mjd", "duration_days",
                                   "amplitude_ujy", "peak_snr", "snr", "epochs"]

    /// The detections as CSV (RFC 4180: a field with a comma, a quote or a line break is quoted).
    public static func detectionsCSV(_ rows: [DetectionRow]) -> String {
        var s = detectionColumns.joined(separator: ",") + "\n"
        for d in rows {
            s += [csvField(d.source), csvField(d.filter), "\(d.zpGroup)", "\(d.season)", "\(d.startMJD)", "\(d.endMJD)", "\(d.peakMJD)", "\(d.durationDays)",
                  "\(d.amplitudeMicroJansky)", "\(d.peakSNR)", "\(d.snr)", "\(d.epochs)"].joined(separator: ",") + "\n"
        }
        return s
    }

    /// `text` as an RFC 4180 field: quoted, with its quotes doubled, when it holds a comma, a
    /// quote, a carriage return or a line feed.
    static func csvField(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public static func writeDetections(_ rows: [DetectionRow], parquet path: String) throws {
        let schema = Schema([Field("source", .string, nullable: false)] + ProjectProducts.detectionSchema.fields)
        do {
            try ProjectProducts.write(schema: schema, rows: rows.count, to: path) { b in
                for d in rows {
                    ProjectProducts.append(d.source, to: b[0])
                    ProjectProducts.append(d.filter, to: b[1])
                    b[2].append(d.zpGroup); b[3].append(d.season)
                    for (i, x) in [d.startMJD, d.endMJD, d.peakMJD, d.durationDays, d.amplitudeMicroJansky, d.peakSNR, d.snr].enumerated() { b[4 + i].append(x) }
                    b[11].append(d.epochs)
                }
            }
        } catch { throw RunError.writing(path, error) }
    }
}
