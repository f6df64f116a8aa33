import Foundation
import PolicyListStore
import Testing

/// The loopback DNS and HTTPS servers of `scripts/testservers/testservers` (unbound, nginx, a black hole and
/// a slow server), started once for the live-observer and refresh suites and stopped after them.
struct LiveServers: Sendable {
    /// The state directory (certificates, zones, configs, logs).
    let directory: String
    /// `ports.env`.
    let env: [String: String]

    @TaskLocal static var current: LiveServers?

    /// Scale domains served (`d00001.obs.test` …); `POLICYLIST_NET_SCALE` changes it.
    static let scaleDomains = Int(ProcessInfo.processInfo.environment["POLICYLIST_NET_SCALE"] ?? "") ?? 1000

    var dnsPort: String { env["DNS_PORT"] ?? "0" }
    var httpsPort: String { env["HTTPS_PORT"] ?? "0" }
    var blackholePort: String { env["BLACKHOLE_PORT"] ?? "0" }
    var caFile: String { env["CA_FILE"] ?? "" }
    var nameserver: String { "127.0.0.1:\(dnsPort)" }
    /// Every policy host goes to nginx: URLs, Host and SNI stay `mta-sts.<domain>` on port 443.
    var connectTo: String { "::127.0.0.1:\(httpsPort)" }

    /// `--nameserver … --ca-file … --connect-to …` for `policylist-observe live`.
    var networkArguments: [String] {
        ["--nameserver", nameserver, "--ca-file", caFile, "--connect-to", connectTo]
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static func start() async throws -> LiveServers {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("policylist-live-\(ProcessInfo.processInfo.processIdentifier)").path
        let pid = ProcessInfo.processInfo.processIdentifier
        let script = E2E.root + "/scripts/testservers/testservers"
        let result = try await runOffPool(
            script, ["start", directory, "--domains", "\(scaleDomains)", "--watch-pid", "\(pid)"])
        guard result.status == 0 else {
            throw Failure(
                description: "testservers start failed (exit \(result.status)); the live tests need unbound, nginx, "
                    + "openssl and python3 (scripts/install-deps):\n\(result.stderr)")
        }
        var env: [String: String] = [:]
        for line in (try String(contentsOfFile: directory + "/ports.env", encoding: .utf8)).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { env[String(parts[0])] = String(parts[1]) }
        }
        return LiveServers(directory: directory, env: env)
    }

    func stop() async {
        _ = try? await runOffPool(E2E.root + "/scripts/testservers/testservers", ["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The scale domains, one per line.
    static func scaleDomainList(_ count: Int = scaleDomains) -> String {
        (1...count).map { String(format: "d%05d.obs.test\n", $0) }.joined()
    }
}

/// Starts the servers around a suite and stops them after it.
struct LiveServersTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let servers = try await LiveServers.start()
        do {
            try await LiveServers.$current.withValue(servers) { try await function() }
        } catch {
            await servers.stop()
            throw error
        }
        await servers.stop()
    }
}

extension Trait where Self == LiveServersTrait {
    /// Real unbound, nginx and helper servers on loopback for the suite.
    static var liveServers: Self { Self() }
}

func liveServers() throws -> LiveServers {
    try #require(LiveServers.current, "run inside the LiveNetworkTests suite")
}

/// The root of the tests that need the loopback servers (observer and refresh): the servers start once.
/// Serialized, so that the timing figures are not disturbed by the other live tests.
@Suite(.serialized, .liveServers)
struct LiveNetworkTests {}

/// Reads stored observations from a database, for comparisons between runs.
enum LiveDB {
    /// One stored observation without its evidence ref and row id: what two runs must agree on.
    struct Row: Equatable, CustomStringConvertible {
        var domain: String
        var observedAt: String
        var source: String
        var lineSHA256: String
        var txtStatus: String
        var policyStatus: String
        var httpStatus: Int?
        var valid: Bool
        var strictValid: Bool?
        var mode: String?
        var reason: String?
        var warnings: String
        var listMXs: String
        var description: String {
            "\(domain) \(observedAt) \(source) txt=\(txtStatus) policy=\(policyStatus) http=\(httpStatus.map(String.init) ?? "-") "
                + "valid=\(valid) mode=\(mode ?? "-") reason=\(reason ?? "-") warnings=\(warnings)"
        }
    }

    static func rows(_ path: String) throws -> [Row] {
        let db = try Database(path: path, mode: .readOnly)
        return try db.query(
            """
            SELECT domain, observed_at, source, line_sha256, txt_status, policy_status, http_status, valid,
                   strict_valid, mode, reason, warnings, list_mxs
            FROM observations ORDER BY domain, observed_at_ns, source
            """
        ).map { row in
            Row(
                domain: try row.get(0), observedAt: try row.get(1), source: try row.get(2), lineSHA256: try row.get(3),
                txtStatus: try row.get(4), policyStatus: try row.get(5), httpStatus: try row.get(6),
                valid: try row.get(7), strictValid: try row.get(8), mode: try row.get(9), reason: try row.get(10),
                warnings: try row.get(11), listMXs: try row.get(12))
        }
    }

    /// The observation of `domain` in the database (the newest if several).
    static func row(_ path: String, _ domain: String) throws -> Row? {
        try rows(path).last { $0.domain == domain }
    }
}

/// Runs blocking work (a child process and its wait) on a thread of its own, not on Swift's cooperative pool:
/// the pool has one thread per core, and a test holding it for seconds starves every other test's awaits (the
/// runner tests wait for files with `Task.sleep`). No `#expect` inside: issues belong to the test's task.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// Runs a process off the cooperative pool with its output going to files: nothing blocks a Dispatch or
/// cooperative thread while it runs (on Linux Swift's executor and Dispatch's global queues share threads,
/// and `E2E.run` parks a Dispatch thread on the child's stderr for the child's whole life; with children
/// that run for seconds that starved other tests' `Task.sleep`).
func runOffPool(
    _ tool: String, _ arguments: [String], environment: [String: String] = [:], cwd: String? = nil
) async throws -> E2E.Result {
    try await offPool {
        try runConcurrently([(tool, arguments, environment)], cwd: cwd)[0]
    }
}
