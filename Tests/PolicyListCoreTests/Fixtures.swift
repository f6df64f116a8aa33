import Foundation

/// Paths to the project's embedded data, for tests.
enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let data = root.appendingPathComponent("data")

    /// The 65 real versions, extracted once per test process from data/policy-history/history.tar.gz.
    static let historyDirectory: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "policylist-core-history-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-xzf", data.appendingPathComponent("policy-history/history.tar.gz").path, "-C", dir.path]
        try? tar.run()
        tar.waitUntilExit()
        return dir
    }()

    static func historyFiles() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: historyDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".policy.json") }.sorted().map {
            historyDirectory.appendingPathComponent($0)
        }
    }

    static func bytes(_ url: URL) -> [UInt8] {
        (try? [UInt8](Data(contentsOf: url))) ?? []
    }

    /// MANIFEST.tsv rows as dictionaries.
    static let manifest: [[String: String]] = {
        guard
            let text = try? String(
                contentsOf: data.appendingPathComponent("policy-history/MANIFEST.tsv"), encoding: .utf8)
        else { return [] }
        let lines = text.split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }()
}
