import PolicyListCore
import Testing

@Suite("MTA-STS: list-pattern conversion")
struct MTASTSConversionTests {
    @Test("wildcards become leading-dot suffixes, order and case kept")
    func wildcardAndCase() {
        let result = MTASTS.convertToListPatterns([
            "TechnikumNukleoniczne-pl.mail.protection.outlook.com", "*.example.net", "ASPMX.L.GOOGLE.COM",
        ])
        #expect(
            result.patterns == [
                "TechnikumNukleoniczne-pl.mail.protection.outlook.com", ".example.net", "ASPMX.L.GOOGLE.COM",
            ])
        #expect(result.warnings == ["wildcard-semantics-widened: *.example.net"])
    }

    @Test("trailing dot stripped, whitespace trimmed, empty values dropped silently")
    func normalisation() {
        let result = MTASTS.convertToListPatterns(["mx.example.com.", "", "  ", " mx2.example.com "])
        #expect(result.patterns == ["mx.example.com", "mx2.example.com"])
        #expect(result.warnings.isEmpty)
    }

    @Test(
        "invalid values are dropped with a warning",
        arguments: [
            ("mail.*.example.com", "mx-dropped-invalid: mail.*.example.com"),
            ("*mail.example.com", "mx-dropped-invalid: *mail.example.com"),
            ("*", "mx-dropped-invalid: *"),
            ("mail_1.example.com", "mx-dropped-invalid: mail_1.example.com"),
            ("-mx.example.com", "mx-dropped-invalid: -mx.example.com"),
            ("localhost", "mx-dropped-invalid: localhost"),
            ("mx.example.com:25", "mx-dropped-port: mx.example.com:25"),
            ("192.0.2.25", "mx-dropped-ip-literal: 192.0.2.25"),
            ("[192.0.2.25]", "mx-dropped-ip-literal: [192.0.2.25]"),
            ("2001:db8::25", "mx-dropped-ip-literal: 2001:db8::25"),
            ("mx.bücher.example", "mx-dropped-non-ascii: mx.bücher.example"),
            ("*.com", "mx-dropped-too-broad: *.com"),
            ("mail.example.com mail2.example.com", "mx-dropped-invalid: mail.example.com mail2.example.com"),
        ])
    func dropped(value: String, warning: String) {
        let result = MTASTS.convertToListPatterns([value, "mx.example.org"])
        #expect(result.patterns == ["mx.example.org"])
        #expect(result.warnings == [warning])
    }

    @Test("case-insensitive de-duplication keeps the first spelling")
    func deduplication() {
        let result = MTASTS.convertToListPatterns([
            "MX.example.com", "mx.example.com", "mx.example.com.", "*.Example.net", "*.example.net",
        ])
        #expect(result.patterns == ["MX.example.com", ".Example.net"])
        #expect(
            result.warnings == [
                "mx-dropped-duplicate: mx.example.com", "mx-dropped-duplicate: mx.example.com",
                "wildcard-semantics-widened: *.Example.net", "mx-dropped-duplicate: *.example.net",
            ])
    }

    @Test("nothing usable gives an empty list (the caller must not update)")
    func nothingLeft() {
        #expect(MTASTS.convertToListPatterns([]).patterns.isEmpty)
        #expect(MTASTS.convertToListPatterns(["", "192.0.2.1"]).patterns.isEmpty)
    }
}

@Suite("MTA-STS: MX and certificate name matching")
struct MTASTSMatchingTests {
    @Test(
        "mx pattern matching edge cases",
        arguments: [
            ("*.example.com", "a.example.com", MTASTS.Profile.strict, true),
            ("*.example.com", "A.EXAMPLE.COM.", .strict, true),
            ("*.example.com", "example.com", .strict, false),
            ("*.example.com", "a.b.example.com", .strict, false),
            ("*.example.com", "aexample.com", .strict, false),
            ("*.example.com", ".example.com", .strict, false),
            ("*.example.com", "", .strict, false),
            ("example.com", "example.com..", .strict, false),
            ("mail.example.com", "mail.example.com.", .strict, true),
            ("mail.example.com.", "mail.example.com", .strict, false),
            ("mail.example.com.", "mail.example.com", .lenient, true),
            ("*.example.com.", "a.example.com", .lenient, true),
            ("*.example.com.", "a.example.com", .strict, false),
            ("*", "com", .lenient, false),
            ("*.", "a.", .lenient, false),
            ("*.*.example.com", "a.b.example.com", .lenient, false),
            ("ex*.com", "example.com", .strict, false),
            ("mail.example.com", "mail.example.co", .strict, false),
            ("mail.example.co", "mail.example.com", .strict, false),
            ("*.example.com", "mail_1.example.com", .strict, false),
        ])
    func mx(pattern: String, host: String, profile: MTASTS.Profile, expected: Bool) {
        #expect(MTASTS.mxPatternMatches(pattern, host: host, profile: profile) == expected)
    }

    @Test(
        "certificate DNS-ID matching (RFC 6125)",
        arguments: [
            (["mta-sts.example.com"], true),
            (["MTA-STS.Example.COM"], true),
            (["mta-sts.example.com."], true),
            (["*.example.com"], true),
            (["*.sts.example.com"], false),
            (["mta-sts.example.net"], false),
            (["example.com", "www.example.com"], false),
            (["m*.example.com"], false),
            (["*"], false),
            (["*.com"], false),
            (["mta-sts.*.com"], false),
            ([], false),
        ])
    func certificate(names: [String], expected: Bool) {
        #expect(MTASTS.certificateNameMatches(host: "mta-sts.example.com", dnsNames: names) == expected)
    }
}

@Suite("MTA-STS: parser details beyond the corpus")
struct MTASTSParserTests {
    static func policy(_ text: String) -> MTASTS.PolicyVerdicts { MTASTS.evaluatePolicy(body: Array(text.utf8)) }

    @Test("repeated non-mx keys warn; the first one is used")
    func duplicateKeys() {
        let verdicts = Self.policy(
            "version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 86400\nx: 1\nx: 2\n")
        for profile in MTASTS.Profile.allCases {
            #expect(verdicts[profile].parsed?.mode == .testing)
            #expect(
                verdicts[profile].warnings.map(\.description) == [
                    "duplicate-key: mode (line 3, first one used)", "duplicate-key: x (line 7, first one used)",
                ])
        }
    }

    @Test("a CR at the very end of the body is a bare CR under strict (RFC), tolerated under lenient")
    func trailingBareCR() {
        let verdicts = Self.policy("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 86400\r")
        #expect(verdicts.strict.reason == MTASTS.Issue(.bareCR, "line 4"))
        #expect(verdicts.lenient.isValid)
    }

    @Test("invalid UTF-8 in a value is strict-invalid; lenient ignores the extension")
    func invalidUTF8() {
        var body = Array("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 86400\nx-note: ".utf8)
        body += [0xC3, 0x28, 0x0A]
        let verdicts = MTASTS.evaluatePolicy(body: body)
        #expect(verdicts.strict.reason?.code == .invalidUTF8)
        #expect(verdicts.lenient.isValid)
    }

    @Test("empty body and size limit")
    func sizes() {
        #expect(Self.policy("").strict.reason?.code == .blankLine)
        #expect(Self.policy("").lenient.reason?.code == .missingVersion)
        let base = "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 86400\nx: "
        let exact = base + String(repeating: "a", count: MTASTS.maxPolicyBytes - base.utf8.count - 1) + "\n"
        #expect(Self.policy(exact).strict.isValid)
        #expect(Self.policy(exact + "b").strict.reason == MTASTS.Issue(.tooLarge, "65537 bytes"))
    }

    @Test("reasons carry details")
    func details() {
        let verdicts = Self.policy("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 63072000\n")
        #expect(verdicts.strict.reason?.description == "max-age-out-of-range: 63072000")
        #expect(verdicts.strict.reason?.corpusForm == "max_age_out_of_range")
        #expect(
            Self.policy("version: STSv1\nmode: enforce\nmx: a.example\n\nmax_age: 1\n").strict.reason?.description
                == "blank-line: line 4")
    }

    @Test("HTTP facts decide before the body")
    func fetchFacts() {
        let body = Array("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 86400\n".utf8)
        let check = { (http: MTASTS.HTTPFacts) in MTASTS.evaluatePolicy(body: body, http: http).strict.reason?.code }
        #expect(check(MTASTS.HTTPFacts(status: 302, location: "https://x.example/")) == .redirectNotFollowed)
        #expect(check(MTASTS.HTTPFacts(status: 204)) == .httpStatusNot200)
        #expect(check(MTASTS.HTTPFacts(contentType: nil)) == .contentTypeMissing)
        #expect(check(MTASTS.HTTPFacts(contentType: " Text/Plain ; charset=utf-8")) == nil)
        #expect(check(MTASTS.HTTPFacts(contentType: "text/plain-x")) == .contentTypeNotTextPlain)
    }

    @Test("TXT: extensions, duplicate fields and syntax details")
    func txt() {
        let verdicts = MTASTS.evaluateTXT(record: "v=STSv1; id=abc123; ext=1; id=zzz; ext=2")
        #expect(verdicts.strict.id == "abc123")
        #expect(verdicts.strict.extensions.map { "\($0.name)=\($0.value)" } == ["ext=1"])
        #expect(verdicts.strict.warnings.map(\.description) == ["duplicate-key: id", "duplicate-key: ext"])
        #expect(MTASTS.evaluateTXT(record: "v=STSv1; id==abc").strict.reason?.code == .syntaxError)
        #expect(MTASTS.evaluateTXT(record: "v=STSv1; id=\u{7F}").strict.reason?.code == .nonASCII)
        #expect(MTASTS.evaluateTXT(rrset: []).strict.result == .absent)
        #expect(MTASTS.evaluateTXT(record: "v=STSv1 garbage; id=abc").strict.reason?.code == .syntaxError)
        #expect(MTASTS.evaluateTXT(record: "v=STSv1 garbage; id=abc").lenient.id == "abc")
    }
}

@Suite("MTA-STS: lint lines (CONTRACT.md)")
struct MTASTSLintTests {
    @Test("check-policy line for a valid file has exactly the contract's keys and order")
    func validPolicyLine() {
        let body = Array(
            "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 604800\n".utf8)
        let line = JSONWriter.compact(MTASTS.lintPolicy(input: "FILE", body: body))
        #expect(
            line
                == #"{"input":"FILE","valid":true,"lenientValid":true,"version":"STSv1","mode":"enforce","maxAge":604800,"mx":["mx1.example.com","*.example.net"],"errors":[],"warnings":[]}"#
        )
    }

    @Test("check-policy line for an invalid file: nulls, errors with details, same key order")
    func invalidPolicyLine() {
        let body = Array("version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 63072000\n".utf8)
        let value = MTASTS.lintPolicy(input: "bad.txt", body: body)
        #expect(
            value.objectMembers?.map(\.key) == [
                "input", "valid", "lenientValid", "version", "mode", "maxAge", "mx", "errors", "warnings",
            ])
        #expect(
            JSONWriter.compact(value)
                == #"{"input":"bad.txt","valid":false,"lenientValid":false,"version":null,"mode":null,"maxAge":null,"mx":null,"errors":["max-age-out-of-range: 63072000"],"warnings":[]}"#
        )
    }

    @Test("check-policy shows the lenient reading and its warnings when only the lenient profile accepts")
    func lenientOnlyLine() {
        let body = Array("version: STSv1\nmode: enforce\nmx: MX1.example.com.\nmx: 192.0.2.1\nmax_age: 86400\n".utf8)
        #expect(
            JSONWriter.compact(MTASTS.lintPolicy(input: "-", body: body))
                == #"{"input":"-","valid":false,"lenientValid":true,"version":"STSv1","mode":"enforce","maxAge":86400,"mx":["mx1.example.com"],"errors":["mx-invalid-pattern: MX1.example.com."],"warnings":["mx-dropped-ip-literal: 192.0.2.1"]}"#
        )
    }

    @Test("check-txt lines")
    func txtLines() {
        #expect(
            JSONWriter.compact(MTASTS.lintTXT(record: "v=STSv1; id=abc123"))
                == #"{"input":"v=STSv1; id=abc123","valid":true,"id":"abc123","errors":[]}"#)
        #expect(
            JSONWriter.compact(MTASTS.lintTXT(record: "v=STSv1; id=2024-01-15"))
                == #"{"input":"v=STSv1; id=2024-01-15","valid":false,"id":"2024-01-15","errors":["id-invalid-chars: 2024-01-15"]}"#
        )
        #expect(
            JSONWriter.compact(MTASTS.lintTXT(record: "v=spf1 -all"))
                == #"{"input":"v=spf1 -all","valid":false,"id":null,"errors":["no-sts-record"]}"#)
    }
}
