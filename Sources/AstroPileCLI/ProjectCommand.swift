import ArgumentParser
import Foundation
import Formats
import Pipelines
import RunEngine

/// `astropile project`: per-source projects (sources, raw photometry, light curves, events).
struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Define a project of sources and its settings (a documented YAML file), and see which products folder its settings give.",
        discussion: """
            A project is a catalog of sources, the survey to query for their photometry, and the reduction, \
            analysis and injection settings, in one YAML file that `project init` writes with every parameter \
            and its meaning. The settings that change results (marked (hashed) in the file), the AstroPile version \
            and the catalog's bytes make the project's hash; products go under ROOT/NAME_HASH8/. Key order, number \
            spelling, display settings and the service's base URL do not change the hash.
            """,
        subcommands: [ProjectInitCommand.self, ProjectHashCommand.self])
}

extension ProjectSurvey: ExpressibleByArgument {}

/// `astropile project init`.
struct ProjectInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write NAME.yaml: a project with every parameter at its default, each with a comment.")

    @Argument(help: "The project's name (letters, digits, '_', '-', '.').")
    var name: String

    @Option(name: .long, help: "The catalog of sources (any format astropile import reads).")
    var catalog: String

    @Option(name: .long, help: "ztf (the IRSA light-curve service) or ztf-alerts (an alert lake, --lake).")
    var survey: ProjectSurvey = .ztf

    @Option(name: .long, help: "The light-curve service's base URL (default: IRSA's nph_light_curves).")
    var base: String?

    @Option(name: .long, help: "The alert lake, for --survey ztf-alerts.")
    var lake: String?

    @Option(name: .long, help: "Where to write the file (default: NAME.yaml).")
    var output: String?

    @Flag(name: .long, help: "Replace an existing file.")
    var force = false

    func run() throws {
        var config = ProjectConfig(name: name, catalog: catalog)
        config.survey.kind = survey
        if let base { config.survey.base = base }
        config.survey.lake = lake
        try config.validate()
        let path = output ?? name + ".yaml"
        if FileManager.default.fileExists(atPath: path), !force {
            throw RunError.outputConflict("\(path) exists; pass --force to replace it")
        }
        try AtomicFile.write(Array(config.yaml().utf8), to: path)
        print("wrote \(path): edit it, then `astropile project run \(path)`")
    }
}

/// `astropile project hash`.
struct ProjectHashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print a project's hash, its catalog's SHA-256 and its products folder.")

    @Argument(help: "The project file.")
    var project: String

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let id = try ProjectIdentity.of(yaml: project)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(id), as: UTF8.self))
        } else {
            print("hash \(id.hash)\ncatalog sha256 \(id.catalogSHA256)\nproducts \(id.products)")
        }
    }
}
