import ArgumentParser
import Fetch
import Foundation
import RunEngine

/// `astropile fetch plan <source> …`: the same arguments as the fetch, downloads nothing.
struct FetchPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a fetch would do — files, duplicates dropped, already complete, volume, free disk — and download nothing.",
        discussion: "Takes the same arguments as the fetch itself. Sizes come from the source (listings), the destination's manifest, or HEAD requests (only plan sends them; --no-head skips them).",
        subcommands: [PlanSDSSFrames.self, PlanSDSSSpectra.self, PlanURLs.self, PlanZTFAlerts.self])
}

/// Plan-only flags.
struct PlanOptions: ParsableArguments {
    @Flag(name: .customLong("no-head"), help: "Do not send HEAD requests for sizes the source does not give.")
    var noHead = false
}

protocol FetchPlanSourceCommand: ParsableCommand {
    associatedtype Source: FetchSource
    var source: Source { get }
    var engine: FetchEngineOptions { get }
    var plan: PlanOptions { get }
}

extension FetchPlanSourceCommand {
    func run() throws {
        let config = try engine.config()
        let source = self.source
        let head = !plan.noHead
        let (notes, p) = try blockingAsync {
            let (items, notes) = try await source.resolve(config)
            return (notes, await FetchPlanner.plan(items, config: config, head: head))
        }
        for n in notes { print(n) }
        print("files: \(p.files) unique; already complete in \(config.destination): \(p.complete) (\(ByteCount.text(p.completeBytes))); to fetch: \(p.toFetch)")
        var volume = "volume to fetch: \(ByteCount.text(p.exactBytes + p.approximateBytes))"
        var parts: [String] = []
        if p.exactCount > 0 { parts.append("\(p.exactCount) exact") }
        if p.approximateCount > 0 { parts.append("\(p.approximateCount) as listed, rounded") }
        if p.unknownCount > 0 { parts.append("\(p.unknownCount) unknown") }
        if !parts.isEmpty { volume += " (sizes: " + parts.joined(separator: ", ") + ")" }
        print(volume)
        if !p.unavailable.isEmpty {
            print("not available (HEAD): \(p.unavailable.count)")
            for (path, code) in p.unavailable.prefix(20) { print("  \(path): HTTP \(code)") }
        }
        if !p.headErrors.isEmpty {
            print("HEAD failed: \(p.headErrors.count)")
            for (path, why) in p.headErrors.prefix(5) { print("  \(path): \(why)") }
        }
        if !p.refused.isEmpty {
            print("refused (not fetched): \(p.refused.count)")
            for (path, why) in p.refused.prefix(20) { print("  \(path): \(why)") }
        }
        if !p.tooLarge.isEmpty {
            print("larger than the free space (each will fail; the rest is fetched): \(p.tooLarge.count)")
            for (path, bytes) in p.tooLarge.prefix(20) { print("  \(path): \(ByteCount.text(bytes))") }
        }
        if let free = p.freeBytes {
            print("free at \(config.destination): \(ByteCount.text(free)) — " + (p.fits ? "fits" : "does NOT fit (fetch refuses to start without --force)"))
        }
    }
}

struct PlanSDSSFrames: FetchPlanSourceCommand {
    static let configuration = CommandConfiguration(commandName: "sdss-frames", abstract: "Plan an SDSS frames fetch.")
    @OptionGroup var source: SDSSFramesSource
    @OptionGroup var engine: FetchEngineOptions
    @OptionGroup var plan: PlanOptions
}

struct PlanSDSSSpectra: FetchPlanSourceCommand {
    static let configuration = CommandConfiguration(commandName: "sdss-spectra", abstract: "Plan an SDSS spectra fetch.")
    @OptionGroup var source: SDSSSpectraSource
    @OptionGroup var engine: FetchEngineOptions
    @OptionGroup var plan: PlanOptions
}

struct PlanURLs: FetchPlanSourceCommand {
    static let configuration = CommandConfiguration(commandName: "urls", abstract: "Plan a URL list or template fetch.")
    @OptionGroup var source: URLsSource
    @OptionGroup var engine: FetchEngineOptions
    @OptionGroup var plan: PlanOptions
}

struct PlanZTFAlerts: FetchPlanSourceCommand {
    static let configuration = CommandConfiguration(commandName: "ztf-alerts", abstract: "Plan a ZTF alert archive fetch.")
    @OptionGroup var source: ZTFAlertsSource
    @OptionGroup var engine: FetchEngineOptions
    @OptionGroup var plan: PlanOptions
}

/// `astropile fetch status DEST`: what the manifest says.
struct FetchStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a destination's manifest: done, missing, unauthorized, forbidden, failed (with reasons), pending, bytes.")

    @Argument(help: "The destination folder of a fetch.")
    var dest: String

    @Flag(name: .long, help: "List every file that is not done (default: the first 20 per status).")
    var all = false

    func run() throws {
        let manifest = try FetchManifest(destination: dest, create: false)
        let entries = try manifest.entries()
        var byStatus: [FetchStatus: [ManifestEntry]] = [:]
        for e in entries { byStatus[e.status, default: []].append(e) }
        let done = byStatus[.done] ?? []
        let doneBytes = done.reduce(Int64(0)) { $0 + $1.bytes }
        var onDiskMissing = 0
        for e in done where !FileManager.default.fileExists(atPath: dest + "/" + e.path) { onDiskMissing += 1 }
        print("\(dest): \(entries.count) files in the manifest")
        print("  done: \(done.count) (\(ByteCount.text(doneBytes)))" + (onDiskMissing > 0 ? ", \(onDiskMissing) of them no longer on disk (re-run to fetch again)" : ""))
        for status in [FetchStatus.partial, .pending, .missing, .unauthorized, .forbidden, .failed] {
            guard let list = byStatus[status], !list.isEmpty else { continue }
            let bytes = list.reduce(Int64(0)) { $0 + $1.bytes }
            print("  \(status.rawValue): \(list.count)" + (bytes > 0 ? " (\(ByteCount.text(bytes)) in .part files)" : ""))
            for e in (all ? list : Array(list.prefix(20))) {
                var line = "    \(e.path)"
                if let err = e.lastError { line += ": \(err)" }
                if e.attempts > 0 { line += " [\(e.attempts) attempts]" }
                print(line)
            }
            if !all, list.count > 20 { print("    … and \(list.count - 20) more (--all)") }
        }
        print("manifest: \(manifest.path)")
    }
}
