import Testing

@testable import PolicyListCore

/// `MTASTS.evaluatePolicy` against the parsers it replaced (`PolicyParserReference`, the code of commit
/// 5be3dbb): the same verdicts, reasons, details, warnings in the same order and the same mx strings, byte for
/// byte, over the corpus bodies, seeded generated bodies in the spirit of `bench/gen.py policy_body` and seeded
/// random byte mutations of those.
@Suite struct MTASTSPolicyDifferentialTests {
    typealias SplitMix = ReconcileReferenceTests.SplitMix

    /// Every string of both verdicts as bytes, in order, with the structure around them: `==` on `String`
    /// compares canonical equivalence, this compares the exact bytes.
    static func flattened(_ verdicts: MTASTS.PolicyVerdicts) -> [[UInt8]] {
        var out: [[UInt8]] = []
        func issue(_ issue: MTASTS.Issue?) {
            guard let issue else { return out.append([0]) }
            out.append(Array(issue.code.rawValue.utf8))
            out.append(issue.detail.map { [1] + Array($0.utf8) } ?? [0])
        }
        for verdict in [verdicts.strict, verdicts.lenient] {
            issue(verdict.reason)
            out.append([UInt8(verdict.warnings.count)])
            for warning in verdict.warnings { issue(warning) }
            if let parsed = verdict.parsed {
                out.append(Array(parsed.version.utf8))
                out.append(Array(parsed.mode.rawValue.utf8))
                out.append(Array(String(parsed.maxAge).utf8))
                out.append([UInt8(truncatingIfNeeded: parsed.mx.count)])
                for mx in parsed.mx { out.append(Array(mx.utf8)) }
            } else {
                out.append([0xFF])
            }
        }
        return out
    }

    /// Whether the new parser agrees with the reference on `body` (recorded as a test issue when not).
    @discardableResult
    static func agree(
        _ body: [UInt8], http: MTASTS.HTTPFacts = MTASTS.HTTPFacts(), certificate: MTASTS.CertificateFacts? = nil,
        _ label: @autoclosure () -> String
    ) -> Bool {
        let got = MTASTS.evaluatePolicy(body: body, http: http, certificate: certificate)
        let want = PolicyParserReference.evaluatePolicy(body: body, http: http, certificate: certificate)
        let same = got == want && flattened(got) == flattened(want)
        #expect(
            same,
            "\(label()): body \(String(decoding: body, as: UTF8.self).debugDescription) \(body.count) bytes, got \(got), want \(want)"
        )
        return same
    }

    // MARK: Generator

    static let domains = ["example.com", "d0000123.org", "mail.example.net", "EXAMPLE.De", "xn--bcher-kva.ch"]

    static func pick<T>(_ items: [T], _ random: inout SplitMix) -> T {
        items[Int.random(in: 0..<items.count, using: &random)]
    }
    static func chance(_ p: Double, _ random: inout SplitMix) -> Bool { Double.random(in: 0..<1, using: &random) < p }

    /// One body: the gen.py mix of valid and broken policies, each line decorated at random.
    static func body(_ random: inout SplitMix) -> [UInt8] {
        let name = pick(domains, &random)
        if chance(0.03, &random) { return [] }
        let mode = pick(["enforce", "enforce", "testing", "none", "enforcing", "Enforce", "", " "], &random)
        let maxAge = pick(
            [
                "86400", "604800", "31557600", "31557601", "63072000", "-1", "0", "00000000001", "9999999999",
                "99999999999", "1e5", "86400 ", "+1", "８",
            ], &random)
        var mxs: [String] = []
        for k in 0..<Int.random(in: 0...4, using: &random) {
            let roll = Int.random(in: 0..<20, using: &random)
            switch roll {
            case 0: mxs.append("*." + name)
            case 1: mxs.append("MX\(k).\(name.uppercased())")
            case 2: mxs.append("mx\(k).\(name).")
            case 3, 19: mxs.append("192.0.2.\(k)")
            case 4: mxs.append("*.10.0.0.\(k)")
            case 5: mxs.append(String(repeating: "x", count: 64) + "." + name)
            case 6: mxs.append(String(repeating: "a.", count: 127) + "com")
            case 7: mxs.append("m\u{E4}il.\(name)")
            case 8: mxs.append("mx_\(k).\(name)")
            case 9: mxs.append("*.*.\(name)")
            case 10: mxs.append("-mx.\(name)")
            case 11: mxs.append("mx-.\(name)")
            case 12: mxs.append("")
            case 13: mxs.append("mx\(k)..\(name)")
            case 14: mxs.append("Mx\(k).\(name).")
            case 15: mxs.append("*")
            case 16: mxs.append("1.2.3.4.")
            default: mxs.append("mx\(k + 1).\(name)")
            }
        }
        var lines: [(key: String, value: String)] = [("version", "STSv1"), ("mode", mode)]
        lines += mxs.map { ("mx", $0) }
        lines.append(("max_age", maxAge))
        // A third of the bodies are clean apart from their mx and values, so that the strict profile gets past
        // the line checks often enough to reach its semantic ones.
        let clean = chance(0.35, &random)
        let p = clean ? 0 : 1.0
        let edits = clean ? 0 : Int.random(in: 0...3, using: &random)
        for _ in 0..<edits {
            let index = Int.random(in: 0..<lines.count, using: &random)
            switch Int.random(in: 0..<16, using: &random) {
            case 0: lines.remove(at: index)
            case 1: lines.insert(("mode", pick(["testing", "none", "enforce"], &random)), at: index)
            case 2: lines.insert(("version", pick(["STSv1", "STSv2"], &random)), at: index)
            case 3: lines.insert(("max_age", pick(["1", "x"], &random)), at: index)
            case 4: lines.insert(("extension_key", "some value"), at: index)
            case 5: lines.insert(("ext", "a"), at: index)
            case 6: lines.insert(("ext", "b"), at: index)
            case 7: lines.insert(("Mode", mode), at: index)
            case 8: lines.insert(("MX", "mx.\(name)"), at: index)
            case 9: lines.insert(("# comment", ""), at: index)
            case 10:
                lines.insert((String(repeating: "k", count: Int.random(in: 31...34, using: &random)), "v"), at: index)
            case 11: lines.insert(("_x", "y"), at: index)
            case 12: lines.insert(("x.y-z", "caf\u{E9}"), at: index)
            case 13: lines.insert(("versio", "n"), at: index)
            case 14: lines.insert(("mx", ""), at: index)
            default: lines.swapAt(index, Int.random(in: 0..<lines.count, using: &random))
            }
        }
        let crlf = chance(0.5, &random)
        let mixed = chance(0.1 * p, &random)
        var out: [UInt8] = []
        if chance(0.03 * p, &random) { out += [0xEF, 0xBB, 0xBF] }
        for (index, line) in lines.enumerated() {
            if index > 0 {
                let useCRLF = mixed ? chance(0.5, &random) : crlf
                out += useCRLF ? [0x0D, 0x0A] : [0x0A]
                if chance(0.02 * p, &random) { out += useCRLF ? [0x0D, 0x0A] : [0x0A] }  // blank line
            }
            if chance(0.03 * p, &random) { out += Array(pick([" ", "\t", "  \t"], &random).utf8) }
            out += Array(line.key.utf8)
            if chance(0.03 * p, &random) { out += Array(pick([" ", "\t"], &random).utf8) }
            if line.key.hasPrefix("#") {
                out += Array(line.value.utf8)
                continue
            }
            out.append(0x3A)
            if !chance(0.1, &random) { out += Array(pick([" ", " ", "\t", "  "], &random).utf8) }
            out += Array(line.value.utf8)
            if chance(0.05 * p, &random) { out += Array(pick([" ", "\t", " \t "], &random).utf8) }
            if chance(0.01 * p, &random) { out += [0x0D] }  // bare CR
            if chance(0.01 * p, &random) { out += [pick([0x01, 0x7F, 0xFF, 0xC3, 0x0B], &random)] }
        }
        let ending = Int.random(in: 0..<10, using: &random)
        switch clean && (1...3).contains(ending) ? 4 : ending {
        case 0: break
        case 1: out += [0x0A, 0x0A]
        case 2: out += [0x0D]
        case 3: out += [0x0D, 0x0A, 0x0D, 0x0A]
        default: out += crlf ? [0x0D, 0x0A] : [0x0A]
        }
        return out
    }

    /// `body` with one to four random byte insertions, deletions or replacements.
    static func mutated(_ body: [UInt8], _ random: inout SplitMix) -> [UInt8] {
        let alphabet: [UInt8] = [
            0x0D, 0x0A, 0x3A, 0x20, 0x09, 0x2A, 0x2E, 0x2D, 0x5F, 0x41, 0x5A, 0x61, 0x30, 0x39, 0x00,
        ]
        func byte(_ random: inout SplitMix) -> UInt8 {
            chance(0.3, &random) ? UInt8.random(in: 0x80...0xFF, using: &random) : pick(alphabet, &random)
        }
        var out = body
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let index = Int.random(in: 0...out.count, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0: out.insert(byte(&random), at: index)
            case 1: if index < out.count { out.remove(at: index) }
            default: if index < out.count { out[index] = byte(&random) } else { out.append(byte(&random)) }
            }
        }
        return out
    }

    // MARK: Tests

    @Test("every corpus policy body: same verdicts as the reference, with its HTTP facts and without")
    func corpus() {
        var count = 0
        for c in MTASTSCase.all {
            guard case .policy(let body, let http, let certificate, _, _) = c.kind else { continue }
            Self.agree(body, http: http, certificate: certificate, "\(c.id)")
            Self.agree(body, "\(c.id) (200 text/plain)")
            count += 1
        }
        #expect(count == 75)
    }

    @Test("hand-picked edge bodies")
    func edges() {
        let bodies: [String] = [
            "", "\n", "\r\n", "\r", "a", ":", "mx:", "mx: ", "mx:\n", "version: STSv1", "version: STSv1\n\n",
            "version: STSv1\r\nmode: none\r\nmax_age: 1\r\n", "version: STSv1\nmode: none\nmax_age: 1\r",
            "version: STSv1\nmode: enforce\nmx: A.B.\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmx: a.b\nmx: A.B\nmx: a.b.\nmax_age: 1\n",
            "version: STSv1\nmode: testing\nmx: 1.2.3.4\nmx: *.1.2.3.4\nmax_age: 31557600\n",
            "version: STSv1\nmode: testing\nmx: 1.2.3.4.\nmax_age: 31557600\n",
            "version: STSv1\nmode: none\nmax_age: 31557601\n", "version: STSv1\nmode: none\nmax_age: 0000000000\n",
            "version: STSv1\nversion: STSv1\nmode: none\nmode: x\nmax_age: 1\nmax_age: x\n",
            "a: 1\nb: 2\na: 3\nb: 4\nc: 5\na: 6\nversion: STSv1\nmode: none\nmax_age: 1\n",
            "version : STSv1\nmode: none\nmax_age: 1\n", " version: STSv1\nmode: none\nmax_age: 1\n",
            "version: STSv1\nmode: none\nmax_age: 1\nmx:\n", "version: STSv1\nmode: enforce\nmx:   \nmax_age: 1\n",
            "version:\tSTSv1\t\nmode:none\nmax_age:1", "version: STSv1\rmode: none\nmax_age: 1\n",
            "\u{FEFF}version: STSv1\nmode: none\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmx: \u{E9}.com\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmx: *.\nmax_age: 1\n", "version: STSv1\nmode: enforce\nmx: .\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nMX: a.b\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 1\n\r\n",
        ]
        for body in bodies { Self.agree(Array(body.utf8), "edge \(body.debugDescription)") }
        let label63 = String(repeating: "a", count: 63)
        let mxValues = [
            "1.2.3", "1234.1.2.3", "1.2.3.4.5", "01.2.3.4", "*.1.2.3.4", "1.2.3.a", "1.2.3.4.", "1.2.-3.4", "a-.b",
            "a.-b", "-", "*", "*.", "*.*", "**.a", "*a.b", "A", "a.B.", "A.b..", label63 + ".com",
            label63 + "a.com", String(repeating: "a.", count: 126) + "a", String(repeating: "a.", count: 127),
            String(repeating: "a.", count: 126) + "ab", "a_b.c", "a b.c", "\u{C4}.com", "xn--4ca.com.",
        ]
        for value in mxValues {
            for mode in ["enforce", "none"] {
                for other in ["", "mx: b.example\n", "mx: B.example\n"] {
                    let body = "version: STSv1\nmode: \(mode)\n\(other)mx: \(value)\n\(other)max_age: 86400\n"
                    Self.agree(Array(body.utf8), "mx \(body.debugDescription)")
                }
            }
        }
        Self.agree([UInt8](repeating: 0x61, count: MTASTS.maxPolicyBytes + 1), "too large")
        Self.agree([0x76, 0x3A, 0xC3, 0x28, 0x0A], "invalid UTF-8 value")
        Self.agree([0x6D, 0x78, 0x3A, 0x20, 0xC3, 0xA9, 0x2E, 0x63, 0x0A], "non-ASCII mx")
    }

    /// Generated bodies and their mutations per batch (four batches).
    static let generatedPerBatch = 1_500
    static let mutationsPerBody = 4

    @Test("seeded generated bodies and their random byte mutations", arguments: 0..<4)
    func generated(batch: Int) {
        var random = SplitMix(state: 0x5EED_0000 &+ UInt64(batch))
        var count = 0
        var failures = 0
        var seen: Set<String> = []
        for index in 0..<Self.generatedPerBatch {
            let body = Self.body(&random)
            if !Self.agree(body, "batch \(batch) body \(index)") { failures += 1 }
            let verdicts = MTASTS.evaluatePolicy(body: body)
            for verdict in [verdicts.strict, verdicts.lenient] {
                seen.insert(verdict.reason?.code.rawValue ?? "valid")
                for warning in verdict.warnings { seen.insert(warning.code.rawValue) }
            }
            count += 1
            for m in 0..<Self.mutationsPerBody {
                if !Self.agree(Self.mutated(body, &random), "batch \(batch) body \(index) mutation \(m)") {
                    failures += 1
                }
                count += 1
            }
            if failures > 20 { break }  // enough to see the pattern
        }
        #expect(count == Self.generatedPerBatch * (1 + Self.mutationsPerBody))
        // The generator reaches every outcome of the body parsers (so the comparison covers every branch).
        let bodyCodes = MTASTS.IssueCode.allCases.filter {
            !Self.notBodyCodes.contains($0)
        }
        let missing =
            bodyCodes.map(\.rawValue).filter { !seen.contains($0) } + (seen.contains("valid") ? [] : ["valid"])
        #expect(missing.isEmpty, "batch \(batch): never produced \(missing)")
    }

    /// Codes the body parsers never produce (TXT record and fetch checks, and the over-size check).
    static let notBodyCodes: Set<MTASTS.IssueCode> = [
        .noSTSRecord, .multipleSTSRecords, .missingID, .idEmpty, .idInvalidChars, .idTooLong, .syntaxError, .nonASCII,
        .redirectNotFollowed, .httpStatusNot200, .tlsNameMismatch, .contentTypeMissing, .contentTypeNotTextPlain,
        .tooLarge,
    ]
}
