import Foundation
import Testing

@testable import PolicyListCore

/// Pins everything `ListReader.read` says about a broad, seeded corpus: the 65 real versions and 3,000
/// mutations of them (bytes replaced by JSON-significant characters, ranges cut, lines repeated — which makes
/// duplicate keys —, lines upper-cased, fields injected). For each input the whole reading (accepted or not,
/// every entry, every anomaly with kind, severity, detail, offset and domain) is rendered and hashed; the
/// hashes are compared with `Fixtures/list-reader-golden.tsv`, recorded from the reader before its speed work
/// (`POLICYLIST_RECORD_GOLDEN=1` re-records and fails). A change of any message, offset or verdict fails here.
@Suite("ListReader golden corpus")
struct ListReaderGoldenTests {
    static let goldenURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/list-reader-golden.tsv")

    /// SplitMix64: small, seedable, the same sequence on every platform.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    }

    static let significant: [UInt8] = Array("\"{}[],: \n\\u0.A-#\t".utf8) + [0x80, 0xC3, 0xFF, 0x00]

    /// One seeded mutation of `bytes`.
    static func mutate(_ bytes: [UInt8], _ random: inout Random) -> [UInt8] {
        var out = bytes
        guard !out.isEmpty else { return out }
        let lines = out.indices.filter { out[$0] == 0x0A }
        for _ in 0..<(1 + random.below(2)) {
            // Mostly mutations that keep the JSON well-formed (repeated lines, case, injected fields): those
            // reach the list rules; a replaced byte or a cut range mostly tests the JSON reader's messages.
            switch random.below(8) {
            case 0:
                out[random.below(out.count)] = significant[random.below(significant.count)]
            case 1:
                let start = random.below(out.count)
                out.removeSubrange(start..<min(out.count, start + 1 + random.below(40)))
            case 2, 3, 4:
                // Repeat a line somewhere after it (a repeated `"domain": {…},` line is a duplicate key).
                guard lines.count > 2 else { continue }
                let a = lines[random.below(lines.count - 1)]
                guard let b = lines.first(where: { $0 > a }), b < out.count else { continue }
                let line = Array(out[(a + 1)...b])
                let at = min(out.count, b + 1 + random.below(200))
                out.insert(contentsOf: line, at: at)
            case 5, 6:
                guard lines.count > 2 else { continue }
                let a = lines[random.below(lines.count - 1)]
                var index = a + 1
                while index < out.count && out[index] != 0x0A {
                    if out[index] >= 0x61 && out[index] <= 0x7A { out[index] -= 0x20 }
                    index += 1
                }
            default:
                guard let brace = out.firstIndex(of: UInt8(ascii: "{")) else { continue }
                let fields = [
                    "\"pinsets\": {}, ", "\"extra\": 1, ", "\"version\": 0.1, ", "\"timestamp\": 1522436929, ",
                    "\"expires\": \"2018-04-27T19:48:49+0000\", ",
                ]
                out.insert(contentsOf: Array(fields[random.below(fields.count)].utf8), at: brace + 1)
            }
            if out.isEmpty { break }
        }
        return out
    }

    /// Everything a reading says, one line per fact.
    static func render(_ reading: SnapshotReading) -> String {
        var text = ""
        if let list = reading.list {
            text += "accepted \(list.timestamp.raw) \(list.expires.raw) \(list.version ?? "-") \(list.author ?? "-")\n"
            for alias in list.aliases {
                text += "alias \(alias.name) \(alias.definition.mode.rawValue) \(alias.definition.mxs)\n"
            }
            for entry in list.policies {
                switch entry.value {
                case .alias(let name): text += "entry \(entry.domain) -> \(name)\n"
                case .explicit(let d): text += "entry \(entry.domain) \(d.mode.rawValue) \(d.mxs)\n"
                }
            }
        } else {
            text += "rejected\n"
        }
        text += "raw-keys \(reading.rawPolicyKeys)\n"
        for a in reading.anomalies {
            text += "\(a.kind) \(a.severity) \(a.offset.map(String.init) ?? "-") \(a.domain ?? "-") \(a.detail)\n"
        }
        return text
    }

    static func fnv(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// `(name, bytes)` of every input of the corpus, in a fixed order.
    static func corpus() -> [(String, [UInt8])] {
        let files = Fixtures.historyFiles()
        var inputs = files.map { ($0.lastPathComponent, Fixtures.bytes($0)) }
        // Mutations of the smaller versions (the debug build reads ~1 MB/s less per mutation of a large one).
        let small = inputs.filter { $0.1.count < 40_000 }
        var random = Random(state: 20_200_415)
        for index in 0..<2_000 {
            let (name, bytes) = small[index % small.count]
            inputs.append(("mutant-\(index)-\(name)", mutate(bytes, &random)))
        }
        return inputs
    }

    @Test("every reading of the corpus matches the recorded one")
    func corpusMatchesGolden() throws {
        let inputs = Self.corpus()
        try #require(inputs.count == 65 + 2_000, "the 65 real versions are missing: \(inputs.count) inputs")
        var lines: [String] = []
        var rejected = 0
        var kinds = Set<String>()
        for (name, bytes) in inputs {
            let reading = ListReader.read(bytes)
            if reading.list == nil { rejected += 1 }
            for a in reading.anomalies { kinds.insert(a.kind) }
            lines.append("\(name)\t\(Self.fnv(Self.render(reading)))")
        }
        // The corpus must exercise both outcomes and many kinds of anomaly, or it pins little.
        #expect(rejected > 300 && rejected < inputs.count - 300, "rejected \(rejected) of \(inputs.count)")
        print("list reader golden corpus: \(inputs.count) inputs, \(rejected) rejected, \(kinds.count) anomaly kinds")
        #expect(kinds.count >= 20, "only \(kinds.count) anomaly kinds: \(kinds.sorted())")
        let actual = lines.joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["POLICYLIST_RECORD_GOLDEN"] == "1" {
            try Data(actual.utf8).write(to: Self.goldenURL)
            Issue.record(
                "re-recorded \(Self.goldenURL.lastPathComponent); unset POLICYLIST_RECORD_GOLDEN and run again")
            return
        }
        let expected = try String(contentsOf: Self.goldenURL, encoding: .utf8)
        let e = expected.split(separator: "\n")
        let differing = zip(lines, e).filter { $0.0 != $0.1 }.map(\.0)
        #expect(e.count == lines.count, "golden has \(e.count) lines, corpus \(lines.count)")
        #expect(differing.isEmpty, "\(differing.count) readings differ, first: \(differing.prefix(5))")
    }
}
