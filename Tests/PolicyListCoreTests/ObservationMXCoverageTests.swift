import PolicyListCore
import Testing

/// RFC 8461 §4.1 in the verdict: the policy's `mx` patterns against the MX hosts the live observer recorded.
@Suite("Observation verdict: MX coverage (RFC 8461 §4.1)")
struct ObservationMXCoverageTests {
    static let txt = Observation.TXTFacts(status: .ok, records: [["v=STSv1; id=1;"]])

    static func policy(_ mode: String, _ mxs: [String]) -> Observation.PolicyFacts {
        let body = "version: STSv1\r\nmode: \(mode)\r\n" + mxs.map { "mx: \($0)\r\n" }.joined() + "max_age: 86400\r\n"
        return Observation.PolicyFacts(
            status: .ok, httpStatus: 200, contentType: "text/plain", body: Array(body.utf8))
    }

    static func mx(_ hosts: [String], status: String = "ok") -> JSONValue {
        .object([
            JSONMember("status", .string(status)), JSONMember("authenticated", false),
            JSONMember(
                "records",
                .array(
                    hosts.enumerated().map { index, host in
                        .object([JSONMember("preference", .int(index * 10)), JSONMember("exchange", .string(host))])
                    })),
        ])
    }

    static func verdict(_ mode: String, patterns: [String], hosts: JSONValue?) -> ObservationVerdict {
        ObservationVerdict.compute(
            Observation(
                domain: "example.com", observedAt: Instant(seconds: 0), source: "live", txt: txt,
                policy: policy(mode, patterns), mx: hosts))
    }

    @Test("every MX covered (literal and wildcard): valid, no warning")
    func covered() {
        let verdict = Self.verdict(
            "enforce", patterns: ["mx1.example.com", "*.example.net"],
            hosts: Self.mx(["mx1.example.com.", "a.example.net"]))
        #expect(verdict.valid && verdict.strictValid == true)
        #expect(verdict.reason == nil)
        #expect(!verdict.warnings.contains { $0.hasPrefix("mx-not-covered") })
    }

    @Test("some MX not covered: still valid, one warning per uncovered host")
    func partlyCovered() {
        let verdict = Self.verdict(
            "enforce", patterns: ["mx1.example.com"], hosts: Self.mx(["mx1.example.com", "backup.example.org"]))
        #expect(verdict.valid)
        #expect(verdict.warnings.contains("mx-not-covered: backup.example.org"))
    }

    @Test("no MX covered: invalid with reason mx-not-covered (enforce and testing); none is not checked")
    func noneCovered() {
        for mode in ["enforce", "testing"] {
            let verdict = Self.verdict(mode, patterns: ["mx.example.com"], hosts: Self.mx(["mail.elsewhere.test"]))
            #expect(!verdict.valid && verdict.strictValid == false)
            #expect(verdict.reason == "mx-not-covered: mail.elsewhere.test")
            #expect(verdict.policyValid == true, "the policy file itself is fine")
            #expect(verdict.mode == mode)
        }
        let none = Self.verdict("none", patterns: [], hosts: Self.mx(["mail.elsewhere.test"]))
        #expect(none.valid)
    }

    @Test("a wildcard covers one label only: *.example.com does not cover a.b.example.com")
    func wildcardOneLabel() {
        let verdict = Self.verdict("enforce", patterns: ["*.example.com"], hosts: Self.mx(["a.b.example.com"]))
        #expect(verdict.reason == "mx-not-covered: a.b.example.com")
    }

    @Test("no MX facts, a failed MX lookup, or a null MX: no check")
    func notChecked() {
        for hosts in [nil, Self.mx([], status: "nxdomain"), Self.mx(["."]), Self.mx(["x.test"], status: "servfail")] {
            let verdict = Self.verdict("enforce", patterns: ["mx.example.com"], hosts: hosts)
            #expect(verdict.valid, "\(String(describing: hosts))")
        }
    }

    @Test("the mx member round-trips through the JSONL reader and writer")
    func roundTrip() throws {
        let observation = Observation(
            domain: "example.com", observedAt: Instant(seconds: 0), source: "live", txt: Self.txt,
            policy: Self.policy("enforce", ["mx.example.com"]), mx: Self.mx(["mx.example.com"]))
        let (read, warnings) = try Observation.read(jsonLine: Array(observation.jsonLine.utf8))
        #expect(warnings.isEmpty)
        #expect(read == observation)
        #expect(ObservationVerdict.compute(read) == ObservationVerdict.compute(observation))
    }
}
