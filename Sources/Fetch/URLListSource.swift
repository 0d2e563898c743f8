import Foundation
import Formats

/// URLs from a text file, one per line (blank lines and `#` comments ignored; `-` reads stdin).
/// Each file lands at its URL path under the destination; duplicates are dropped.
public enum URLListSource {
    /// The unique items of the list files, in first-seen order.
    public static func items(lists: [String]) throws -> (items: [FetchItem], urls: Int) {
        var collector = FetchItemCollector()
        var count = 0
        for list in lists {
            let data: Data?
            if list == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else { data = FileManager.default.contents(atPath: list) }
            guard let data else { throw FetchError.input(list, reason: "cannot read the URL list") }
            for (n, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
                if line.isEmpty || line.hasPrefix("#") { continue }
                let url = String(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first!)
                guard URLParts(url) != nil else {
                    throw FetchError.input("\(list) line \(n + 1)", reason: "'\(URLParts.redacted(url))' is not an http(s) URL")
                }
                count += 1
                try collector.add(url) {
                    do { return try URLPath.relativePath(for: url) } catch {
                        throw FetchError.input("\(list) line \(n + 1)", reason: "\(error)")
                    }
                }
            }
        }
        return (collector.items, count)
    }
}
