import Foundation
import Testing
import Pipelines
import TestSupport

/// A full disk under the import's work folder (a 1 MiB tmpfs in a private mount namespace, as
/// the fetch test does): the run stops with exit 1 and says the disk is full; no input is
/// rejected for it; after the disk grows the same command finishes to the same leaves.
@Suite(.serialized) struct DiskFullTests {
    @Test func aFullDiskWhileSpillingStopsTheRunWithItsStateIntact() throws {
        let dir = try TestSupport.temporaryDirectory("import-full").path
        _ = try ResilienceTests.makeInputs(in: URL(fileURLWithPath: dir), files: 6, rows: 12_000)
        let args = ["import", "--input", dir + "/part_*.csv", "--highest-order", "8", "--threshold", "6000", "--jobs", "1", "--quiet"]
        let clean = dir + "/clean"
        let c = try TestSupport.runProcess(TestSupport.executable, args + ["--output", clean])
        #expect(c.status == 0, "\(c.stderr)")
        let mount = dir + "/small"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let quoted = args.map { "'\($0)'" }.joined(separator: " ")
        let script = """
            mount -t tmpfs -o size=1m tmpfs "$1" || exit 90
            "$2" \(quoted) --output "$3" --tmp "$1" 2>&1
            echo "EXIT1 $?"
            echo "REJECTED $(grep -l '"rejected"' "$1"/*.astropile-work/records/map/*.json 2>/dev/null | wc -l)"
            echo "MAPPED $(grep -l '"mapped"' "$1"/*.astropile-work/records/map/*.json 2>/dev/null | wc -l)"
            mount -o remount,size=256m "$1" || exit 91
            "$2" \(quoted) --output "$3" --tmp "$1" 2>&1
            echo "EXIT2 $?"
            """
        let r = try TestSupport.runProcess("/usr/bin/unshare", ["-rm", "sh", "-c", script, "sh", mount, TestSupport.executable, dir + "/cat"])
        #expect(r.status == 0, "unshare/tmpfs: \(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("EXIT1 1"), "a full disk stops the run with exit 1 (not 3: no input is to blame): \(r.stdout)")
        #expect(r.stdout.contains("full"), "the message says the disk is full: \(r.stdout)")
        #expect(r.stdout.contains("REJECTED 0"), "no input was rejected for the full disk: \(r.stdout)")
        #expect(r.stdout.contains("EXIT2 0"), "the same command finishes once there is room: \(r.stdout)")
        let report = try JSONDecoder().decode(ImportReport.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/cat/astropile_report.json")))
        #expect(report.rejectedInputs.isEmpty && report.counts.written == 72_000)
        #expect(try TestSupport.leafBytes(dir + "/cat") == TestSupport.leafBytes(clean))
    }
}
