import Foundation
import PolicyListIO
import Synchronization
import Testing

/// Counts work in flight and remembers the highest count seen.
final class InFlightGauge: Sendable {
    private let state = Mutex((current: 0, maximum: 0))

    func enter() {
        state.withLock {
            $0.current += 1
            $0.maximum = max($0.maximum, $0.current)
        }
    }

    func leave() { state.withLock { $0.current -= 1 } }

    var maximum: Int { state.withLock { $0.maximum } }
}

extension NetIntegrationTests {
    @Suite("Scale: generated loopback domains at bounded concurrency")
    struct Scale {
        struct Observed: Sendable {
            let txt: DNSOutcome<TXTRecord>
            let policy: PolicyFetchOutcome
        }

        @Test("1,000 domains (POLICYLIST_NET_SCALE), DNS TXT + A + HTTPS each, at most 64 in flight")
        func thousandDomains() async throws {
            let servers = try liveServers()
            let resolver = LibresolvResolver(
                .init(nameserver: try Nameserver(servers.nameserver), timeoutSeconds: 5, attempts: 2))
            let fetcher = try CurlPolicyFetcher(
                .init(
                    trust: .replacing(servers.caFile), port: servers.httpsPort, connectTimeout: .seconds(5),
                    totalTimeout: .seconds(10)))
            let domains = (1...TestServers.scaleDomains).map { String(format: "d%05d.obs.test", $0) }
            let limit = 64
            let gauge = InFlightGauge()
            var results = [Observed?](repeating: nil, count: domains.count)

            @Sendable func observe(_ domain: String) async -> Observed {
                gauge.enter()
                defer { gauge.leave() }
                async let txt = resolver.txt("_mta-sts." + domain)
                let addresses = await resolver.ipv4("mta-sts." + domain).records
                let policy = await fetcher.fetchPolicy(domain: domain, addresses: addresses)
                return Observed(txt: await txt, policy: policy)
            }

            let clock = ContinuousClock()
            let elapsed = await clock.measure {
                await withTaskGroup(of: (Int, Observed).self) { group in
                    var next = 0
                    while next < min(limit, domains.count) {
                        let index = next
                        group.addTask { (index, await observe(domains[index])) }
                        next += 1
                    }
                    for await (index, observed) in group {
                        results[index] = observed
                        if next < domains.count {
                            let index = next
                            group.addTask { (index, await observe(domains[index])) }
                            next += 1
                        }
                    }
                }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let line = String(
                format:
                    "scale: %d domains (TXT + A + HTTPS) in %.2f s = %.0f domains/s, concurrency %d, max in flight %d",
                domains.count, seconds, Double(domains.count) / seconds, limit, gauge.maximum)
            print(line)

            #expect(gauge.maximum <= limit)
            #expect(gauge.maximum > 1)
            #expect(elapsed < .seconds(60))
            for (domain, observed) in zip(domains, results) {
                guard let observed else {
                    Issue.record("\(domain): no result")
                    continue
                }
                #expect(observed.txt.records.map(\.text) == ["v=STSv1; id=20240101T000000;"], "\(domain)")
                #expect(observed.policy.observationStatus == "ok", "\(domain): \(observed.policy)")
                #expect(observed.policy.bodyText?.contains("mx: mx1.\(domain)\r\n") == true, "\(domain)")
            }
        }
    }
}
