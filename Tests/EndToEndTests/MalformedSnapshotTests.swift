import Foundation
import PolicyListIO
import PolicyListStore
import Testing

/// Malformed snapshots next to valid ones: each is rejected with a message naming the file and where, the valid
/// ones are ingested in the same run, raw bytes are kept, and the exit code is 65.
@Suite struct MalformedSnapshotTests {
    static let head = #""timestamp": "2020-01-01T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1""#
    static let aliases = #""policy-aliases": {"a1": {"mode": "testing", "mxs": [".mx.example.net"]}}"#
    static func doc(_ policies: String, head: String = head, aliases: String = aliases) -> String {
        "{\(head), \(aliases), \"policies\": {\(policies)}}"
    }
    static let entry = #""a.example": {"mode": "testing", "mxs": ["mx.a.example"]}"#

    /// (file name, content, substring the error must contain)
    static let cases: [(String, [UInt8], String)] = {
        func t(_ name: String, _ text: String, _ expect: String) -> (String, [UInt8], String) {
            (name, Array(text.utf8), expect)
        }
        let valid = doc(entry)
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        return [
            t("truncated.json", String(valid.prefix(90)), "byte "),
            t("trailing-comma-object.json", doc(entry + ","), "trailing comma"),
            t(
                "trailing-comma-array.json", doc(#""a.example": {"mode": "testing", "mxs": ["mx.a.example",]}"#),
                "trailing comma"),
            t(
                "duplicate-key-different.json",
                doc(entry + #", "a.example": {"mode": "enforce", "mxs": ["mx.a.example"]}"#), "different value"),
            ("bom.json", [0xEF, 0xBB, 0xBF] + Array(valid.utf8), "byte order mark"),
            (
                "invalid-utf8.json",
                Array(doc(#""a.example": {"mode": "testing", "mxs": ["mx.a.ex"#).utf8) + [0xC3, 0x28]
                    + Array(#"ample"]}}}"#.utf8), "invalid UTF-8"
            ),
            t("policies-array.json", "{\(head), \(aliases), \"policies\": []}", "expected an object"),
            t("mxs-string.json", doc(#""a.example": {"mode": "testing", "mxs": "mx.a.example"}"#), "expected an array"),
            t(
                "float-timestamp.json",
                doc(entry, head: #""timestamp": 1577836800.5, "expires": "2020-01-15T00:00:00Z", "version": "0.1""#),
                "a float"),
            t(
                "bool-timestamp.json",
                doc(entry, head: #""timestamp": true, "expires": "2020-01-15T00:00:00Z", "version": "0.1""#),
                "a boolean"),
            t(
                "negative-timestamp.json",
                doc(entry, head: #""timestamp": -5, "expires": "2020-01-15T00:00:00Z", "version": "0.1""#), "negative"),
            t(
                "digit-string-timestamp.json",
                doc(entry, head: #""timestamp": "1577836800", "expires": "2020-01-15T00:00:00Z", "version": "0.1""#),
                "digit string"),
            t(
                "expires-equal.json",
                doc(
                    entry,
                    head: #""timestamp": "2020-01-15T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1""#),
                "is not after timestamp"),
            t(
                "expires-before.json",
                doc(
                    entry,
                    head: #""timestamp": "2020-01-15T00:00:00Z", "expires": "2020-01-01T00:00:00Z", "version": "0.1""#),
                "is not after timestamp"),
            t("dangling-alias.json", doc(#""a.example": {"policy-alias": "nope"}"#), "does not define"),
            t(
                "alias-of-alias.json",
                doc(
                    entry,
                    aliases:
                        #""policy-aliases": {"a1": {"policy-alias": "a2"}, "a2": {"mode": "testing", "mxs": ["x.example"]}}"#
                ), "refers to another alias"),
            t("mode-Enforce.json", doc(#""a.example": {"mode": "Enforce", "mxs": ["mx.a.example"]}"#), "exact case"),
            t(
                "mode-none.json", doc(#""a.example": {"mode": "none", "mxs": ["mx.a.example"]}"#),
                "expected \"testing\" or \"enforce\""),
            t("mode-number.json", doc(#""a.example": {"mode": 1, "mxs": ["mx.a.example"]}"#), "mode is an integer"),
            t("empty-mxs.json", doc(#""a.example": {"mode": "testing", "mxs": []}"#), "at least one pattern"),
            t("mxs-null.json", doc(#""a.example": {"mode": "testing", "mxs": null}"#), "mxs is null"),
            t("mxs-number-item.json", doc(#""a.example": {"mode": "testing", "mxs": [25]}"#), "expected a string"),
            t(
                "duplicate-mx.json", doc(#""a.example": {"mode": "testing", "mxs": ["mx.a.example", "mx.a.example"]}"#),
                "uniqueItems"),
            t(
                "mx-newline.json", doc(#""a.example": {"mode": "testing", "mxs": ["mx.a.example\nb.example secure"]}"#),
                "whitespace"),
            t(
                "domain-space.json", doc(#""a example.com": {"mode": "testing", "mxs": ["mx.a.example"]}"#),
                "not a domain name"),
            t("missing-mxs.json", doc(#""a.example": {"mode": "testing"}"#), "has no \"mxs\""),
            t("html.json", "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML"),
            t("empty.json", "", "empty input"),
            t("whitespace.json", "  \n\t ", "empty input"),
            t(
                "missing-timestamp.json",
                "{\"expires\": \"2020-01-15T00:00:00Z\", \"version\": \"0.1\", \(aliases), \"policies\": {\(entry)}}",
                "\"timestamp\" is missing"),
            t("missing-policies.json", "{\(head), \(aliases)}", "\"policies\" is missing"),
            t("missing-aliases.json", "{\(head), \"policies\": {\(entry)}}", "\"policy-aliases\" is missing"),
            t("top-level-array.json", "[\(valid)]", "expected an object"),
            t(
                "too-deep.json", doc(#""a.example": {"mode": "testing", "mxs": ["mx.a.example"], "x": "# + deep + "}"),
                "nesting deeper"),
            t(
                "timestamp-garbage.json",
                doc(entry, head: #""timestamp": "yesterday", "expires": "2020-01-15T00:00:00Z", "version": "0.1""#),
                "expected YYYY"),
            t(
                "timestamp-month-13.json",
                doc(
                    entry,
                    head: #""timestamp": "2020-13-01T00:00:00Z", "expires": "2021-01-15T00:00:00Z", "version": "0.1""#),
                "month 13"),
            t(
                "timestamp-feb-30.json",
                doc(
                    entry,
                    head: #""timestamp": "2020-02-30T00:00:00Z", "expires": "2021-01-15T00:00:00Z", "version": "0.1""#),
                "does not exist"),
            t("unterminated-string.json", #"{"timestamp": "2020-01-01T00:00:00Z"#, "unterminated string"),
            t(
                "control-character.json",
                doc("\"a.example\": {\"mode\": \"test\u{01}ing\", \"mxs\": [\"mx.a.example\"]}"), "control character"),
            t(
                "lone-surrogate.json", doc(#""a.example": {"mode": "testing", "mxs": ["mx\ud800.a.example"]}"#),
                "surrogate"),
            t(
                "invalid-escape.json", doc(#""a.example": {"mode": "testing", "mxs": ["mx\x.a.example"]}"#),
                "invalid escape"),
            t("trailing-data.json", valid + "\n{}", "expected end of input"),
            t(
                "nan.json", doc(entry, head: #""timestamp": NaN, "expires": "2020-01-15T00:00:00Z", "version": "0.1""#),
                "expected a value"),
            t("single-quotes.json", "{'timestamp': '2020-01-01T00:00:00Z'}", "expected a string key"),
            t("comment.json", "// policy list\n" + valid, "expected a value"),
            t(
                "version-number.json",
                doc(
                    entry,
                    head: #""timestamp": "2020-01-01T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": 0.1"#),
                "version is a float"),
        ]
    }()

    @Test func everyMalformedSnapshotIsRejectedWithWhereAndWhy() throws {
        let dir = E2E.tempDir("malformed")
        #expect(Self.cases.count >= 40)
        for (name, bytes, _) in Self.cases {
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes))
        }
        // Valid files in the same run.
        FileManager.default.createFile(atPath: dir + "/valid-a.json", contents: Data(Self.doc(Self.entry).utf8))
        FileManager.default.createFile(
            atPath: dir + "/valid-b.json",
            contents: Data(Self.doc(#""b.example": {"policy-alias": "a1"}"#).utf8))
        // A gzip bomb (300 MiB of zeros) and a broken gzip.
        FileManager.default.createFile(
            atPath: dir + "/bomb.json.gz", contents: Data(gzip([UInt8](repeating: 0x20, count: 300 << 20))))
        FileManager.default.createFile(
            atPath: dir + "/broken.json.gz", contents: Data(Array(gzip(Array(Self.doc(Self.entry).utf8)).prefix(30))))
        // An archive with a path-traversal member, a symlink and one good member.
        let tarDir = E2E.tempDir("tar")
        let script = """
            import io, tarfile, sys
            good = open(sys.argv[2], 'rb').read()
            with tarfile.open(sys.argv[1], 'w:gz') as t:
                for name, data in [('../../x.json', good), ('ok/inside.json', good.replace(b'a.example', b'c.example'))]:
                    info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
                link = tarfile.TarInfo('ok/link.json'); link.type = tarfile.SYMTYPE; link.linkname = '/etc/passwd'
                t.addfile(link)
            """
        let made = try E2E.run("/usr/bin/python3", ["-c", script, tarDir + "/evil.tar.gz", dir + "/valid-a.json"])
        #expect(made.status == 0, "\(made.stderr)")

        let db = E2E.tempDir("malformed-db") + "/p.sqlite"
        let result = try E2E.run(
            "policylist-ingest", ["snapshots", "--db", db, "--json", dir, tarDir + "/evil.tar.gz"])
        #expect(result.status == 65)
        #expect(result.summary["accepted"] as? Int == 3, "\(result.stdout)")
        let rejected = (result.summary["rejected"] as? [[String: String]]) ?? []
        for (name, _, expectation) in Self.cases {
            let hit = rejected.first { $0["path"]?.hasSuffix("/" + name) == true }
            #expect(hit != nil, "\(name) was not rejected")
            let error = hit?["error"] ?? ""
            #expect(error.contains(name), "\(name): message does not name the file: \(error)")
            #expect(error.contains(expectation), "\(name): expected '\(expectation)' in: \(error)")
            #expect(result.stderr.contains(error), "\(name): not on stderr")
        }
        #expect(
            rejected.contains { $0["path"]?.hasSuffix("bomb.json.gz") == true && $0["error"]?.contains("gzip") == true }
        )
        #expect(rejected.contains { $0["path"]?.hasSuffix("broken.json.gz") == true })
        #expect(rejected.contains { $0["error"]?.contains("../../x.json") == true })
        #expect(rejected.contains { $0["error"]?.contains("ok/link.json") == true })
        // Errors with a position name a byte offset and line:column.
        let jsonErrors = rejected.filter { $0["path"]?.hasSuffix("trailing-comma-object.json") == true }
        #expect(jsonErrors.first?["error"]?.contains("(line 1:") == true)
        // Nothing lost: every rejected file's raw bytes are kept.
        let store = try Database(path: db, mode: .readOnly)
        let kept = try store.scalar("SELECT COUNT(*) FROM rejected_inputs WHERE blob IS NOT NULL", as: Int64.self) ?? 0
        #expect(kept >= Int64(Self.cases.count))
        // No traversal happened.
        #expect(!FileManager.default.fileExists(atPath: (tarDir as NSString).deletingLastPathComponent + "/x.json"))
    }
}
