import Foundation
import PolicyListIO
import Testing

extension NetIntegrationTests {
    /// LibresolvResolver against the real unbound on loopback (see scripts/testservers/README.md).
    @Suite("DNS over libresolv against unbound")
    struct DNS {
        func resolver(_ servers: TestServers, timeout: Int = 3, attempts: Int = 1) throws -> LibresolvResolver {
            LibresolvResolver(
                .init(nameserver: try Nameserver(servers.nameserver), timeoutSeconds: timeout, attempts: attempts))
        }

        @Test("a valid _mta-sts TXT record comes back as one record, not authenticated")
        func txtValid() async throws {
            let servers = try liveServers()
            let outcome = try await resolver(servers).txt("_mta-sts.enforce.sts.test")
            #expect(outcome.status == "ok")
            #expect(outcome.records.map(\.text) == ["v=STSv1; id=enforce1;"])
            #expect(outcome.records.first?.strings == ["v=STSv1; id=enforce1;"])
            #expect(!outcome.authenticated)
        }

        @Test("a TXT record split across two strings keeps both strings and joins them")
        func txtSplit() async throws {
            let outcome = try await resolver(try liveServers()).txt("_mta-sts.split.sts.test")
            let record = try #require(outcome.records.first)
            #expect(outcome.records.count == 1)
            #expect(record.strings == ["v=STSv1; ", "id=split1;"])
            #expect(record.text == "v=STSv1; id=split1;")
        }

        @Test("two v=STSv1 records are both returned")
        func txtMultiple() async throws {
            let outcome = try await resolver(try liveServers()).txt("_mta-sts.multi.sts.test")
            #expect(outcome.records.map(\.text).sorted() == ["v=STSv1; id=multi1;", "v=STSv1; id=multi2;"])
        }

        @Test("a name that does not exist is NXDOMAIN")
        func nxdomain() async throws {
            let outcome = try await resolver(try liveServers()).txt("_mta-sts.missing.sts.test")
            #expect(outcome == .nxdomain)
            #expect(outcome.status == "nxdomain")
        }

        @Test("a name with other types but no TXT is NODATA")
        func nodata() async throws {
            let outcome = try await resolver(try liveServers()).txt("_mta-sts.nodata.sts.test")
            #expect(outcome == .nodata)
        }

        @Test("a zone failing DNSSEC validation in unbound is SERVFAIL, not a timeout")
        func servfail() async throws {
            let clock = ContinuousClock()
            var outcome: DNSOutcome<TXTRecord> = .timeout
            let elapsed = try await clock.measure {
                outcome = try await resolver(try liveServers()).txt("_mta-sts.bogus.test")
            }
            #expect(outcome == .servfail)
            #expect(elapsed < .seconds(2))
        }

        @Test("a server that never answers (UDP) times out after timeout × attempts, not later")
        func blackHoleUDP() async throws {
            let servers = try liveServers()
            let resolver = LibresolvResolver(
                .init(nameserver: try Nameserver("127.0.0.1:\(servers.blackholePort)"), timeoutSeconds: 1, attempts: 2))
            let clock = ContinuousClock()
            var outcome: DNSOutcome<TXTRecord> = .nodata
            let elapsed = await clock.measure { outcome = await resolver.txt("_mta-sts.enforce.sts.test") }
            print("black hole UDP: \(outcome.status) after \(elapsed) (timeout 1 s × 2 attempts)")
            #expect(outcome == .timeout)
            #expect(elapsed >= .milliseconds(1900))
            #expect(elapsed <= .milliseconds(2800))
        }

        @Test("a TCP server that accepts and never answers is cut off by the hard deadline")
        func blackHoleTCP() async throws {
            let servers = try liveServers()
            let resolver = LibresolvResolver(
                .init(
                    nameserver: try Nameserver("127.0.0.1:\(servers.blackholePort)"), timeoutSeconds: 1, attempts: 1,
                    useTCP: true))
            let clock = ContinuousClock()
            var outcome: DNSOutcome<TXTRecord> = .nodata
            let elapsed = await clock.measure { outcome = await resolver.txt("_mta-sts.enforce.sts.test") }
            print("black hole TCP: \(outcome.status) after \(elapsed) (deadline 1 s × 1 × 2 + 1 s)")
            #expect(outcome == .timeout)
            #expect(elapsed <= .milliseconds(3800))
        }

        @Test("an answer too big for UDP (TC bit) is fetched again over TCP")
        func truncatedRetriedOverTCP() async throws {
            let outcome = try await resolver(try liveServers()).txt("_mta-sts.bigtxt.sts.test")
            #expect(outcome.status == "ok")
            #expect(outcome.records.count == 9)
            #expect(outcome.records.contains { $0.text == "v=STSv1; id=bigtxt1;" })
        }

        @Test("TCP from the start gives the same answer")
        func tcpQuery() async throws {
            let servers = try liveServers()
            let resolver = LibresolvResolver(
                .init(nameserver: try Nameserver(servers.nameserver), timeoutSeconds: 2, attempts: 1, useTCP: true))
            #expect(await resolver.txt("_mta-sts.split.sts.test").records.map(\.text) == ["v=STSv1; id=split1;"])
        }

        @Test("TLSRPT present and absent")
        func tlsrpt() async throws {
            let resolver = try resolver(try liveServers())
            let present = await resolver.txt("_smtp._tls.enforce.sts.test")
            #expect(present.records.map(\.text) == ["v=TLSRPTv1; rua=mailto:tlsrpt@enforce.sts.test"])
            let absent = await resolver.txt("_smtp._tls.testing.sts.test")
            #expect(absent == .nxdomain)
        }

        @Test("TLSA in the DNSSEC-signed zone carries the AD bit set by unbound's validator")
        func tlsaAuthenticated() async throws {
            let servers = try liveServers()
            let outcome = try await resolver(servers).tlsa("_25._tcp.mx.dane.test")
            let record = try #require(outcome.records.first)
            #expect(outcome.authenticated)
            #expect([record.usage, record.selector, record.matchingType] == [3, 1, 1])
            #expect(record.dataHex == servers.tlsaSHA256)
        }

        @Test("the same TLSA in an unsigned zone comes without the AD bit")
        func tlsaUnauthenticated() async throws {
            let servers = try liveServers()
            let outcome = try await resolver(servers).tlsa("_25._tcp.mx1.enforce.sts.test")
            #expect(outcome.status == "ok")
            #expect(!outcome.authenticated)
            #expect(outcome.records.first?.dataHex == servers.tlsaSHA256)
        }

        @Test("without DO/trust-ad the signed answer is not reported as authenticated")
        func dnssecOff() async throws {
            let servers = try liveServers()
            let resolver = LibresolvResolver(
                .init(nameserver: try Nameserver(servers.nameserver), timeoutSeconds: 2, attempts: 1, dnssec: false))
            let outcome = await resolver.tlsa("_25._tcp.mx.dane.test")
            #expect(outcome.status == "ok")
            #expect(!outcome.authenticated)
        }

        @Test("MX lists: preference and host; signed zone authenticated")
        func mx() async throws {
            let resolver = try resolver(try liveServers())
            let outcome = await resolver.mx("enforce.sts.test")
            #expect(
                outcome.records.sorted { $0.preference < $1.preference } == [
                    MXRecord(preference: 10, exchange: "mx1.enforce.sts.test"),
                    MXRecord(preference: 20, exchange: "mx2.enforce.sts.test"),
                ])
            #expect(!outcome.authenticated)
            let signed = await resolver.mx("dane.test")
            #expect(signed == .ok([MXRecord(preference: 10, exchange: "mx.dane.test")], authenticated: true))
        }

        @Test("A record of a policy host")
        func address() async throws {
            let outcome = try await resolver(try liveServers()).ipv4("mta-sts.enforce.sts.test")
            #expect(outcome.records == ["127.0.0.1"])
        }

        @Test("an IPv6 nameserver ([::1]:PORT) works like the IPv4 one")
        func ipv6Nameserver() async throws {
            let servers = try liveServers()
            try #require(servers.ipv6, "::1 is not available on this machine")
            let resolver = LibresolvResolver(
                .init(nameserver: try Nameserver("[::1]:\(servers.dnsPort)"), timeoutSeconds: 2, attempts: 1))
            #expect(await resolver.txt("_mta-sts.enforce.sts.test").records.map(\.text) == ["v=STSv1; id=enforce1;"])
        }

        @Test("concurrent lookups each use their own resolver state")
        func concurrentLookups() async throws {
            let resolver = try resolver(try liveServers())
            let names = (1...200).map { String(format: "d%05d.obs.test", $0) }
            let results = await withTaskGroup(of: (String, [MXRecord]).self) { group in
                for name in names { group.addTask { (name, await resolver.mx(name).records) } }
                return await group.reduce(into: [String: [MXRecord]]()) { $0[$1.0] = $1.1 }
            }
            for name in names {
                #expect(results[name] == [MXRecord(preference: 10, exchange: "mx1.\(name)")])
            }
        }
    }
}
