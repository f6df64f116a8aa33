import Foundation
import Testing

/// Stage scripts. The runner never uses a shell; these scripts are `#!/bin/sh` programs of their own.
private enum Scripts {
    static let say = """
        #!/bin/sh
        echo "hello on stderr" >&2
        echo '{"schemaVersion":1,"command":"say","count":3}'
        printf 'no newline at the end' >&2
        """
    static let args = """
        #!/bin/sh
        for a in "$@"; do printf '<%s>\\n' "$a" >&2; done
        """
    static let count = """
        #!/bin/sh
        echo "$1" >> counts.txt
        """
    static let flaky = """
        #!/bin/sh
        if [ -e flaky.ok ]; then echo "second time: ok" >&2; exit 0; fi
        touch flaky.ok
        echo "first time: failing" >&2
        exit 3
        """
    static let exit65 = """
        #!/bin/sh
        echo "one input rejected" >&2
        exit 65
        """
    /// Slow the first time (until `slow.done` exists): writes its pid, then waits, reporting SIGTERM.
    static let slow = """
        #!/bin/sh
        if [ -e slow.done ]; then echo "quick this time" >&2; exit 0; fi
        echo $$ > slow.pid.tmp && mv slow.pid.tmp slow.pid
        trap 'echo "got TERM" >&2; exit 143' TERM
        sleep 120 &
        wait $!
        """
}

private func setUp(_ box: RunnerSandbox) throws {
    try box.write("say.sh", Scripts.say, executable: true)
    try box.write("args.sh", Scripts.args, executable: true)
    try box.write("count.sh", Scripts.count, executable: true)
    try box.write("flaky.sh", Scripts.flaky, executable: true)
    try box.write("exit65.sh", Scripts.exit65, executable: true)
    try box.write("slow.sh", Scripts.slow, executable: true)
}

private func stages(of run: [String: Any]) -> [[String: Any]] { run["stages"] as? [[String: Any]] ?? [] }

@Suite("Runner end to end: the built policylist running real processes")
struct RunnerEndToEndTests {
    @Test("a run forwards stderr with the stage prefix, records the ledger, and passes arguments without a shell")
    func ledgerAndStderr() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        try box.pipeline(
            "basic",
            [
                ("true", ["/bin/true"]), ("say", ["./say.sh"]),
                ("args", ["./args.sh", "it's; rm -rf x", "$${HOME}", "${OUT}"]),
                ("env", ["/usr/bin/env"]),
            ])
        let result = try box.policylist(["run", "pipelines/basic.json", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("[say] hello on stderr\n"))
        #expect(result.stderr.contains("[say] no newline at the end\n"))
        #expect(result.stderr.contains("[args] <it's; rm -rf x>\n[args] <${HOME}>\n[args] <out>\n"))
        #expect(!box.exists("x"))
        let summary = jsonObject(result.stdout)
        #expect(summary["status"] as? String == "ok")
        #expect(summary["command"] as? String == "run")
        #expect(stageNames(summary) == ["true", "say", "args", "env"])
        let say = stages(of: summary)[1]
        #expect((say["summary"] as? [String: Any])?["count"] as? Int == 3)
        #expect(say["exitCode"] as? Int == 0)
        #expect(say["seconds"] is Double)

        let runs = try box.status()
        #expect(runs.count == 1)
        #expect(runs.first?["runId"] as? String == summary["runId"] as? String)
        #expect(runs.first?["status"] as? String == "ok")
        #expect((runs.first?["holderPid"] as? Int ?? 0) > 0)
        let recorded = stages(of: runs.first ?? [:])
        #expect(recorded.map { $0["outcome"] as? String } == ["ok", "ok", "ok", "ok"])
        #expect(recorded[2]["argv"] as? [String] == ["./args.sh", "it's; rm -rf x", "${HOME}", "out"])
        #expect(recorded[0]["argv"] as? [String] == ["/bin/true"])
        // The environment the runner adds for every stage went to env's stdout, which the ledger kept.
        #expect(recorded.allSatisfy { $0["startedAt"] is String && $0["endedAt"] is String })
    }

    @Test("a failing stage stops the run, its exit code is the runner's, and later stages do not run")
    func failureStops() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        try box.pipeline(
            "stops",
            [("first", ["./count.sh", "first"]), ("reject", ["./exit65.sh"]), ("never", ["./count.sh", "never"])])
        let result = try box.policylist(["run", "pipelines/stops.json", "--json"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("[reject] one input rejected"))
        #expect(result.stderr.contains("stopped at stage reject (2/3): exit 65, not in allowExitCodes [0]"))
        #expect(box.read("counts.txt") == "first\n")
        let summary = jsonObject(result.stdout)
        #expect(summary["status"] as? String == "failed")
        #expect(summary["stoppedAt"] as? String == "reject")
        #expect(stageNames(summary) == ["first", "reject"])

        // /bin/false exits 1; a code outside the contract's set (3) becomes 1.
        try box.pipeline("false", [("no", ["/bin/false"])])
        #expect(try box.policylist(["run", "pipelines/false.json"]).status == 1)
        try box.pipeline("three", [("flaky", ["./flaky.sh"])])
        #expect(try box.policylist(["run", "pipelines/three.json"]).status == 1)
    }

    @Test("allowExitCodes lets a stage's 65 continue the run")
    func allowedExitCode() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        try box.pipeline(
            "allowed", [("reject", ["./exit65.sh"]), ("after", ["./count.sh", "after"])],
            extra: ["reject": #""allowExitCodes":[0,65]"#])
        let result = try box.policylist(["run", "pipelines/allowed.json", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(box.read("counts.txt") == "after\n")
        #expect(stages(of: jsonObject(result.stdout)).first?["exitCode"] as? Int == 65)
    }

    @Test("a plain rerun after a failure resumes from the failed stage; a rerun after success starts over")
    func resume() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        try box.pipeline(
            "resume",
            [("first", ["./count.sh", "first"]), ("flaky", ["./flaky.sh"]), ("last", ["./count.sh", "last"])])
        let failed = try box.policylist(["run", "pipelines/resume.json", "--json"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("[flaky] first time: failing"))

        let resumed = try box.policylist(["run", "pipelines/resume.json", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(
            resumed.stderr.contains(
                "resuming from stage flaky: the last run (\(jsonObject(failed.stdout)["runId"] as? String ?? "?")) failed there"
            ))
        let summary = jsonObject(resumed.stdout)
        #expect(summary["resumedFrom"] as? String == "flaky")
        #expect(summary["resumesRun"] as? String == jsonObject(failed.stdout)["runId"] as? String)
        #expect(stageNames(summary) == ["flaky", "last"])
        #expect(box.read("counts.txt") == "first\nlast\n")

        let again = try box.policylist(["run", "pipelines/resume.json", "--json"])
        #expect(again.status == 0)
        #expect(jsonObject(again.stdout)["resumedFrom"] is NSNull)
        #expect(box.read("counts.txt") == "first\nlast\nfirst\nlast\n")

        // Different variables are a different job: no resume.
        try FileManager.default.removeItem(atPath: box.dir + "/flaky.ok")
        #expect(try box.policylist(["run", "pipelines/resume.json"]).status == 1)
        let other = try box.policylist(["run", "pipelines/resume.json", "--json", "--var", "OUT=elsewhere"])
        #expect(jsonObject(other.stdout)["resumedFrom"] is NSNull)
    }

    @Test("a resumed run reuses the NOW of the run it continues")
    func resumeKeepsNow() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        try box.pipeline("now", [("flaky", ["./flaky.sh", "${NOW}"]), ("say-now", ["./args.sh", "${NOW}"])])
        let failed = try box.policylist(["run", "pipelines/now.json"])
        #expect(failed.status == 1)
        let runs = try box.status()
        let firstNow = (stages(of: runs.first ?? [:]).first?["argv"] as? [String])?.last ?? "?"
        Thread.sleep(forTimeInterval: 1.1)
        let resumed = try box.policylist(["run", "pipelines/now.json"])
        #expect(resumed.status == 0)
        #expect(resumed.stderr.contains("[say-now] <\(firstNow)>"), "\(resumed.stderr)")
    }

    @Test("--from starts at the named stage; an unknown stage is a usage error")
    func from() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        try box.pipeline(
            "from", [("a", ["./count.sh", "a"]), ("b", ["./count.sh", "b"]), ("c", ["./count.sh", "c"])])
        let result = try box.policylist(["run", "pipelines/from.json", "--from", "b", "--json"])
        #expect(result.status == 0)
        #expect(box.read("counts.txt") == "b\nc\n")
        #expect(jsonObject(result.stdout)["resumedFrom"] as? String == "b")
        let unknown = try box.policylist(["run", "pipelines/from.json", "--from", "zz"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("--from zz: pipeline from has no such stage (stages: a, b, c)"))
    }

    @Test("--dry-run prints the resolved commands and runs nothing")
    func dryRun() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        try box.write(
            "pipelines/dry.json",
            #"""
            {"schemaVersion":1,"name":"dry","variables":{"IN":"${DATA}/in put"},"stages":[
              {"name":"a","run":["./count.sh","${IN}"]},
              {"name":"b","run":["sleep","1"],"standardOptions":false,"passNow":true}]}
            """#)
        let result = try box.policylist(["run", "pipelines/dry.json", "--dry-run", "--now", "2020-05-01T00:00:00Z"])
        #expect(result.status == 0, "\(result.stderr)")
        let sleep = PipelineTestsFind.executable("sleep") ?? "sleep"
        #expect(
            result.stdout
                == "./count.sh 'data/in put' --db \(box.db) --json\n\(sleep) 1 --now 2020-05-01T00:00:00Z\n")
        #expect(!box.exists("counts.txt"))
        #expect(!box.exists("state/policylist.sqlite"))
    }

    @Test("an unknown variable is a usage error naming it, and nothing runs")
    func unknownVariable() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        try box.pipeline("unknown", [("a", ["./count.sh", "${NOPE}"])])
        let result = try box.policylist(["run", "pipelines/unknown.json"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("stages[0].run[1]: unknown variable ${NOPE}"))
        #expect(!box.exists("counts.txt"))
        let missing = try box.policylist(["run", "pipelines/none.json"])
        #expect(missing.status == 74)
        try box.pipeline("missing", [("a", ["no-such-program-anywhere"])])
        let notFound = try box.policylist(["run", "pipelines/missing.json"])
        #expect(notFound.status == 69)
        #expect(notFound.stderr.contains("a: no-such-program-anywhere"))
    }

    @Test("two concurrent runs: the second exits 75 naming the holder; SIGTERM is forwarded and the run resumes")
    func concurrentAndSignal() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        try box.pipeline(
            "slow",
            [("before", ["./count.sh", "before"]), ("slow", ["./slow.sh"]), ("after", ["./count.sh", "after"])])
        let first = try box.start(["run", "pipelines/slow.json"])
        #expect(box.waitForBlocking("slow.pid"))
        let second = try box.policylist(["run", "pipelines/slow.json"])
        #expect(second.status == 75)
        #expect(
            second.stderr.contains("another run holds the lock (pid \(first.0.processIdentifier), started "),
            "\(second.stderr)")
        #expect(second.stderr.contains("stage slow (pid "))

        kill(first.0.processIdentifier, SIGTERM)
        let interrupted = box.finish(first)
        #expect(interrupted.status == 75)
        #expect(interrupted.stderr.contains("[slow] got TERM"))
        let runs = try box.status()
        #expect(runs.count == 1)  // the refused run recorded nothing
        #expect(runs.first?["status"] as? String == "failed")
        #expect(stages(of: runs.first ?? [:]).last?["outcome"] as? String == "interrupted")

        try box.write("slow.done", "")
        let resumed = try box.policylist(["run", "pipelines/slow.json", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(stageNames(jsonObject(resumed.stdout)) == ["slow", "after"])
        #expect(box.read("counts.txt") == "before\nafter\n")
    }

    @Test("SIGKILL of the runner mid-stage: the orphaned stage keeps the lock, then a rerun resumes there and finishes")
    func sigkill() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        try box.pipeline(
            "killed",
            [("before", ["./count.sh", "before"]), ("slow", ["./slow.sh"]), ("after", ["./count.sh", "after"])])
        let runner = try box.start(["run", "pipelines/killed.json"])
        #expect(box.waitForBlocking("slow.pid"))
        kill(runner.0.processIdentifier, SIGKILL)
        _ = box.finish(runner)
        let stagePid = Int32(box.read("slow.pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(stagePid > 0)

        // The stage still runs and still writes the database: it holds the lock it inherited.
        let blocked = try box.policylist(["run", "pipelines/killed.json"])
        #expect(blocked.status == 75)
        #expect(
            blocked.stderr.contains(
                "pid \(runner.0.processIdentifier) has exited but its stage slow (pid \(stagePid)) is still running"),
            "\(blocked.stderr)")

        // The stage dies too (as under a systemd stop); the kernel drops the lock with it.
        kill(-stagePid, SIGKILL)
        var waited = 0
        while kill(stagePid, 0) == 0 && waited < 200 {
            usleep(20_000)
            waited += 1
        }
        let status = try box.status()
        #expect(status.first?["status"] as? String == "failed")  // running, but its holder is gone

        try box.write("slow.done", "")
        let resumed = try box.policylist(["run", "pipelines/killed.json", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(
            resumed.stderr.contains(
                "was left running at stage slow by pid \(runner.0.processIdentifier), which is gone"))
        #expect(resumed.stderr.contains("resuming from stage slow"))
        #expect(stageNames(jsonObject(resumed.stdout)) == ["slow", "after"])
        #expect(box.read("counts.txt") == "before\nafter\n")

        let runs = try box.status()
        #expect(runs.count == 2)
        #expect(stages(of: runs.last ?? [:]).last?["outcome"] as? String == "abandoned")
        // The lock is free again.
        #expect(try box.policylist(["run", "pipelines/killed.json"]).status == 0)
    }

    @Test("status shows runs newest first with stages, durations and outcomes; --limit; an empty database")
    func status() throws {
        let box = try RunnerSandbox()
        try setUp(box)
        let empty = try box.policylist(["status"])
        #expect(empty.status == 0)
        #expect(empty.stdout.contains("no runs recorded"))
        try box.pipeline("st", [("one", ["/bin/true"]), ("two", ["./exit65.sh"])])
        _ = try box.policylist(["run", "pipelines/st.json"])
        _ = try box.policylist(["run", "pipelines/st.json", "--from", "one"])
        let table = try box.policylist(["status"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("  st  failed (exit 65)  started "))
        #expect(table.stdout.contains("from one"))
        #expect(table.stdout.contains("  #  STAGE  OUTCOME  EXIT  SECONDS  NOTE\n"))
        #expect(table.stdout.contains("  2  two    failed   65    "))
        #expect(table.stdout.contains("exit 65, not in allowExitCodes [0]; last stderr line: one input rejected"))
        let runs = try box.status(limit: 1)
        #expect(runs.count == 1)
        #expect(runs.first?["resumedFrom"] as? String == "one")
        #expect(runs.first?["seconds"] is Double)
        #expect(stages(of: runs.first ?? [:]).map { $0["outcome"] as? String } == ["ok", "failed"])
    }

    @Test(
        "a real stage executable runs through the runner (policylist-ingest --help)",
        .enabled(if: RunnerBinaries.exists("policylist-ingest")))
    func realStage() throws {
        let box = try RunnerSandbox()
        try box.pipeline("ingest-help", [("help", ["policylist-ingest", "--help"])])
        let result = try box.policylist(["run", "pipelines/ingest-help.json", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let argv = (stages(of: try box.status().first ?? [:]).first?["argv"] as? [String]) ?? []
        let expected = URL(fileURLWithPath: RunnerBinaries.directory + "/policylist-ingest").resolvingSymlinksInPath()
            .path
        #expect(argv.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } == expected)
    }
}

enum PipelineTestsFind {
    static func executable(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
