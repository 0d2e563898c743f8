import ArgumentParser
import Fetch
import Formats
import Foundation
import RunEngine

/// `--catalog` and `--hdu`, shared by the catalog-driven sources.
struct CatalogOption: ParsableArguments {
    @Option(name: .long, help: "The catalog: CSV, FITS binary table or Parquet (optionally .gz/.bz2).")
    var catalog: String

    @Option(name: .long, help: "FITS HDU of the catalog: a number (1 = first extension) or an EXTNAME (default: the first table).")
    var hdu: String?

    var selector: FITSHDUSelector {
        guard let hdu else { return .firstTable }
        return Int(hdu).map { .number($0) } ?? .name(hdu)
    }
}

/// Notes on a catalog source's result.
private func catalogNotes(_ r: CatalogTemplateSource.Result, catalog: String) -> [String] {
    var line = "\(catalog): \(r.rows) rows → \(r.urls) URLs → \(r.items.count) unique files"
    if r.skippedRows > 0 { line += " (\(r.skippedRows) rows with a null in a URL column skipped)" }
    return [line]
}

/// SDSS DR17 imaging frames from run/rerun/camcol/field columns.
struct SDSSFramesSource: FetchSource {
    @OptionGroup var catalog: CatalogOption

    @Option(name: .long, help: "Bands, letters of ugriz.")
    var bands: String = "ugriz"

    @Option(name: .long, help: "Archive base URL (a mirror or local server can stand in).")
    var base: String = SDSSArchive.defaultBase

    func validate() throws {
        let list = Array(bands)
        guard !list.isEmpty, list.allSatisfy({ "ugriz".contains($0) }), Set(list).count == list.count else {
            throw ValidationError("--bands \(bands): bands are letters of 'ugriz', each once")
        }
    }

    func resolve(_ config: FetchConfig) async throws -> (items: [FetchItem], notes: [String]) {
        var source = try SDSSArchive.frames(catalog: catalog.catalog, bands: bands, base: base)
        source.hdu = catalog.selector
        let r = try source.items()
        return (r.items, catalogNotes(r, catalog: catalog.catalog))
    }
}

/// SDSS DR17 spectra from plate/mjd/fiberid (and run2d) columns.
struct SDSSSpectraSource: FetchSource {
    @OptionGroup var catalog: CatalogOption

    @Option(name: .long, help: "Archive base URL (a mirror or local server can stand in).")
    var base: String = SDSSArchive.defaultBase

    func resolve(_ config: FetchConfig) async throws -> (items: [FetchItem], notes: [String]) {
        var source = try SDSSArchive.spectra(catalog: catalog.catalog, base: base)
        source.hdu = catalog.selector
        let r = try source.items()
        return (r.items, catalogNotes(r, catalog: catalog.catalog))
    }
}

/// URL lists, or a user template filled from a catalog.
struct URLsSource: FetchSource {
    @Option(name: .long, help: "A file of URLs, one per line (repeatable; '-' reads stdin).")
    var list: [String] = []

    @Option(name: .long, help: "With --template: the catalog whose rows fill it.")
    var catalog: String?

    @Option(name: .long, help: "A URL template with {column} and {column:format} fields, e.g. 'https://host/{run:06d}/{name}.fits'.")
    var template: String?

    func validate() throws {
        guard list.isEmpty != (catalog == nil && template == nil) else {
            throw ValidationError("give --list, or --catalog with --template")
        }
        guard (catalog == nil) == (template == nil) else { throw ValidationError("--catalog and --template go together") }
    }

    func resolve(_ config: FetchConfig) async throws -> (items: [FetchItem], notes: [String]) {
        if let catalog, let template {
            let r = try CatalogTemplateSource(catalog: catalog, templates: [URLTemplate(template)]).items()
            return (r.items, catalogNotes(r, catalog: catalog))
        }
        let (items, count) = try URLListSource.items(lists: list)
        return (items, ["\(list.joined(separator: ", ")): \(count) URLs → \(items.count) unique files"])
    }
}

/// ZTF public alert tarballs, one per night, from the archive's listing.
struct ZTFAlertsSource: FetchSource {
    @Option(name: .long, help: "First night, YYYY-MM-DD (inclusive).")
    var from: String?

    @Option(name: .long, help: "Last night, YYYY-MM-DD (inclusive).")
    var to: String?

    @Option(name: .customLong("min-size"), help: "Skip nights whose listed tarball is smaller: 1GB, 500MiB (empty nights are 44 bytes).")
    var minSize: String?

    @Option(name: .long, help: "The archive listing URL (a mirror or local server can stand in).")
    var base: String = ZTFAlertArchive.defaultBase

    func resolve(_ config: FetchConfig) async throws -> (items: [FetchItem], notes: [String]) {
        let first = try from.map { try Self.date($0, "--from") }
        let last = try to.map { try Self.date($0, "--to") }
        if let first, let last, first > last {
            throw ValidationError("--from \(from ?? "") is after --to \(to ?? ""): no night is selected")
        }
        var min: Int64? = nil
        if let minSize {
            guard let m = ByteSize.parse(minSize) else { throw ValidationError("--min-size: expected a size such as 1GB") }
            min = m
        }
        let html = try await FetchPlanner.fetchText(base, config: config)
        let nights = ZTFAlertArchive.parseListing(html)
        guard !nights.isEmpty else { throw FetchError.listing(url: base, reason: "no ztf_*_YYYYMMDD.tar.gz files in the listing") }
        let items = ZTFAlertArchive.items(listing: nights, base: base, from: first, to: last, minSize: min)
        return (items, ["\(URLParts.redacted(base)): \(nights.count) nights listed → \(items.count) selected"])
    }

    static func date(_ text: String, _ option: String) throws -> Int {
        guard let d = ZTFAlertArchive.parseDate(text) else { throw ValidationError("\(option): expected a date YYYY-MM-DD") }
        return d
    }
}

struct FetchSDSSFramesCommand: FetchSourceCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdss-frames",
        abstract: "SDSS DR17 imaging frames for the run/rerun/camcol/field of each catalog row, one per band (deduplicated).")
    @OptionGroup var source: SDSSFramesSource
    @OptionGroup var engine: FetchEngineOptions
}

struct FetchSDSSSpectraCommand: FetchSourceCommand {
    static let configuration = CommandConfiguration(
        commandName: "sdss-spectra",
        abstract: "SDSS DR17 spectra (spec-PLATE-MJD-FIBER.fits) for the plate/mjd/fiberid of each catalog row.",
        discussion: "The reduction comes from a run2d column when the catalog has one; otherwise plates below 3510 are SDSS-I/II (run2d 26, under sdss/) and later ones BOSS/eBOSS (v5_13_2, under eboss/).")
    @OptionGroup var source: SDSSSpectraSource
    @OptionGroup var engine: FetchEngineOptions
}

struct FetchURLsCommand: FetchSourceCommand {
    static let configuration = CommandConfiguration(
        commandName: "urls",
        abstract: "Files from URL lists, or from a {column:format} URL template filled by a catalog's rows.")
    @OptionGroup var source: URLsSource
    @OptionGroup var engine: FetchEngineOptions
}

struct FetchZTFAlertsCommand: FetchSourceCommand {
    static let configuration = CommandConfiguration(
        commandName: "ztf-alerts",
        abstract: "ZTF public alert tarballs (one per night) from the archive's listing, by date range and minimum size.")
    @OptionGroup var source: ZTFAlertsSource
    @OptionGroup var engine: FetchEngineOptions
}
