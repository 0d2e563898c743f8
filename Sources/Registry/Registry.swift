import Foundation
import RunEngine

/// The registry of projects: sources, raw files, products with their inputs, runs and the
/// status of every (source, stage) — in SQLite (the embedded default) or PostgreSQL (shared), one
/// schema (``RegistrySchema``) and one code path for both.
///
/// Several processes may use one registry at once: work is taken by claiming `stage_status` rows
/// in a write transaction (``claim(version:stage:after:run:rows:max:)``), so each (source, stage) is
/// done by exactly one run; a claim of a run that died is handed back by the next run
/// (``releaseStaleClaims(version:staleAfter:)``).
public final class Registry: @unchecked Sendable {
    /// The database.
    public let db: any SQLDatabase

    /// A registry on `db`, migrated to the current schema.
    public init(_ db: any SQLDatabase) throws {
        self.db = db
        try RegistrySchema.migrate(db)
    }

    /// Opens `location`: `sqlite:PATH`, a plain path (SQLite), or `postgres://USER@HOST:PORT/DB`
    /// (``RegistryLocation``; any other `scheme://` is refused).
    public static func open(_ location: String) throws -> Registry {
        try open(try RegistryLocation(location))
    }

    /// Opens `location`.
    public static func open(_ location: RegistryLocation) throws -> Registry {
        switch location {
        case .postgresql(let url): return try Registry(PostgreSQLDatabase(url: url))
        case .sqlite(let path): return try Registry(SQLiteDatabase(path: path))
        }
    }

    /// Now, as the registry stores times (ISO 8601 UTC with milliseconds; sorts as text).
    public static func now(_ date: Date = Date()) -> String {
        // invariant: a clock's time in ms is finite and far inside Int64.
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let d = Date(timeIntervalSince1970: Double(ms / 1000))
        return String(UTCTime.iso8601(d).dropLast()) + String(format: ".%03dZ", Int(ms % 1000))
    }

    public func close() { db.close() }
}

// MARK: - Projects, versions, sources

/// A source as the registry holds it.
public struct RegisteredSource: Sendable, Hashable {
    public var id: Int64
    public var name: String
    /// 0-based row of the project's catalog.
    public var catalogRow: Int64
    /// Degrees.
    public var ra: Double
    public var dec: Double
}

/// A source from a catalog, to register.
public struct CatalogSource: Sendable, Hashable {
    public var name: String
    public var row: Int64
    public var ra: Double
    public var dec: Double
    public init(name: String, row: Int64, ra: Double, dec: Double) {
        self.name = name
        self.row = row
        self.ra = ra
        self.dec = dec
    }
}

/// A histogram's declared bins: `count` equal bins over [`lower`, `upper`); values outside go to
/// the first or last bin.
public struct HistogramBins: Codable, Sendable, Hashable {
    public var lower: Double
    public var upper: Double
    public var count: Int
    public init(lower: Double, upper: Double, count: Int) {
        self.lower = lower
        self.upper = upper
        self.count = count
    }

    /// The bin of `x` (clamped to the first and last), `nil` for NaN.
    public func bin(_ x: Double) -> Int? {
        guard x.isFinite || x.isInfinite, !x.isNaN, count > 0, upper > lower else { return nil }
        let f = (x - lower) / (upper - lower) * Double(count)
        if f < 0 { return 0 }
        if f >= Double(count) { return count - 1 }
        return Int(f)
    }
}

extension Registry {
    /// The project's id (registered on first use; an existing row is not changed).
    public func project(named name: String) throws -> Int64 {
        try db.write { t in
            if let r = try t.one("SELECT id FROM projects WHERE name = ?", [.text(name)]), let id = r["id"].int { return id }
            try t.execute("INSERT INTO projects (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [.text(name), .text(Self.now())])
            guard let id = try t.one("SELECT id FROM projects WHERE name = ?", [.text(name)])?["id"].int else {
                throw RegistryError(database: db.name, operation: "register project \(name)", message: "the row is missing after the insert")
            }
            return id
        }
    }

    /// The version's id: one row per (project, configuration hash), with the effective
    /// configuration and the products folder; an existing row is not changed. Its histograms'
    /// bins are declared with it.
    public func version(project: Int64, configHash: String, catalogSHA256: String, config: String, products: String,
                        histograms: [String: HistogramBins]) throws -> Int64 {
        try db.write { t in
            if let id = try t.one("SELECT id FROM versions WHERE project_id = ? AND config_hash = ?", [.int(project), .text(configHash)])?["id"].int {
                return id
            }
            try t.execute("""
                INSERT INTO versions (project_id, config_hash, astropile_version, catalog_sha256, config, products, created)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, config_hash) DO NOTHING
                """, [.int(project), .text(configHash), .text(AstroPileVersion.string), .text(catalogSHA256), .text(config), .text(products), .text(Self.now())])
            guard let id = try t.one("SELECT id FROM versions WHERE project_id = ? AND config_hash = ?", [.int(project), .text(configHash)])?["id"].int else {
                throw RegistryError(database: db.name, operation: "register version \(configHash)", message: "the row is missing after the insert")
            }
            for (name, b) in histograms.sorted(by: { $0.key < $1.key }) {
                try t.execute("INSERT INTO histogram_bins (version_id, statistic, lower, upper, bins) VALUES (?, ?, ?, ?, ?) ON CONFLICT (version_id, statistic) DO NOTHING",
                              [.int(id), .text(name), .double(b.lower), .double(b.upper), .int(b.count)])
            }
            return id
        }
    }

    /// Registers `sources` of the project and a pending status row for each of `stages` in the
    /// version; rows that exist are left as they are (a second run changes nothing). A source whose
    /// name is registered at another position is an error naming it.
    public func register(sources: [CatalogSource], project: Int64, version: Int64, stages: [String]) throws {
        let chunk = 500
        var start = 0
        while start < sources.count {
            let part = sources[start..<min(sources.count, start + chunk)]
            start += chunk
            try db.write { t in
                let now = Self.now()
                for s in part {
                    var id = try t.one("SELECT id, ra, dec FROM sources WHERE project_id = ? AND name = ?", [.int(project), .text(s.name)])
                    if id == nil {
                        try t.execute("INSERT INTO sources (project_id, name, catalog_row, ra, dec) VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, name) DO NOTHING",
                                      [.int(project), .text(s.name), .int(s.row), .double(s.ra), .double(s.dec)])
                        id = try t.one("SELECT id, ra, dec FROM sources WHERE project_id = ? AND name = ?", [.int(project), .text(s.name)])
                    }
                    guard let row = id, let sid = row["id"].int else {
                        throw RegistryError(database: db.name, operation: "register source \(s.name)", message: "the row is missing after the insert")
                    }
                    if let ra = row["ra"].double, let dec = row["dec"].double, abs(ra - s.ra) > 1e-9 || abs(dec - s.dec) > 1e-9 {
                        throw RegistryError(database: db.name, operation: "register source \(s.name)",
                                            message: "the project already has a source of this name at (\(ra), \(dec)), not (\(s.ra), \(s.dec)); give each source its own name", isUsage: true)
                    }
                    for stage in stages {
                        try t.execute("""
                            INSERT INTO stage_status (version_id, source_id, stage, status, attempts, updated)
                            VALUES (?, ?, ?, 'pending', 0, ?) ON CONFLICT (version_id, source_id, stage) DO NOTHING
                            """, [.int(version), .int(sid), .text(stage), .text(now)])
                    }
                }
            }
        }
    }
}

// MARK: - Runs and claims

/// A (source, stage) claimed by a run.
public struct ClaimedSource: Sendable, Hashable {
    /// The `stage_status` row.
    public var statusID: Int64
    public var source: RegisteredSource
}

extension Registry {
    /// Records a run of `version` by this process.
    public func startRun(version: Int64) throws -> Int64 {
        try db.write { t in
            let now = Self.now()
            guard let id = try t.one("INSERT INTO runs (version_id, host, pid, started, heartbeat, status) VALUES (?, ?, ?, ?, ?, 'running') RETURNING id",
                                     [.int(version), .text(Self.host), .int(Int64(getpid())), .text(now), .text(now)])?["id"].int else {
                throw RegistryError(database: db.name, operation: "record the run", message: "no id returned")
            }
            return id
        }
    }

    /// Marks the run alive (its claims are not taken over while it beats).
    public func heartbeat(run: Int64) throws {
        try db.write { t in try t.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", [.text(Self.now()), .int(run)]) }
    }

    /// Ends the run (`complete`, `interrupted`, `failed`) and hands back its unfinished claims.
    public func finishRun(_ run: Int64, status: String) throws {
        try db.write { t in
            try t.execute("UPDATE stage_status SET status = 'pending', run_id = NULL WHERE run_id = ? AND status = 'running'", [.int(run)])
            try t.execute("UPDATE runs SET status = ?, finished = ?, heartbeat = ? WHERE id = ?", [.text(status), .text(Self.now()), .text(Self.now()), .int(run)])
        }
    }

    /// Hands back the claims of runs that died: on this host, a process that no longer exists;
    /// elsewhere, no heartbeat for `staleAfter` seconds. Returns how many claims were handed back.
    @discardableResult
    public func releaseStaleClaims(version: Int64, staleAfter: Double = 300) throws -> Int {
        let running = try db.read { t in
            try t.query("SELECT id, host, pid, heartbeat FROM runs WHERE version_id = ? AND status = 'running'", [.int(version)])
        }
        let cutoff = Self.now(Date().addingTimeInterval(-staleAfter))
        var dead: [Int64] = []
        for r in running {
            guard let id = r["id"].int else { continue }
            let host = r["host"].text ?? ""
            if host == Self.host, let pid = r["pid"].int {
                if kill(pid_t(truncatingIfNeeded: pid), 0) != 0, errno == ESRCH { dead.append(id) }
            } else if let beat = r["heartbeat"].text, beat < cutoff {
                dead.append(id)
            }
        }
        guard !dead.isEmpty else { return 0 }
        return try db.write { t in
            var n = 0
            for id in dead {
                n += try t.query("UPDATE stage_status SET status = 'pending', run_id = NULL WHERE run_id = ? AND status = 'running' RETURNING id", [.int(id)]).count
                try t.execute("UPDATE runs SET status = 'died', finished = ? WHERE id = ? AND status = 'running'", [.text(Self.now()), .int(id)])
            }
            return n
        }
    }

    /// Claims up to `max` pending (source, `stage`) rows of the version for `run`, among sources
    /// whose catalog row is in `rows` and whose stages `after` are all done; in registration order.
    public func claim(version: Int64, stage: String, after: [String], run: Int64, rows: Range<Int64>, max: Int) throws -> [ClaimedSource] {
        try db.write { t in
            var sql = """
                SELECT st.id AS status_id, s.id, s.name, s.catalog_row, s.ra, s.dec
                FROM stage_status st JOIN sources s ON s.id = st.source_id
                WHERE st.version_id = ? AND st.stage = ? AND st.status = 'pending' AND s.catalog_row >= ? AND s.catalog_row < ?
                """
            var args: [SQLValue] = [.int(version), .text(stage), .int(rows.lowerBound), .int(rows.upperBound)]
            if !after.isEmpty {
                sql += " AND NOT EXISTS (SELECT 1 FROM stage_status p WHERE p.version_id = st.version_id AND p.source_id = st.source_id AND p.stage IN ("
                sql += after.map { _ in "?" }.joined(separator: ", ") + ") AND p.status <> 'done')"
                args += after.map { .text($0) }
            }
            // By the status row's id (registration order, which is catalog order): the (version, stage,
            // status) index gives the rows in that order, so a claim reads only what it takes — ordering
            // by catalog_row sorted every pending row for each claim.
            sql += " ORDER BY st.id LIMIT ?" + (db.dialect == .postgresql ? " FOR UPDATE OF st SKIP LOCKED" : "")
            args.append(.int(max))
            let rows = try t.query(sql, args)
            let claimed = rows.compactMap { r -> ClaimedSource? in
                guard let sid = r["status_id"].int, let id = r["id"].int, let name = r["name"].text, let row = r["catalog_row"].int,
                      let ra = r["ra"].double, let dec = r["dec"].double else { return nil }
                return ClaimedSource(statusID: sid, source: RegisteredSource(id: id, name: name, catalogRow: row, ra: ra, dec: dec))
            }
            let now = Self.now()
            for c in claimed {
                try t.execute("UPDATE stage_status SET status = 'running', run_id = ?, attempts = attempts + 1, updated = ? WHERE id = ?",
                              [.int(run), .text(now), .int(c.statusID)])
            }
            return claimed
        }
    }

    /// Hands back claims of `run` that are still running.
    public func release(_ claims: [ClaimedSource], run: Int64) throws {
        guard !claims.isEmpty else { return }
        try db.write { t in
            for c in claims {
                try t.execute("UPDATE stage_status SET status = 'pending', run_id = NULL WHERE id = ? AND run_id = ? AND status = 'running'",
                              [.int(c.statusID), .int(run)])
            }
        }
    }

    /// Marks a claim done inside `t` (with the results written in the same transaction); false
    /// when the run no longer holds the claim (the caller then throws to roll back).
    public func markDone(_ claim: ClaimedSource, run: Int64, in t: any SQLTransaction) throws -> Bool {
        !(try t.query("UPDATE stage_status SET status = 'done', reason = NULL, updated = ? WHERE id = ? AND run_id = ? AND status = 'running' RETURNING id",
                      [.text(Self.now()), .int(claim.statusID), .int(run)]).isEmpty)
    }

    /// Records a claim as failed, with its reason (the run goes on).
    public func markFailed(_ claim: ClaimedSource, run: Int64, reason: String) throws {
        try db.write { t in
            try t.execute("UPDATE stage_status SET status = 'failed', reason = ?, updated = ? WHERE id = ? AND run_id = ? AND status = 'running'",
                          [.text(String(reason.prefix(2000))), .text(Self.now()), .int(claim.statusID), .int(run)])
        }
    }

    /// Sets `stages` of `source` back to pending (a product file that is gone or changed).
    public func reset(source: Int64, version: Int64, stages: [String], reason: String) throws {
        guard !stages.isEmpty else { return }
        try db.write { t in
            for s in stages {
                try t.execute("UPDATE stage_status SET status = 'pending', run_id = NULL, reason = ?, updated = ? WHERE version_id = ? AND source_id = ? AND stage = ? AND status <> 'running'",
                              [.text(reason), .text(Self.now()), .int(version), .int(source), .text(s)])
            }
        }
    }

    /// Every done (source, `stage`) row of the version back to pending, with `reason`; returns
    /// how many (their inputs changed: the later stages follow only where the redone stage's
    /// results differ).
    @discardableResult
    public func resetDone(version: Int64, stage: String, reason: String) throws -> Int {
        try db.write { t in
            try t.query("UPDATE stage_status SET status = 'pending', run_id = NULL, reason = ?, updated = ? WHERE version_id = ? AND stage = ? AND status = 'done' RETURNING id",
                        [.text(reason), .text(Self.now()), .int(version), .text(stage)]).count
        }
    }

    /// Failed (source, stage) rows of the version back to pending (`--retry-failed`).
    @discardableResult
    public func retryFailed(version: Int64) throws -> Int {
        try db.write { t in
            try t.query("UPDATE stage_status SET status = 'pending', run_id = NULL, updated = ? WHERE version_id = ? AND status = 'failed' RETURNING id",
                        [.text(Self.now()), .int(version)]).count
        }
    }

    /// How many (source, `stage`) rows of the version with catalog rows in `rows` are pending and
    /// not blocked (no stage of `after` failed for that source): what a run would still do.
    public func pending(version: Int64, stage: String, after: [String], rows: Range<Int64>) throws -> Int {
        try db.read { t in
            var sql = """
                SELECT COUNT(*) AS n FROM stage_status st JOIN sources s ON s.id = st.source_id
                WHERE st.version_id = ? AND st.stage = ? AND st.status = 'pending' AND s.catalog_row >= ? AND s.catalog_row < ?
                """
            var args: [SQLValue] = [.int(version), .text(stage), .int(rows.lowerBound), .int(rows.upperBound)]
            if !after.isEmpty {
                sql += Self.blockedClause(after, negated: true)
                args += after.map { .text($0) }
            }
            return Int(try t.one(sql, args)?["n"].int ?? 0)
        }
    }

    /// How many (source, `stage`) rows in `rows` someone will still do: pending and not blocked,
    /// or claimed by a run.
    public func remaining(version: Int64, stage: String, after: [String], rows: Range<Int64>) throws -> Int {
        let running = try db.read { t in
            Int(try t.one("""
                SELECT COUNT(*) AS n FROM stage_status st JOIN sources s ON s.id = st.source_id
                WHERE st.version_id = ? AND st.stage = ? AND st.status = 'running' AND s.catalog_row >= ? AND s.catalog_row < ?
                """, [.int(version), .text(stage), .int(rows.lowerBound), .int(rows.upperBound)])?["n"].int ?? 0)
        }
        return running + (try pending(version: version, stage: stage, after: after, rows: rows))
    }

    /// `AND [NOT] EXISTS (a failed stage of `after` for the row's source)`, for `st`.
    static func blockedClause(_ after: [String], negated: Bool) -> String {
        " AND \(negated ? "NOT " : "")EXISTS (SELECT 1 FROM stage_status f WHERE f.version_id = st.version_id AND f.source_id = st.source_id AND f.status = 'failed' AND f.stage IN ("
            + after.map { _ in "?" }.joined(separator: ", ") + "))"
    }

    /// Sets the `stages` of `source` that are done back to pending inside `t` (their input changed).
    public func invalidate(source: Int64, version: Int64, stages: [String], in t: any SQLTransaction) throws {
        for s in stages {
            try t.execute("UPDATE stage_status SET status = 'pending', run_id = NULL, reason = 'input changed', updated = ? WHERE version_id = ? AND source_id = ? AND stage = ? AND status = 'done'",
                          [.text(Self.now()), .int(version), .int(source), .text(s)])
        }
    }

    static let host: String = ProcessInfo.processInfo.hostName
}
