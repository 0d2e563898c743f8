import RunEngine

/// The per-source stages of `astropile project run`, in order: each source's raw photometry is
/// fetched, reduced to light curves, searched for events, and injected into.
public enum ProjectStage: String, RunStage, Codable {
    case fetch = "project-fetch"
    case reduce = "project-reduce"
    case detect = "project-detect"
    case inject = "project-inject"

    public var title: String { String(rawValue.dropFirst("project-".count)) }

    /// The product kind the stage writes (`nil`: the fetch stage writes raw files).
    var productKind: String? {
        switch self {
        case .fetch: nil
        case .reduce: "lightcurves"
        case .detect: "detections"
        case .inject: "injections"
        }
    }

    /// The stages before this one.
    var earlier: [ProjectStage] { Array(Self.allCases.prefix { $0 != self }) }
    /// The stages after this one.
    var later: [ProjectStage] { Array(Self.allCases.drop { $0 != self }.dropFirst()) }
}
