import Foundation
import PolicyListCore
import Testing

private let goodPolicy = "version: STSv1\nmode: enforce\nmx: MX1.Example.com\nmx: *.example.net\nmax_age: 604800\n"

private func line(
    domain: String = "Example.COM.", observedAt: String = "2024-03-01T12:00:00.5Z", txt: String? = nil,
    policy: String? = nil, extra: String = ""
) -> String {
    let txtJSON = txt ?? #"{"status":"ok","records":["v=STSv1; id=20240301"]}"#
    let body = "\"" + goodPolicy.replacingOccurrences(of: "\n", with: "\\n") + "\""
    let policyJSON =
        policy ?? #"{"status":"ok","httpStatus":200,"contentType":"text/plain; charset=utf-8","body":"# + body + #"}"#
    return
        #"{"domain":"\#(domain)","observedAt":"\#(observedAt)","source":"live","txt":\#(txtJSON),"policy":\#(policyJSON)\#(extra)}"#
}

private func read(_ text: String) throws -> (Observation, warnings: [String]) {
    try Observation.read(jsonLine: Array(text.utf8))
}

private func readError(_ text: String) -> RecordError? {
    do {
        _ = try read(text)
        return nil
    } catch let error as RecordError {
        return error
    } catch {
        return nil
    }
}

@Suite("Observation JSONL: strict reader and writer")
struct ObservationJSONLTests {
    @Test("a complete line reads, normalises the domain, and writes back to an equal value")
    func roundTrip() throws {
        let (observation, warnings) = try read(
            line(extra: #","tlsrpt":{"status":"ok","records":["v=TLSRPTv1; rua=mailto:x@example.com"]}"#))
        #expect(warnings.isEmpty)
        #expect(observation.domain == "example.com")
        #expect(observation.observedAt == Instant(seconds: 1_709_294_400, nanoseconds: 500_000_000))
        #expect(observation.txt == Observation.TXTFacts(status: .ok, records: [["v=STSv1; id=20240301"]]))
        #expect(observation.policy.body == Array(goodPolicy.utf8))
        #expect(observation.policy.contentType == "text/plain; charset=utf-8")
        #expect(observation.tlsrpt?["status"] == "ok")
        let written = observation.jsonLine
        #expect(written.hasPrefix(#"{"domain":"example.com","observedAt":"2024-03-01T12:00:00.5Z","source":"live","#))
        let (again, _) = try read(written)
        #expect(again == observation)
    }

    @Test("a multi-string RR and a non-UTF-8 body survive the round trip (bodyBase64)")
    func multiStringAndBinaryBody() throws {
        let observation = Observation(
            domain: "example.org", observedAt: Instant(seconds: 1_700_000_000), source: "live",
            txt: .init(status: .ok, records: [["v=STSv1; ", "id=1"], ["other"]]),
            policy: .init(
                status: .ok, httpStatus: 200, contentType: "text/plain", body: [0x76, 0xFF, 0x0A]))
        let written = observation.jsonLine
        #expect(written.contains(#""records":[["v=STSv1; ","id=1"],"other"]"#))
        #expect(written.contains(#""bodyBase64":"dv8K""#))
        #expect(try read(written).0 == observation)
    }

    @Test(
        "a missing or mistyped field is an error naming the field",
        arguments: [
            (
                #"{"observedAt":"2024-03-01T12:00:00Z","source":"live","txt":{"status":"ok","records":[]},"policy":{"status":"timeout"}}"#,
                "domain: missing"
            ),
            (line(observedAt: "2024-03-01 12:00:00"), "observedAt: "),
            (line(observedAt: "2024-03-01T12:00:00"), "observedAt: \"2024-03-01T12:00:00\" has no UTC offset"),
            (line(txt: #"{"status":"ok"}"#), "txt.records: missing (required when status is \"ok\")"),
            (line(txt: #"{"status":"gone","records":[]}"#), "txt.status: \"gone\" is not one of"),
            (line(txt: #"{"status":"ok","records":[1]}"#), "txt.records[0]: expected a string or an array of strings"),
            (line(txt: #""ok""#), "txt: expected an object, found a string"),
            (
                line(policy: #"{"status":"ok","httpStatus":"200","body":"x"}"#),
                "policy.httpStatus: expected an integer, found a string"
            ),
            (line(policy: #"{"status":"ok","httpStatus":200}"#), "policy.body: missing"),
            (line(policy: #"{"status":"ok","body":"x"}"#), "policy.httpStatus: missing"),
            (
                line(policy: #"{"status":"ok","httpStatus":200.5,"body":"x"}"#),
                "policy.httpStatus: expected an integer, found 200.5"
            ),
            (line(domain: "not a domain"), "domain: \"not a domain\" is not a domain name"),
            (line(extra: #","domain":"x.org""#), "domain: duplicate key at byte"),
            (#"{"domain":"x.org","#, "invalid JSON: byte"),
        ])
    func fieldErrors(text: String, expected: String) {
        let error = readError(text)
        #expect(error?.description.hasPrefix(expected) == true, "\(String(describing: error))")
    }

    @Test("unknown keys are ignored with a warning naming their path")
    func unknownKeys() throws {
        let (_, warnings) = try read(line(extra: #","comment":"x""#))
        #expect(warnings == ["unknown-key: comment"])
    }

    @Test("domains normalise to lower case without the trailing dot; non-names are refused")
    func domains() {
        #expect(Observation.normalizedDomain("MX.Example.COM.") == "mx.example.com")
        #expect(Observation.normalizedDomain("_mta-sts.example.com") == "_mta-sts.example.com")
        #expect(Observation.normalizedDomain("") == nil)
        #expect(Observation.normalizedDomain("a..b") == nil)
        #expect(Observation.normalizedDomain("exämple.com") == nil)
        #expect(Observation.normalizedDomain(String(repeating: "a", count: 64) + ".com") == nil)
    }
}

@Suite("ObservationVerdict: recomputed from the raw facts")
struct ObservationVerdictTests {
    static let okTXT = Observation.TXTFacts(status: .ok, records: [["v=STSv1; id=abc123"]])
    static func okPolicy(_ body: String, contentType: String? = "text/plain") -> Observation.PolicyFacts {
        .init(status: .ok, httpStatus: 200, contentType: contentType, body: Array(body.utf8))
    }

    @Test("a valid enforce observation: mode, max_age, raw mx and list patterns with case and order kept")
    func validEnforce() {
        let verdict = ObservationVerdict.compute(txt: Self.okTXT, policy: Self.okPolicy(goodPolicy))
        #expect(verdict.valid && verdict.strictValid == true)
        #expect(verdict.txtID == "abc123")
        #expect(verdict.mode == "enforce" && verdict.maxAge == 604800)
        #expect(verdict.mx == ["MX1.Example.com", "*.example.net"])
        #expect(verdict.listMXs == ["MX1.Example.com", ".example.net"])
        #expect(verdict.reason == nil && verdict.strictReason == nil)
        #expect(verdict.parserVersion == PolicyListCore.parserVersion)
        #expect(verdict.warnings.contains("wildcard-semantics-widened: *.example.net"))
    }

    @Test("leniently valid but not strictly: valid, strictValid false, lenient mx used")
    func lenientOnly() {
        // A CRLF-free file with a blank line is outside the strict ABNF but accepted by deployed resolvers.
        let body = "version: STSv1\n\nmode: testing\nmx: MX.example.com\nmax_age: 86400\n"
        let verdict = ObservationVerdict.compute(txt: Self.okTXT, policy: Self.okPolicy(body))
        #expect(verdict.valid)
        #expect(verdict.strictValid == false)
        #expect(verdict.strictReason?.hasPrefix("blank-line") == true)
        #expect(verdict.reason == nil)
        #expect(verdict.mode == "testing")
    }

    @Test(
        "every TXT status value",
        arguments: [
            (Observation.TXTFacts(status: .ok, records: [["v=STSv1; id=a1"]]), true, nil as String?),
            (Observation.TXTFacts(status: .ok, records: [["v=spf1 -all"]]), false, "no-sts-record"),
            (
                Observation.TXTFacts(status: .ok, records: [["v=STSv1; id=a"], ["v=STSv1; id=b"]]), false,
                "multiple-sts-records: 2 records"
            ),
            (Observation.TXTFacts(status: .ok, records: [["v=STSv1;"]]), false, "missing-id"),
            (Observation.TXTFacts(status: .nxdomain), false, "no-sts-record: nxdomain"),
            (Observation.TXTFacts(status: .nodata), false, "no-sts-record: nodata"),
            (Observation.TXTFacts(status: .servfail), false, "txt-lookup-failed: servfail"),
            (Observation.TXTFacts(status: .timeout), false, "txt-lookup-failed: timeout"),
            (
                Observation.TXTFacts(status: .error, error: "connection refused"), false,
                "txt-lookup-failed: error: connection refused"
            ),
        ])
    func txtStatuses(txt: Observation.TXTFacts, valid: Bool, reason: String?) {
        let verdict = ObservationVerdict.compute(txt: txt, policy: Self.okPolicy(goodPolicy))
        #expect(verdict.valid == valid)
        #expect(verdict.txtValid == valid)
        #expect(verdict.reason == reason)
        // The policy still describes itself when the TXT record fails.
        #expect(verdict.mode == "enforce")
    }

    @Test(
        "every policy status value",
        arguments: [
            (
                Observation.PolicyFacts(
                    status: .ok, httpStatus: 200, contentType: "text/plain", body: Array(goodPolicy.utf8)),
                nil as String?
            ),
            (
                Observation.PolicyFacts(
                    status: .ok, httpStatus: 200, contentType: "text/plain",
                    body: Array("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 63072000\n".utf8)),
                "max-age-out-of-range: 63072000"
            ),
            (
                Observation.PolicyFacts(status: .httpStatus, httpStatus: 404, contentType: "text/html", body: []),
                "http-status-not-200: 404"
            ),
            (Observation.PolicyFacts(status: .httpStatus), "policy-fetch-failed: http-status"),
            (
                Observation.PolicyFacts(
                    status: .contentType, httpStatus: 200, contentType: "text/html", body: Array(goodPolicy.utf8)),
                "content-type-not-text-plain: text/html"
            ),
            (
                Observation.PolicyFacts(
                    status: .contentType, httpStatus: 200, contentType: nil, body: Array(goodPolicy.utf8)),
                "content-type-missing"
            ),
            (
                Observation.PolicyFacts(status: .redirect, httpStatus: 301, location: "https://elsewhere.example/"),
                "redirect-not-followed: 301 to https://elsewhere.example/"
            ),
            (
                Observation.PolicyFacts(status: .tooLarge, httpStatus: 200, body: Array("abc".utf8)),
                "too-large: 3+ bytes"
            ),
            (
                Observation.PolicyFacts(status: .tlsError, error: "certificate has expired"),
                "policy-tls-error: certificate has expired"
            ),
            (Observation.PolicyFacts(status: .timeout), "policy-fetch-failed: timeout"),
            (
                Observation.PolicyFacts(status: .error, error: "connection refused"),
                "policy-fetch-failed: error: connection refused"
            ),
        ])
    func policyStatuses(policy: Observation.PolicyFacts, reason: String?) {
        let verdict = ObservationVerdict.compute(txt: Self.okTXT, policy: policy)
        #expect(verdict.valid == (reason == nil))
        #expect(verdict.policyValid == (reason == nil))
        #expect(verdict.reason == reason)
        #expect(verdict.strictReason == reason)
    }

    @Test("a failing TXT record is the reason even when the policy also fails (first failing check)")
    func firstFailingCheck() {
        let verdict = ObservationVerdict.compute(
            txt: .init(status: .nxdomain), policy: .init(status: .httpStatus, httpStatus: 404))
        #expect(verdict.reason == "no-sts-record: nxdomain")
    }

    @Test("mode none is a valid policy with no list patterns")
    func modeNone() {
        let verdict = ObservationVerdict.compute(
            txt: Self.okTXT, policy: Self.okPolicy("version: STSv1\nmode: none\nmax_age: 86400\n"))
        #expect(verdict.valid && verdict.mode == "none" && verdict.listMXs.isEmpty)
    }
}

@Suite("Backend scans: row_to_json lines and the backend's validity")
struct BackendScanTests {
    static func scanLine(
        id: Int = 7, domain: String = "example.com", timestamp: String = "2020-04-21T09:15:02.123456",
        mtaSTS: String
    ) -> String {
        let scandata =
            #"{"domain":"\#(domain)","status":0,"results":{},"preferred_hostnames":[],"mta_sts":\#(mtaSTS),"extra_results":{}}"#
        let escaped = scandata.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return
            #"{"id":\#(id),"domain":"\#(domain)","scandata":"\#(escaped)","timestamp":"\#(timestamp)","version":1,"mta_sts_mode":"enforce"}"#
    }

    static func mtaSTS(
        status: Int, text: Int = 0, textMessage: String? = nil, file: Int = 0, fileMessage: String? = nil,
        policy: String, mode: String, mxs: String
    ) -> String {
        func check(_ name: String, _ status: Int, _ message: String?) -> String {
            let messages = message.map { #","messages":["\#($0)"]"# } ?? ""
            return
                #""\#(name)":{"name":"\#(name)","status":\#(status)\#(messages),"status_text":"x","description":"y"}"#
        }
        let policyJSON = policy.replacingOccurrences(of: "\n", with: "\\n")
        return
            #"{"name":"mta-sts","status":\#(status),"checks":{\#(check("mta-sts-policy-file", file, fileMessage)),\#(check("mta-sts-text", text, textMessage))},"policy":"\#(policyJSON)","mode":"\#(mode)","mxs":\#(mxs)}"#
    }

    static func scan(_ line: String) throws -> BackendScan {
        try BackendScan.read(jsonLine: Array(line.utf8))
    }

    @Test("a successful enforce scan: valid, raw mxs kept, converted with case and order")
    func validEnforce() throws {
        let scan = try Self.scan(
            Self.scanLine(
                mtaSTS: Self.mtaSTS(
                    status: 0,
                    policy:
                        "version: STSv1\nmode: enforce\nmx: ASPMX.L.GOOGLE.COM\nmx: *.Example.com\nmax_age: 604800\n",
                    mode: "enforce", mxs: #"["ASPMX.L.GOOGLE.COM","*.Example.com"]"#)))
        #expect(scan.id == 7 && scan.domain == "example.com")
        #expect(scan.observedAt == Instant(seconds: 1_587_460_502, nanoseconds: 123_456_000))
        #expect(scan.mtaSTS?.checks.map(\.name) == ["mta-sts-text", "mta-sts-policy-file"])
        let verdict = scan.verdict
        #expect(verdict.valid && verdict.mode == "enforce" && verdict.reason == nil)
        #expect(verdict.listMXs == ["ASPMX.L.GOOGLE.COM", ".Example.com"])
        #expect(verdict.policyValid == true && verdict.maxAge == 604800)
        #expect(verdict.strictValid == nil && verdict.txtValid == nil)
    }

    @Test("a testing scan with a warning is valid (status 1)")
    func testingWarning() throws {
        let verdict = try Self.scan(
            Self.scanLine(
                mtaSTS: Self.mtaSTS(
                    status: 1, file: 1, fileMessage: "Warning: testing",
                    policy: "version: STSv1\nmode: testing\nmx: a.example.com\nmax_age: 86400\n",
                    mode: "testing", mxs: #"["a.example.com"]"#))
        ).verdict
        #expect(verdict.valid && verdict.mode == "testing")
    }

    @Test(
        "failing scans are invalid with the first failing check as the reason",
        arguments: [
            (
                BackendScanTests.mtaSTS(
                    status: 2, text: 2,
                    textMessage:
                        "Failure: Couldn't find an MTA-STS TXT record: lookup _mta-sts.example.com on 127.0.0.11:53: no such host.",
                    policy: "version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 86400\n", mode: "enforce",
                    mxs: #"["a.example.com"]"#),
                "txt-lookup-failed: Couldn't find an MTA-STS TXT record: lookup _mta-sts.example.com on 127.0.0.11:53: no such host."
            ),
            (
                BackendScanTests.mtaSTS(
                    status: 2, file: 2, fileMessage: "Failure: MTA-STS max_age must be a positive integer <= 31557600.",
                    policy: "version: STSv1\nmode: enforce\nmx: a.example.com\nmax_age: 63072000\n", mode: "enforce",
                    mxs: #"["a.example.com"]"#),
                "max-age-out-of-range: 63072000"
            ),
            (
                BackendScanTests.mtaSTS(
                    status: 2, file: 2,
                    fileMessage:
                        "Failure: Couldn't get policy file: https://mta-sts.example.com/.well-known/mta-sts.txt returned 404 Not Found.",
                    policy: "", mode: "", mxs: #"[""]"#),
                "http-status-not-200: 404"
            ),
            ("null", "no-mta-sts-result: scan status 0"),
        ])
    func failing(mtaSTS: String, reason: String) throws {
        let verdict = try Self.scan(Self.scanLine(mtaSTS: mtaSTS)).verdict
        #expect(!verdict.valid)
        #expect(verdict.reason == reason)
        if mtaSTS != "null" && reason.hasPrefix("http") {
            #expect(verdict.mode == nil && verdict.mx.isEmpty && verdict.listMXs.isEmpty)
        }
    }

    @Test(
        "whole-second, space-separated and zoned timestamps",
        arguments: [
            ("2020-04-21T09:15:02", Instant(seconds: 1_587_460_502)),
            ("2020-04-21 09:15:02", Instant(seconds: 1_587_460_502)),
            ("2020-04-21 09:15:02+00", Instant(seconds: 1_587_460_502)),
            ("2020-04-21T11:15:02.5+02:00", Instant(seconds: 1_587_460_502, nanoseconds: 500_000_000)),
        ])
    func timestamps(text: String, instant: Instant) throws {
        #expect(try BackendTime.parse(text).get() == instant)
    }

    @Test("errors name the key path inside scandata")
    func nestedErrors() {
        let bad = Self.scanLine(mtaSTS: #"{"name":"mta-sts","status":"0"}"#)
        #expect(throws: RecordError(field: "scandata.mta_sts.status", "expected an integer, found a string")) {
            try Self.scan(bad)
        }
        let otherDomain = Self.scanLine(domain: "example.com", mtaSTS: "null").replacingOccurrences(
            of: #"{\"domain\":\"example.com\""#, with: #"{\"domain\":\"other.org\""#)
        #expect(throws: RecordError.self) { try Self.scan(otherDomain) }
    }
}

@Suite("Shard: stable forever")
struct ShardTests {
    @Test("FNV-1a 64 of the lower-cased domain, pinned values")
    func pinned() {
        #expect(Shard.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(Shard.fnv1a64("example.com") == 0x5768_4663_4e27_14c6)
        #expect(Shard.fnv1a64("EXAMPLE.COM") == 0x5768_4663_4e27_14c6)
        #expect(Shard.of(domain: "example.com", count: 4) == 3)
        #expect(Shard.of(domain: "example.com", count: 16) == 7)
        #expect(Shard.of(domain: "gmail.com", count: 1000) == 139)
        #expect(Shard.of(domain: "a", count: 4) == 1)
        #expect(Shard.of(domain: "anything", count: 1) == 1)
    }

    @Test("K/N parsing", arguments: [("1/4", 1, 4), ("4/4", 4, 4), ("1/1", 1, 1)])
    func parse(text: String, index: Int, count: Int) {
        #expect(Shard.Selection.parse(text) == Shard.Selection(index: index, count: count))
    }

    @Test("bad K/N is refused", arguments: ["0/4", "5/4", "1/0", "a/4", "1/", "/4", "1/4/2", "-1/4", " 1/4"])
    func parseBad(text: String) {
        #expect(Shard.Selection.parse(text) == nil)
    }

    @Test("every domain lands in exactly one of N shards, spread roughly evenly")
    func partition() {
        var counts = [Int](repeating: 0, count: 8)
        for index in 0..<8000 { counts[Shard.of(domain: "d\(index).example", count: 8) - 1] += 1 }
        #expect(counts.allSatisfy { (800...1200).contains($0) }, "\(counts)")
    }
}

@Suite("aggregated_scans rows: CSV and every JSON schema")
struct AggregatedScanTests {
    @Test("a CSV row of the table export")
    func csv() throws {
        let row = try AggregatedScan.readCSV(["12", "2019-06-15 00:00:00", "LOCAL", "0", "812", "31", "9"])
        #expect(
            row
                == AggregatedScan(
                    backendID: 12, time: Instant(seconds: 1_560_556_800), source: "LOCAL", attempted: 0, withMXs: 812,
                    testing: 31, enforce: 9, schema: .csv))
        #expect(throws: RecordError(field: "with_mxs", "expected a count (whole number ≥ 0), found \"-1\"")) {
            try AggregatedScan.readCSV(["1", "2019-06-15 00:00:00", "LOCAL", "0", "-1", "0", "0"])
        }
    }

    @Test("Go AggregatedScan JSON, local offset normalised to UTC")
    func current() throws {
        let row = try AggregatedScan.readJSONLine(
            Array(
                #"{"Time":"2019-07-01T03:00:00.123456789-07:00","Source":"TOP_DOMAINS","Attempted":1000000,"WithMXs":781233,"MTASTSTesting":812,"MTASTSTestingList":null,"MTASTSEnforce":402,"MTASTSEnforceList":null}"#
                    .utf8))
        #expect(row.time == Instant(seconds: 1_561_975_200, nanoseconds: 123_456_789))
        #expect(row.withMXs == 781233 && row.testing == 812 && row.enforce == 402 && row.schema == .aggregatedScan)
    }

    @Test("the 2019-05 window: zero counts take the list lengths")
    func uncounted() throws {
        let row = try AggregatedScan.readJSONLine(
            Array(
                #"{"Time":"2019-05-20T00:00:00Z","Source":"TOP_DOMAINS","Attempted":10,"WithMXs":8,"MTASTSTesting":0,"MTASTSTestingList":["a.com","b.com"],"MTASTSEnforce":0,"MTASTSEnforceList":["c.com"]}"#
                    .utf8))
        #expect(row.testing == 2 && row.enforce == 1)
    }

    @Test("the DomainTotals schema: Connected and lists as counts")
    func domainTotals() throws {
        let row = try AggregatedScan.readJSONLine(
            Array(
                #"{"Time":"2019-02-01T10:00:00+01:00","Source":"top-1m.csv","Attempted":1000,"Connected":700,"MTASTSTesting":["a.com"],"MTASTSEnforce":["b.com","c.com"]}"#
                    .utf8))
        #expect(row.withMXs == 700 && row.testing == 1 && row.enforce == 2 && row.schema == .domainTotals)
        #expect(row.time == Instant(seconds: 1_549_011_600))
    }
}
