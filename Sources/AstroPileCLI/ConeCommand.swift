import ArgumentParser
import Foundation
import Pipelines
import RunEngine
import Sky

/// `astropile cone`: the rows of a HATS catalog within a radius of a point.
struct ConeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cone",
        abstract: "Rows within --radius of (--ra, --dec), reading only the partitions and row groups the cone touches.")

    @Argument(help: "The HATS catalog folder.")
    var catalog: String

    @Option(name: .long, parsing: .unconditional, help: "Centre right ascension, degrees.")
    var ra: Double

    @Option(name: .long, parsing: .unconditional, help: "Centre declination, degrees (a negative value may follow directly: --dec -66).")
    var dec: Double

    @Option(name: .long, help: "Radius with a unit: 30arcsec, 2arcmin, 0.5deg.")
    var radius: String

    @OptionGroup var out: QueryOutputOptions

    func run() throws {
        let r: Double
        do { r = try AngleText.degrees(radius) } catch { throw ValidationError("--radius: \(error)") }
        guard r > 0, r <= 180 else { throw ValidationError("--radius must be above 0 and at most 180 deg") }
        guard (-90...90).contains(dec), ra.isFinite, abs(ra) <= 1e6 else {
            throw ValidationError("--dec must be in [-90, 90] and --ra finite (degrees)")
        }
        Interruption.install()
        let report = try CatalogQuery.region(.cone(ra: ra, dec: dec, radius: r), in: catalog,
                                             columns: out.selectedColumns, output: try out.destination())
        out.finish(report)
    }
}

/// `astropile box`: the rows of a HATS catalog in an RA/Dec box.
struct BoxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "box",
        abstract: "Rows with RA in --ra MIN,MAX (wrapping through 0 when MIN > MAX) and Dec in --dec MIN,MAX, degrees.")

    @Argument(help: "The HATS catalog folder.")
    var catalog: String

    @Option(name: .long, parsing: .unconditional, help: "RA range, degrees: MIN,MAX (e.g. 350,10 crosses RA 0).")
    var ra: String

    @Option(name: .long, parsing: .unconditional, help: "Dec range, degrees: MIN,MAX (e.g. --dec -70,-60).")
    var dec: String

    @OptionGroup var out: QueryOutputOptions

    func run() throws {
        func pair(_ s: String, _ name: String) throws -> (Double, Double) {
            let parts = s.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2 else { throw ValidationError("--\(name) takes MIN,MAX in degrees, got '\(s)'") }
            return (parts[0], parts[1])
        }
        let (ra1, ra2) = try pair(ra, "ra")
        let (dec1, dec2) = try pair(dec, "dec")
        guard ra1.isFinite, ra2.isFinite, abs(ra1) <= 1e6, abs(ra2) <= 1e6 else { throw ValidationError("--ra must be MIN,MAX in finite degrees") }
        guard dec1 <= dec2, dec1 >= -90, dec2 <= 90 else { throw ValidationError("--dec must be MIN,MAX within [-90, 90]") }
        Interruption.install()
        let report = try CatalogQuery.region(.box(raMin: ra1, raMax: ra2, decMin: dec1, decMax: dec2), in: catalog,
                                             columns: out.selectedColumns, output: try out.destination())
        out.finish(report)
    }
}
