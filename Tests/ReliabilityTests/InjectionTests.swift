import Foundation
import PolicyListStore
import Testing

@testable import PolicyListPipeline

/// Injection and leaks (docs/reliability.md): no shell, no path traversal, bound SQL, escaped Markdown, no
/// e-mail address in any output and no key material in any log.
@Suite("Injection and leaks")
struct InjectionTests {
    /// A file name a shell would run: `$(…)`, backticks, `;`, quotes, `|` and `&` (the commands touch `pwned` in the
    /// working directory).
    static let hostile = "x$(touch pwned);`touch pwned`;y 'q\" |&.json"

    static func seq52(into dir: String, named name: String) async throws {
        let history = Rel.tempDir("history")
        try await Rel.run("/usr/bin/tar", ["-xzf", Rel.data + "/policy-history/history.tar.gz", "-C", history])
        let source = history + "/20200401T180221Z-2860d94.policy.json"
        try FileManager.default.copyItem(atPath: source, toPath: dir + "/" + name)
        if FileManager.default.fileExists(atPath: source + ".asc") {
            try FileManager.default.copyItem(atPath: source + ".asc", toPath: dir + "/" + name + ".asc")
        }
    }

    @Test("a file name with $(…), backticks and ; goes through ingest, gpgv and git as data, never to a shell")
    func shellMetacharactersInFileNames() async throws {
        let dir = Rel.tempDir("names")
        let marker = dir + "/pwned"
        let name = Self.hostile
        try await Self.seq52(into: dir, named: name)
        let db = dir + "/p.sqlite"
        let ingest = try await Rel.run(
            "policylist-ingest", ["snapshots", "--keyring", Rel.keyring, dir + "/" + name, "--db", db, "--json"],
            cwd: dir)
        #expect(ingest.status == 0, "\(ingest.stderr)")
        #expect(ingest.stdout.contains(#""accepted":1"#))
        #expect(ingest.stdout.contains(#""good":1"#), "gpgv did not check the signature: \(ingest.stdout)")

        // The same name as the path inside a git repository, committed and ingested from history.
        let repo = dir + "/repo"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dir + "/" + name, toPath: repo + "/" + name)
        let git = ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", repo]
        try await Rel.run("/usr/bin/git", ["init", "-q", repo])
        try await Rel.run("/usr/bin/git", git + ["add", "--", name])
        try await Rel.run("/usr/bin/git", git + ["commit", "-q", "-m", "$(touch pwned)"])
        let fromGit = try await Rel.run(
            "policylist-ingest", ["git", repo, "--path", name, "--db", dir + "/g.sqlite", "--json"], cwd: dir)
        #expect(fromGit.status == 0, "\(fromGit.stderr)")
        #expect(fromGit.stdout.contains(#""accepted":1"#), "\(fromGit.stdout)")
        #expect(!FileManager.default.fileExists(atPath: marker), "a shell ran: \(marker) exists")
    }

    @Test("archive members named ../x, /x or with NUL tricks are rejected, and nothing is written outside")
    func pathTraversalInArchives() async throws {
        let dir = Rel.tempDir("traversal")
        let inside = dir + "/inside"
        try FileManager.default.createDirectory(atPath: inside, withIntermediateDirectories: true)
        try await Self.seq52(into: inside, named: "ok.json")
        // Python's tarfile writes the hostile names that tar(1) would refuse to create.
        let script = """
            import tarfile, io, sys
            data = open(sys.argv[2], 'rb').read()
            with tarfile.open(sys.argv[1], 'w:gz') as t:
                for name in ['../escape.json', '/abs/escape.json', 'a/../../escape.json', 'ok.json']:
                    info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
                link = tarfile.TarInfo('link.json'); link.type = tarfile.SYMTYPE; link.linkname = '/etc/passwd'
                t.addfile(link)
            """
        let archive = inside + "/hostile.tar.gz"
        let made = try await Rel.run("/usr/bin/python3", ["-c", script, archive, inside + "/ok.json"])
        try #require(made.status == 0, "\(made.stderr)")
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        let result = try await Rel.run(
            "policylist-ingest", ["snapshots", archive, "--db", inside + "/p.sqlite", "--json"], cwd: inside)
        print("traversal: exit \(result.status): \(result.stderr)")
        #expect(result.status == 65)
        for name in ["../escape.json", "/abs/escape.json", "a/../../escape.json", "link.json"] {
            #expect(result.stderr.contains(name), "\(name) not reported: \(result.stderr)")
        }
        #expect(result.stdout.contains(#""accepted":1"#))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir)) == before)
        #expect(!FileManager.default.fileExists(atPath: "/abs/escape.json"))
    }

    /// Interpolations that may appear inside SQL text: constant column lists, never a value.
    static let allowedInterpolations: Set<String> = [
        "Self.columns", "Self.runColumns", "Self.candidateColumns", "Self.publicationColumns", "columns",
    ]

    @Test("SQL is built only from constants: every \\(…) inside SQL text in Sources is a known column list")
    func noInterpolatedSQL() async throws {
        let sources = Rel.root + "/Sources"
        let files = FileManager.default.enumerator(atPath: sources)?.compactMap { $0 as? String } ?? []
        let sqlWord = try Regex(#"\b(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES|PRAGMA|CREATE|DROP)\b"#)
        let interpolation = try Regex(#"\\\(([^)]*\)?)\)"#)
        var checked = 0
        var offenders: [String] = []
        for file in files where file.hasSuffix(".swift") {
            let lines = Rel.text(sources + "/" + file).split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() where line.contains(sqlWord) && line.contains("\\(") {
                checked += 1
                for match in line.matches(of: interpolation) {
                    var expression = String(line[match.range].dropFirst(2).dropLast())
                    // `(\(columns))`: the pattern's optional inner `)` took the SQL's own closing parenthesis.
                    if expression.hasSuffix(")") && !expression.contains("(") { expression.removeLast() }
                    if !Self.allowedInterpolations.contains(expression) {
                        offenders.append(
                            "\(file):\(number + 1): \\(\(expression)) in \(line.trimmingCharacters(in: .whitespaces))")
                    }
                }
            }
        }
        print("SQL guard: \(checked) lines with SQL and interpolation checked")
        // Messages that quote SQL keywords (errors, docs) are not SQL: list them here when they appear.
        let known = offenders.filter { !$0.contains("throw") && !$0.contains("///") && !$0.contains("//") }
        #expect(known.isEmpty, "\(known.joined(separator: "\n"))")
    }

    @Test("CHANGELOG.md escapes hostile domain and detail text: no HTML, no heading, no line break, code spans hold")
    func markdownEscaping() {
        let detail = "<script>alert(1)</script>\n## Added (999)\n| a | b |\n[x](javascript:alert(1)) *b* `c`"
        let text = Changelog.markdownText(detail)
        #expect(!text.contains("<script>"))
        #expect(!text.contains("\n"))
        #expect(!text.contains("[x]("))
        #expect(text.contains("\\<script\\>"))
        let code = Changelog.markdownCode("a`b\nc.example")
        #expect(!code.contains("`") && !code.contains("\n"))
    }
}
