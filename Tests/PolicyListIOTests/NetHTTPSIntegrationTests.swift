import PolicyListIO
import Testing

extension NetIntegrationTests {
    /// CurlPolicyFetcher against the real nginx on loopback (see scripts/testservers/README.md).
    @Suite("HTTPS over libcurl against nginx")
    struct HTTPS {
        /// A fetcher trusting only the test CA, sending every host to nginx's port (`--connect-to`), so
        /// URLs, Host headers and SNI stay `mta-sts.<domain>` on port 443 and no DNS is involved.
        func fetcher(
            _ servers: TestServers, total: Duration = .seconds(5), lowSpeed: Int = 10,
            lowSpeedTime: Duration = .seconds(10)
        ) throws -> CurlPolicyFetcher {
            try CurlPolicyFetcher(
                .init(
                    trust: .replacing(servers.caFile), connectTo: ["::127.0.0.1:\(servers.httpsPort)"],
                    connectTimeout: .seconds(2), totalTimeout: total, lowSpeedBytesPerSecond: lowSpeed,
                    lowSpeedTime: lowSpeedTime))
        }

        @Test(
            "valid policies are fetched with status 200, text/plain and the body",
            arguments: [("enforce.sts.test", "enforce"), ("testing.sts.test", "testing"), ("none.sts.test", "none")])
        func validPolicy(domain: String, mode: String) async throws {
            let outcome = try await fetcher(try liveServers()).fetchPolicy(domain: domain)
            guard case .ok(let status, let contentType, _) = outcome else {
                Issue.record("expected .ok, got \(outcome)")
                return
            }
            #expect(status == 200)
            #expect(contentType == "text/plain")
            #expect(outcome.bodyText?.hasPrefix("version: STSv1\r\nmode: \(mode)\r\n") == true)
            #expect(outcome.observationStatus == "ok")
        }

        @Test("404 is an http-status outcome with the status recorded")
        func notFound() async throws {
            let outcome = try await fetcher(try liveServers()).fetchPolicy(domain: "http404.sts.test")
            #expect(outcome.httpStatus == 404)
            #expect(outcome.observationStatus == "http-status")
            if case .httpStatus = outcome {} else { Issue.record("expected .httpStatus, got \(outcome)") }
        }

        @Test("a 301 is not followed; the status and Location are recorded")
        func redirect() async throws {
            let outcome = try await fetcher(try liveServers()).fetchPolicy(domain: "redirect.sts.test")
            #expect(outcome == .redirect(301, location: "https://policy.elsewhere.test/mta-sts.txt"))
            #expect(outcome.observationStatus == "redirect")
        }

        @Test("a text/html Content-Type is recorded and maps to content-type")
        func htmlContentType() async throws {
            let outcome = try await fetcher(try liveServers()).fetchPolicy(domain: "html.sts.test")
            #expect(outcome.httpStatus == 200)
            #expect(outcome.contentType == "text/html")
            #expect(outcome.observationStatus == "content-type")
        }

        @Test("a 100 KiB body with Content-Length is refused as too large")
        func bodyTooLargeKnownLength() async throws {
            let outcome = try await fetcher(try liveServers()).fetchPolicy(domain: "bigbody.sts.test")
            #expect(outcome == .tooLarge)
            #expect(outcome.observationStatus == "too-large")
        }

        @Test("a 100 KiB chunked body is cut at 64 KiB by the write callback")
        func bodyTooLargeChunked() async throws {
            let outcome = try await fetcher(try liveServers()).fetchPolicy(domain: "bigchunked.sts.test")
            #expect(outcome == .tooLarge)
        }

        @Test("a server sending one byte per second is cut off by the total timeout")
        func slowTotalTimeout() async throws {
            let fetcher = try fetcher(try liveServers(), total: .seconds(2), lowSpeed: 0)
            let clock = ContinuousClock()
            var outcome: PolicyFetchOutcome = .tooLarge
            let elapsed = await clock.measure { outcome = await fetcher.fetchPolicy(domain: "slow.sts.test") }
            print("slow server, total timeout 2 s: \(outcome.observationStatus) after \(elapsed)")
            #expect(outcome == .timeout)
            #expect(elapsed >= .milliseconds(1900))
            #expect(elapsed <= .milliseconds(3000))
        }

        @Test("a server sending one byte per second is cut off by the low-speed limit")
        func slowLowSpeed() async throws {
            let fetcher = try fetcher(
                try liveServers(), total: .seconds(20), lowSpeed: 10, lowSpeedTime: .seconds(2))
            let clock = ContinuousClock()
            var outcome: PolicyFetchOutcome = .tooLarge
            let elapsed = await clock.measure { outcome = await fetcher.fetchPolicy(domain: "slow.sts.test") }
            print("slow server, low-speed 10 B/s over 2 s: \(outcome.observationStatus) after \(elapsed)")
            #expect(outcome == .timeout)
            #expect(elapsed <= .seconds(5))
        }

        @Test(
            "certificates that must not be trusted are TLS errors",
            arguments: [
                ("wrongname.sts.test", "no alternative certificate subject name matches"),
                ("expired.sts.test", "certificate has expired"),
                ("selfsigned.sts.test", "self-signed certificate"),
            ])
        func untrustedCertificate(domain: String, reason: String) async throws {
            let outcome = try await fetcher(try liveServers()).fetchPolicy(domain: domain)
            guard case .tlsError(let message) = outcome else {
                Issue.record("expected .tlsError, got \(outcome)")
                return
            }
            #expect(message.contains(reason), "\(message)")
            #expect(outcome.observationStatus == "tls-error")
        }

        @Test("the test CA is not trusted by default: the same host fails with system CAs only")
        func systemTrustRejectsTestCA() async throws {
            let servers = try liveServers()
            let fetcher = try CurlPolicyFetcher(
                .init(connectTo: ["::127.0.0.1:\(servers.httpsPort)"], connectTimeout: .seconds(2)))
            let outcome = await fetcher.fetchPolicy(domain: "enforce.sts.test")
            #expect(outcome.observationStatus == "tls-error", "\(outcome)")
        }

        @Test("adding the test CA to the system store (--ca-file) trusts it")
        func addingCA() async throws {
            let servers = try liveServers()
            let fetcher = try CurlPolicyFetcher(
                .init(trust: .adding(servers.caFile), connectTo: ["::127.0.0.1:\(servers.httpsPort)"]))
            #expect(await fetcher.fetchPolicy(domain: "enforce.sts.test").observationStatus == "ok")
        }

        @Test("reused handles carry nothing over: a pinned address, a verified host, trust, one after another")
        func reusedHandlesCarryNothingOver() async throws {
            let servers = try liveServers()
            let port = servers.httpsPort
            // One request at a time, so each reuses the handle the previous one gave back.
            let fetcher = try CurlPolicyFetcher(.init(trust: .adding(servers.caFile), port: port))
            let host = "enforce.sts.test"
            #expect(await fetcher.fetchPolicy(domain: host, addresses: ["127.0.0.1"]).observationStatus == "ok")
            // The same host pinned elsewhere (nothing listens on 127.0.0.2): the earlier pin must be gone.
            let moved = await fetcher.fetchPolicy(domain: host, addresses: ["127.0.0.2"])
            #expect(moved.observationStatus == "error", "\(moved)")
            // Unpinned, the .test name does not resolve at all: no address was cached from before.
            let unpinned = await fetcher.fetchPolicy(domain: host)
            #expect(unpinned.observationStatus == "error", "\(unpinned)")
            #expect(await fetcher.fetchPolicy(domain: host, addresses: ["127.0.0.1"]).observationStatus == "ok")
            // The shared CA store trusts no more after a success: bad certificates still fail, every time.
            for bad in ["selfsigned.sts.test", "expired.sts.test", "wrongname.sts.test", "selfsigned.sts.test"] {
                let outcome = await fetcher.fetchPolicy(domain: bad, addresses: ["127.0.0.1"])
                #expect(outcome.observationStatus == "tls-error", "\(bad): \(outcome)")
            }
            #expect(
                await fetcher.fetchPolicy(domain: "testing.sts.test", addresses: ["127.0.0.1"]).observationStatus
                    == "ok")
        }

        @Test("fetchers with different trust share nothing: system-only still rejects the test CA after --ca-file")
        func trustIsPerFetcher() async throws {
            let servers = try liveServers()
            let route = ["::127.0.0.1:\(servers.httpsPort)"]
            let adding = try CurlPolicyFetcher(.init(trust: .adding(servers.caFile), connectTo: route))
            let system = try CurlPolicyFetcher(.init(connectTo: route, connectTimeout: .seconds(2)))
            for _ in 0..<3 {
                #expect(await adding.fetchPolicy(domain: "enforce.sts.test").observationStatus == "ok")
                #expect(await system.fetchPolicy(domain: "enforce.sts.test").observationStatus == "tls-error")
            }
        }

        @Test("--resolve HOST:PORT:ADDR is used: the .test host resolves only through the mapping")
        func resolveMapping() async throws {
            let servers = try liveServers()
            let port = servers.httpsPort
            let fetcher = try CurlPolicyFetcher(
                .init(
                    trust: .replacing(servers.caFile), resolve: ["mta-sts.enforce.sts.test:\(port):127.0.0.1"],
                    port: port))
            let outcome = await fetcher.fetchPolicy(domain: "enforce.sts.test")
            #expect(outcome.observationStatus == "ok", "\(outcome)")
        }

        @Test("addresses from the observer's own DNS pin the policy host")
        func pinnedAddresses() async throws {
            let servers = try liveServers()
            let resolver = LibresolvResolver(.init(nameserver: try Nameserver(servers.nameserver)))
            let addresses = await resolver.ipv4("mta-sts.testing.sts.test").records
            #expect(addresses == ["127.0.0.1"])
            let fetcher = try CurlPolicyFetcher(.init(trust: .replacing(servers.caFile), port: servers.httpsPort))
            let outcome = await fetcher.fetchPolicy(domain: "testing.sts.test", addresses: addresses)
            #expect(outcome.bodyText?.contains("mode: testing") == true, "\(outcome)")
        }

        @Test("only https is allowed")
        func httpRefused() async throws {
            let outcome = try await fetcher(try liveServers()).fetch(url: "http://mta-sts.enforce.sts.test/")
            guard case .error(let message) = outcome else {
                Issue.record("expected .error, got \(outcome)")
                return
            }
            #expect(message.lowercased().contains("protocol"), "\(message)")
        }

        @Test("a closed port is a transport error")
        func connectionRefused() async throws {
            let servers = try liveServers()
            let fetcher = try CurlPolicyFetcher(
                .init(trust: .replacing(servers.caFile), connectTo: ["::127.0.0.1:9"], connectTimeout: .seconds(2)))
            let outcome = await fetcher.fetchPolicy(domain: "enforce.sts.test")
            #expect(outcome.observationStatus == "error", "\(outcome)")
        }

        @Test("cancelling the task aborts a transfer in progress")
        func cancellation() async throws {
            let fetcher = try fetcher(try liveServers(), total: .seconds(30), lowSpeed: 0)
            let clock = ContinuousClock()
            let start = clock.now
            let task = Task { await fetcher.fetchPolicy(domain: "slow.sts.test") }
            try await Task.sleep(for: .milliseconds(500))
            task.cancel()
            let outcome = await task.value
            #expect(outcome == .error("cancelled"))
            #expect(clock.now - start < .seconds(3))
        }
    }
}
