import Foundation
import Formats
import Registry
import RunEngine
import Yams

/// Where a project's raw photometry comes from.
public enum ProjectSurvey: String, Codable, Sendable, CaseIterable {
    /// The ZTF light-curve service (IRSA `nph_light_curves`, CSV), one request per source.
    case ztf
    /// Light curves from an AstroPile alert lake (`survey.lake`).
    case ztfAlerts = "ztf-alerts"
}

/// The kind of event the finder looks for.
public enum ProjectEventSign: String, Codable, Sendable, CaseIterable {
    /// Brightenings (flux above the baseline).
    case flare
    /// Dimmings (flux below the baseline).
    case dip
}

/// The shape of an injected event.
public enum ProjectInjectionShape: String, Codable, Sendable, CaseIterable {
    /// Instant rise, exponential decay with the duration as e-folding time.
    case flare
    /// A Gaussian with the duration as full width at half maximum.
    case gaussian
    /// Constant over the duration.
    case boxcar
}

/// One project of `astropile project`: a catalog of sources, the survey to query, and the
/// reduction, analysis and injection settings — a typed YAML file (`project init` writes one
/// with every parameter and its meaning).
///
/// Only the settings that change results enter ``resultHash(catalogSHA256:)``: display
/// settings, the project's name, the output root and the service's base URL (a mirror serves
/// the same data) do not; the key order and number spelling of the YAML file cannot, since the
/// hash is over the typed values.
public struct ProjectConfig: Codable, Sendable, Hashable {
    public struct Catalog: Codable, Sendable, Hashable {
        /// The catalog file (any format `astropile import` reads).
        public var path: String
        /// Right ascension and declination columns (degrees).
        public var ra = "ra"
        public var dec = "dec"
        /// A column with the sources' names; nil: the row number.
        public var name: String?
        public init(path: String) { self.path = path }
    }

    public struct Survey: Codable, Sendable, Hashable {
        public var kind: ProjectSurvey = .ztf
        /// The light-curve service's base URL (`ztf`), without credentials: a user and password
        /// come from `ASTROPILE_FETCH_USER`/`ASTROPILE_FETCH_PASSWORD` or `~/.netrc` (``validate()``
        /// refuses a base with `user:password@`, which would be saved with the project).
        public var base = ProjectConfig.irsaBase
        /// The alert lake (`ztf-alerts`).
        public var lake: String?
        /// Search radius around each source, arcsec.
        public var radiusArcsec = 2.0
        /// ZTF filters kept (zg, zr, zi).
        public var filters = ["zg", "zr", "zi"]
        public init() {}
    }

    public struct Reduction: Codable, Sendable, Hashable {
        /// A gap longer than this (days) starts a new season.
        public var seasonGapDays = 60.0
        /// Points with any of these `catflags` bits set are dropped (ZTF: 0 is a clean point).
        public var catflagsMask = 65535
        /// Drop points fainter than their epoch's limiting magnitude (`limitmag`).
        public var limitingMagnitudeCut = true
        /// Light curves of one object from different ZTF fields are merged only when their median
        /// zero points (`magzp`) agree within this (mag).
        public var zeroPointTolerance = 0.05
        public init() {}
    }

    public struct Analysis: Codable, Sendable, Hashable {
        /// Events are epochs this many robust sigmas (1.4826 × MAD) from the median baseline.
        public var snrThreshold = 5.0
        /// An event needs at least this many consecutive epochs above the threshold.
        public var minEpochs = 2
        /// Brightenings or dimmings.
        public var sign: ProjectEventSign = .flare
        public init() {}
    }

    public struct Injection: Codable, Sendable, Hashable {
        /// Events injected into each real light curve (0: no injection-recovery).
        public var perSource = 10
        /// Peak amplitudes, in units of the light curve's robust sigma.
        public var amplitudes = [1.0, 3.0, 5.0, 10.0, 30.0]
        /// Durations, days.
        public var durationsDays = [1.0, 3.0, 10.0, 30.0]
        public var shape: ProjectInjectionShape = .flare
        /// Seed of the injection times and templates (the same seed, the same injections).
        public var seed = 1
        public init() {}
    }

    /// Histograms of statistics over all sources, with fixed bins declared here (stored in the
    /// registry per source and summed on demand; values outside go to the end bins).
    public struct Histograms: Codable, Sendable, Hashable {
        /// Per-epoch S/N against the light curve's robust baseline.
        public var epochSNR = HistogramBins(lower: -10, upper: 40, count: 100)
        /// Per-epoch magnitude (AB).
        public var magnitude = HistogramBins(lower: 12, upper: 23, count: 110)
        /// The highest per-epoch S/N of each light curve (in the finder's sign).
        public var peakSNR = HistogramBins(lower: 0, upper: 100, count: 100)
        public init() {}

        /// By statistic name.
        public var all: [String: HistogramBins] { ["epochSNR": epochSNR, "magnitude": magnitude, "peakSNR": peakSNR] }
    }

    public struct Output: Codable, Sendable, Hashable {
        /// Folder of the project's products.
        public var root = "projects"
        /// Products under `<root>/<name>_<hash8>/`, so other settings never overwrite them;
        /// off: `<root>/<name>/`.
        public var versioning = true
        public init() {}
    }

    public struct Display: Codable, Sendable, Hashable {
        /// More messages.
        public var verbose = false
        /// Resolution of PNG plots, dots per inch.
        public var plotDPI = 100
        public init() {}
    }

    /// The project's name (folder and file names).
    public var name: String
    public var catalog: Catalog
    public var survey = Survey()
    public var reduction = Reduction()
    public var analysis = Analysis()
    public var injection = Injection()
    public var histograms = Histograms()
    public var output = Output()
    public var display = Display()

    /// The ZTF light-curve service.
    public static let irsaBase = "https://irsa.ipac.caltech.edu/cgi-bin/ZTF/nph_light_curves"

    public init(name: String, catalog: String) {
        self.name = name
        self.catalog = Catalog(path: catalog)
    }

    /// Checks every value before anything runs.
    public func validate() throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }), !name.hasPrefix(".") else {
            throw RunError.configuration("name: '\(name)' must be letters, digits, '_', '-' or '.' (it names folders)")
        }
        guard !catalog.path.isEmpty else { throw RunError.configuration("catalog.path: name the catalog of sources") }
        if survey.kind == .ztfAlerts, survey.lake == nil {
            throw RunError.configuration("survey.lake: name the alert lake for survey ztf-alerts")
        }
        // Credentials in the base would be saved with the project (project.yaml, the registry's
        // versions) and shown in messages: the fetch engine takes them from the environment.
        guard !survey.base.contains("@") else {
            throw RunError.configuration("survey.base \(URLRedaction.redacted(survey.base)) holds credentials (user:password@), which would be saved with the project: "
                                         + "give the bare URL, and the credentials in ASTROPILE_FETCH_USER and ASTROPILE_FETCH_PASSWORD (or ASTROPILE_FETCH_TOKEN) "
                                         + "or in a ~/.netrc entry for its host (a '@' the URL needs is written %40)")
        }
        guard survey.radiusArcsec > 0, survey.radiusArcsec <= 3600 else {
            throw RunError.configuration("survey.radiusArcsec must be in (0, 3600] (got \(survey.radiusArcsec))")
        }
        let known = Set(["zg", "zr", "zi"])
        guard !survey.filters.isEmpty, survey.filters.allSatisfy(known.contains) else {
            throw RunError.configuration("survey.filters must be some of zg, zr, zi (got \(survey.filters.joined(separator: ", ")))")
        }
        guard reduction.seasonGapDays > 0 else { throw RunError.configuration("reduction.seasonGapDays must be > 0") }
        guard (0...65535).contains(reduction.catflagsMask) else { throw RunError.configuration("reduction.catflagsMask must be 0…65535") }
        guard reduction.zeroPointTolerance >= 0 else { throw RunError.configuration("reduction.zeroPointTolerance must be ≥ 0") }
        guard analysis.snrThreshold > 0 else { throw RunError.configuration("analysis.snrThreshold must be > 0") }
        guard analysis.minEpochs >= 1 else { throw RunError.configuration("analysis.minEpochs must be ≥ 1") }
        guard injection.perSource >= 0, injection.perSource <= 100_000 else {
            throw RunError.configuration("injection.perSource must be 0…100000")
        }
        guard injection.perSource == 0 || (!injection.amplitudes.isEmpty && !injection.durationsDays.isEmpty) else {
            throw RunError.configuration("injection: give amplitudes and durationsDays, or set perSource to 0")
        }
        guard injection.amplitudes.allSatisfy({ $0 > 0 && $0.isFinite }), injection.durationsDays.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw RunError.configuration("injection.amplitudes and injection.durationsDays must be positive numbers")
        }
        for (name, b) in histograms.all.sorted(by: { $0.key < $1.key }) {
            guard b.count >= 1, b.count <= 100_000, b.lower.isFinite, b.upper.isFinite, b.upper > b.lower else {
                throw RunError.configuration("histograms.\(name): count must be 1…100000 and lower < upper (got \(b.lower), \(b.upper), \(b.count))")
            }
        }
        guard display.plotDPI >= 10, display.plotDPI <= 1200 else { throw RunError.configuration("display.plotDPI must be 10…1200") }
    }

    // MARK: - Hash

    /// What the hash covers: the settings that change results, the version, the catalog's bytes.
    private struct Hashed: Encodable {
        var astropile: String
        var catalogSHA256: String
        var columns: [String?]
        var survey: ProjectSurvey
        var lake: String?
        var radiusArcsec: Double
        var filters: [String]
        var reduction: Reduction
        var analysis: Analysis
        var injection: Injection
        var histograms: Histograms
    }

    /// The canonical hash (16 hex digits) of the result-changing settings, the AstroPile
    /// version and the catalog's content (`catalogSHA256`, hex).
    public func resultHash(catalogSHA256: String) -> String {
        CanonicalHash.of(Hashed(astropile: AstroPileVersion.string, catalogSHA256: catalogSHA256,
                                columns: [catalog.ra, catalog.dec, catalog.name], survey: survey.kind,
                                lake: survey.kind == .ztfAlerts ? survey.lake : nil, radiusArcsec: survey.radiusArcsec,
                                filters: survey.filters, reduction: reduction, analysis: analysis, injection: injection,
                                histograms: histograms))
    }

    /// The products folder: `<root>/<name>_<hash8>` with versioning, else `<root>/<name>`
    /// (`root` relative to `base`, the folder of the YAML file).
    public func productsFolder(hash: String, base: String) -> String {
        let root = output.root.hasPrefix("/") ? output.root : base + "/" + output.root
        return root + "/" + (output.versioning ? name + "_" + hash.prefix(8) : name)
    }

    // MARK: - YAML

    /// Reads a project file. Unknown keys are errors (a misspelt setting must not be ignored);
    /// missing ones take their defaults (the file is merged over the encoded default settings,
    /// then decoded as the typed config).
    public static func load(yaml path: String) throws -> ProjectConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw RunError.configuration("cannot read \(path): \(error.localizedDescription)")
        }
        let config: ProjectConfig
        do {
            guard let user = try Yams.compose(yaml: text), user.mapping != nil else {
                throw RunError.configuration("\(path): not a YAML mapping of settings")
            }
            // The defaults, and every key there is (optional ones set so that they appear).
            var shape = ProjectConfig(name: "", catalog: "")
            guard let defaults = try Yams.compose(yaml: YAMLEncoder().encode(shape)) else {
                throw RunError.configuration("\(path): the default settings do not encode")
            }
            shape.catalog.name = ""
            shape.survey.lake = ""
            guard let known = try Yams.compose(yaml: YAMLEncoder().encode(shape)) else {
                throw RunError.configuration("\(path): the default settings do not encode")
            }
            try Self.checkKnown(user, known, path: [])
            config = try YAMLDecoder().decode(ProjectConfig.self, from: Self.merged(defaults, user))
        } catch let e as DecodingError {
            throw RunError.configuration("\(path): \(Self.describe(e))")
        } catch RunError.configuration(let m) {
            throw RunError.configuration(m.hasPrefix(path + ":") ? m : path + ": " + m)
        } catch {
            throw RunError.configuration("\(path): \(error)")
        }
        do { try config.validate() } catch RunError.configuration(let m) { throw RunError.configuration("\(path): \(m)") }
        return config
    }

    /// Throws for a key of `user` that `known` (the settings there are) lacks, naming its path.
    static func checkKnown(_ user: Node, _ known: Node, path: [String]) throws {
        guard let u = user.mapping, let k = known.mapping else { return }
        for (key, value) in u {
            let name = key.string ?? "\(key)"
            guard let sub = k.first(where: { $0.key.string == name })?.value else {
                let here = k.compactMap { $0.key.string }.joined(separator: ", ")
                throw RunError.configuration("unknown setting \((path + [name]).joined(separator: ".")) (known\(path.isEmpty ? "" : " in " + path.joined(separator: ".")): \(here))")
            }
            try checkKnown(value, sub, path: path + [name])
        }
    }

    /// `base` with the settings of `over` in place of its own (mappings merged key by key).
    static func merged(_ base: Node, _ over: Node) -> Node {
        guard let b = base.mapping, let o = over.mapping else { return over }
        var pairs = b.map { ($0.key, $0.value) }
        for (key, value) in o {
            if let i = pairs.firstIndex(where: { $0.0.string == key.string }) { pairs[i].1 = merged(pairs[i].1, value) }
            else { pairs.append((key, value)) }
        }
        return Node(pairs)
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: [any CodingKey]) -> String { c.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
        switch e {
        case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])) is missing"
        case .typeMismatch(let t, let c): return "\(path(c.codingPath)): expected \(t == Int.self ? "a whole number" : t == Double.self ? "a number" : t == Bool.self ? "true or false" : "\(t)")"
        case .valueNotFound(_, let c), .dataCorrupted(let c):
            return "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    /// The project file `project init` writes: every parameter with its value and meaning.
    public func yaml() -> String {
        func q(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        func n(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(format: "%.1f", x) : "\(x)" }
        func list(_ xs: [Double]) -> String { "[" + xs.map(n).joined(separator: ", ") + "]" }
        return """
            # AstroPile project \(name) — `astropile project run \(name).yaml`.
            # Only the settings marked (hashed) change results: they, the AstroPile version and the
            # catalog's bytes make the hash that names the products folder.
            name: \(q(name))                  # the project's name (folder and file names)

            catalog:
              path: \(q(catalog.path))        # the sources: any catalog astropile import reads
              ra: \(q(catalog.ra))            # (hashed) right ascension column, degrees
              dec: \(q(catalog.dec))          # (hashed) declination column, degrees
            \(catalog.name.map { "  name: \(q($0))" } ?? "  # name: \"NAME\"")          # (hashed) column of source names; absent: the row number

            survey:
              kind: \(survey.kind.rawValue)                 # (hashed) ztf: the IRSA ZTF light-curve service; ztf-alerts: an alert lake
              base: \(q(survey.base))   # the service's base URL (a mirror or local server may stand in); no user:password@ in it: ASTROPILE_FETCH_USER/ASTROPILE_FETCH_PASSWORD or ~/.netrc
            \(survey.lake.map { "  lake: \(q($0))" } ?? "  # lake: \"LAKE\"")            # (hashed) the alert lake, for kind ztf-alerts
              radiusArcsec: \(n(survey.radiusArcsec))          # (hashed) search radius around each source, arcsec
              filters: [\(survey.filters.joined(separator: ", "))]     # (hashed) ZTF filters kept

            reduction:
              seasonGapDays: \(n(reduction.seasonGapDays))        # (hashed) a gap longer than this (days) starts a new season
              catflagsMask: \(reduction.catflagsMask)         # (hashed) points with any of these catflags bits set are dropped (0 = clean)
              limitingMagnitudeCut: \(reduction.limitingMagnitudeCut)  # (hashed) drop points fainter than their epoch's limitmag
              zeroPointTolerance: \(n(reduction.zeroPointTolerance))   # (hashed) mag: fields of one object merge only if their magzp agree this well

            analysis:
              snrThreshold: \(n(analysis.snrThreshold))         # (hashed) an event epoch is this many robust sigmas (1.4826 MAD) from the median
              minEpochs: \(analysis.minEpochs)              # (hashed) consecutive epochs an event needs
              sign: \(analysis.sign.rawValue)               # (hashed) flare (brightening) or dip (dimming)

            injection:
              perSource: \(injection.perSource)             # (hashed) events injected into each light curve (0: none)
              amplitudes: \(list(injection.amplitudes))   # (hashed) peak amplitudes, in robust sigmas of the light curve
              durationsDays: \(list(injection.durationsDays))   # (hashed) durations, days
              shape: \(injection.shape.rawValue)              # (hashed) flare (instant rise, exponential decay), gaussian (FWHM) or boxcar
              seed: \(injection.seed)                   # (hashed) the same seed, the same injections

            histograms:                        # (hashed) fixed bins: count equal bins over [lower, upper); outside values go to the end bins
              epochSNR: {lower: \(n(histograms.epochSNR.lower)), upper: \(n(histograms.epochSNR.upper)), count: \(histograms.epochSNR.count)}     # per-epoch S/N against the robust baseline
              magnitude: {lower: \(n(histograms.magnitude.lower)), upper: \(n(histograms.magnitude.upper)), count: \(histograms.magnitude.count)}   # per-epoch AB magnitude
              peakSNR: {lower: \(n(histograms.peakSNR.lower)), upper: \(n(histograms.peakSNR.upper)), count: \(histograms.peakSNR.count)}      # highest per-epoch S/N of each light curve

            output:
              root: \(q(output.root))          # folder of the products (relative to this file)
              versioning: \(output.versioning)           # products in ROOT/NAME_HASH8 (true) or ROOT/NAME (false)

            display:
              verbose: \(display.verbose)             # more messages
              plotDPI: \(display.plotDPI)               # resolution of PNG plots, dots per inch

            """
    }
}

/// What `astropile project hash` prints for a project file.
public struct ProjectIdentity: Codable, Sendable {
    /// The result hash (16 hex digits).
    public var hash: String
    /// SHA-256 of the catalog file, hex.
    public var catalogSHA256: String
    /// Where the products go.
    public var products: String

    /// The identity of the project in `yaml` (its catalog read to hash its bytes).
    public static func of(yaml path: String) throws -> ProjectIdentity {
        let config = try ProjectConfig.load(yaml: path)
        let base = (StampsConfig.absolute(path) as NSString).deletingLastPathComponent
        let catalog = config.catalog.path.hasPrefix("/") ? config.catalog.path : base + "/" + config.catalog.path
        guard FileManager.default.fileExists(atPath: catalog) else {
            throw RunError.configuration("\(path): catalog.path \(config.catalog.path) does not exist")
        }
        let sha = try FileHash.sha256(catalog).sha256.hex
        let hash = config.resultHash(catalogSHA256: sha)
        return ProjectIdentity(hash: hash, catalogSHA256: sha, products: config.productsFolder(hash: hash, base: base))
    }
}
