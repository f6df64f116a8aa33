import Foundation
import PolicyListCore
import PolicyListIO
import PolicyListPipeline
import PolicyListStore
import Testing

@Suite(.serialized) struct ReportArchiveTests {
    static func run(_ tool: String, _ args: [String], cwd: String? = nil) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = args
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        process.environment = ["GNUPGHOME": ReportHistoryFixture.tempDir("gnupg"), "PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test func reproducibleAndEveryFileComesBackByteForByteAndVerifies() throws {
        let context = try ReportHistoryFixture.context()
        let dir = ReportHistoryFixture.tempDir("archive")
        let first = try ReportStage.archive(context, out: dir + "/one/history.tar.gz")
        let second = try ReportStage.archive(context, out: dir + "/two/history.tar.gz")
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/one/history.tar.gz"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/two/history.tar.gz"))
        #expect(SHA256.hex(Array(a)) == SHA256.hex(Array(b)))
        #expect(first.summary["sha256"] == second.summary["sha256"])
        #expect(first.summary["versions"] == .int(65) && first.summary["signatures"] == .int(63))

        let extracted = dir + "/x"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        #expect(try Self.run("/usr/bin/tar", ["-xzf", dir + "/one/history.tar.gz", "-C", extracted]).0 == 0)
        let originals = dir + "/orig"
        try FileManager.default.createDirectory(atPath: originals, withIntermediateDirectories: true)
        #expect(
            try Self.run(
                "/usr/bin/tar", ["-xzf", ReportHistoryFixture.data + "/policy-history/history.tar.gz", "-C", originals]
            ).0 == 0)
        let versions = extracted + "/policylist-history/versions"
        let names = try FileManager.default.contentsOfDirectory(atPath: originals).filter {
            $0.hasSuffix(".policy.json") || $0.hasSuffix(".policy.json.asc")
        }
        #expect(names.count == 65 + 63)
        for name in names {
            let original = try Data(contentsOf: URL(fileURLWithPath: originals + "/" + name))
            let archived = try? Data(contentsOf: URL(fileURLWithPath: versions + "/" + name))
            #expect(archived == original, "\(name)")
        }
        let index = try ReportHistoryFixture.json(extracted + "/policylist-history/index.json")
        #expect(index["schemaVersion"] as? Int == 1)
        let entries = try #require(index["entries"] as? [[String: Any]])
        #expect(entries.count == 65 && entries.compactMap { $0["seq"] as? Int } == Array(1...56))
        #expect(FileManager.default.fileExists(atPath: extracted + "/policylist-history/README.md"))

        var good = 0
        for entry in entries {
            guard let file = entry["file"] as? String, let asc = entry["asc"] as? String else { continue }
            let (status, output) = try Self.run(
                "/usr/bin/gpgv", ["--keyring", ReportHistoryFixture.keyring, asc, file],
                cwd: extracted + "/policylist-history")
            if status == 0 && output.contains("Good signature") { good += 1 }
            #expect((status == 0) == (entry["signature"] as? String == "good"), "\(file)")
        }
        #expect(good == 58)
        let listing = try Self.run("/usr/bin/tar", ["-tvzf", dir + "/one/history.tar.gz"]).1
        let members = listing.split(separator: "\n").map { String($0.split(separator: " ").last ?? "") }
        #expect(members == members.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
    }
}
