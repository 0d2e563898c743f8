import ArgumentParser
import Foundation
import Formats
import Pipelines

/// `astropile info`: what a HATS catalog holds.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a HATS catalog's rows, partitions per order, columns, size and provenance.")

    @Argument(help: "The catalog folder.")
    var catalog: String

    func run() throws {
        let info = try CatalogInfo.read(catalog)
        print(info.text)
    }
}
