import ArgumentParser
import Foundation
import Formats
import Pipelines

/// `astropile info`: what a HATS catalog holds.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a HATS catalog's rows, partitions per order, columns, size and provenance, or a data set's objects (images, spectra, pairs), partitions, columns and provenance.")

    @Argument(help: "The catalog or data set folder.")
    var catalog: String

    func run() throws {
        if FileManager.default.fileExists(atPath: catalog + "/" + DataSetIndex.fileName) {
            let set = try ExampleDataSet(root: catalog)
            print(set.pipeline == "stamps" ? try ImageDataSet(root: catalog).summary : set.summary)
            return
        }
        let info = try CatalogInfo.read(catalog)
        print(info.text)
    }
}
