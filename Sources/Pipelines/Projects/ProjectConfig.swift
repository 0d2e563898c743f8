import Foundation
import Formats
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
        /// The light-curve service's base URL (`ztf`).
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
        if survey.kind == .ztfAlerts, survey.lake == nil {
            throw RunError.configuration("survey.lake: name the alert lake for survey ztf-alerts")
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
    }

    /// The canonical hash (16 hex digits) of the result-changing settings, the AstroPile
    /// version and the catalog's content (`catalogSHA256`, hex).
    public func resultHash(catalogSHA256: String) -> String {
        CanonicalHash.of(Hashed(astropile: AstroPileVersion.string, catalogSHA256: catalogSHA256,
                                columns: [catalog.ra, catalog.dec, catalog.name], survey: survey.kind,
                                lake: survey.kind == .ztfAlerts ? survey.lake : nil, radiusArcsec: survey.radiusArcsec,
                                filters: survey.filters, reduction: reduction, analysis: analysis, injection: injection))
    }

    /// The products folder: `<root>/<name>_<hash8>` with versioning, else `<root>/<name>`
    /// (`root` relative to `base`, the folder of the YAML file).
    public func productsFolder(hash: String, base: String) -> String {
        let root = output.root.hasPrefix("/") ? output.root : base + "/" + output.root
        return root + "/" + (output.versioning ? name + "_" + hash.prefix(8) : name)
    }

    // MARK: - YAML

    /// Reads a project file. Unknown keys are errors (a misspelt setting must not be ignored);
    /// missing ones take their defaults.
    public static func load(yaml path: String) throws -> ProjectConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw RunError.configuration("cannot read \(path): \(error.localizedDescription)")
        }
        let config: ProjectConfig
        do { config = try YAMLDecoder().decode(ProjectConfig.self, from: text) } catch let e as DecodingError {
            throw RunError.configuration("\(path): \(Self.describe(e))")
        } catch {
            throw RunError.configuration("\(path): \(error)")
        }
        do { try config.validate() } catch RunError.configuration(let m) { throw RunError.configuration("\(path): \(m)") }
        return config
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
              base: \(q(survey.base))   # the service's base URL (a mirror or local server may stand in)
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

            output:
              root: \(q(output.root))          # folder of the products (relative to this file)
              versioning: \(output.versioning)           # products in ROOT/NAME_HASH8 (true) or ROOT/NAME (false)

            display:
              verbose: \(display.verbose)             # more messages
              plotDPI: \(display.plotDPI)               # resolution of PNG plots, dots per inch

            """
    }
}

// Decoding with defaults for missing keys and an error for unknown ones.
extension ProjectConfig {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Throws for a key of `decoder`'s object that `known` lacks.
    static func rejectUnknown(_ decoder: any Decoder, _ known: [String]) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        for k in c.allKeys where !known.contains(k.stringValue) {
            let path = (decoder.codingPath.map(\.stringValue) + [k.stringValue]).joined(separator: ".")
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: decoder.codingPath + [k], debugDescription: "unknown setting \(path) (known here: \(known.joined(separator: ", ")))"))
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, catalog, survey, reduction, analysis, injection, output, display }

    public init(from decoder: any Decoder) throws {
        try Self.rejectUnknown(decoder, CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name), catalog: "")
        catalog = try c.decode(Catalog.self, forKey: .catalog)
        survey = try c.decodeIfPresent(Survey.self, forKey: .survey) ?? survey
        reduction = try c.decodeIfPresent(Reduction.self, forKey: .reduction) ?? reduction
        analysis = try c.decodeIfPresent(Analysis.self, forKey: .analysis) ?? analysis
        injection = try c.decodeIfPresent(Injection.self, forKey: .injection) ?? injection
        output = try c.decodeIfPresent(Output.self, forKey: .output) ?? output
        display = try c.decodeIfPresent(Display.self, forKey: .display) ?? display
    }
}

extension ProjectConfig.Catalog {
    enum CodingKeys: String, CodingKey, CaseIterable { case path, ra, dec, name }
    public init(from decoder: any Decoder) throws {
        try ProjectConfig.rejectUnknown(decoder, CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(path: try c.decode(String.self, forKey: .path))
        ra = try c.decodeIfPresent(String.self, forKey: .ra) ?? ra
        dec = try c.decodeIfPresent(String.self, forKey: .dec) ?? dec
        name = try c.decodeIfPresent(String.self, forKey: .name)
    }
}

extension ProjectConfig.Survey {
    enum CodingKeys: String, CodingKey, CaseIterable { case kind, base, lake, radiusArcsec, filters }
    public init(from decoder: any Decoder) throws {
        try ProjectConfig.rejectUnknown(decoder, CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        kind = try c.decodeIfPresent(ProjectSurvey.self, forKey: .kind) ?? kind
        base = try c.decodeIfPresent(String.self, forKey: .base) ?? base
        lake = try c.decodeIfPresent(String.self, forKey: .lake)
        radiusArcsec = try c.decodeIfPresent(Double.self, forKey: .radiusArcsec) ?? radiusArcsec
        filters = try c.decodeIfPresent([String].self, forKey: .filters) ?? filters
    }
}

extension ProjectConfig.Reduction {
    enum CodingKeys: String, CodingKey, CaseIterable { case seasonGapDays, catflagsMask, limitingMagnitudeCut, zeroPointTolerance }
    public init(from decoder: any Decoder) throws {
        try ProjectConfig.rejectUnknown(decoder, CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        seasonGapDays = try c.decodeIfPresent(Double.self, forKey: .seasonGapDays) ?? seasonGapDays
        catflagsMask = try c.decodeIfPresent(Int.self, forKey: .catflagsMask) ?? catflagsMask
        limitingMagnitudeCut = try c.decodeIfPresent(Bool.self, forKey: .limitingMagnitudeCut) ?? limitingMagnitudeCut
        zeroPointTolerance = try c.decodeIfPresent(Double.self, forKey: .zeroPointTolerance) ?? zeroPointTolerance
    }
}

extension ProjectConfig.Analysis {
    enum CodingKeys: String, CodingKey, CaseIterable { case snrThreshold, minEpochs, sign }
    public init(from decoder: any Decoder) throws {
        try ProjectConfig.rejectUnknown(decoder, CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        snrThreshold = try c.decodeIfPresent(Double.self, forKey: .snrThreshold) ?? snrThreshold
        minEpochs = try c.decodeIfPresent(Int.self, forKey: .minEpochs) ?? minEpochs
        sign = try c.decodeIfPresent(ProjectEventSign.self, forKey: .sign) ?? sign
    }
}

extension ProjectConfig.Injection {
    enum CodingKeys: String, CodingKey, CaseIterable { case perSource, amplitudes, durationsDays, shape, seed }
    public init(from decoder: any Decoder) throws {
        try ProjectConfig.rejectUnknown(decoder, CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        perSource = try c.decodeIfPresent(Int.self, forKey: .perSource) ?? perSource
        amplitudes = try c.decodeIfPresent([Double].self, forKey: .amplitudes) ?? amplitudes
        durationsDays = try c.decodeIfPresent([Double].self, forKey: .durationsDays) ?? durationsDays
        shape = try c.decodeIfPresent(ProjectInjectionShape.self, forKey: .shape) ?? shape
        seed = try c.decodeIfPresent(Int.self, forKey: .seed) ?? seed
    }
}

extension ProjectConfig.Output {
    enum CodingKeys: String, CodingKey, CaseIterable { case root, versioning }
    public init(from decoder: any Decoder) throws {
        try ProjectConfig.rejectUnknown(decoder, CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        root = try c.decodeIfPresent(String.self, forKey: .root) ?? root
        versioning = try c.decodeIfPresent(Bool.self, forKey: .versioning) ?? versioning
    }
}

extension ProjectConfig.Display {
    enum CodingKeys: String, CodingKey, CaseIterable { case verbose, plotDPI }
    public init(from decoder: any Decoder) throws {
        try ProjectConfig.rejectUnknown(decoder, CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        verbose = try c.decodeIfPresent(Bool.self, forKey: .verbose) ?? verbose
        plotDPI = try c.decodeIfPresent(Int.self, forKey: .plotDPI) ?? plotDPI
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
