import Foundation
import RunEngine

/// What `astropile alerts status` shows: the manifest's view of a lake.
public struct AlertLakeStatus: Codable, Sendable {
    public struct Night: Codable, Sendable { public var night: String; public var alerts: Int64; public var files: Int }
    public struct Quarantined: Codable, Sendable { public var path: String; public var reason: String }
    public var lake: String
    /// Where the lake keeps its cutouts (nil: nothing ingested yet).
    public var cutouts: AlertCutoutMode?
    public var nights: [Night]
    public var alerts: Int64
    public var archivesIngested: Int
    public var looseFilesIngested: Int
    public var quarantined: [Quarantined]
    public var membersRejected: Int64
    public var duplicates: Int64
    public var schemas: [String: Int64]

    /// Reads the lake's manifest.
    public static func read(_ path: String) throws -> AlertLakeStatus {
        let lake = try AlertLake(path)
        let m = try AlertManifest(path: lake.manifestPath, create: false)
        let sources = try m.sources()
        let nights = try m.nights().map { Night(night: $0.night, alerts: $0.alerts, files: $0.files) }
        return AlertLakeStatus(
            lake: lake.root, cutouts: lake.cutoutMode(), nights: nights, alerts: nights.reduce(0) { $0 + $1.alerts },
            archivesIngested: sources.filter { $0.kind == "archive" && $0.status == "ingested" }.count,
            looseFilesIngested: sources.filter { $0.kind == "avro" && $0.status == "ingested" }.count,
            quarantined: sources.filter { $0.status == "quarantined" }.map { Quarantined(path: $0.path, reason: $0.reason ?? "") },
            membersRejected: sources.reduce(0) { $0 + $1.membersRejected }, duplicates: sources.reduce(0) { $0 + $1.duplicates },
            schemas: Dictionary(uniqueKeysWithValues: try m.schemas().map { ($0.label, $0.alerts) }))
    }

    /// A human-readable summary.
    public var text: String {
        var lines = ["lake \(lake): \(alerts) alerts in \(nights.count) nights; \(archivesIngested) archives and \(looseFilesIngested) loose .avro files ingested; \(quarantined.count) quarantined; \(membersRejected) members rejected; \(duplicates) duplicate alerts dropped"]
        if let cutouts { lines.append("cutouts: " + (cutouts == .inline ? "inline (struct columns of the alert rows)" : "separate (year=…/day=DD/_cutouts/part-NNNNN.parquet, row for row)")) }
        lines.append("nights:")
        for n in nights { lines.append("  \(n.night)  \(n.alerts) alerts in \(n.files) files") }
        lines.append("writer schemas seen (own version label, fingerprint):")
        for (l, n) in schemas.sorted(by: { $0.key < $1.key }) { lines.append("  \(l): \(n) alerts") }
        if !quarantined.isEmpty {
            lines.append("quarantined (kept where they are; re-fetch and ingest again):")
            for q in quarantined { lines.append("  \(q.path): \(q.reason)") }
        }
        return lines.joined(separator: "\n")
    }
}
