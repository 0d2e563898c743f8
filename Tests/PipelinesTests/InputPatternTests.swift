import Foundation
import Testing
import Pipelines
import TestSupport

/// How `--input` patterns find files.
@Suite struct InputPatternTests {
    /// `**` matches any number of folders (none included); hidden folders and files are not
    /// searched, so a `.snapshot` copy of the tree or a `._x.csv` sidecar is no input.
    @Test func doubleStarFindsEveryDepthButNoHiddenEntry() throws {
        let dir = try TestSupport.temporaryDirectory("patterns")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        for folder in ["", "/a", "/a/b/c", "/.snapshot/a"] {
            try FileManager.default.createDirectory(atPath: data + folder, withIntermediateDirectories: true)
        }
        var id = 0
        func write(_ path: String) throws {
            var text = "id,ra,dec\n"
            for k in 0..<5 { text += "\(id),\(Double(id % 360) + 0.5),\(Double(k * 10) - 20)\n"; id += 1 }
            try text.write(toFile: data + path, atomically: true, encoding: .utf8)
        }
        for path in ["/top.csv", "/a/one.csv", "/a/b/c/deep.csv", "/.snapshot/a/one.csv", "/a/._one.csv", "/a/notes.txt"] {
            try write(path)
        }
        let (report, _, _) = try ImportHarness.run([data + "/**/*.csv"]) { $0.highestOrder = 2 }
        #expect(report.inputs == 3)
        #expect(report.counts.written == 15)
        #expect(report.rejectedInputs.isEmpty, "\(report.rejectedInputs)")
    }
}
