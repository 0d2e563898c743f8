/// The registry's tables, as migrations applied in order (each once, recorded in
/// `schema_migrations`), written once for both SQLite and PostgreSQL.
///
/// Every table has a generated `id`; links are real foreign keys; every unique key is made of
/// `NOT NULL` columns, so it holds (a `NULL` in a key would let duplicates in). A product row
/// names its inputs by row id (`product_raw_inputs`, `product_inputs`), the configuration hash
/// and the AstroPile version that made it.
enum RegistrySchema {
    /// `{id}` stands for the dialect's identity column.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE projects (
              {id},
              name TEXT NOT NULL UNIQUE,
              created TEXT NOT NULL)
            """,
            """
            CREATE TABLE versions (
              {id},
              project_id BIGINT NOT NULL REFERENCES projects(id),
              config_hash TEXT NOT NULL,
              astropile_version TEXT NOT NULL,
              catalog_sha256 TEXT NOT NULL,
              config TEXT NOT NULL,
              products TEXT NOT NULL,
              created TEXT NOT NULL,
              UNIQUE (project_id, config_hash))
            """,
            """
            CREATE TABLE sources (
              {id},
              project_id BIGINT NOT NULL REFERENCES projects(id),
              name TEXT NOT NULL,
              catalog_row BIGINT NOT NULL,
              ra DOUBLE PRECISION NOT NULL,
              dec DOUBLE PRECISION NOT NULL,
              UNIQUE (project_id, name))
            """,
            "CREATE INDEX sources_row ON sources (project_id, catalog_row)",
            """
            CREATE TABLE raw_files (
              {id},
              source_id BIGINT NOT NULL REFERENCES sources(id),
              survey TEXT NOT NULL,
              download_key TEXT NOT NULL,
              path TEXT NOT NULL,
              bytes BIGINT NOT NULL,
              sha256 TEXT NOT NULL,
              created TEXT NOT NULL,
              UNIQUE (source_id, survey, download_key))
            """,
            """
            CREATE TABLE runs (
              {id},
              version_id BIGINT NOT NULL REFERENCES versions(id),
              host TEXT NOT NULL,
              pid BIGINT NOT NULL,
              started TEXT NOT NULL,
              heartbeat TEXT NOT NULL,
              finished TEXT,
              status TEXT NOT NULL)
            """,
            """
            CREATE TABLE stage_status (
              {id},
              version_id BIGINT NOT NULL REFERENCES versions(id),
              source_id BIGINT NOT NULL REFERENCES sources(id),
              stage TEXT NOT NULL,
              status TEXT NOT NULL,
              run_id BIGINT REFERENCES runs(id),
              reason TEXT,
              attempts BIGINT NOT NULL,
              updated TEXT NOT NULL,
              UNIQUE (version_id, source_id, stage))
            """,
            "CREATE INDEX stage_status_todo ON stage_status (version_id, stage, status)",
            """
            CREATE TABLE products (
              {id},
              version_id BIGINT NOT NULL REFERENCES versions(id),
              source_id BIGINT NOT NULL REFERENCES sources(id),
              kind TEXT NOT NULL,
              path TEXT NOT NULL,
              bytes BIGINT NOT NULL,
              sha256 TEXT NOT NULL,
              config_hash TEXT NOT NULL,
              astropile_version TEXT NOT NULL,
              run_id BIGINT NOT NULL REFERENCES runs(id),
              created TEXT NOT NULL,
              UNIQUE (version_id, source_id, kind))
            """,
            """
            CREATE TABLE product_raw_inputs (
              product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
              raw_file_id BIGINT NOT NULL REFERENCES raw_files(id),
              PRIMARY KEY (product_id, raw_file_id))
            """,
            """
            CREATE TABLE product_inputs (
              product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
              input_id BIGINT NOT NULL REFERENCES products(id),
              PRIMARY KEY (product_id, input_id))
            """,
            """
            CREATE TABLE detections (
              {id},
              product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
              source_id BIGINT NOT NULL REFERENCES sources(id),
              filter TEXT NOT NULL,
              zp_group BIGINT NOT NULL,
              season BIGINT NOT NULL,
              start_mjd DOUBLE PRECISION NOT NULL,
              end_mjd DOUBLE PRECISION NOT NULL,
              peak_mjd DOUBLE PRECISION NOT NULL,
              duration_days DOUBLE PRECISION NOT NULL,
              amplitude_ujy DOUBLE PRECISION NOT NULL,
              peak_snr DOUBLE PRECISION NOT NULL,
              snr DOUBLE PRECISION NOT NULL,
              epochs BIGINT NOT NULL,
              UNIQUE (product_id, filter, zp_group, season, start_mjd))
            """,
            """
            CREATE TABLE injection_counts (
              product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
              amplitude DOUBLE PRECISION NOT NULL,
              duration_days DOUBLE PRECISION NOT NULL,
              injected BIGINT NOT NULL,
              recovered BIGINT NOT NULL,
              PRIMARY KEY (product_id, amplitude, duration_days))
            """,
            """
            CREATE TABLE histogram_bins (
              version_id BIGINT NOT NULL REFERENCES versions(id),
              statistic TEXT NOT NULL,
              lower DOUBLE PRECISION NOT NULL,
              upper DOUBLE PRECISION NOT NULL,
              bins BIGINT NOT NULL,
              PRIMARY KEY (version_id, statistic))
            """,
            """
            CREATE TABLE histogram_counts (
              product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
              version_id BIGINT NOT NULL,
              statistic TEXT NOT NULL,
              counts TEXT NOT NULL,
              PRIMARY KEY (product_id, statistic),
              FOREIGN KEY (version_id, statistic) REFERENCES histogram_bins(version_id, statistic))
            """,
        ],
    ]

    /// Applies the migrations `db` lacks, in one write transaction each (two processes starting at
    /// once: the second waits for the first's lock, then finds them applied).
    static func migrate(_ db: any SQLDatabase) throws {
        // PostgreSQL: two `CREATE TABLE IF NOT EXISTS` at once can both try to create the table (a
        // duplicate key in pg_type), so each migration transaction first takes an advisory lock.
        func serialise(_ t: any SQLTransaction) throws {
            if db.dialect == .postgresql { try t.execute("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(7372616174) AS l) AS x") }
        }
        try db.write { t in
            try serialise(t)
            try t.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied TEXT NOT NULL)")
        }
        for (i, statements) in migrations.enumerated() {
            let version = Int64(i + 1)
            try db.write { t in
                try serialise(t)
                guard try t.one("SELECT version FROM schema_migrations WHERE version = ?", [.int(version)]) == nil else { return }
                for s in statements {
                    try t.execute(s.replacingOccurrences(of: "{id}", with: db.dialect.identityColumn))
                }
                try t.execute("INSERT INTO schema_migrations (version, applied) VALUES (?, ?)", [.int(version), .text(Registry.now())])
            }
        }
    }
}
