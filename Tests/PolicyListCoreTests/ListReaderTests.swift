import Foundation
import Testing

@testable import PolicyListCore

@Suite struct ListReaderTests {
    @Test func readsEveryRealVersion() throws {
        let files = Fixtures.historyFiles()
        #expect(files.count == 65)
        var duplicateKey = 0
        var pinsets = 0
        for file in files {
            let reading = ListReader.read(Fixtures.bytes(file))
            #expect(reading.list != nil, "\(file.lastPathComponent): \(reading.rejection?.detail ?? "")")
            if reading.warningKinds.contains("duplicate-key") { duplicateKey += 1 }
            if reading.warningKinds.contains("pinsets-field") { pinsets += 1 }
        }
        #expect(duplicateKey == 15)
        #expect(pinsets == 15)
    }

    @Test func finalVersionCounts() throws {
        let file = Fixtures.historyDirectory.appendingPathComponent("20200520T172606Z-eab6c9f.policy.json")
        let list = try #require(ListReader.read(Fixtures.bytes(file)).list)
        #expect(list.policies.count == 926)
        let counts = list.modeCounts
        #expect(counts.enforce == 361)
        #expect(counts.testing == 553)
        #expect(counts.aliasReferences == 12)
        #expect(list.aliases.count == 4)
    }

    /// Versions written by the publisher's Python tool (no trailing newline, no duplicates) come back byte for byte.
    @Test func writerReproducesPythonWrittenVersions() throws {
        var reproduced = 0
        for file in Fixtures.historyFiles() {
            let bytes = Fixtures.bytes(file)
            guard let list = ListReader.read(bytes).list else { continue }
            let written = ListWriter.bytes(list)
            if written == bytes { reproduced += 1 }
        }
        // seq 16 onward except the hand-edited seq 29, plus the off-sequence Python-era versions.
        #expect(reproduced == 45, "reproduced \(reproduced)")  // as many as Python's json.dumps(indent=2) reproduces
    }

    static let malformed: [(String, String)] = [
        (
            #"{"timestamp": "2020-01-01T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1", "policy-aliases": {}, "policies": {"a.com": {"mode": "Enforce", "mxs": ["mx.a.com"]}}}"#,
            "invalid-mode"
        ),
        (
            #"{"timestamp": "2020-01-01T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1", "policy-aliases": {}, "policies": {"a.com": {"mode": "testing", "mxs": []}}}"#,
            "empty-mxs"
        ),
        (
            #"{"timestamp": "2020-01-01T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1", "policy-aliases": {}, "policies": {"a.com": {"policy-alias": "nope"}}}"#,
            "dangling-alias"
        ),
        (
            #"{"timestamp": "2020-01-01T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1", "policy-aliases": {"x": {"policy-alias": "y"}}, "policies": {}}"#,
            "alias-of-alias"
        ),
        (
            #"{"timestamp": 1577836800.5, "expires": "2020-01-15T00:00:00Z", "version": "0.1", "policy-aliases": {}, "policies": {}}"#,
            "invalid-timestamp"
        ),
        (
            #"{"timestamp": "2020-01-15T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1", "policy-aliases": {}, "policies": {}}"#,
            "expires-not-after-timestamp"
        ),
        (
            #"{"timestamp": "2020-01-01T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1", "policy-aliases": {}, "policies": {"a.com": {"mode": "testing", "mxs": ["a"]}, "a.com": {"mode": "enforce", "mxs": ["a"]}}}"#,
            "duplicate-key-conflict"
        ),
        (
            #"{"timestamp": "2020-01-01T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1", "policy-aliases": {}, "policies": {"a.com": {"mode": "testing", "mxs": ["mx.a.com\nb.com secure"]}}}"#,
            "invalid-mx"
        ),
        (
            #"{"timestamp": "2020-01-01T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1", "policy-aliases": {}, "policies": {"a.com": {"mode": "testing", "mxs": "mx.a.com"}}}"#,
            "invalid-mxs"
        ),
        (
            #"{"expires": "2020-01-15T00:00:00Z", "version": "0.1", "policy-aliases": {}, "policies": {}}"#,
            "missing-field"
        ),
        (#"[]"#, "not-an-object"),
        (#"{"timestamp": "2020-01-01T00:00:00Z",}"#, "invalid-json"),
    ]

    @Test(arguments: malformed)
    func rejectsMalformed(text: String, kind: String) throws {
        let reading = ListReader.read(Array(text.utf8))
        #expect(reading.list == nil)
        let rejection = try #require(reading.rejection)
        #expect(rejection.kind == kind, "\(rejection)")
        #expect(rejection.detail.contains("byte ") || rejection.kind == "missing-field", "\(rejection.detail)")
    }

    @Test func warnsButAccepts() throws {
        let text =
            #"{"timestamp": 1577836800, "expires": "2020-01-15T00:00:00+0000", "policy-aliases": {"u": {"mode": "testing", "mxs": [".x.com"]}}, "pinsets": {}, "policies": {"a.com": {"mxs": ["MX.a.com"]}}}"#
        let reading = ListReader.read(Array(text.utf8))
        let list = try #require(reading.list, "\(reading.anomalies)")
        #expect(
            reading.warningKinds == [
                "timestamp-epoch-integer", "timestamp-colonless-offset", "missing-version", "pinsets-field",
                "missing-mode",
                "uppercase-mx", "unused-alias",
            ])
        #expect(list.policies.first?.value == .explicit(PolicyDefinition(mode: .testing, mxs: ["MX.a.com"])))
    }
}
