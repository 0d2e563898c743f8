import Foundation
import Testing
import Formats
import Pipelines
import Sky
import TestSupport

/// A pixel over the threshold stops the run with an error naming it; re-running with a larger
/// threshold continues from the mapped inputs without reading them again.
@Suite struct RebinTests {
    @Test func overThresholdErrorNamesPixelAndRerunReusesMappedInputs() throws {
        let dir = try TestSupport.temporaryDirectory("rebin")
        let source = try TestSupport.fixture("hats-import/small_sky_source/small_sky_source.csv")
        let input = dir.path + "/source.csv"
        try FileManager.default.copyItem(atPath: source, toPath: input)
        var config = ImportConfig(inputs: [input], output: dir.path + "/cat")
        config.ra = "source_ra"; config.dec = "source_dec"; config.highestOrder = 2; config.threshold = 1000
        do {
            _ = try ImportPipeline(config: config, showProgress: false).run()
            Issue.record("expected an over-threshold error")
        } catch let e as ImportError {
            guard case .alignment(let a) = e, case .pixelOverThreshold(let o) = a else {
                Issue.record("unexpected error \(e)"); return
            }
            #expect(o.pixel.order == 2)
            #expect(o.count > 1000)
            #expect("\(e)".contains("order 2"))
        }
        // The input disappears: a re-run that re-read it would fail.
        try FileManager.default.removeItem(atPath: input)
        config.threshold = 3000
        let outcome = try ImportPipeline(config: config, showProgress: false).run()
        guard case .written(let report) = outcome else { Issue.record("expected a catalog"); return }
        #expect(report.counts.written == 17161)
        #expect(report.details.partitions == 14)
    }
}
