import Foundation
import PolicyListCore
import Testing

/// One line of `data/mta-sts-cases/cases.jsonl` (reference §4.1), decoded into plain values.
struct MTASTSCase: Sendable, CustomTestStringConvertible {
    struct TXTExpectation: Sendable {
        var result: String
        var valid: Bool
        var reason: String?
        var id: String?
    }
    struct PolicyExpectation: Sendable {
        var valid: Bool
        var reason: String?
        var parsed: MTASTS.ParsedPolicy?
        var warnings: [String]
    }
    enum Kind: Sendable {
        case txt(rrset: [[String]], strict: TXTExpectation, lenient: TXTExpectation)
        case policy(
            body: [UInt8], http: MTASTS.HTTPFacts, certificate: MTASTS.CertificateFacts?,
            strict: PolicyExpectation, lenient: PolicyExpectation)
        case mxmatch(pattern: String, host: String, match: Bool, lenientMatch: Bool)
    }

    var id: String
    var ambiguous: Bool
    var kind: Kind

    var testDescription: String { id }

    /// The corpus file, found relative to this source file.
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/mta-sts-cases/cases.jsonl")

    /// Every case, in file order (empty if the file cannot be read; the count test then fails).
    ///
    /// Decoded with `JSONDecoder`: corelibs' `JSONSerialization` silently drops a raw U+FEFF inside a
    /// string, which would turn the BOM case (pol-047) into a clean file.
    static let all: [MTASTSCase] = {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return text.split(separator: "\n").compactMap { line in
            (try? decoder.decode(Raw.self, from: Data(line.utf8))).flatMap(MTASTSCase.init)
        }
    }()

    /// The JSON shape of one line.
    struct Raw: Decodable {
        struct HTTP: Decodable {
            var status: Int
            var contentType: String?
            var location: String?
        }
        struct Pad: Decodable {
            var linePrefix: String
            var char: String
            var count: Int
        }
        struct TLS: Decodable {
            var policyHost: String
            var certDnsNames: [String]
        }
        struct Parsed: Decodable {
            var version: String
            var mode: String
            var maxAge: Int
            var mx: [String]
        }
        struct Expect: Decodable {
            var result: String?
            var valid: Bool?
            var reason: String?
            var id: String?
            var parsed: Parsed?
            var warnings: [String]?
            var ambiguous: Bool?
            var match: Bool?
            var lenientMatch: Bool?
            var lenient: Lenient?
        }
        /// The lenient expectation has the same shape minus its own `lenient`.
        struct Lenient: Decodable {
            var result: String?
            var valid: Bool?
            var reason: String?
            var id: String?
            var parsed: Parsed?
            var warnings: [String]?
        }
        var id: String
        var kind: String
        var input: String
        var rrset: [[String]]?
        var http: HTTP?
        var pad: Pad?
        var tls: TLS?
        var pattern: String?
        var host: String?
        var expect: Expect
    }

    init?(_ o: Raw) {
        id = o.id
        ambiguous = o.expect.ambiguous ?? false
        let e = o.expect
        let l = e.lenient
        switch o.kind {
        case "txt":
            kind = .txt(
                rrset: o.rrset ?? [[o.input]],
                strict: TXTExpectation(result: e.result ?? "?", valid: e.valid ?? false, reason: e.reason, id: e.id),
                lenient: TXTExpectation(
                    result: l?.result ?? "?", valid: l?.valid ?? false, reason: l?.reason, id: l?.id))
        case "policy":
            var body = Array(o.input.utf8)
            if let pad = o.pad {
                body += Array(pad.linePrefix.utf8)
                body += Array(String(repeating: pad.char, count: pad.count).utf8) + [0x0A]
            }
            var http = MTASTS.HTTPFacts()
            if let h = o.http {
                http = MTASTS.HTTPFacts(status: h.status, contentType: h.contentType, location: h.location)
            }
            let certificate = o.tls.map {
                MTASTS.CertificateFacts(policyHost: $0.policyHost, dnsNames: $0.certDnsNames)
            }
            kind = .policy(
                body: body, http: http, certificate: certificate,
                strict: Self.policyExpectation(
                    valid: e.valid, reason: e.reason, parsed: e.parsed, warnings: e.warnings),
                lenient: Self.policyExpectation(
                    valid: l?.valid, reason: l?.reason, parsed: l?.parsed, warnings: l?.warnings))
        case "mxmatch":
            guard let pattern = o.pattern, let host = o.host, let match = e.match, let lenientMatch = e.lenientMatch
            else { return nil }
            kind = .mxmatch(pattern: pattern, host: host, match: match, lenientMatch: lenientMatch)
        default:
            return nil
        }
    }

    static func policyExpectation(valid: Bool?, reason: String?, parsed: Raw.Parsed?, warnings: [String]?)
        -> PolicyExpectation
    {
        let policy = parsed.flatMap { p in
            MTASTS.Mode(rawValue: p.mode).map {
                MTASTS.ParsedPolicy(version: p.version, mode: $0, maxAge: p.maxAge, mx: p.mx)
            }
        }
        return PolicyExpectation(valid: valid ?? false, reason: reason, parsed: policy, warnings: warnings ?? [])
    }
}

@Suite("RFC 8461 reference corpus")
struct MTASTSCasesTests {
    @Test("the corpus has all 134 cases (35 txt, 75 policy, 24 mxmatch)")
    func corpusIsComplete() {
        let cases = MTASTSCase.all
        #expect(cases.count == 134)
        var counts = (txt: 0, policy: 0, mx: 0)
        for c in cases {
            switch c.kind {
            case .txt: counts.txt += 1
            case .policy: counts.policy += 1
            case .mxmatch: counts.mx += 1
            }
        }
        #expect(counts.txt == 35 && counts.policy == 75 && counts.mx == 24)
    }

    @Test("strict and lenient verdicts match the corpus", arguments: MTASTSCase.all)
    func verdictsMatch(_ c: MTASTSCase) {
        switch c.kind {
        case .txt(let rrset, let strict, let lenient):
            let verdicts = MTASTS.evaluateTXT(rrset: rrset.map { $0.map { Array($0.utf8) } })
            check(verdicts.strict, strict, "strict")
            check(verdicts.lenient, lenient, "lenient")
        case .policy(let body, let http, let certificate, let strict, let lenient):
            let verdicts = MTASTS.evaluatePolicy(body: body, http: http, certificate: certificate)
            check(verdicts.strict, strict, "strict")
            check(verdicts.lenient, lenient, "lenient")
        case .mxmatch(let pattern, let host, let match, let lenientMatch):
            #expect(MTASTS.mxPatternMatches(pattern, host: host, profile: .strict) == match, "strict")
            #expect(MTASTS.mxPatternMatches(pattern, host: host, profile: .lenient) == lenientMatch, "lenient")
        }
    }

    private func check(_ got: MTASTS.TXTVerdict, _ want: MTASTSCase.TXTExpectation, _ profile: String) {
        #expect(got.result.rawValue == want.result, "\(profile) result")
        #expect(got.isValid == want.valid, "\(profile) valid")
        #expect(got.reason?.code.corpusCode == want.reason, "\(profile) reason \(String(describing: got.reason))")
        if want.valid { #expect(got.id == want.id, "\(profile) id") }
    }

    private func check(_ got: MTASTS.PolicyVerdict, _ want: MTASTSCase.PolicyExpectation, _ profile: String) {
        #expect(got.isValid == want.valid, "\(profile) valid")
        #expect(got.reason?.code.corpusCode == want.reason, "\(profile) reason \(String(describing: got.reason))")
        if want.valid {
            #expect(got.parsed == want.parsed, "\(profile) parsed")
            // The corpus asserts the mx warnings; `duplicate-key` is an extra the corpus leaves out (§4.4).
            #expect(got.warnings.compactMap(\.corpusForm) == want.warnings, "\(profile) warnings")
        }
    }
}
