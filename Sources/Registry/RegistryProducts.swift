import Foundation
import RunEngine

/// A file the registry knows: where it is, how big, its SHA-256.
public struct RegisteredFile: Sendable, Hashable {
    public var id: Int64
    public var sourceID: Int64
    public var path: String
    public var bytes: Int64
    public var sha256: String
}

/// A detection as the registry stores it (MJD, days, µJy).
public struct DetectionRow: Sendable, Hashable, Codable {
    public var source: String
    public var filter: String
    public var zpGroup: Int64
    public var season: Int64
    public var startMJD: Double
    public var endMJD: Double
    public var peakMJD: Double
    public var durationDays: Double
    public var amplitudeMicroJansky: Double
    public var peakSNR: Double
    public var snr: Double
    public var epochs: Int64

    public init(source: String, filter: String, zpGroup: Int64, season: Int64, startMJD: Double, endMJD: Double, peakMJD: Double,
                durationDays: Double, amplitudeMicroJansky: Double, peakSNR: Double, snr: Double, epochs: Int64) {
        self.source = source
        self.filter = filter
        self.zpGroup = zpGroup
        self.season = season
        self.startMJD = startMJD
        self.endMJD = endMJD
        self.peakMJD = peakMJD
        self.durationDays = durationDays
        self.amplitudeMicroJansky = amplitudeMicroJansky
        self.peakSNR = peakSNR
        self.snr = snr
        self.epochs = epochs
    }
}

/// Injected and recovered counts of one template (amplitude in robust σ, duration in days).
public struct InjectionCount: Sendable, Hashable, Codable {
    public var amplitude: Double
    public var durationDays: Double
    public var injected: Int64
    public var recovered: Int64
    public init(amplitude: Double, durationDays: Double, injected: Int64, recovered: Int64) {
        self.amplitude = amplitude
        self.durationDays = durationDays
        self.injected = injected
        self.recovered = recovered
    }
}

extension Registry {
    // MARK: Raw files

    /// The raw file of a source for a survey and download key, if registered.
    public func rawFile(source: Int64, survey: String, downloadKey: String) throws -> RegisteredFile? {
        try db.read { t in
            try t.one("SELECT id, source_id, path, bytes, sha256 FROM raw_files WHERE source_id = ? AND survey = ? AND download_key = ?",
                      [.int(source), .text(survey), .text(downloadKey)]).flatMap(Self.file)
        }
    }

    /// Every raw file of the project's sources for a survey and download key.
    public func rawFiles(project: Int64, survey: String, downloadKey: String) throws -> [RegisteredFile] {
        try db.read { t in
            try t.query("""
                SELECT r.id, r.source_id, r.path, r.bytes, r.sha256 FROM raw_files r JOIN sources s ON s.id = r.source_id
                WHERE s.project_id = ? AND r.survey = ? AND r.download_key = ?
                """, [.int(project), .text(survey), .text(downloadKey)]).compactMap(Self.file)
        }
    }

    /// Records (or updates) a raw file inside `t`; returns its id and whether its content changed.
    public func upsertRawFile(source: Int64, survey: String, downloadKey: String, path: String, bytes: Int64, sha256: String,
                              in t: any SQLTransaction) throws -> (id: Int64, changed: Bool) {
        if let old = try t.one("SELECT id, sha256 FROM raw_files WHERE source_id = ? AND survey = ? AND download_key = ?",
                               [.int(source), .text(survey), .text(downloadKey)]), let id = old["id"].int {
            let changed = old["sha256"].text != sha256
            try t.execute("UPDATE raw_files SET path = ?, bytes = ?, sha256 = ? WHERE id = ? AND (path <> ? OR bytes <> ? OR sha256 <> ?)",
                          [.text(path), .int(bytes), .text(sha256), .int(id), .text(path), .int(bytes), .text(sha256)])
            return (id, changed)
        }
        guard let id = try t.one("""
            INSERT INTO raw_files (source_id, survey, download_key, path, bytes, sha256, created) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
            """, [.int(source), .text(survey), .text(downloadKey), .text(path), .int(bytes), .text(sha256), .text(Self.now())])?["id"].int else {
            throw RegistryError(database: db.name, operation: "record raw file \(path)", message: "no id returned")
        }
        return (id, true)
    }

    // MARK: Products

    /// The products of the version of `kind`, with their files.
    public func products(version: Int64, kind: String) throws -> [RegisteredFile] {
        try db.read { t in
            try t.query("SELECT id, source_id, path, bytes, sha256 FROM products WHERE version_id = ? AND kind = ?", [.int(version), .text(kind)])
                .compactMap(Self.file)
        }
    }

    /// A source's product of `kind`.
    public func product(version: Int64, source: Int64, kind: String) throws -> RegisteredFile? {
        try db.read { t in
            try t.one("SELECT id, source_id, path, bytes, sha256 FROM products WHERE version_id = ? AND source_id = ? AND kind = ?",
                      [.int(version), .int(source), .text(kind)]).flatMap(Self.file)
        }
    }

    /// Records (or updates in place, keeping its id) a product inside `t`, with the rows it was
    /// made from; returns its id and whether its content changed.
    public func upsertProduct(version: Int64, source: Int64, kind: String, path: String, bytes: Int64, sha256: String,
                              configHash: String, run: Int64, rawInputs: [Int64], productInputs: [Int64],
                              in t: any SQLTransaction) throws -> (id: Int64, changed: Bool) {
        let id: Int64
        let changed: Bool
        if let old = try t.one("SELECT id, sha256 FROM products WHERE version_id = ? AND source_id = ? AND kind = ?",
                               [.int(version), .int(source), .text(kind)]), let oid = old["id"].int {
            id = oid
            changed = old["sha256"].text != sha256
            try t.execute("UPDATE products SET path = ?, bytes = ?, sha256 = ?, config_hash = ?, astropile_version = ?, run_id = ?, created = ? WHERE id = ?",
                          [.text(path), .int(bytes), .text(sha256), .text(configHash), .text(AstroPileVersion.string), .int(run), .text(Self.now()), .int(id)])
        } else {
            guard let nid = try t.one("""
                INSERT INTO products (version_id, source_id, kind, path, bytes, sha256, config_hash, astropile_version, run_id, created)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                """, [.int(version), .int(source), .text(kind), .text(path), .int(bytes), .text(sha256), .text(configHash),
                      .text(AstroPileVersion.string), .int(run), .text(Self.now())])?["id"].int else {
                throw RegistryError(database: db.name, operation: "record product \(path)", message: "no id returned")
            }
            id = nid
            changed = true
        }
        for r in rawInputs {
            try t.execute("INSERT INTO product_raw_inputs (product_id, raw_file_id) VALUES (?, ?) ON CONFLICT (product_id, raw_file_id) DO NOTHING", [.int(id), .int(r)])
        }
        for p in productInputs {
            try t.execute("INSERT INTO product_inputs (product_id, input_id) VALUES (?, ?) ON CONFLICT (product_id, input_id) DO NOTHING", [.int(id), .int(p)])
        }
        return (id, changed)
    }

    /// Replaces a detections product's detection rows and histogram counts inside `t`.
    public func replaceDetections(product: Int64, source: Int64, version: Int64, _ rows: [DetectionRow],
                                  histograms: [String: [Int64]], in t: any SQLTransaction) throws {
        try t.execute("DELETE FROM detections WHERE product_id = ?", [.int(product)])
        for d in rows {
            try t.execute("""
                INSERT INTO detections (product_id, source_id, filter, zp_group, season, start_mjd, end_mjd, peak_mjd, duration_days,
                  amplitude_ujy, peak_snr, snr, epochs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.int(product), .int(source), .text(d.filter), .int(d.zpGroup), .int(d.season), .double(d.startMJD), .double(d.endMJD),
                      .double(d.peakMJD), .double(d.durationDays), .double(d.amplitudeMicroJansky), .double(d.peakSNR), .double(d.snr), .int(d.epochs)])
        }
        try t.execute("DELETE FROM histogram_counts WHERE product_id = ?", [.int(product)])
        for (name, counts) in histograms.sorted(by: { $0.key < $1.key }) {
            try t.execute("INSERT INTO histogram_counts (product_id, version_id, statistic, counts) VALUES (?, ?, ?, ?)",
                          [.int(product), .int(version), .text(name), .text(counts.map(String.init).joined(separator: ","))])
        }
    }

    /// Replaces an injections product's counts inside `t`.
    public func replaceInjectionCounts(product: Int64, _ counts: [InjectionCount], in t: any SQLTransaction) throws {
        try t.execute("DELETE FROM injection_counts WHERE product_id = ?", [.int(product)])
        for c in counts {
            try t.execute("INSERT INTO injection_counts (product_id, amplitude, duration_days, injected, recovered) VALUES (?, ?, ?, ?, ?)",
                          [.int(product), .double(c.amplitude), .double(c.durationDays), .int(c.injected), .int(c.recovered)])
        }
    }

    static func file(_ r: SQLRow) -> RegisteredFile? {
        guard let id = r["id"].int, let s = r["source_id"].int, let p = r["path"].text, let b = r["bytes"].int, let h = r["sha256"].text else { return nil }
        return RegisteredFile(id: id, sourceID: s, path: p, bytes: b, sha256: h)
    }
}
