import Foundation
import Testing
import Pipelines
import RunEngine
import TestSupport

/// `astropile project init|hash`: the project file and the hash over what changes results.
@Suite("Project configuration") struct ProjectConfigTests {
    static func project(_ name: String) throws -> (dir: String, yaml: String) {
        let dir = try TestSupport.temporaryDirectory("project-\(name)").path
        try FileManager.default.copyItem(atPath: try TestSupport.fixture("hats-import/test_formats/catalog.csv.gz"), toPath: dir + "/wd.csv.gz")
        let run = try TestSupport.runProcess(TestSupport.executable, ["project", "init", name, "--catalog", "wd.csv.gz", "--output", dir + "/\(name).yaml"])
        #expect(run.status == 0, "\(run.stderr)")
        return (dir, dir + "/\(name).yaml")
    }

    static func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    @Test func initWritesEveryParameterWithItsMeaningAndDefaults() throws {
        let (_, yaml) = try Self.project("wd_flares")
        let loaded = try ProjectConfig.load(yaml: yaml)
        #expect(loaded == ProjectConfig(name: "wd_flares", catalog: "wd.csv.gz"))
        // Every setting of the typed config is in the file, each on a line with its comment.
        let text = try String(contentsOfFile: yaml, encoding: .utf8)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(loaded)) as? [String: Any] ?? [:]
        var keys: [String] = []
        for (k, v) in json { if let section = v as? [String: Any] { keys += section.keys } else { keys.append(k) } }
        #expect(keys.count >= 20, "\(keys)")
        for key in keys {
            let line = text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key + ":") }
            #expect(line?.contains("#") == true, "\(key) has no commented line in the project file")
        }
        // A file with a few settings: the rest take their defaults.
        let small = (yaml as NSString).deletingLastPathComponent + "/small.yaml"
        try Self.write("name: small\ncatalog: {path: wd.csv.gz, name: designation}\nanalysis: {minEpochs: 3}\n", small)
        var expected = ProjectConfig(name: "small", catalog: "wd.csv.gz")
        expected.catalog.name = "designation"
        expected.analysis.minEpochs = 3
        #expect(try ProjectConfig.load(yaml: small) == expected)
        // The commented-out optional ones too.
        #expect(text.contains("# name: \"NAME\"") && text.contains("# lake: \"LAKE\""))
        let again = try TestSupport.runProcess(TestSupport.executable, ["project", "init", "wd_flares", "--catalog", "wd.csv.gz", "--output", yaml])
        #expect(again.status != 0 && again.stderr.contains("--force"), "\(again.stderr)")
    }

    @Test func onlyResultSettingsChangeTheHashAndTheFolder() throws {
        let (dir, yaml) = try Self.project("flares")
        let base = try ProjectIdentity.of(yaml: yaml)
        #expect(base.products == dir + "/projects/flares_" + base.hash.prefix(8))
        // Reordered sections and keys, other number spellings, display settings, another base URL,
        // no comments: the same hash.
        let same = dir + "/same.yaml"
        try Self.write("""
            display: {plotDPI: 300, verbose: true}
            analysis:
              sign: flare
              minEpochs: 2
              snrThreshold: 5
            injection: {seed: 1, shape: flare, durationsDays: [1, 3, 10.0, 30], amplitudes: [1, 3.00, 5, 1e1, 30], perSource: 10}
            survey: {filters: [zg, zr, zi], radiusArcsec: 2, base: "http://127.0.0.1:8080/lc", kind: ztf}
            reduction: {zeroPointTolerance: 0.050, limitingMagnitudeCut: true, catflagsMask: 65535, seasonGapDays: 60}
            catalog: {dec: dec, ra: ra, path: wd.csv.gz}
            output: {versioning: true, root: projects}
            name: flares
            """, same)
        #expect(try ProjectIdentity.of(yaml: same).hash == base.hash)
        // An analysis setting: another hash and another folder.
        let text = try String(contentsOfFile: yaml, encoding: .utf8)
        let changed = dir + "/changed.yaml"
        try Self.write(text.replacingOccurrences(of: "snrThreshold: 5.0", with: "snrThreshold: 7.5"), changed)
        let other = try ProjectIdentity.of(yaml: changed)
        #expect(other.hash != base.hash && other.products != base.products)
        // The catalog's bytes.
        let grown = dir + "/grown.yaml"
        try FileManager.default.copyItem(atPath: try TestSupport.fixture("hats-import/test_formats/gaia_minimum.csv"), toPath: dir + "/wd2.csv")
        try Self.write(text.replacingOccurrences(of: "wd.csv.gz", with: "wd2.csv"), grown)
        #expect(try ProjectIdentity.of(yaml: grown).hash != base.hash)
        // The CLI prints the same.
        let printed = try TestSupport.run(TestSupport.executable, ["project", "hash", same, "--json"])
        #expect(printed.contains(base.hash) && printed.contains(base.products), "\(printed)")
    }

    @Test func aMisspeltOrBadSettingIsAnErrorNamingIt() throws {
        let (dir, yaml) = try Self.project("typos")
        let text = try String(contentsOfFile: yaml, encoding: .utf8)
        let cases = [("snrThreshold:", "snrTreshold:", "analysis.snrTreshold"),
                     ("minEpochs: 2", "minEpochs: 0", "analysis.minEpochs"),
                     ("kind: ztf ", "kind: ztf-alerts ", "survey.lake"),
                     ("filters: [zg, zr, zi]", "filters: [zg, zq]", "survey.filters"),
                     ("perSource: 10", "perSource: ten", "injection.perSource")]
        for (k, (from, to, named)) in cases.enumerated() {
            let path = dir + "/bad\(k).yaml"
            try Self.write(text.replacingOccurrences(of: from, with: to), path)
            let run = try TestSupport.runProcess(TestSupport.executable, ["project", "hash", path])
            #expect(run.status == 2, "\(to): \(run.stderr)")
            #expect(run.stderr.contains(named) && run.stderr.contains(path), "\(to): \(run.stderr)")
        }
    }
}
