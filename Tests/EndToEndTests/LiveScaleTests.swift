import Foundation
import Testing

/// The single run over the generated loopback domains that shard runs are compared with (run once).
actor LiveScaleBaseline {
    static let shared = LiveScaleBaseline()
    static let now = "2026-01-01T00:00:00Z"

    struct Run: Sendable {
        var dir: String
        var domains: String
        var db: String
        var out: String
        var status: Int32
        var stderr: String
        var summary: String
        var seconds: Double
    }

    private var running: Task<Run, any Error>?

    /// The run, started by the first caller; later callers wait for the same one.
    func get() async throws -> Run {
        if running == nil {
            let servers = try liveServers()
            running = Task { try await Self.make(servers) }
        }
        guard let running else { throw LiveServers.Failure(description: "no run") }
        return try await running.value
    }

    private static func make(_ servers: LiveServers) async throws -> Run {
        let dir = E2E.tempDir("live-scale")
        let domains = dir + "/domains.txt"
        try LiveServers.scaleDomainList().write(toFile: domains, atomically: true, encoding: .utf8)
        let start = ContinuousClock.now
        let result = try await runOffPool(
            "policylist-observe",
            [
                "live", "--domains", domains, "--db", dir + "/single.sqlite", "--out", dir + "/single.jsonl",
                "--concurrency", "64", "--timeout", "10", "--json", "--now", Self.now,
            ] + servers.networkArguments)
        let made = Run(
            dir: dir, domains: domains, db: dir + "/single.sqlite", out: dir + "/single.jsonl", status: result.status,
            stderr: result.stderr, summary: result.stdout, seconds: seconds(ContinuousClock.now - start))
        return made
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Starts every command at once (stdout and stderr to files) and waits for all: truly concurrent processes.
func runConcurrently(
    _ commands: [(tool: String, arguments: [String], environment: [String: String])], cwd: String? = nil
) throws -> [E2E.Result] {
    let dir = E2E.tempDir("concurrent")
    var processes: [Process] = []
    for (index, command) in commands.enumerated() {
        let process = Process()
        process.executableURL = URL(
            fileURLWithPath: command.tool.hasPrefix("/") ? command.tool : E2E.binDir + "/" + command.tool)
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        process.arguments = command.arguments
        process.environment = ProcessInfo.processInfo.environment.merging(command.environment) { $1 }
        FileManager.default.createFile(atPath: "\(dir)/\(index).out", contents: nil)
        FileManager.default.createFile(atPath: "\(dir)/\(index).err", contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dir)/\(index).out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dir)/\(index).err"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        processes.append(process)
    }
    return processes.enumerated().map { index, process in
        process.waitUntilExit()
        return E2E.Result(
            status: process.terminationStatus,
            stdout: String(decoding: E2E.read("\(dir)/\(index).out"), as: UTF8.self),
            stderr: String(decoding: E2E.read("\(dir)/\(index).err"), as: UTF8.self))
    }
}

/// The folded (`>-`) `args` scalar of the container named `container` in a Kubernetes manifest, as the shell
/// command Kubernetes runs: the block's lines joined with spaces. (A tiny reader for our own example file, so
/// the test needs no YAML library; the example keeps every line of these blocks at one indentation.)
func foldedArgs(yaml: String, container: String) -> String? {
    let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let named = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "- name: \(container)" }),
        let start = lines[named...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "- >-" })
    else { return nil }
    var block: [String] = []
    var indent: Int?
    for line in lines[(start + 1)...] {
        let leading = line.prefix { $0 == " " }.count
        if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
        if let indent, leading < indent { break }
        indent = indent ?? leading
        block.append(line.trimmingCharacters(in: .whitespaces))
    }
    return block.joined(separator: " ")
}

extension LiveNetworkTests {
    @Suite("live observation at scale: bounded concurrency and shards equal to a single run")
    struct Scale {
        @Test("1,000 loopback domains at --concurrency 64: well inside the timeouts, never more than 64 in flight")
        func thousandDomains() async throws {
            let run = try await LiveScaleBaseline.shared.get()
            #expect(run.status == 0, "\(run.stderr)")
            let summary = parseObject(run.summary)
            let observed = summary["observed"] as? Int ?? 0
            let maxInFlight = summary["maxInFlight"] as? Int ?? -1
            let slowest = summary["slowestDomainSeconds"] as? Double ?? 99
            let inside = summary["seconds"] as? Double ?? 0
            print(
                String(
                    format:
                        "live scale: %d domains (TXT + MX + HTTPS each) in %.2f s "
                        + "(process %.2f s) = %.0f domains/s; concurrency 64, max in flight %d; slowest domain %.3f s "
                        + "(timeouts: DNS 5 s × 2, HTTPS 10 s)",
                    observed, inside, run.seconds, Double(observed) / max(inside, 0.001), maxInFlight, slowest))
            #expect(observed == LiveServers.scaleDomains)
            #expect(summary["valid"] as? Int == LiveServers.scaleDomains)
            #expect(maxInFlight <= 64)
            #expect(maxInFlight > 1)
            #expect(slowest < 5, "a domain took \(slowest) s: close to the timeouts")
            #expect(summary["accepted"] as? Int == LiveServers.scaleDomains)
        }

        @Test("4 shards (--shard 1/4 … 4/4) into one database equal the single run")
        func fourShards() async throws {
            let servers = try liveServers()
            let single = try await LiveScaleBaseline.shared.get()
            let db = single.dir + "/four-shards.sqlite"
            var total = 0
            for k in 1...4 {
                let result = try await runOffPool(
                    "policylist-observe",
                    [
                        "live", "--domains", single.domains, "--db", db, "--shard", "\(k)/4", "--concurrency", "64",
                        "--json", "--now", LiveScaleBaseline.now,
                    ] + servers.networkArguments)
                #expect(result.status == 0, "\(result.stderr)")
                let observed = result.summary["observed"] as? Int ?? 0
                #expect(result.summary["otherShards"] as? Int == LiveServers.scaleDomains - observed)
                print("shard \(k)/4: \(observed) domains")
                total += observed
            }
            #expect(total == LiveServers.scaleDomains)
            #expect(try LiveDB.rows(db) == LiveDB.rows(single.db))
        }

        @Test("8 shard processes of the Kubernetes Indexed Job run concurrently; merged they equal the single run")
        func indexedJobSimulation() async throws {
            let servers = try liveServers()
            let single = try await LiveScaleBaseline.shared.get()
            let yaml = try String(contentsOfFile: E2E.root + "/pipelines/k8s/observe-job.yaml", encoding: .utf8)
            let bin = E2E.binDir
            let shards = single.dir + "/k8s-shards"
            let config = single.dir + "/k8s-config"
            let state = single.dir + "/k8s-state"
            for dir in [shards, config, state] {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
            try FileManager.default.copyItem(atPath: single.domains, toPath: config + "/domains.txt")
            func local(_ command: String) -> String {
                command.replacingOccurrences(of: "/opt/policylist/bin", with: bin)
                    .replacingOccurrences(of: "/shards", with: shards).replacingOccurrences(of: "/config", with: config)
                    .replacingOccurrences(of: "/state", with: state)
            }
            let observe = local(try #require(foldedArgs(yaml: yaml, container: "observe")))
            let merge = local(try #require(foldedArgs(yaml: yaml, container: "merge")))
            // The ConfigMap's settings, pointed at the loopback servers.
            let env = [
                "SHARDS": "8", "OBSERVED_AT": LiveScaleBaseline.now,
                "OBSERVE_ARGS": (["--concurrency", "32", "--timeout", "10"] + servers.networkArguments).joined(
                    separator: " "),
            ]
            let start = ContinuousClock.now
            let commands = (0..<8).map { index in
                ("/bin/sh", ["-c", observe], env.merging(["JOB_COMPLETION_INDEX": "\(index)"]) { $1 })
            }
            let results = try await offPool { try runConcurrently(commands) }
            let elapsed = seconds(ContinuousClock.now - start)
            for (index, result) in results.enumerated() {
                #expect(result.status == 0, "index \(index): \(result.stderr)")
            }
            let counts = results.map { $0.summary["observed"] as? Int ?? 0 }
            print(
                String(
                    format: "indexed job: 8 concurrent shard processes, %@ domains, %.2f s wall (single run %.2f s)",
                    counts.map(String.init).joined(separator: "+"), elapsed, single.seconds))
            #expect(counts.reduce(0, +) == LiveServers.scaleDomains)
            let merged = try await runOffPool("/bin/sh", ["-c", merge], environment: env)
            #expect(merged.status == 0, "\(merged.stderr)")
            #expect(merged.summary["accepted"] as? Int == LiveServers.scaleDomains)
            #expect(try LiveDB.rows(state + "/policylist.sqlite") == LiveDB.rows(single.db))
            // Merging again adds nothing.
            let again = try await runOffPool("/bin/sh", ["-c", merge], environment: env)
            #expect(again.summary["alreadyKnown"] as? Int == LiveServers.scaleDomains)

            // The same reconcile on both stores gives the same candidate: every domain R4-updated, same bytes.
            var published: [(list: Data, updated: Int)] = []
            for (index, db) in [single.db, state + "/policylist.sqlite"].enumerated() {
                published.append(try await reconcileAndPublish(db: db, dir: single.dir + "/publish-\(index)"))
            }
            #expect(published[0].list == published[1].list)
            #expect(published[0].updated == LiveServers.scaleDomains)
            #expect(published[1].updated == LiveServers.scaleDomains)
        }

        @Test("the Slurm array script: 8 concurrent array tasks and the merge step equal the single run")
        func slurmArraySimulation() async throws {
            let servers = try liveServers()
            let single = try await LiveScaleBaseline.shared.get()
            let script = E2E.root + "/pipelines/slurm/observe-array.sh"
            let env = [
                "POLICYLIST_BIN": E2E.binDir, "DOMAINS": single.domains, "SHARDS_DIR": single.dir + "/slurm-shards",
                "OBSERVED_AT": LiveScaleBaseline.now, "DB": single.dir + "/slurm.sqlite", "SLURM_ARRAY_TASK_MAX": "8",
                "OBSERVE_ARGS": (["--concurrency", "32"] + servers.networkArguments).joined(separator: " "),
            ]
            let commands = (1...8).map { k in
                ("/bin/bash", [script, "task"], env.merging(["SLURM_ARRAY_TASK_ID": "\(k)"]) { $1 })
            }
            let results = try await offPool { try runConcurrently(commands) }
            for result in results { #expect(result.status == 0, "\(result.stderr)") }
            let merged = try await runOffPool("/bin/bash", [script, "merge"], environment: env)
            #expect(merged.status == 0, "\(merged.stderr)")
            #expect(try LiveDB.rows(single.dir + "/slurm.sqlite") == LiveDB.rows(single.db))
        }
    }
}

/// Ingests a list of the scale domains (all `testing`), reconciles as of the observation instant and
/// publishes with fixed strings; returns the list bytes and the number of R4 updates.
func reconcileAndPublish(db: String, dir: String) async throws -> (list: Data, updated: Int) {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let entries = (1...LiveServers.scaleDomains).map { index in
        let domain = String(format: "d%05d.obs.test", index)
        return (domain, "testing", ["mx1." + domain])
    }
    try LiveLists.write(dir + "/policy.json", timestamp: "2025-12-01T00:00:00Z", entries: entries)
    let now = LiveScaleBaseline.now
    let ingest = try await runOffPool(
        "policylist-ingest", ["snapshots", dir + "/policy.json", "--db", db, "--json", "--now", now])
    #expect(ingest.status == 0, "\(ingest.stderr)")
    let reconcile = try await runOffPool("policylist-reconcile", ["--as-of", now, "--db", db, "--json", "--now", now])
    #expect(reconcile.status == 0, "\(reconcile.stderr)")
    let publish = try await runOffPool(
        "policylist-publish",
        [
            "--out", dir + "/site", "--timestamp", "2026-01-01T00:00:01Z", "--expires", "2026-01-15T00:00:01Z", "--db",
            db,
            "--json", "--now", now,
        ])
    #expect(publish.status == 0, "\(publish.stderr)")
    return (E2E.read(dir + "/site/policy.json"), reconcile.summary["updated"] as? Int ?? -1)
}
