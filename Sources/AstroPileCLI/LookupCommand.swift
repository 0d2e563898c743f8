import ArgumentParser
import Foundation
import Pipelines
import RunEngine

/// `astropile lookup`: rows by identifier, through an index catalog when there is one.
struct LookupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Rows whose --column equals --value, reading only the partitions an index catalog names.",
        discussion: """
            The index is <catalog>_index_<column> beside the catalog (astropile index, or astropile import --index), \
            or --index. Without one every partition is scanned (pruned by row-group statistics).
            """)

    @Argument(help: "The HATS catalog folder.")
    var catalog: String

    @Option(name: .long, help: "The identifier column.")
    var column: String

    @Option(name: .long, parsing: .unconditionalSingleValue, help: "A value to find (repeat, or comma-separate, for several).")
    var value: [String]

    @Option(name: .long, help: "The index catalog (default: <catalog>_index_<column> when it exists).")
    var index: String?

    @OptionGroup var out: QueryOutputOptions

    func run() throws {
        let values = value.flatMap { $0.split(separator: ",").map(String.init) }
        guard !values.isEmpty else { throw ValidationError("give at least one --value") }
        Interruption.install()
        let (report, used) = try CatalogQuery.lookup(column: column, values: values, in: catalog, index: index,
                                                     columns: out.selectedColumns, output: try out.destination())
        if used == nil { FileHandle.standardError.write(Data("no index catalog of \(column): scanned every partition\n".utf8)) }
        out.finish(report)
    }
}

/// `astropile index`: builds an index catalog of one column for `lookup`.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build a HATS index catalog of an identifier column (for astropile lookup).")

    @Argument(help: "The HATS catalog folder.")
    var catalog: String

    @Option(name: .long, help: "The column to index (integer or string).")
    var column: String

    @Option(name: .long, help: "The index catalog folder (default: <catalog>_index_<column>).")
    var output: String?

    func run() throws {
        Interruption.install()
        let path = try IndexCatalog.build(catalog: catalog, column: column, output: output)
        print("index of \(column): \(path)")
    }
}
