import PolicyListCore
import PolicyListIO

/// One look at one domain, the way a sending MTA looks (RFC 8461 §3, §5), turned into a native ``Observation``.
///
/// Order of lookups for `example.com`:
/// 1. at once and in parallel: TXT `_mta-sts.example.com`; MX `example.com` (unless `checkMX` is off, or
///    `dane` needs it anyway); TXT `_smtp._tls.example.com` with `tlsrpt`;
/// 2. the policy, `https://mta-sts.example.com/.well-known/mta-sts.txt`, only when the TXT answer holds at
///    least one `v=STSv1` candidate record (a sender without a cached policy fetches nothing otherwise,
///    §3.1/§5.1), or always with `alwaysFetch`. With `pinAddresses`, the policy host's A and AAAA records
///    come from the same resolver (so `--nameserver` governs every name the observer uses) and pin the
///    HTTPS connection to them; otherwise libcurl resolves the host itself (system resolver, `--resolve`,
///    `--connect-to`);
/// 3. with `dane`: TLSA `_25._tcp.<mx>` for each distinct MX host (lowest preference first, at most
///    ``Options/maxTLSAHosts``), after the MX answer, all in parallel.
///
/// Every failure is a fact in the observation, never an error. RRsets are recorded in a canonical order
/// (TXT by their joined text, MX by preference then host, TLSA by fields): DNS order carries no meaning and
/// servers rotate it, and a canonical order makes two observations of the same facts byte-identical (shard
/// runs equal a single run).
struct LiveProbe: Sendable {
    /// What to look up besides the TXT record and the policy.
    struct Options: Sendable {
        /// The `source` of every observation (part of its identity).
        var source = "live"
        /// Look up `_smtp._tls.<domain>` TXT.
        var tlsrpt = false
        /// Look up MX and TLSA `_25._tcp.<mx>` with the AD bit.
        var dane = false
        /// Look up MX for the RFC 8461 §4.1 coverage check.
        var checkMX = true
        /// Fetch the policy even without a `v=STSv1` TXT record.
        var alwaysFetch = false
        /// Resolve the policy host with the observer's resolver and pin the connection to its addresses.
        var pinAddresses = false
        /// At most this many MX hosts get a TLSA lookup.
        var maxTLSAHosts = 8
    }

    let resolver: any Resolver
    let fetcher: any PolicyFetcher
    let options: Options
    /// The observation instant: `--now` for every domain when given, otherwise the system clock.
    let clock: @Sendable () -> Instant

    /// Observes `domain` (already normalised).
    func observe(_ domain: String) async -> Observation {
        let observedAt = clock()
        let resolver = resolver
        let wantMX = options.checkMX || options.dane
        async let txtLookup = resolver.txt("_mta-sts." + domain)
        async let mxLookup: DNSOutcome<MXRecord>? = wantMX ? resolver.mx(domain) : nil
        async let tlsrptLookup: DNSOutcome<TXTRecord>? =
            options.tlsrpt ? resolver.txt("_smtp._tls." + domain) : nil

        let txtOutcome = await txtLookup
        let txt = Self.txtFacts(txtOutcome)
        let policy: Observation.PolicyFacts
        if options.alwaysFetch || Self.hasCandidate(txt) {
            policy = await fetchPolicy(domain)
        } else {
            policy = Observation.PolicyFacts(
                status: .error, error: "not fetched: no v=STSv1 TXT record (RFC 8461 §3.1)")
        }
        let mxOutcome = await mxLookup
        var tlsa: JSONValue?
        if options.dane, let mxOutcome { tlsa = await tlsaFacts(mxOutcome) }
        let tlsrpt = await tlsrptLookup.map(Self.tlsrptFacts)
        return Observation(
            domain: domain, observedAt: observedAt, source: options.source, txt: txt, policy: policy,
            tlsrpt: tlsrpt, tlsa: tlsa, mx: mxOutcome.map(Self.mxFacts))
    }

    /// Whether a TXT answer holds a `v=STSv1` candidate record (then a sender fetches the policy).
    static func hasCandidate(_ txt: Observation.TXTFacts) -> Bool {
        guard txt.status == .ok else { return false }
        let rrset = txt.records.map { $0.map { Array($0.utf8) } }
        return MTASTS.evaluateTXT(rrset: rrset).lenient.result != .absent
    }

    private func fetchPolicy(_ domain: String) async -> Observation.PolicyFacts {
        guard options.pinAddresses else { return Self.policyFacts(await fetcher.fetchPolicy(domain: domain)) }
        let host = "mta-sts." + domain
        async let v4 = resolver.ipv4(host)
        async let v6 = resolver.ipv6(host)
        let (a, aaaa) = (await v4, await v6)
        let addresses = a.records + aaaa.records
        guard !addresses.isEmpty else {
            return Observation.PolicyFacts(
                status: .error, error: "policy host \(host) has no address (A \(a.status), AAAA \(aaaa.status))")
        }
        return Self.policyFacts(await fetcher.fetchPolicy(domain: domain, addresses: addresses))
    }

    private func tlsaFacts(_ mx: DNSOutcome<MXRecord>) async -> JSONValue {
        var hosts: [String] = []
        for record in mx.records.sorted(by: { $0.preference < $1.preference }) {
            let host = record.exchange.hasSuffix(".") ? String(record.exchange.dropLast()) : record.exchange
            if !host.isEmpty, !hosts.contains(host) { hosts.append(host) }
        }
        let resolver = resolver
        let chosen = Array(hosts.prefix(options.maxTLSAHosts))
        let lookups = await withTaskGroup(of: (Int, DNSOutcome<TLSARecord>).self) { group in
            for (index, host) in chosen.enumerated() {
                group.addTask { (index, await resolver.tlsa("_25._tcp." + host)) }
            }
            var results = [DNSOutcome<TLSARecord>](repeating: .nodata, count: chosen.count)
            for await (index, outcome) in group { results[index] = outcome }
            return results
        }
        let entries: [JSONValue] = zip(chosen, lookups).map { host, outcome in
            var members: [JSONMember] = [
                JSONMember("host", .string(host)), JSONMember("status", .string(outcome.status)),
                JSONMember("authenticated", .bool(outcome.authenticated)),
                JSONMember(
                    "records",
                    .array(
                        canonical(outcome.records).map { record in
                            .object([
                                JSONMember("usage", .int(record.usage)), JSONMember("selector", .int(record.selector)),
                                JSONMember("matchingType", .int(record.matchingType)),
                                JSONMember("data", .string(hex(record.data))),
                            ])
                        })),
            ]
            if case .error(let message) = outcome { members.append(JSONMember("error", .string(message))) }
            return .object(members)
        }
        var members: [JSONMember] = [
            JSONMember("mxStatus", .string(mx.status)), JSONMember("mxAuthenticated", .bool(mx.authenticated)),
            JSONMember("hosts", .array(entries)),
        ]
        if hosts.count > chosen.count { members.append(JSONMember("hostsSkipped", .int(hosts.count - chosen.count))) }
        return .object(members)
    }

    // MARK: - Outcomes to facts

    /// The TXT facts of a lookup: each RR's character-strings as text.
    static func txtFacts(_ outcome: DNSOutcome<TXTRecord>) -> Observation.TXTFacts {
        switch outcome {
        case .ok(let records, _): Observation.TXTFacts(status: .ok, records: canonical(records).map(\.strings))
        case .nxdomain: Observation.TXTFacts(status: .nxdomain)
        case .nodata: Observation.TXTFacts(status: .nodata)
        case .servfail: Observation.TXTFacts(status: .servfail)
        case .timeout: Observation.TXTFacts(status: .timeout)
        case .error(let message): Observation.TXTFacts(status: .error, error: message)
        }
    }

    /// The policy facts of a fetch.
    static func policyFacts(_ outcome: PolicyFetchOutcome) -> Observation.PolicyFacts {
        switch outcome {
        case .ok(let status, let contentType, let body):
            return Observation.PolicyFacts(
                status: PolicyFetchOutcome.isTextPlain(contentType) ? .ok : .contentType, httpStatus: status,
                contentType: contentType, body: body)
        case .httpStatus(let status, let contentType, let body):
            return Observation.PolicyFacts(
                status: .httpStatus, httpStatus: status, contentType: contentType, body: body)
        case .redirect(let status, let location):
            return Observation.PolicyFacts(status: .redirect, httpStatus: status, location: location)
        case .tooLarge:
            return Observation.PolicyFacts(status: .tooLarge, error: "body larger than the 64 KiB cap; aborted")
        case .tlsError(let message):
            return Observation.PolicyFacts(status: .tlsError, error: message)
        case .timeout:
            return Observation.PolicyFacts(status: .timeout, error: "timed out (connect, total or low-speed limit)")
        case .error(let message):
            return Observation.PolicyFacts(status: .error, error: message)
        }
    }

    /// `{"status","authenticated","records":[{"preference","exchange"}],"error"?}`.
    static func mxFacts(_ outcome: DNSOutcome<MXRecord>) -> JSONValue {
        var members: [JSONMember] = [
            JSONMember("status", .string(outcome.status)), JSONMember("authenticated", .bool(outcome.authenticated)),
            JSONMember(
                "records",
                .array(
                    canonical(outcome.records).map {
                        .object([
                            JSONMember("preference", .int($0.preference)), JSONMember("exchange", .string($0.exchange)),
                        ])
                    })),
        ]
        if case .error(let message) = outcome { members.append(JSONMember("error", .string(message))) }
        return .object(members)
    }

    /// `{"status","authenticated","records":[TEXT…],"error"?}`: each RR's strings joined (RFC 8460 §3).
    static func tlsrptFacts(_ outcome: DNSOutcome<TXTRecord>) -> JSONValue {
        var members: [JSONMember] = [
            JSONMember("status", .string(outcome.status)), JSONMember("authenticated", .bool(outcome.authenticated)),
            JSONMember("records", .strings(canonical(outcome.records).map { $0.strings.joined() })),
        ]
        if case .error(let message) = outcome { members.append(JSONMember("error", .string(message))) }
        return .object(members)
    }
}

/// TXT records sorted by their joined bytes, then by their strings (split differently, same text).
private func canonical(_ records: [TXTRecord]) -> [TXTRecord] {
    records.sorted { a, b in
        let (x, y) = (Array(a.rawStrings.joined()), Array(b.rawStrings.joined()))
        if x != y { return x.lexicographicallyPrecedes(y) }
        return a.rawStrings.count < b.rawStrings.count
    }
}

/// MX records sorted by preference, then host.
private func canonical(_ records: [MXRecord]) -> [MXRecord] {
    records.sorted { ($0.preference, $0.exchange) < ($1.preference, $1.exchange) }
}

/// TLSA records sorted by usage, selector, matching type, then data.
private func canonical(_ records: [TLSARecord]) -> [TLSARecord] {
    records.sorted { a, b in
        if (a.usage, a.selector, a.matchingType) != (b.usage, b.selector, b.matchingType) {
            return (a.usage, a.selector, a.matchingType) < (b.usage, b.selector, b.matchingType)
        }
        return a.data.lexicographicallyPrecedes(b.data)
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
