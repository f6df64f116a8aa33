import Testing

@testable import PolicyListCore
@testable import PolicyListStore

/// The decision store's byte-built evidence JSON and streamed fingerprint digest against the whole-value paths.
@Suite("Decision store: evidence JSON and streamed SHA-256")
struct DecisionStoreTests {
    @Test("evidence JSON is JSONWriter.compact of the evidence objects")
    func evidenceJSON() {
        let at = Instant(seconds: 1_586_000_000, nanoseconds: 123_000)
        let cases: [[Evidence]] = [
            [],
            [Evidence(kind: "snapshot", ref: "snapshot x.json (seq 1)", at: at, summary: "the list")],
            [
                Evidence(kind: "observation", ref: "obs \"1\" [a\\b]", at: nil, summary: "é 😀 \u{01}\n\t"),
                Evidence(kind: "edit", ref: "edits.json#1", at: Instant(seconds: 0), summary: "operator edit (x)"),
            ],
        ]
        for evidence in cases {
            #expect(DecisionStore.evidenceJSON(evidence) == DecisionStore.evidenceJSONValue(evidence))
        }
    }

    @Test("a streamed digest equals SHA256.hex of the whole text", arguments: [0, 1, 65_535, 65_536, 300_001])
    func streamed(length: Int) {
        var text = ""
        var hasher = StreamingSHA256()
        var piece = 0
        while text.utf8.count < length {
            let part = piece % 7 == 0 ? "é\u{1F600}\n" : String(repeating: "x", count: piece % 1000)
            text += part
            hasher.append(part)
            piece += 1
        }
        #expect(hasher.finish() == SHA256.hex(Array(text.utf8)))
        hasher = StreamingSHA256()
        #expect(hasher.finish() == SHA256.hex([UInt8]()))
    }

    @Test(
        "decisions stored 128 per statement read back in order, counted and filtered in SQL",
        arguments: [0, 1, 128, 300])
    func storedDecisions(count: Int) throws {
        try withMigratedDatabase { db in
            let hash = try BlobStore(db).put(Array("{}".utf8)).hash
            let shared = [Evidence(kind: "snapshot", ref: "seq 1", at: Instant(seconds: 5), summary: "baseline")]
            let actions: [DecisionAction] = [.unchanged, .updated, .removed, .added, .refused, .skipped]
            let decisions = (0..<count).map { index in
                Decision(
                    domain: "d\(index).example", action: actions[index % actions.count], rule: "R\(index % 4)",
                    detail: "detail \(index)",
                    evidence: index % 3 == 0
                        ? shared : [Evidence(kind: "observation", ref: "o\(index)", at: nil, summary: "s\(index)")])
            }
            let list = emptyList()
            let result = ReconcileResult(
                list: list, decisions: decisions, counts: ReconcileCounts(), appliedFreezePromotion: false,
                appliedEdits: [])
            let store = DecisionStore(db)
            let id = try db.transaction { _ in
                try store.insertCandidate(
                    fingerprint: "f", createdAt: "2024-01-01T00:00:00Z", asOf: Instant(seconds: 9), freeze: nil,
                    baselineKind: "snapshot", baselineID: 1, baselineRef: "seq 1", listSHA256: hash, result: result,
                    forcedEdits: [:])
            }
            #expect(try store.decisions(candidate: id) == decisions)
            var counts: [String: Int] = [:]
            for decision in decisions { counts["\(decision.rule) \(decision.action.rawValue)", default: 0] += 1 }
            #expect(try store.ruleCounts(candidate: id) == counts)
            let listed: [DecisionAction] = [.added, .removed, .updated, .refused]
            #expect(
                try store.changes(candidate: id)
                    == decisions.filter { listed.contains($0.action) }.map {
                        Decision(domain: $0.domain, action: $0.action, rule: $0.rule, detail: $0.detail, evidence: [])
                    })
        }
    }

    func emptyList() -> PolicyList {
        let time =
            (try? TimestampParser.parse(string: "2020-04-01T00:00:00Z").get())
            ?? ListTime(
                raw: "x", instant: Instant(seconds: 0), form: .rfc3339, offsetSeconds: 0, fractionDigits: 0,
                warnings: [])
        return PolicyList(timestamp: time, expires: time, version: "0.1", author: nil, aliases: [], policies: [])
    }
}
