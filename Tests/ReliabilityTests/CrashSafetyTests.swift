import Foundation
import PolicyListStore
import Testing

/// Crash safety (docs/reliability.md): every stage of the 2020 replay is killed at many points, by the commit
/// fault hook (`POLICYLIST_FAULT=commit:N`, an `_exit(137)` just before the Nth COMMIT) and by SIGKILL at time
/// offsets, then rerun as the same command. After each rerun the database dump and the output tree must equal
/// those of an uninterrupted run, and while the killed stage ran, no file under a final output name was ever
/// anything but its complete, final bytes.
@Suite("Crash safety", .serialized)
struct CrashSafetyTests {
    /// One stage of the workload: `policylist-*` arguments without `--db`; `out` is the directory it publishes to.
    struct Stage: Sendable {
        let name: String
        let tool: String
        let arguments: [String]
        let out: String?
        /// Commit numbers to die before; `nil` means 1, 2, … until the stage runs to the end.
        let commitPoints: [Int]?
        /// How many SIGKILL time offsets, spread evenly over the stage's reference duration.
        let timeOffsets: Int
    }

    static let history = Rel.data + "/policy-history"
    static let replay = Rel.data + "/replay-2020"

    static func publish(_ seq: Int, _ timestamp: String, _ expires: String, now: String, work: String) -> Stage {
        Stage(
            name: "publish-seq\(seq)", tool: "policylist-publish",
            arguments: [
                "--out", work + "/out/seq\(seq)", "--timestamp", timestamp, "--expires", expires, "--now", now,
            ],
            out: "out/seq\(seq)", commitPoints: nil, timeOffsets: 6)
    }

    /// The final-publication pipeline's stages (pipelines/final-publication.json, without the gpgv checks), run
    /// one by one; scans are
    /// imported in batches of 20 lines so the import has a commit point every 20 observations.
    static func workload(_ work: String) -> [Stage] {
        [
            Stage(
                name: "ingest-history", tool: "policylist-ingest",
                arguments: [
                    "snapshots", "--keyring", Rel.keyring, "--sequence", history + "/MANIFEST.tsv",
                    history + "/history.tar.gz",
                ], out: nil, commitPoints: [1, 2, 8, 20, 40, 60, 73, 74], timeOffsets: 1),
            Stage(
                name: "ingest-queue", tool: "policylist-ingest", arguments: ["queue", replay + "/domains.csv.gz"],
                out: nil, commitPoints: nil, timeOffsets: 2),
            Stage(
                name: "ingest-requests", tool: "policylist-ingest",
                arguments: ["requests", replay + "/removals.json", replay + "/edits.json"], out: nil,
                commitPoints: nil, timeOffsets: 1),
            Stage(
                name: "ingest-scans", tool: "policylist-observe",
                arguments: ["import-backend-scans", "--batch", "20", replay + "/scans.jsonl.gz"], out: nil,
                commitPoints: nil, timeOffsets: 3),
            Stage(
                name: "reconcile-freeze", tool: "policylist-reconcile",
                arguments: [
                    "--as-of", "2020-04-15T07:20:35Z", "--freeze", "2020-04-15T07:20:35Z", "--baseline", "seq:52",
                ], out: nil, commitPoints: nil, timeOffsets: 2),
            publish(
                53, "2020-04-15T11:19:10.581595-07:00", "2020-04-29T11:19:10.581618-07:00", now: "2020-04-15T18:20:00Z",
                work: work),
            Stage(
                name: "reconcile-mta-sts", tool: "policylist-reconcile",
                arguments: ["--as-of", "2020-04-22T20:00:00Z"],
                out: nil, commitPoints: nil, timeOffsets: 2),
            publish(
                54, "2020-04-22T13:39:26.906657-07:00", "2020-05-06T13:39:26.906684-07:00", now: "2020-04-22T20:40:00Z",
                work: work),
            Stage(
                name: "reconcile-final", tool: "policylist-reconcile", arguments: ["--as-of", "2020-05-20T17:00:00Z"],
                out: nil, commitPoints: nil, timeOffsets: 1),
            publish(
                56, "2020-05-20T10:25:12.710034-07:00", "2020-06-03T10:25:12.710055-07:00", now: "2020-05-20T17:26:00Z",
                work: work),
            // The reports only read the store: they are killed at time offsets, with the watcher on their files.
            report("report-history", ["history", "--out", work + "/out/reports"], out: "out/reports"),
            report("report-deprecation", ["deprecation", "--out", work + "/out/reports"], out: "out/reports"),
            report("archive", ["archive", "--out", work + "/out/archive/policy-history.tar.gz"], out: "out/archive"),
        ]
    }

    /// A `policylist-report` stage as of the pipeline's REPORT_NOW.
    static func report(_ name: String, _ arguments: [String], out: String) -> Stage {
        Stage(
            name: name, tool: "policylist-report", arguments: arguments + ["--now", "2020-06-03T17:25:13Z"], out: out,
            commitPoints: [], timeOffsets: 4)
    }

    /// The uninterrupted run: the work directory after each stage, its dump and output tree, and durations.
    struct Reference {
        let work: String
        let saved: String
        let stages: [Stage]
        var dumps: [[String]] = []
        var trees: [[String: Data]] = []
        var durations: [Duration] = []

        init() async throws {
            work = Rel.tempDir("crash-work")
            saved = Rel.tempDir("crash-reference")
            stages = CrashSafetyTests.workload(work)
            try FileManager.default.createDirectory(atPath: work + "/out", withIntermediateDirectories: true)
            try await Rel.copyTree(work, saved + "/0")
            for (index, stage) in stages.enumerated() {
                let clock = ContinuousClock()
                let start = clock.now
                let result = try await Rel.run(stage.tool, stage.arguments + ["--db", work + "/db.sqlite", "--json"])
                durations.append(clock.now - start)
                guard result.status == 0 else {
                    throw CommandFailed(description: "\(stage.name): exit \(result.status): \(result.stderr)")
                }
                dumps.append(try StoreDump.dump(work + "/db.sqlite"))
                trees.append(Rel.tree(work + "/out"))
                try await Rel.copyTree(work, saved + "/\(index + 1)")
            }
        }

        /// Puts the work directory back to its state after `stages` stages.
        func restore(after stages: Int) async throws {
            try await Rel.copyTree(saved + "/\(stages)", work)
        }
    }

    struct CommandFailed: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads every file under a final name in `dir` while a stage runs; any that is not byte-equal to the
    /// reference is a partially written (or wrong) file visible under its final name.
    final class Watcher: @unchecked Sendable {
        let dir: String
        let expected: [String: Data]
        let prefix: String
        private let lock = NSLock()
        private var running = true
        private(set) var observations = 0
        private(set) var violations: [String] = []
        private var thread: Thread?

        init(dir: String, prefix: String, expected: [String: Data]) {
            self.dir = dir
            self.prefix = prefix
            self.expected = expected
            let thread = Thread { [weak self] in
                while let self, self.lock.withLock({ self.running }) {
                    self.look()
                    usleep(200)  // leave the CPU to the stage being watched
                }
            }
            self.thread = thread
            thread.start()
        }

        private func look() {
            let names = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? []
            for name in names where !name.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDirectory),
                    !isDirectory.boolValue, let data = FileManager.default.contents(atPath: dir + "/" + name)
                else { continue }
                lock.withLock {
                    observations += 1
                    if data != expected[prefix + name] {
                        violations.append(
                            "\(name): \(data.count) bytes, not the final \(expected[prefix + name]?.count ?? 0)")
                    }
                }
            }
        }

        func stop() -> (observations: Int, violations: [String]) {
            lock.withLock { running = false }
            while thread?.isFinished == false { Thread.sleep(forTimeInterval: 0.001) }
            return lock.withLock { (observations, violations) }
        }
    }

    /// What one kill point did.
    struct KillPoint: CustomStringConvertible {
        let stage: String
        let how: String
        var description: String { "\(stage) \(how)" }
    }

    @Test(
        "≥ 50 kill points over ingest, import, reconcile, publish and report: the rerun ends with the same data and bytes"
    )
    func killAndRerun() async throws {
        let reference = try await Reference()
        var points: [KillPoint] = []
        var observations = 0
        var problems: [String] = []
        let db = reference.work + "/db.sqlite"

        /// Runs stage `index` with `environment`/`killAfter`, then reruns it plainly and compares.
        func attempt(_ index: Int, environment: [String: String], killAfter: Duration?, how: String) async throws
            -> Bool
        {
            let stage = reference.stages[index]
            try await reference.restore(after: index)
            let watcher = stage.out.map {
                Watcher(
                    dir: reference.work + "/" + $0, prefix: $0.dropFirst("out/".count) + "/",
                    expected: reference.trees[index])
            }
            let killed = try await Rel.run(
                stage.tool, stage.arguments + ["--db", db, "--json"], environment: environment, killAfter: killAfter)
            if let watcher {
                let (seen, violations) = watcher.stop()
                observations += seen
                problems += violations.map { "\(stage.name) \(how): visible under its final name: \($0)" }
            }
            guard killed.status == 137 else {
                if killed.status != 0 {
                    problems.append("\(stage.name) \(how): exit \(killed.status): \(killed.stderr)")
                }
                return false  // it finished before the kill point
            }
            points.append(KillPoint(stage: stage.name, how: how))
            let rerun = try await Rel.run(stage.tool, stage.arguments + ["--db", db, "--json"])
            if rerun.status != 0 {
                problems.append("\(stage.name) \(how): rerun exit \(rerun.status): \(rerun.stderr)")
            }
            let dump = try StoreDump.dump(db)
            if dump != reference.dumps[index] {
                let diff =
                    zip(dump, reference.dumps[index]).first { $0 != $1 }.map { "\($0.0) vs \($0.1)" } ?? "row count"
                problems.append("\(stage.name) \(how): database differs after the rerun: \(diff)")
            }
            let tree = Rel.tree(reference.work + "/out")
            if tree != reference.trees[index] {
                let names = Set(tree.keys).symmetricDifference(reference.trees[index].keys).sorted()
                problems.append("\(stage.name) \(how): output tree differs after the rerun: \(names)")
            }
            return true
        }

        for (index, stage) in reference.stages.enumerated() {
            if let commits = stage.commitPoints {
                for commit in commits {
                    _ = try await attempt(
                        index, environment: ["POLICYLIST_FAULT": "commit:\(commit)"], killAfter: nil,
                        how: "commit:\(commit)")
                }
            } else {
                var commit = 1
                while try await attempt(
                    index, environment: ["POLICYLIST_FAULT": "commit:\(commit)"], killAfter: nil,
                    how: "commit:\(commit)"),
                    commit < 60
                {
                    commit += 1
                }
            }
            let duration = reference.durations[index]
            for step in 1...max(1, stage.timeOffsets) {
                // On a loaded machine the reference duration is only a guide: when the stage finished before
                // the kill, try again earlier.
                var offset = duration * Double(step) / Double(stage.timeOffsets + 1)
                for _ in 0..<5 {
                    if try await attempt(index, environment: [:], killAfter: offset, how: "SIGKILL at \(offset)") {
                        break
                    }
                    offset = offset / 2
                }
            }
        }

        let perStage = Dictionary(grouping: points, by: \.stage).mapValues(\.count)
        print("crash safety: \(points.count) kill points; \(observations) output files seen while publish ran")
        for stage in reference.stages { print("  \(stage.name): \(perStage[stage.name] ?? 0) kill points") }
        for problem in problems.prefix(20) { Issue.record(Comment(rawValue: problem)) }
        #expect(problems.isEmpty)
        #expect(points.count >= 50)
        #expect(Set(points.map(\.stage)).count == reference.stages.count)
    }
}

/// The same through the runner: one stage of `policylist run pipelines/final-publication.json` dies before a
/// commit (`POLICYLIST_FAULT=commit:N@STAGE`), and a plain rerun of `policylist run` resumes at that stage.
@Suite("Crash safety: policylist run resumes", .serialized)
struct RunnerResumeTests {
    static func run(_ work: String, environment: [String: String] = [:]) async throws -> (status: Int32, stderr: String)
    {
        let result = try await Rel.run(
            "policylist",
            ["run", "pipelines/final-publication.json", "--db", work + "/db.sqlite", "--var", "OUT=\(work)/out"],
            environment: environment, cwd: Rel.root)
        return (result.status, result.stderr)
    }

    @Test("a stage killed inside a pipeline run, then `policylist run` again: same data and bytes as one clean run")
    func killedStageResumes() async throws {
        let work = Rel.tempDir("runner-crash")
        let clean = try await Self.run(work)
        try #require(clean.status == 0, "\(clean.stderr.suffix(2000))")
        let dump = try StoreDump.dump(work + "/db.sqlite")
        let tree = Rel.tree(work + "/out")
        for fault in ["commit:30@ingest-history", "commit:1@publish-seq54"] {
            try FileManager.default.removeItem(atPath: work)
            let killed = try await Self.run(work, environment: ["POLICYLIST_FAULT": fault])
            #expect(killed.status != 0, "\(fault): the run did not fail")
            let resumed = try await Self.run(work)
            #expect(resumed.status == 0, "\(fault): \(resumed.stderr.suffix(2000))")
            #expect(
                resumed.stderr.contains("resum"), "\(fault): the rerun did not resume: \(resumed.stderr.prefix(600))")
            #expect(try StoreDump.dump(work + "/db.sqlite") == dump, "\(fault): database differs")
            #expect(Rel.tree(work + "/out") == tree, "\(fault): outputs differ")
        }
    }
}
