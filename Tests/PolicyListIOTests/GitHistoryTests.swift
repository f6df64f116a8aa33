import PolicyListCore
import Testing

@testable import PolicyListIO

@Suite("GitHistory")
struct GitHistoryTests {
    /// Runs git in `repo` with fixed identities and dates so commits are reproducible.
    static func git(_ repo: String, _ arguments: [String], at seconds: Int) throws {
        let date = "\(seconds) +0000"
        try mustRun(
            "git", ["-C", repo] + arguments,
            environment: [
                "GIT_AUTHOR_NAME": "Tester", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_AUTHOR_DATE": date,
                "GIT_COMMITTER_NAME": "Tester", "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_COMMITTER_DATE": date,
                "GIT_CONFIG_NOSYSTEM": "1", "HOME": repo,
            ])
    }

    static func head(_ repo: String) throws -> String {
        String(decoding: try mustRun("git", ["-C", repo, "rev-parse", "HEAD"]), as: UTF8.self).trimmingWhitespace()
    }

    @Test("first-parent versions: merged side-branch content is attributed to the merge, reverts and re-adds count")
    func firstParent() throws {
        let repo = try temporaryDirectory()
        defer { removeTree(repo) }
        var clock = 1_522_000_000
        func commit(_ message: String, _ files: [String: String?]) throws -> String {
            for (name, content) in files {
                if let content {
                    try put(content, repo + "/" + name)
                    try Self.git(repo, ["add", name], at: clock)
                } else {
                    try Self.git(repo, ["rm", "-q", name], at: clock)
                }
            }
            try Self.git(repo, ["commit", "-q", "-m", message], at: clock)
            clock += 3600
            return try Self.head(repo)
        }
        try Self.git(repo, ["init", "-q", "-b", "master"], at: clock)
        let c1 = try commit("v1", ["policy.json": "v1", "policy.json.asc": "sig1"])
        _ = try commit("readme", ["README": "hello"])
        try Self.git(repo, ["checkout", "-q", "-b", "side"], at: clock)
        _ = try commit("v2 on side", ["policy.json": "v2"])
        _ = try commit("v3 on side", ["policy.json": "v3"])
        try Self.git(repo, ["checkout", "-q", "master"], at: clock)
        _ = try commit("unrelated", ["other.txt": "x"])
        try Self.git(repo, ["merge", "-q", "--no-ff", "-m", "Merge side", "side"], at: clock)
        let merge = try Self.head(repo)
        clock += 3600
        let revert = try commit("back to v1", ["policy.json": "v1"])
        _ = try commit("delete", ["policy.json": nil, "policy.json.asc": nil])
        let readd = try commit("re-add v1", ["policy.json": "v1"])

        let versions = try firstParentVersions(repo: repo, path: "policy.json", ref: "master")
        #expect(versions.map(\.commit) == [c1, merge, revert, readd])
        #expect(versions.map { String(decoding: $0.bytes, as: UTF8.self) } == ["v1", "v3", "v1", "v1"])
        #expect(versions.map(\.subject) == ["v1", "Merge side", "back to v1", "re-add v1"])
        #expect(
            versions.map { $0.ascBytes.map { String(decoding: $0, as: UTF8.self) } } == ["sig1", "sig1", "sig1", nil])
        #expect(versions.first?.authorDate == "2018-03-25T17:46:40+00:00")
        #expect(versions.first?.committerDate == "2018-03-25T17:46:40+00:00")
        #expect(versions.allSatisfy { $0.blob.count == 40 })

        // The side branch's own first-parent history does see v2.
        let side = try firstParentVersions(repo: repo, path: "policy.json", ref: "side")
        #expect(side.map { String(decoding: $0.bytes, as: UTF8.self) } == ["v1", "v2", "v3"])
        #expect(try firstParentVersions(repo: repo, path: "absent.json", ref: "master").isEmpty)
    }

    @Test("bad refs, paths and repositories are errors with git's message")
    func errors() throws {
        #expect(throws: GitError.invalidArgument("invalid ref '--output=/tmp/x'")) {
            try firstParentVersions(repo: "/tmp", path: "policy.json", ref: "--output=/tmp/x")
        }
        #expect(throws: GitError.self) { try firstParentVersions(repo: "/tmp", path: "/etc/passwd") }
        let repo = try temporaryDirectory()
        defer { removeTree(repo) }
        do {
            _ = try firstParentVersions(repo: repo, path: "policy.json")
            Issue.record("a non-repository was read")
        } catch {
            #expect(error.exitCode == .dataError)
            #expect(error.message.contains("not a git repository"))
        }
    }
}
