import Foundation
import Testing

/// The loopback servers of `scripts/testservers/testservers`, started once for a suite and stopped after it.
struct TestServers: Sendable {
    /// The state directory (certificates, zones, configs, logs, pid files).
    let directory: String
    /// `ports.env` as a dictionary.
    let env: [String: String]

    /// The task-local instance set by the `.testServers` trait.
    @TaskLocal static var current: TestServers?

    /// Scale domains served (`d00001.obs.test` …); `POLICYLIST_NET_SCALE=10000` measures a bigger run by hand.
    static let scaleDomains = Int(ProcessInfo.processInfo.environment["POLICYLIST_NET_SCALE"] ?? "") ?? 1000

    var dnsPort: UInt16 { UInt16(env["DNS_PORT"] ?? "") ?? 0 }
    var httpsPort: Int { Int(env["HTTPS_PORT"] ?? "") ?? 0 }
    var blackholePort: UInt16 { UInt16(env["BLACKHOLE_PORT"] ?? "") ?? 0 }
    var caFile: String { env["CA_FILE"] ?? "" }
    var tlsaSHA256: String { env["TLSA_SHA256"] ?? "" }
    var ipv6: Bool { !(env["DNS6_ADDR"] ?? "").isEmpty }
    /// `--nameserver` text for unbound.
    var nameserver: String { "127.0.0.1:\(dnsPort)" }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/testservers/testservers").path
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs the script's `start`; the servers watch this process and stop themselves if it dies.
    static func start() throws -> TestServers {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("policylist-net-\(ProcessInfo.processInfo.processIdentifier)").path
        let pid = ProcessInfo.processInfo.processIdentifier
        let (status, output) = try run(["start", directory, "--domains", "\(scaleDomains)", "--watch-pid", "\(pid)"])
        guard status == 0 else {
            throw Failure(
                description:
                    "scripts/testservers/testservers start failed (exit \(status)); the observer tests need "
                    + "unbound, nginx (nginx-light), openssl and python3 (scripts/install-deps):\n\(output)")
        }
        let text = try String(contentsOfFile: directory + "/ports.env", encoding: .utf8)
        var env: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { env[String(parts[0])] = String(parts[1]) }
        }
        return TestServers(directory: directory, env: env)
    }

    /// Runs the script's `stop` and removes the directory.
    func stop() {
        _ = try? Self.run(["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run \(script): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Starts the loopback servers around a suite (once, not per test) and stops them when it ends.
struct TestServersTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let clock = ContinuousClock()
        var servers: TestServers?
        let startTime = try clock.measure { servers = try TestServers.start() }
        guard let servers else { return }
        print("test servers started in \(startTime) (\(servers.directory))")
        defer {
            let stopTime = clock.measure { servers.stop() }
            print("test servers stopped in \(stopTime)")
        }
        try await TestServers.$current.withValue(servers) { try await function() }
    }
}

extension Trait where Self == TestServersTrait {
    /// Real unbound, nginx and helper servers on loopback for the suite.
    static var testServers: Self { Self() }
}

/// The servers of the enclosing `.testServers` suite, or a failure saying why there are none.
func liveServers() throws -> TestServers {
    try #require(TestServers.current, "run inside a suite with the .testServers trait")
}

/// The root of every test that needs the loopback servers: they start once for all nested suites.
/// Serialized so that timing assertions are not disturbed by other tests' load on a small machine.
@Suite(.serialized, .testServers)
struct NetIntegrationTests {}
