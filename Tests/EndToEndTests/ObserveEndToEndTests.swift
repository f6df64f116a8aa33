import Foundation
import Testing

/// Runs the built `policylist-observe` (env `POLICYLIST_BIN_DIR`, else `<repo>/.build/debug`).
/// Runs the built `policylist-observe` through the shared end-to-end runner.
enum ObserveBinary {
    static let path = E2E.binDir + "/policylist-observe"
    static let scans = E2E.data + "/replay-2020/scans.jsonl.gz"

    typealias Result = E2E.Result

    static func run(_ arguments: [String], stdin: Data? = nil, executable: String = path) throws -> Result {
        try E2E.run(executable, arguments, stdin: stdin)
    }

    static func sqlite(_ db: String, _ sql: String) throws -> String {
        try run([db, sql], executable: "/usr/bin/sqlite3").stdout
    }
}

func withE2EDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "policylist-observe-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

@Suite("policylist-observe end to end", .enabled(if: FileManager.default.isExecutableFile(atPath: ObserveBinary.path)))
struct ObserveEndToEndTests {
    static let now = ["--now", "2024-05-01T00:00:00Z"]

    @Test("import-backend-scans of the replay: 434 accepted, the latest per domain by group, then 434 alreadyKnown")
    func backendScans() throws {
        try withE2EDirectory { dir in
            let db = dir + "/s.sqlite"
            let first = try ObserveBinary.run(
                ["import-backend-scans", "--db", db, "--json"] + Self.now + [ObserveBinary.scans])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.summary["command"] as? String == "observe import-backend-scans")
            #expect(first.summary["accepted"] as? Int == 434 && first.summary["alreadyKnown"] as? Int == 0)
            #expect(first.stderr.contains("434 accepted"))
            // Latest per domain as of 2020-04-22T20:00:00Z, by validity and mode.
            let latest = """
                SELECT valid, ifnull(mode, '-'), count(*) FROM (
                  SELECT *, row_number() OVER (PARTITION BY domain ORDER BY observed_at_ns DESC, valid DESC, ref DESC) AS r
                  FROM observations WHERE observed_at_ns <= 1587585600000000000) WHERE r = 1 GROUP BY 1, 2 ORDER BY 1, 2;
                """
            // 25 invalid (B: 20, C: 5) of which B's 6 no_policy have no mode; 364 = 361 enforce + 3 F; 40 A.
            #expect(try ObserveBinary.sqlite(db, latest) == "0|-|6\n0|enforce|19\n1|enforce|364\n1|testing|40\n")
            let second = try ObserveBinary.run(
                ["import-backend-scans", "--db", db, "--json"] + Self.now + [ObserveBinary.scans])
            #expect(second.status == 0)
            #expect(second.summary["accepted"] as? Int == 0 && second.summary["alreadyKnown"] as? Int == 434)
        }
    }

    @Test("broken JSONL lines: each rejected with FILE:LINE and reason, raw bytes kept, good lines imported, exit 65")
    func brokenLines() throws {
        try withE2EDirectory { dir in
            let db = dir + "/s.sqlite"
            let good1 =
                #"{"domain":"good1.example","observedAt":"2024-04-01T00:00:00Z","source":"live","txt":{"status":"ok","records":["v=STSv1; id=1"]},"policy":{"status":"ok","httpStatus":200,"contentType":"text/plain","body":"version: STSv1\nmode: enforce\nmx: mx.good1.example\nmax_age: 86400\n"}}"#
            let good7 = good1.replacingOccurrences(of: "good1", with: "good7")
            var file = Data()
            file.append(Data((good1 + "\n").utf8))  // 1
            file.append(Data(#"{"domain":"bad.example","observedAt":"#.utf8) + Data("\n".utf8))  // 2 bad JSON
            // 3 missing field
            file.append(Data(good1.replacingOccurrences(of: #""source":"live","#, with: "").utf8) + Data("\n".utf8))
            let huge = good1.replacingOccurrences(
                of: "max_age: 86400\\n", with: String(repeating: "#", count: 10 << 20))
            file.append(Data(huge.utf8) + Data("\n".utf8))  // 4 a 10 MB line
            var nonUTF8 = Data(good1.replacingOccurrences(of: "good1", with: "latin1").utf8)
            if let range = nonUTF8.range(of: Data("mode: enforce".utf8)) {
                nonUTF8.replaceSubrange(range, with: [0x6D, 0xE9, 0x64, 0x65])
            }
            file.append(nonUTF8 + Data("\n".utf8))  // 5 non-UTF-8 body
            file.append(
                Data(good1.replacingOccurrences(of: #""httpStatus":200"#, with: #""httpStatus":"200""#).utf8)
                    + Data("\n".utf8))  // 6 wrong type
            file.append(Data((good7 + "\n").utf8))  // 7
            let path = dir + "/obs.jsonl"
            try file.write(to: URL(fileURLWithPath: path))
            let result = try ObserveBinary.run(["import", "--db", db, "--json"] + Self.now + [path])
            #expect(result.status == 65)
            #expect(result.summary["accepted"] as? Int == 2)
            #expect(result.summary["rejectedCount"] as? Int == 5)
            let rejected = (result.summary["rejected"] as? [[String: Any]]) ?? []
            #expect(rejected.map { $0["line"] as? Int } == [2, 3, 4, 5, 6])
            #expect(rejected.allSatisfy { $0["path"] as? String == path })
            let errors = rejected.map { $0["error"] as? String ?? "" }
            #expect(errors[0].hasPrefix("invalid JSON: byte "))
            #expect(errors[1] == "source: missing")
            #expect(
                errors[2].contains("longer than the 1048576-byte limit")
                    && errors[2].contains("first 65536 bytes are kept"))
            #expect(errors[3].hasPrefix("invalid JSON: byte ") && errors[3].lowercased().contains("utf-8"))
            #expect(errors[4] == "policy.httpStatus: expected an integer, found a string")
            for line in 2...6 { #expect(result.stderr.contains("\(path):\(line): ")) }
            #expect(
                try ObserveBinary.sqlite(db, "SELECT domain FROM observations ORDER BY domain")
                    == "good1.example\ngood7.example\n")
            let kept = try ObserveBinary.sqlite(
                db, "SELECT r.location, b.size FROM rejected_inputs r JOIN blobs b ON b.sha256 = r.blob ORDER BY r.id")
            let sizes = kept.split(separator: "\n").map(String.init)
            #expect(sizes.count == 5)
            #expect(sizes[2] == "line 4|65536")
            #expect(sizes[0] == "line 2|\(#"{"domain":"bad.example","observedAt":"#.utf8.count)")
            // A second run: the good lines are already known, the rejections are not duplicated.
            let again = try ObserveBinary.run(["import", "--db", db, "--json"] + Self.now + [path])
            #expect(again.status == 65 && again.summary["alreadyKnown"] as? Int == 2)
            #expect(try ObserveBinary.sqlite(db, "SELECT count(*) FROM rejected_inputs") == "5\n")
        }
    }

    @Test("check-policy: files and stdin, one JSON line each, exit 0 / 65 / 74")
    func checkPolicy() throws {
        try withE2EDirectory { dir in
            let good = dir + "/good.txt"
            try Data(
                "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n"
                    .utf8
            )
            .write(to: URL(fileURLWithPath: good))
            let ok = try ObserveBinary.run(["check-policy", good])
            #expect(ok.status == 0)
            #expect(
                ok.stdout
                    == #"{"input":"\#(good)","valid":true,"lenientValid":true,"version":"STSv1","mode":"enforce","maxAge":604800,"mx":["mx1.example.com","*.example.net"],"errors":[],"warnings":[]}"#
                    + "\n")
            let stdin = try ObserveBinary.run(
                ["check-policy", good, "-"],
                stdin: Data("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 63072000\n".utf8))
            #expect(stdin.status == 65)
            let lines = stdin.stdout.split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines.last?.hasPrefix(#"{"input":"-","valid":false,"lenientValid":false"#) == true)
            #expect(lines.last?.contains(#""errors":["max-age-out-of-range: 63072000"]"#) == true)
            let missing = try ObserveBinary.run(["check-policy", dir + "/nope.txt", "-"], stdin: Data("junk".utf8))
            #expect(missing.status == 74)
            #expect(missing.stdout.hasPrefix(#"{"input":"\#(dir)/nope.txt","valid":false"#))
            #expect(missing.stdout.contains("read-error: "))
            #expect(try ObserveBinary.run(["check-policy"]).status == 64)
        }
    }

    @Test("check-txt: one JSON line per record, exit 0 / 65")
    func checkTXT() throws {
        let ok = try ObserveBinary.run(["check-txt", "v=STSv1; id=20240501T000000"])
        #expect(ok.status == 0)
        #expect(
            ok.stdout == #"{"input":"v=STSv1; id=20240501T000000","valid":true,"id":"20240501T000000","errors":[]}"#
                + "\n")
        let bad = try ObserveBinary.run(["check-txt", "v=STSv1; id=1", "v=STSv1;"])
        #expect(bad.status == 65)
        #expect(
            bad.stdout.split(separator: "\n").last
                == #"{"input":"v=STSv1;","valid":false,"id":null,"errors":["missing-id"]}"#)
    }

    @Test("help for every subcommand, live without a domain source and an unknown subcommand are usage errors")
    func help() throws {
        for subcommand in ["check-policy", "check-txt", "import", "import-backend-scans", "live"] {
            let result = try ObserveBinary.run([subcommand, "--help"])
            #expect(result.status == 0 && result.stdout.contains("USAGE:") && result.stdout.contains(subcommand))
        }
        #expect(try ObserveBinary.run(["--help"]).stdout.contains("import-backend-scans"))
        let live = try ObserveBinary.run(["live"])
        #expect(live.status == 64 && live.stderr.contains("exactly one of --domains FILE and --listed"))
        #expect(try ObserveBinary.run(["frobnicate"]).status == 64)
        #expect(try ObserveBinary.run(["import", "--shard", "5/4", "x"]).status == 64)
    }

    @Test("--shard 1/4 … 4/4 into one database equals the single import, row for row")
    func shards() throws {
        try withE2EDirectory { dir in
            let single = dir + "/single.sqlite"
            let merged = dir + "/merged.sqlite"
            #expect(
                try ObserveBinary.run(["import-backend-scans", "--db", single] + Self.now + [ObserveBinary.scans])
                    .status == 0)
            var other = 0
            for index in 1...4 {
                let result = try ObserveBinary.run(
                    ["import-backend-scans", "--db", merged, "--json", "--shard", "\(index)/4"] + Self.now + [
                        ObserveBinary.scans
                    ])
                #expect(result.status == 0)
                other += result.summary["otherShards"] as? Int ?? 0
            }
            #expect(other == 3 * 434)
            let rows = """
                SELECT domain, observed_at, source, ref, scan_id, line_sha256, policy_sha256, valid, mode, list_mxs, reason
                FROM observations ORDER BY domain, observed_at_ns, source;
                """
            let expected = try ObserveBinary.sqlite(single, rows)
            #expect(expected.split(separator: "\n").count == 434)
            #expect(try ObserveBinary.sqlite(merged, rows) == expected)
        }
    }
}
