import Foundation
import Testing
import Pipelines
import RunEngine
import TestSupport

/// The pipelines under Open MPI (`mpirun --oversubscribe -n 3` on this machine): the same bytes
/// as one process, a corrupt input reported once with exit 3 on every rank, and a run killed
/// under MPI resumed with another number of ranks.
@Suite(.serialized) struct MPITests {
    static var executable: String { TestSupport.executable }

    /// `mpirun` from Debian's openmpi-bin (the Makefile installs it); the tests fail without it.
    static func mpirun() throws -> String {
        for p in ["/usr/bin/mpirun", "/usr/local/bin/mpirun"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        throw TestSupportError("no mpirun: install openmpi-bin (make setup does)")
    }

    /// Runs `astropile ARGS` on `ranks` ranks; each rank's exit status is appended to
    /// `statusFile` as "RANK STATUS" when given.
    static func astropile(ranks: Int, _ arguments: [String], statusFile: String? = nil,
                          environment: [String: String] = [:]) throws -> TestSupport.Finished {
        var command = [executable] + arguments
        if let statusFile {
            // The wrapper ends 0: mpirun kills the other ranks once one ends otherwise, before they
            // could write their status.
            command = ["/bin/sh", "-c", "\"$0\" \"$@\"; echo \"$OMPI_COMM_WORLD_RANK $?\" >> '\(statusFile)'"] + command
        }
        // Running as root (CI) needs Open MPI's consent; one machine runs every rank.
        let env = environment.merging(["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                                       "OMPI_MCA_rmaps_base_oversubscribe": "1"]) { $1 }
        return try TestSupport.runProcess(try mpirun(), ["--allow-run-as-root", "--oversubscribe", "-n", String(ranks)] + command,
                                          environment: env)
    }

    /// Every file under `root` (relative path → bytes), but the run report (its timings differ)
    /// and the properties' creation date.
    static func tree(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        guard let e = FileManager.default.enumerator(atPath: root) else { throw TestSupportError("no folder \(root)") }
        while let item = e.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + item, isDirectory: &isDirectory), !isDirectory.boolValue,
                  !item.hasSuffix("astropile_report.json") else { continue }
            var data = FileManager.default.contents(atPath: root + "/" + item)
            // hats_creation_date is the minute of writing: two runs straddle a minute now and then.
            if item.hasSuffix("properties"), let d = data {
                let kept = String(decoding: d, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.hasPrefix("hats_creation_date=") }
                data = Data(kept.joined(separator: "\n").utf8)
            }
            out[item] = data
        }
        return out
    }

    /// Checks two output folders hold the same files with the same bytes, naming the first difference.
    static func expectIdentical(_ a: String, _ b: String, _ what: String) throws {
        let x = try tree(a), y = try tree(b)
        #expect(x.count > 1, "\(what): \(a) is almost empty")
        #expect(Set(x.keys) == Set(y.keys), "\(what): files differ: \(Set(x.keys).symmetricDifference(Set(y.keys)).sorted().prefix(5))")
        let differing = x.keys.filter { y[$0] != nil && x[$0] != y[$0] }.sorted()
        #expect(differing.isEmpty, "\(what): bytes differ in \(differing.prefix(5))")
    }

    static func report(_ output: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: output + "/astropile_report.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func counts(_ output: String) throws -> [String: Int] {
        let c = try #require(try report(output)["counts"] as? [String: Any])
        return c.compactMapValues { $0 as? Int }
    }

    /// import → margin → cross-match of a generated catalog: three ranks write what one process writes.
    @Test func importMarginAndCrossmatchMatchOneProcess() throws {
        let dir = try TestSupport.temporaryDirectory("mpi")
        _ = try ResilienceTests.makeInputs(in: dir, files: 12, rows: 2500)
        let importArgs = ["import", "--input", dir.path + "/part_*.csv", "--highest-order", "8", "--threshold", "2500", "--jobs", "1", "--quiet"]
        // Both runs write the same paths (the margin and cross-match name their inputs' absolute
        // paths in their properties); each run's folder is then moved aside.
        for (name, ranks) in [("one", 1), ("three", 3)] {
            let out = dir.path + "/run/cat"
            let steps: [[String]] = [
                importArgs + ["--output", out],
                ["margin", out, "--radius", "20arcsec", "--jobs", "1", "--quiet"],
                ["crossmatch", out, out, "--radius", "20arcsec", "--min-radius", "1mas", "--suffixes", "_a,_b", "--output", dir.path + "/run/pairs",
                 "--jobs", "1", "--quiet"],
            ]
            for args in steps {
                let r = ranks == 1 ? try TestSupport.runProcess(Self.executable, args) : try Self.astropile(ranks: ranks, args)
                #expect(r.status == 0, "\(name): \(args[0]) exited \(r.status): \(r.stderr)")
            }
            try FileManager.default.moveItem(atPath: dir.path + "/run", toPath: dir.path + "/" + name)
        }
        try Self.expectIdentical(dir.path + "/one/cat", dir.path + "/three/cat", "import")
        try Self.expectIdentical(dir.path + "/one/cat_margin_20arcsec", dir.path + "/three/cat_margin_20arcsec", "margin")
        try Self.expectIdentical(dir.path + "/one/pairs", dir.path + "/three/pairs", "crossmatch")
        #expect(try Self.counts(dir.path + "/one/cat") == Self.counts(dir.path + "/three/cat"))
        #expect(try Self.counts(dir.path + "/three/cat")["written"] == 30_000)
        // The work folders are gone and no rank left a heartbeat behind.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/three").filter { $0.contains("astropile-work") }
        #expect(left.isEmpty, "work folders left: \(left)")
    }

    /// A corrupt input under MPI: one rejection in the report, the catalog complete, and every
    /// rank ends with exit status 3.
    @Test func aCorruptInputIsReportedOnceAndEveryRankExitsThree() throws {
        let dir = try TestSupport.temporaryDirectory("mpi-corrupt")
        _ = try ResilienceTests.makeInputs(in: dir, files: 6, rows: 800)
        var gz = Data([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03])
        gz.append(Data((0..<400).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
        try gz.write(to: URL(fileURLWithPath: dir.path + "/part_901.csv.gz"))
        let args = ["import", "--input", dir.path + "/part_*", "--highest-order", "4", "--jobs", "1", "--quiet"]
        // The same folder name (the catalog's name is the folder's).
        let one = dir.path + "/one/cat", three = dir.path + "/three/cat"
        let r1 = try TestSupport.runProcess(Self.executable, args + ["--output", one])
        #expect(r1.status == 3, "\(r1.stderr)")
        let statuses = dir.path + "/statuses.txt"
        let r3 = try Self.astropile(ranks: 3, args + ["--output", three], statusFile: statuses)
        #expect(r3.status == 0, "mpirun exited \(r3.status): \(r3.stderr)")
        let lines = try String(contentsOfFile: statuses, encoding: .utf8).split(separator: "\n").map(String.init).sorted()
        #expect(lines == ["0 3", "1 3", "2 3"])
        let rejected = try #require(try Self.report(three)["rejectedInputs"] as? [[String: Any]])
        #expect(rejected.count == 1)
        #expect((rejected.first?["input"] as? String)?.hasSuffix("part_901.csv.gz") == true)
        // Named once on stderr (by rank 0), as one process names it.
        #expect(r3.stderr.components(separatedBy: "part_901.csv.gz").count - 1 == r1.stderr.components(separatedBy: "part_901.csv.gz").count - 1,
                "\(r3.stderr)")
        try Self.expectIdentical(one, three, "import with a corrupt input")
        // mpirun itself ends with the ranks' status (the catalog is complete: a re-run is a no-op).
        let again = try Self.astropile(ranks: 3, args + ["--output", three])
        #expect(again.status == 3, "\(again.stderr)")
    }

    /// A run killed under MPI (SIGKILL of a rank after its 2nd map record, or its 3rd reduce
    /// record) continues with another number of ranks and writes the bytes one process writes.
    @Test(arguments: [("map:2", 3, 2), ("reduce:3", 2, 3)])
    func aKilledRunResumesWithAnotherRankCount(_ crash: (String, Int, Int)) throws {
        let (point, first, second) = crash
        let dir = try TestSupport.temporaryDirectory("mpi-kill")
        _ = try ResilienceTests.makeInputs(in: dir, files: 12, rows: 1500)
        let args = ["import", "--input", dir.path + "/part_*.csv", "--highest-order", "8", "--threshold", "1200", "--jobs", "1", "--quiet"]
        let one = dir.path + "/one/cat", cat = dir.path + "/mpi/cat"
        #expect(try TestSupport.runProcess(Self.executable, args + ["--output", one]).status == 0)
        let killed = try Self.astropile(ranks: first, args + ["--output", cat], environment: ["ASTROPILE_CRASH_AFTER": point])
        #expect(killed.status != 0, "the crash hook did not fire")
        #expect(FileManager.default.fileExists(atPath: cat + ".astropile-work"))
        #expect(!FileManager.default.fileExists(atPath: cat + "/astropile_report.json"))
        let resumed = try Self.astropile(ranks: second, args + ["--output", cat])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try Self.expectIdentical(one, cat, "resumed after \(point)")
    }

    /// Stamps of the real SDSS field under three ranks: the same HDF5 files, HATS leaves and index.
    @Test func stampsMatchOneProcess() throws {
        let f = try StampsFixture.get()
        let dir = try TestSupport.temporaryDirectory("mpi-stamps")
        let args = ["stamps", "--catalog", f.mixed, "--frames", f.frames, "--size", "16", "--align", "lanczos3", "--format", "both",
                    "--jobs", "1", "--quiet"]
        let one = dir.path + "/one/stamps", three = dir.path + "/three/stamps"
        let r1 = try TestSupport.runProcess(Self.executable, args + ["--output", one])
        let r3 = try Self.astropile(ranks: 3, args + ["--output", three])
        #expect(r1.status == r3.status, "\(r1.stderr)\n\(r3.stderr)")
        try Self.expectIdentical(one, three, "stamps")
    }

    /// Alert ingest of the synthetic 4.02 nights under three ranks: the same night files as one
    /// process, the same counts, and a second ingest of the same archives adds nothing.
    @Test func alertIngestMatchesOneProcess() throws {
        let f = try AlertsFixture.get()
        let dir = try TestSupport.temporaryDirectory("mpi-alerts")
        let archives = try f.tarballs(f.synthetic)
        #expect(archives.count == 3)
        let one = dir.path + "/one", three = dir.path + "/three"
        let r1 = try TestSupport.runProcess(Self.executable, ["alerts", "ingest"] + archives + ["--output", one, "--jobs", "1", "--quiet"])
        #expect(r1.status == 0, "\(r1.stderr)")
        let r3 = try Self.astropile(ranks: 3, ["alerts", "ingest"] + archives + ["--output", three, "--jobs", "1", "--quiet"])
        #expect(r3.status == 0, "\(r3.stderr)")
        let a = try AlertsFixture.nightFiles(one), b = try AlertsFixture.nightFiles(three)
        #expect(a.count >= 3)
        #expect(Set(a.keys) == Set(b.keys))
        #expect(a == b, "night files differ: \(a.keys.filter { a[$0] != b[$0] }.sorted().prefix(3))")
        let s1 = try AlertsFixture.status(one), s3 = try AlertsFixture.status(three)
        #expect((s1["alerts"] as? Int) == (s3["alerts"] as? Int) && (s3["alerts"] as? Int) == 120, "\(s3)")
        let again = try Self.astropile(ranks: 2, ["alerts", "ingest"] + archives + ["--output", three, "--jobs", "1", "--quiet"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try AlertsFixture.nightFiles(three) == b)
        // The lake's light-curve and alert catalogs (a build step on rank 0, then an import split
        // over the ranks): the leaves one process writes.
        for command in ["lightcurves", "catalog"] {
            let args = ["alerts", command, "--highest-order", "4", "--threshold", "40", "--jobs", "1", "--quiet"]
            let c1 = try TestSupport.runProcess(Self.executable, args + [one, "--output", dir.path + "/\(command)-one"])
            #expect(c1.status == 0, "\(c1.stderr)")
            let c3 = try Self.astropile(ranks: 3, args + [three, "--output", dir.path + "/\(command)-three"])
            #expect(c3.status == 0, "\(c3.stderr)")
            let x = try TestSupport.leafBytes(dir.path + "/\(command)-one"), y = try TestSupport.leafBytes(dir.path + "/\(command)-three")
            #expect(x.count > 1 && x == y, "alerts \(command): the leaves differ (\(x.count) and \(y.count) leaves)")
        }
    }

    /// 100,000 input files of 10 rows each: the import completes in bounded memory and writes the
    /// leaves an import of the same rows in 10 files writes, byte for byte. Planning time, wall
    /// times and peak memory are printed (the benchmark measures them: bench/mpi).
    @Test func aHundredThousandTinyFilesMakeTheCatalogOfTenFiles() throws {
        let dir = try TestSupport.temporaryDirectory("tiny")
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = try TestSupport.run(TestSupport.python, [StampsFixture.script("tiny_files.py"), dir.path, "100000", "10"])
        #expect(rows.trimmingCharacters(in: .whitespacesAndNewlines) == "1000000")
        let args = ["import", "--highest-order", "6", "--threshold", "100000", "--quiet"]
        func timed(_ input: String, _ output: String) throws -> (seconds: Double, peakKiB: Int) {
            let started = Date()
            let r = try TestSupport.runProcess("/usr/bin/time", ["-f", "PEAK %M", Self.executable] + args + ["--input", input, "--output", output])
            #expect(r.status == 0, "\(r.stderr.suffix(2000))")
            let peak = r.stderr.split(separator: "\n").last { $0.hasPrefix("PEAK ") }.flatMap { Int($0.dropFirst(5)) } ?? -1
            return (Date().timeIntervalSince(started), peak)
        }
        let big = try timed(dir.path + "/big/*.csv", dir.path + "/ten/cat")
        let tiny = try timed(dir.path + "/tiny/**/*.csv", dir.path + "/many/cat")
        let stages = try #require(try Self.report(dir.path + "/many/cat")["stageSeconds"] as? [String: Double])
        let planning = ["list", "scan", "plan"].reduce(0.0) { $0 + (stages[$1] ?? 0) }
        print(String(format: "100,000 files: %.1f s (planning %.1f s, map %.1f s), peak %d MiB; 10 files: %.1f s, peak %d MiB; ratio %.1fx",
                     tiny.seconds, planning, stages["map"] ?? -1, tiny.peakKiB / 1024, big.seconds, big.peakKiB / 1024,
                     tiny.seconds / big.seconds))
        #expect(try Self.counts(dir.path + "/many/cat")["written"] == 1_000_000)
        #expect(try Self.report(dir.path + "/many/cat")["inputs"] as? Int == 100_000)
        #expect(tiny.peakKiB > 0 && tiny.peakKiB < 1 << 20, "peak \(tiny.peakKiB) KiB")
        let a = try TestSupport.leafBytes(dir.path + "/ten/cat"), b = try TestSupport.leafBytes(dir.path + "/many/cat")
        #expect(a.count > 1 && a == b, "the leaves of 100,000 files differ from those of 10")
    }

    /// Planning keeps nothing per input file: 4,000 tiny inputs (CSV, and Parquet from pandas with
    /// per-file metadata; one unreadable at the scan, one that fails in the map, both inside a
    /// group of small inputs) on 2 ranks, killed after the bin step — the records every rank
    /// loads stay a few KB (one object per file would be hundreds of KB) and the input list is
    /// the Arrow file read by range; resumed on 3 ranks, the run rejects exactly the two files and
    /// writes the leaves of the good files alone.
    @Test func planningRecordsDoNotGrowWithTheInputs() throws {
        let dir = try TestSupport.temporaryDirectory("mpi-plan")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try TestSupport.run(TestSupport.python, [StampsFixture.script("tiny_files.py"), dir.path, "3000", "10"])
        // 1,000 Parquet files from pandas: each has its own `pandas` metadata (its row range), the
        // same columns — one schema to the planner, not 1,000.
        try TestSupport.runPython("""
            import os, sys, numpy as np, pandas as pd
            out = sys.argv[1]; os.makedirs(out)
            rng = np.random.default_rng(2)
            for f in range(1000):
                df = pd.DataFrame({"id": np.arange(3) + 50000 + 3 * f, "ra": rng.uniform(0, 360, 3),
                                   "dec": rng.uniform(-80, 80, 3), "mag": rng.normal(20, 2, 3)})
                df.index = pd.RangeIndex(3 * f, 3 * f + 3)
                df.to_parquet(f"{out}/p_{f:04d}.parquet")
            """, arguments: [dir.path + "/tiny/0003"])
        let good = dir.path + "/good"
        try FileManager.default.copyItem(atPath: dir.path + "/tiny", toPath: good)
        // Empty: rejected by the scan. A gzip CSV whose first MBs are fine but whose stream is cut
        // (small compressed, so grouped): passes the scan's sample, rejected by the map.
        try Data().write(to: URL(fileURLWithPath: dir.path + "/tiny/0001/t_0001500a.csv"))
        try TestSupport.runPython("""
            import gzip, sys
            data = gzip.compress(("id,ra,dec,mag\\n" + "9000000,10.5,20.25,20.0\\n" * 1500000).encode())
            open(sys.argv[1], "wb").write(data[: len(data) // 2])   # 36 MB of text in 44 KB, cut after ~18 MB
            """, arguments: [dir.path + "/tiny/0002/t_0002500a.csv.gz"])
        let args = ["import", "--input", dir.path + "/tiny/**/*.csv*," + dir.path + "/tiny/**/*.parquet", "--highest-order", "5", "--threshold", "100000", "--jobs", "1",
                    "--quiet"]
        let out = dir.path + "/two/cat", work = out + ".astropile-work"
        let killed = try Self.astropile(ranks: 2, args + ["--output", out], environment: ["ASTROPILE_CRASH_AFTER": "bin:1"])
        #expect(killed.status != 0)
        func bytes(_ stage: String) throws -> Int {
            let folder = work + "/records/" + stage
            return try FileManager.default.contentsOfDirectory(atPath: folder).reduce(0) { sum, name in
                sum + ((try FileManager.default.attributesOfItem(atPath: folder + "/" + name)[.size] as? Int) ?? 0)
            }
        }
        let (list, plan, scan, map) = (try bytes("list"), try bytes("plan"), try bytes("scan"), try bytes("map"))
        #expect(list < 1024 && plan < 4096, "list \(list) B, plan \(plan) B")
        #expect(scan < 16 << 10, "scan records: \(scan) B")
        #expect(map < 64 << 10, "map records: \(map) B")
        // The empty file is the plan's rejection; the cut one is the map's (inside a group).
        let planRecord = try String(contentsOfFile: work + "/records/plan/step.json", encoding: .utf8)
        #expect(planRecord.contains("t_0001500a.csv") && !planRecord.contains("t_0002500a"), "\(planRecord)")
        let listed = try TestSupport.runPython("""
            import sys, pyarrow.ipc as ipc
            t = ipc.open_file(sys.argv[1]).read_all()
            print(t.num_rows, t.column("path")[1500].as_py().endswith("t_0001500.csv"), t.column("path")[1501].as_py().endswith("t_0001500a.csv"))
            """, arguments: [work + "/inputs.arrow"])
        #expect(listed.trimmingCharacters(in: .whitespacesAndNewlines) == "4002 True True")
        let resumed = try Self.astropile(ranks: 3, args + ["--output", out])
        #expect(resumed.status == 3, "\(resumed.stderr.suffix(2000))")
        let rejected = try #require(try Self.report(out)["rejectedInputs"] as? [[String: Any]])
        #expect(rejected.compactMap { ($0["input"] as? String).map { ($0 as NSString).lastPathComponent } }.sorted()
                == ["t_0001500a.csv", "t_0002500a.csv.gz"], "\(rejected)")
        let reference = dir.path + "/one/cat"
        let r1 = try TestSupport.runProcess(Self.executable, ["import", "--input", good + "/**/*.csv," + good + "/**/*.parquet", "--highest-order", "5",
                                                              "--threshold", "100000", "--quiet", "--output", reference])
        #expect(r1.status == 0, "\(r1.stderr)")
        let a = try TestSupport.leafBytes(reference), b = try TestSupport.leafBytes(out)
        #expect(a.count > 1 && a == b, "the leaves differ from the good files' import")
        // The report says how many ranks made it (nothing for one process).
        #expect(try Self.report(out)["ranks"] as? Int == 3)
        #expect(try Self.report(reference)["ranks"] == nil)
    }

    /// Writes `files` CSVs of `rows` uniform random rows (numpy), for runs long enough to stop.
    static func makeLargeInputs(in dir: URL, files: Int, rows: Int) throws {
        try TestSupport.runPython("""
            import sys, numpy as np
            out, files, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
            rng = np.random.default_rng(5)
            for f in range(files):
                ra = rng.uniform(0, 360, rows); dec = np.degrees(np.arcsin(rng.uniform(-1, 1, rows)))
                with open(f"{out}/p_{f:02d}.csv", "w") as o:
                    o.write("id,ra,dec,mag\\n")
                    o.write("".join(f"{f * rows + i},{ra[i]:.7f},{dec[i]:.7f},{(i % 100) / 10:.2f}\\n" for i in range(rows)))
            """, arguments: [dir.path, String(files), String(rows)])
    }

    /// Starts `mpirun -n ranks astropile ARGS` without waiting.
    /// The test process blocks SIGINT in the threads that start children, and a child inherits
    /// the mask: mpirun is started through Python with an empty mask, as a shell would start it.
    static func start(ranks: Int, _ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestSupport.python)
        p.arguments = ["-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
                       try mpirun(), "--allow-run-as-root", "--oversubscribe", "-n", String(ranks), executable] + arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment.merging(
            ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]) { $1 }) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Waits for `p` up to `seconds`; false when it is still running.
    static func wait(_ p: Process, seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while p.isRunning, Date() < end { usleep(50_000) }
        return !p.isRunning
    }

    /// Waits until `path` is a folder with at least one entry (up to 120 s).
    static func waitForEntries(_ path: String) throws {
        let end = Date().addingTimeInterval(120)
        while Date() < end {
            if let names = try? FileManager.default.contentsOfDirectory(atPath: path), !names.isEmpty { return }
            usleep(20_000)
        }
        throw TestSupportError("nothing appeared in \(path)")
    }

    /// SIGINT to mpirun (as Ctrl-C, or Slurm's stop) stops every rank promptly; nothing is marked
    /// complete, and the run continues on two ranks to the bytes of one process.
    @Test func ctrlCToMpirunStopsEveryRankAndTheRunResumes() throws {
        let dir = try TestSupport.temporaryDirectory("mpi-sigint")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.makeLargeInputs(in: dir, files: 24, rows: 150_000)
        let args = ["import", "--input", dir.path + "/p_*.csv", "--highest-order", "7", "--threshold", "300000", "--jobs", "1", "--quiet"]
        let one = dir.path + "/one/cat", cat = dir.path + "/mpi/cat"
        #expect(try TestSupport.runProcess(Self.executable, args + ["--output", one]).status == 0)
        // Every rank pauses after its first map record (the engine's pause hook) until an
        // interrupt comes: the SIGINT lands mid-run however fast or loaded the machine, since the
        // run cannot finish while a rank waits there; no resume file is made before the SIGINT.
        let pauses = dir.path + "/pauses"
        try FileManager.default.createDirectory(atPath: pauses, withIntermediateDirectories: true)
        let p = try Self.start(ranks: 3, args + ["--output", cat], environment: ["ASTROPILE_PAUSE_AFTER": "map:1", "ASTROPILE_PAUSE_FOLDER": pauses])
        try Self.waitForEntries(pauses)
        let sent = Date()
        kill(p.processIdentifier, SIGINT)
        let stopped = Self.wait(p, seconds: 60)
        if !stopped { kill(p.processIdentifier, SIGKILL) }
        // Nothing stays paused, whatever happened.
        FileManager.default.createFile(atPath: pauses + "/" + FaultHooks.resumeFileName, contents: Data())
        #expect(stopped, "mpirun still running 60 s after SIGINT")
        print(String(format: "SIGINT to mpirun: every rank gone after %.1f s", Date().timeIntervalSince(sent)))
        #expect(p.terminationStatus != 0)
        #expect(!FileManager.default.fileExists(atPath: cat + "/astropile_report.json"))
        let resumed = try Self.astropile(ranks: 2, args + ["--output", cat])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try Self.expectIdentical(one, cat, "resumed after SIGINT")
    }

    /// A rank that stops answering (SIGSTOP: a hung node) is reported by the others after the
    /// collective timeout instead of hanging the run; the state recorded stays, and a re-run
    /// finishes it.
    @Test func aHungRankIsReportedAfterTheTimeout() throws {
        let dir = try TestSupport.temporaryDirectory("mpi-hung")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.makeLargeInputs(in: dir, files: 12, rows: 150_000)
        let args = ["import", "--input", dir.path + "/p_*.csv", "--highest-order", "7", "--threshold", "300000", "--jobs", "1", "--quiet"]
        let cat = dir.path + "/cat"
        let log = dir.path + "/mpirun.log"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Self.mpirun())
        p.arguments = ["--allow-run-as-root", "--oversubscribe", "-n", "3", Self.executable] + args + ["--output", cat]
        // Every rank pauses after its first map record until the resume file exists: rank 2 is
        // stopped before the run can finish, however fast or loaded the machine.
        let pauses = dir.path + "/pauses"
        try FileManager.default.createDirectory(atPath: pauses, withIntermediateDirectories: true)
        p.environment = ProcessInfo.processInfo.environment.merging(["ASTROPILE_MPI_TIMEOUT": "4", "OMPI_ALLOW_RUN_AS_ROOT": "1",
                                                                     "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                                                                     "ASTROPILE_PAUSE_AFTER": "map:1", "ASTROPILE_PAUSE_FOLDER": pauses]) { $1 }
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = FileHandle.nullDevice
        p.standardError = handle
        try p.run()
        try Self.waitForEntries(pauses)
        // Rank 2's process (mpirun's children on one machine are the ranks).
        let children = try TestSupport.run("/usr/bin/pgrep", ["-P", String(p.processIdentifier)])
            .split(separator: "\n").compactMap { Int32($0) }
        let rank2 = children.first { pid in
            let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
            return environ.split(separator: 0).contains { $0.elementsEqual("OMPI_COMM_WORLD_RANK=2".utf8) }
        }
        let resume = pauses + "/" + FaultHooks.resumeFileName
        guard let victim = rank2 else {
            FileManager.default.createFile(atPath: resume, contents: Data())
            p.waitUntilExit()
            try? handle.close()
            Issue.record("no rank 2 among \(children)")
            return
        }
        kill(victim, SIGSTOP)
        // The others go on, and wait for rank 2 at the stage's end.
        FileManager.default.createFile(atPath: resume, contents: Data())
        let stopped = Self.wait(p, seconds: 90)
        if !stopped { kill(victim, SIGKILL); kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        try handle.close()
        #expect(stopped, "the other ranks hung on the stopped rank")
        #expect(p.terminationStatus != 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("stopped answering"), "\(text.suffix(2000))")
        #expect(!FileManager.default.fileExists(atPath: cat + "/astropile_report.json"))
        let again = try TestSupport.runProcess(Self.executable, args + ["--output", cat])
        #expect(again.status == 0, "\(again.stderr)")
    }

    /// Spectra (with a bad file), pairing across HEALPix borders and a split under three ranks:
    /// the same files as one process, and the same exit status.
    @Test func spectraPairingAndSplitMatchOneProcess() throws {
        let f = try SpectraFixture.get()
        let dir = try TestSupport.temporaryDirectory("mpi-spectra")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, ranks) in [("one", 1), ("three", 3)] {
            let run = dir.path + "/run"
            let steps: [([String], Int32)] = [
                (["spectra", "--files", f.withBad, "--format", "both", "--output", run + "/spectra"], 3),
                (["pair", f.pairLeft, f.pairRight, "--radius", "1arcsec", "--format", "both", "--output", run + "/pairs"], 0),
                (["split", run + "/pairs", "--fractions", "train=0.5,val=0.25,test=0.25", "--seed", "42"], 0),
            ]
            for (args, expected) in steps {
                let full = args + ["--jobs", "1", "--quiet"]
                let r = ranks == 1 ? try TestSupport.runProcess(Self.executable, full) : try Self.astropile(ranks: ranks, full)
                #expect(r.status == expected, "\(name): \(args[0]) exited \(r.status): \(r.stderr)")
            }
            try FileManager.default.moveItem(atPath: run, toPath: dir.path + "/" + name)
        }
        try Self.expectIdentical(dir.path + "/one/spectra", dir.path + "/three/spectra", "spectra")
        try Self.expectIdentical(dir.path + "/one/pairs", dir.path + "/three/pairs", "pair + split")
    }
}
