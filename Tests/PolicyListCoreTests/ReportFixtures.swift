import Foundation
import PolicyListCore
import Testing

/// A tiny hand-written history for the report tests: four published versions and one off-sequence version, with a
/// hostile alias name and author (markup, quotes, `&`, a spreadsheet formula) that every output must escape.
enum ReportFixtures {
    static let hostileAlias = "mx<script>alert(\"x\")</script>&'"
    static let hostileAuthor = "=HYPERLINK(\"http://evil.example\")&<b>'ops'</b>"

    static func list(_ timestamp: String, _ expires: String, aliases: String, policies: String) -> String {
        """
        {"timestamp": "\(timestamp)", "expires": "\(expires)", "version": "0.1",
         "author": \(jsonString(hostileAuthor)),
         "policy-aliases": {\(aliases)},
         "policies": {\(policies)}}
        """
    }

    static func jsonString(_ text: String) -> String {
        JSONWriter.compact(.string(text))
    }

    static var aliasBlock: String {
        "\(jsonString(hostileAlias)): {\"mode\": \"testing\", \"mxs\": [\".mx.example.net\"]}"
    }

    static var aliasRef: String { "{\"policy-alias\": \(jsonString(hostileAlias))}" }

    /// (name, seq, landed, signature, json)
    static var versions: [(String, Int?, String?, String, String)] {
        [
            (
                "v1.policy.json", 1, "2020-01-01T01:00:00Z", "missing",
                list(
                    "2020-01-01T00:00:00+00:00", "2020-01-15T00:00:00+00:00", aliases: aliasBlock,
                    policies: """
                        "a.example": {"mode": "testing", "mxs": ["mx.a.example"]},
                        "b.example": \(aliasRef),
                        "e.example": {"mode": "testing", "mxs": ["mx1.e.example", "mx2.e.example"]}
                        """)
            ),
            (
                "v2.policy.json", 2, nil, "good",
                list(
                    "2020-01-20T00:00:00-08:00", "2020-02-03T00:00:00-08:00", aliases: aliasBlock,
                    policies: """
                        "a.example": {"mode": "testing", "mxs": ["MX.a.example"]},
                        "b.example": \(aliasRef),
                        "e.example": {"mode": "testing", "mxs": ["mx1.e.example", "mx2.e.example"]},
                        "c.example": {"mode": "testing", "mxs": [".c.example"]}
                        """)
            ),
            (
                "v3.policy.json", 3, "2020-01-25T12:00:00Z", "bad",
                list(
                    "2020-01-25T00:00:00+00:00", "2020-02-08T00:00:00+00:00", aliases: aliasBlock,
                    policies: """
                        "a.example": {"mode": "enforce", "mxs": ["MX.a.example"]},
                        "b.example": {"mode": "testing", "mxs": [".mx.example.net"]},
                        "e.example": {"mode": "testing", "mxs": ["mx2.e.example", "mx1.e.example"]},
                        "d.example": {"mode": "testing", "mxs": ["mail.d.example", "mx.d.example"]}
                        """)
            ),
            (
                "v4.policy.json", 4, "2020-02-10T00:00:00Z", "good",
                list(
                    "2020-02-09T00:00:00+00:00", "2020-02-23T00:00:00+00:00", aliases: aliasBlock,
                    policies: """
                        "a.example": {"mode": "enforce", "mxs": ["MX.a.example"]},
                        "b.example": {"mode": "testing", "mxs": [".mx.example.net"]},
                        "e.example": {"mode": "testing", "mxs": ["mx2.e.example", "mx1.e.example"]},
                        "d.example": {"mode": "enforce", "mxs": ["mx.d.example"]},
                        "c.example": {"mode": "testing", "mxs": [".c.example"]}
                        """)
            ),
            (
                "side-branch.policy.json", nil, nil, "not-checked",
                list(
                    "2020-01-22T00:00:00+00:00", "2020-02-05T00:00:00+00:00", aliases: aliasBlock,
                    policies: """
                        "a.example": {"mode": "testing", "mxs": ["MX.a.example"]},
                        "b.example": \(aliasRef),
                        "z.example": {"mode": "testing", "mxs": ["mx.z.example"]}
                        """)
            ),
        ]
    }

    static func instant(_ text: String) -> Instant {
        (try? TimestampParser.parseInstant(text).get()) ?? Instant(seconds: 0)
    }

    /// The fixture as report inputs (content anomalies from the reader; the lapse anomaly as ingest records it).
    static func inputs() -> [HistoryVersionInput] {
        versions.map { name, seq, landed, signature, text in
            let bytes = Array(text.utf8)
            let reading = ListReader.read(bytes)
            let list =
                reading.list
                ?? PolicyList(
                    timestamp: ListTime.placeholder, expires: ListTime.placeholder, version: nil, author: nil,
                    aliases: [],
                    policies: [])
            var anomalies = reading.anomalies.map {
                VersionAnomaly(origin: "content", kind: $0.kind, severity: $0.severity.rawValue, detail: $0.detail)
            }
            if signature == "missing" {
                anomalies.append(
                    VersionAnomaly(origin: "signature", kind: "unsigned", severity: "warning", detail: "no .asc"))
            }
            let keys = (try? StrictJSONReader.read(bytes))?.value.objectMembers?.map(\.key) ?? []
            return HistoryVersionInput(
                name: name, sha256: String(repeating: String(name.prefix(1)), count: 8) + "-fixture",
                byteCount: bytes.count,
                pubSeq: seq, landed: landed.map(instant), commit: nil, list: list, topLevelKeys: keys,
                signature: signature,
                signatureCreated: signature == "good" ? list.timestamp.instant.adding(seconds: 60) : nil,
                anomalies: anomalies)
        }
    }

    static let generatedAt = instant("2020-03-01T00:00:00Z")

    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/reports")

    /// Compares `actual` with the golden file `name`; with `POLICYLIST_RECORD_GOLDEN=1` rewrites it and fails.
    static func checkGolden(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let url = goldenDirectory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["POLICYLIST_RECORD_GOLDEN"] == "1" {
            try? FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
            try? Data(actual.utf8).write(to: url)
            Issue.record(
                "re-recorded golden file \(name); unset POLICYLIST_RECORD_GOLDEN and run again",
                sourceLocation: sourceLocation)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record(
                "golden file \(name) is missing; run with POLICYLIST_RECORD_GOLDEN=1", sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let line = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, e.count)
            Issue.record(
                "\(name) differs from the golden file at line \(line + 1):\n expected: \(line < e.count ? String(e[line]) : "<end>")\n   actual: \(line < a.count ? String(a[line]) : "<end>")",
                sourceLocation: sourceLocation)
        }
    }
}

extension ListTime {
    static let placeholder: ListTime = {
        switch TimestampParser.parse(string: "1970-01-01T00:00:00Z") {
        case .success(let time): return time
        case .failure: fatalError("unreachable")
        }
    }()
}
