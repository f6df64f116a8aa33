import Testing

@testable import PolicyListIO

/// Pure parts of the network edge: no servers.
@Suite("Net: parsing and mapping")
struct NetUnitTests {
    @Test(
        "nameserver ADDR[:PORT] parsing",
        arguments: [
            ("127.0.0.1", "127.0.0.1", 53),
            ("127.0.0.1:5353", "127.0.0.1", 5353),
            ("::1", "::1", 53),
            ("[::1]", "::1", 53),
            ("[::1]:5353", "::1", 5353),
            ("2001:db8::53", "2001:db8::53", 53),
        ])
    func nameserver(text: String, address: String, port: Int) throws {
        let nameserver = try Nameserver(text)
        #expect(nameserver.address == address)
        #expect(Int(nameserver.port) == port)
    }

    @Test("bad nameservers are usage errors", arguments: ["localhost", "127.0.0.1:0", "127.0.0.1:x", "[::1", "1.2.3"])
    func badNameserver(text: String) {
        #expect(throws: (any Error).self) { try Nameserver(text) }
    }

    /// A response header + question for `a.b` TXT, with `answers` appended.
    func response(rcode: UInt8 = 0, flags: UInt16 = 0x8180, answers: [[UInt8]]) -> [UInt8] {
        let f = flags | UInt16(rcode)
        var bytes: [UInt8] = [0x12, 0x34, UInt8(f >> 8), UInt8(f & 0xFF), 0, 1, 0, UInt8(answers.count), 0, 0, 0, 0]
        bytes += [1, 0x61, 1, 0x62, 0, 0, 16, 0, 1]  // a.b TXT IN, at offset 12
        for answer in answers { bytes += answer }
        return bytes
    }

    func rr(type: UInt16, _ rdata: [UInt8]) -> [UInt8] {
        [0xC0, 12, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1, 0, 0, 1, 44, 0, UInt8(rdata.count)] + rdata
    }

    @Test("TXT strings stay separate and are joined in text")
    func txtStrings() throws {
        let message = try DNSMessage(parsing: response(answers: [rr(type: 16, [3, 0x61, 0x62, 0x63, 2, 0x64, 0x65])]))
        #expect(message.answers.first?.name == "a.b")
        #expect(message.answers.first?.data == .txt(TXTRecord(strings: ["abc", "de"])))
        #expect(TXTRecord(strings: ["abc", "de"]).text == "abcde")
    }

    @Test("MX with a compressed exchange name")
    func mxCompressed() throws {
        let message = try DNSMessage(parsing: response(answers: [rr(type: 15, [0, 10, 2, 0x6D, 0x78, 0xC0, 12])]))
        #expect(message.answers.first?.data == .mx(MXRecord(preference: 10, exchange: "mx.a.b")))
    }

    @Test("AD, TC and rcode header bits")
    func headerBits() throws {
        let ad = try DNSMessage(parsing: response(flags: 0x81A0, answers: []))
        #expect(ad.authenticated && !ad.truncated && ad.rcode == 0)
        let tc = try DNSMessage(parsing: response(flags: 0x8380, answers: []))
        #expect(tc.truncated)
        #expect(try DNSMessage(parsing: response(rcode: 3, answers: [])).rcode == 3)
    }

    @Test("outcomes from rcode and answers")
    func outcomes() {
        let txt = rr(type: 16, [2, 0x6F, 0x6B])
        #expect(LibresolvResolver.outcome(of: response(answers: [txt]), type: .txt).status == "ok")
        #expect(LibresolvResolver.outcome(of: response(answers: []), type: .txt) == .nodata)
        #expect(LibresolvResolver.outcome(of: response(rcode: 3, answers: []), type: .txt) == .nxdomain)
        #expect(LibresolvResolver.outcome(of: response(rcode: 2, answers: []), type: .txt) == .servfail)
        #expect(LibresolvResolver.outcome(of: response(rcode: 5, answers: []), type: .txt) == .error("REFUSED"))
        #expect(LibresolvResolver.outcome(of: response(flags: 0x8380, answers: []), type: .txt).status == "error")
        #expect(LibresolvResolver.outcome(of: response(answers: [txt]), type: .mx) == .nodata)
        #expect(LibresolvResolver.outcome(of: [1, 2, 3], type: .txt).status == "error")
    }

    @Test(
        "malformed responses are errors, not crashes",
        arguments: [
            [UInt8](),
            [0x12, 0x34, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0xC0, 12],  // pointer to itself
            [0x12, 0x34, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 200],  // rdata overrun
            [0x12, 0x34, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 0x61],  // TXT overrun
        ])
    func malformed(bytes: [UInt8]) {
        #expect(throws: DNSMessage.ParseError.self) { try DNSMessage(parsing: bytes) }
    }

    @Test("TLSA and addresses decode")
    func tlsaAndAddresses() throws {
        let message = try DNSMessage(
            parsing: response(answers: [
                rr(type: 52, [3, 1, 1, 0xAB, 0xCD]), rr(type: 1, [127, 0, 0, 1]),
                rr(type: 28, [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]),
            ]))
        #expect(
            message.answers.map(\.data) == [
                .tlsa(TLSARecord(usage: 3, selector: 1, matchingType: 1, data: [0xAB, 0xCD])), .a("127.0.0.1"),
                .aaaa("2001:db8::1"),
            ])
        #expect(TLSARecord(usage: 3, selector: 1, matchingType: 1, data: [0xAB, 0xCD]).dataHex == "abcd")
    }

    @Test(
        "fetch outcomes map to the observation vocabulary",
        arguments: [
            (PolicyFetchOutcome.ok(status: 200, contentType: "text/plain", body: []), "ok"),
            (.ok(status: 200, contentType: "TEXT/PLAIN; charset=utf-8", body: []), "ok"),
            (.ok(status: 200, contentType: "text/html", body: []), "content-type"),
            (.ok(status: 200, contentType: nil, body: []), "content-type"),
            (.httpStatus(404, contentType: nil, body: nil), "http-status"),
            (.redirect(301, location: "https://x/"), "redirect"),
            (.tooLarge, "too-large"),
            (.tlsError("x"), "tls-error"),
            (.timeout, "timeout"),
            (.error("x"), "error"),
        ])
    func observationStatus(outcome: PolicyFetchOutcome, status: String) {
        #expect(outcome.observationStatus == status)
    }

    @Test("policy URL")
    func policyURL() {
        #expect(
            CurlPolicyFetcher.policyURL(domain: "Example.COM.") == "https://mta-sts.example.com/.well-known/mta-sts.txt"
        )
        #expect(
            CurlPolicyFetcher.policyURL(domain: "a.test", port: 8443)
                == "https://mta-sts.a.test:8443/.well-known/mta-sts.txt")
    }

    @Test("bad resolve entries and missing CA files are usage errors")
    func fetcherConfiguration() {
        #expect(throws: (any Error).self) { try CurlPolicyFetcher(.init(resolve: ["mta-sts.a.test:443"])) }
        #expect(throws: (any Error).self) { try CurlPolicyFetcher(.init(trust: .replacing("/nonexistent/ca.pem"))) }
    }
}
