import CResolv
import PolicyListCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The result of one DNS lookup. Negative answers and failures are values, never thrown.
public enum DNSOutcome<Record: Sendable & Hashable>: Sendable, Hashable {
    /// Records of the asked type; `authenticated` is the AD bit of the response (the resolver validated it).
    case ok([Record], authenticated: Bool)
    /// The name does not exist (RCODE 3).
    case nxdomain
    /// The name exists but has no record of the asked type.
    case nodata
    /// The resolver failed (RCODE 2), e.g. DNSSEC validation failed upstream.
    case servfail
    /// No answer within the configured time.
    case timeout
    /// Anything else (refused, malformed response, local failure), with a message.
    case error(String)

    /// The observation vocabulary: `ok|nxdomain|nodata|servfail|timeout|error`.
    public var status: String {
        switch self {
        case .ok: "ok"
        case .nxdomain: "nxdomain"
        case .nodata: "nodata"
        case .servfail: "servfail"
        case .timeout: "timeout"
        case .error: "error"
        }
    }

    /// The records of an `.ok` outcome; empty otherwise.
    public var records: [Record] {
        if case .ok(let records, _) = self { return records }
        return []
    }

    /// The AD bit of an `.ok` outcome; false otherwise.
    public var authenticated: Bool {
        if case .ok(_, let authenticated) = self { return authenticated }
        return false
    }

    /// The same outcome with each record transformed; records mapped to nil are dropped, and an `.ok`
    /// left with none becomes `.nodata`.
    public func compactMap<T>(_ transform: (Record) -> T?) -> DNSOutcome<T> {
        switch self {
        case .ok(let records, let authenticated):
            let mapped = records.compactMap(transform)
            return mapped.isEmpty ? .nodata : .ok(mapped, authenticated: authenticated)
        case .nxdomain: return .nxdomain
        case .nodata: return .nodata
        case .servfail: return .servfail
        case .timeout: return .timeout
        case .error(let message): return .error(message)
        }
    }
}

/// Looks up DNS records. The observer depends on this protocol only.
public protocol Resolver: Sendable {
    /// Queries `name` for records of `type`; the outcome holds only answer records of that type.
    func query(_ name: String, type: DNSRecordType) async -> DNSOutcome<DNSResourceRecord>
}

extension Resolver {
    /// TXT records of `name` (e.g. `_mta-sts.example.com`), each with its strings and their concatenation.
    public func txt(_ name: String) async -> DNSOutcome<TXTRecord> {
        await query(name, type: .txt).compactMap { if case .txt(let r) = $0.data { r } else { nil } }
    }

    /// MX records of `name`, in answer order (not sorted).
    public func mx(_ name: String) async -> DNSOutcome<MXRecord> {
        await query(name, type: .mx).compactMap { if case .mx(let r) = $0.data { r } else { nil } }
    }

    /// TLSA records of `name` (e.g. `_25._tcp.mx.example.com`).
    public func tlsa(_ name: String) async -> DNSOutcome<TLSARecord> {
        await query(name, type: .tlsa).compactMap { if case .tlsa(let r) = $0.data { r } else { nil } }
    }

    /// IPv4 addresses of `name`, dotted.
    public func ipv4(_ name: String) async -> DNSOutcome<String> {
        await query(name, type: .a).compactMap { if case .a(let r) = $0.data { r } else { nil } }
    }

    /// IPv6 addresses of `name`, RFC 5952 text.
    public func ipv6(_ name: String) async -> DNSOutcome<String> {
        await query(name, type: .aaaa).compactMap { if case .aaaa(let r) = $0.data { r } else { nil } }
    }
}

/// A DNS server to ask instead of the system's (`--nameserver ADDR[:PORT]`).
public struct Nameserver: Sendable, Hashable, CustomStringConvertible {
    /// The numeric address (IPv4 dotted or IPv6 text, no brackets).
    public let address: String
    /// UDP/TCP port, 53 unless given.
    public let port: UInt16

    /// Whether `address` is IPv6.
    public var isIPv6: Bool { address.contains(":") }

    /// `ADDR:PORT`, bracketed for IPv6.
    public var description: String { isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }

    /// Parses `127.0.0.1`, `127.0.0.1:5353`, `::1`, `[::1]` or `[::1]:5353`; only numeric addresses.
    public init(_ text: String) throws(UsageError) {
        var host = Substring(text)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw UsageError("nameserver \"\(text)\": missing \"]\" after the IPv6 address")
            }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw UsageError("nameserver \"\(text)\": expected \":PORT\"") }
                portText = rest.dropFirst()
            }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        var port: UInt16 = 53
        if let portText {
            guard let value = UInt16(portText), value > 0 else {
                throw UsageError("nameserver \"\(text)\": port \"\(portText)\" is not 1-65535")
            }
            port = value
        }
        let address = String(host)
        var v4 = in_addr()
        var v6 = in6_addr()
        guard inet_pton(AF_INET, address, &v4) == 1 || inet_pton(AF_INET6, address, &v6) == 1 else {
            throw UsageError("nameserver \"\(text)\": \"\(address)\" is not a numeric IPv4 or IPv6 address")
        }
        self.address = address
        self.port = port
    }
}

/// A stub resolver over libresolv: one `__res_state` per lookup, so concurrent lookups share nothing.
///
/// Each query is built with `res_nmkquery`, given an EDNS0 OPT record with the DO bit (so a validating
/// resolver reports the AD bit), and sent with `res_nsend`, which returns the whole response; the
/// response code tells NXDOMAIN, NODATA and SERVFAIL apart. A truncated UDP answer is retried over TCP by
/// libresolv itself. A hard deadline (per-try timeout × attempts × 2 + 1 s) bounds even a TCP server that
/// accepts and never answers.
public struct LibresolvResolver: Resolver {
    /// How lookups are made.
    public struct Configuration: Sendable, Hashable {
        /// The server to ask; nil uses `/etc/resolv.conf`.
        public var nameserver: Nameserver?
        /// Seconds to wait for each try (libresolv's `retrans`; whole seconds, at least 1).
        public var timeoutSeconds: Int
        /// Tries per server (libresolv's `retry`, at least 1).
        public var attempts: Int
        /// Query over TCP from the start (`RES_USEVC`).
        public var useTCP: Bool
        /// Send EDNS0 with the DO bit and keep the AD bit of responses (`RES_TRUSTAD`).
        public var dnssec: Bool

        /// Creates a configuration; the defaults are 5 s, 2 tries, UDP, DNSSEC on.
        public init(
            nameserver: Nameserver? = nil, timeoutSeconds: Int = 5, attempts: Int = 2, useTCP: Bool = false,
            dnssec: Bool = true
        ) {
            self.nameserver = nameserver
            self.timeoutSeconds = max(1, timeoutSeconds)
            self.attempts = max(1, attempts)
            self.useTCP = useTCP
            self.dnssec = dnssec
        }
    }

    /// The configuration every lookup uses.
    public let configuration: Configuration

    /// Creates a resolver.
    public init(_ configuration: Configuration = Configuration()) { self.configuration = configuration }

    /// Queries `name` for `type` on a worker thread; see the type's documentation.
    public func query(_ name: String, type: DNSRecordType) async -> DNSOutcome<DNSResourceRecord> {
        let configuration = configuration
        let deadline = Duration.seconds(configuration.timeoutSeconds * configuration.attempts * 2 + 1)
        return await BlockingWork.run(deadline: deadline, fallback: .timeout) {
            Self.lookup(name, type: type, configuration: configuration)
        }
    }

    /// The blocking lookup.
    static func lookup(_ name: String, type: DNSRecordType, configuration: Configuration)
        -> DNSOutcome<DNSResourceRecord>
    {
        let state = UnsafeMutablePointer<__res_state>.allocate(capacity: 1)
        state.initialize(to: __res_state())
        defer {
            state.deinitialize(count: 1)
            state.deallocate()
        }
        guard policylist_res_ninit(state) == 0 else { return .error("res_ninit failed") }
        defer { policylist_res_nclose(state) }
        state.pointee.retrans = Int32(clamping: configuration.timeoutSeconds)
        state.pointee.retry = Int32(clamping: configuration.attempts)
        var options = UInt(state.pointee.options)
        options &= ~UInt(RES_DEBUG)
        if configuration.useTCP { options |= UInt(RES_USEVC) }
        if configuration.dnssec { options |= UInt(RES_USE_EDNS0 | RES_USE_DNSSEC | RES_TRUSTAD) }
        state.pointee.options = options
        // Non-zero pfcode makes res_nsend hand back SERVFAIL/REFUSED responses instead of failing with
        // ETIMEDOUT (the behaviour dig relies on), so SERVFAIL is distinguishable from a timeout.
        state.pointee.pfcode = UInt(RES_PRF_STATS)
        if let nameserver = configuration.nameserver {
            if let failure = use(nameserver, in: state) { return .error(failure) }
        }

        var query = [UInt8](repeating: 0, count: 512)
        let length = policylist_res_nmkquery(state, 0, name, 1, Int32(type.rawValue), &query, Int32(query.count))
        guard length > 12 else { return .error("cannot build a query for \"\(name)\"") }
        query.removeSubrange(Int(length)...)
        if configuration.dnssec { addEDNS(to: &query) }

        var answer = [UInt8](repeating: 0, count: 65_535)
        errno = 0
        let received = policylist_res_nsend(state, query, Int32(query.count), &answer, Int32(answer.count))
        guard received >= 0 else {
            switch errno {
            case ETIMEDOUT: return .timeout
            case ECONNREFUSED: return .error("nameserver refused the connection")
            default: return .error("res_nsend: \(String(cString: strerror(errno)))")
            }
        }
        answer.removeSubrange(min(Int(received), answer.count)...)
        return outcome(of: answer, type: type)
    }

    /// Classifies a response.
    static func outcome(of answer: [UInt8], type: DNSRecordType) -> DNSOutcome<DNSResourceRecord> {
        let message: DNSMessage
        do {
            message = try DNSMessage(parsing: answer)
        } catch {
            return .error(error.description)
        }
        switch message.rcode {
        case 0:
            let records = message.answers.filter { record in
                if case .other = record.data { return false }
                return recordType(of: record.data) == type
            }
            if records.isEmpty {
                return message.truncated ? .error("truncated response") : .nodata
            }
            return .ok(records, authenticated: message.authenticated)
        case 2: return .servfail
        case 3: return .nxdomain
        case 5: return .error("REFUSED")
        case 4: return .error("NOTIMP")
        case 1: return .error("FORMERR")
        default: return .error("rcode \(message.rcode)")
        }
    }

    private static func recordType(of data: DNSRecordData) -> DNSRecordType? {
        switch data {
        case .a: .a
        case .aaaa: .aaaa
        case .mx: .mx
        case .txt: .txt
        case .tlsa: .tlsa
        case .other: nil
        }
    }

    /// Appends an EDNS0 OPT record (1232-byte payload, DO bit) and bumps ARCOUNT.
    private static func addEDNS(to query: inout [UInt8]) {
        query += [0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 0]
        let arcount = (UInt16(query[10]) << 8 | UInt16(query[11])) + 1
        query[10] = UInt8(arcount >> 8)
        query[11] = UInt8(arcount & 0xFF)
    }

    /// Replaces the state's servers with one; returns a message on failure.
    private static func use(_ nameserver: Nameserver, in state: UnsafeMutablePointer<__res_state>) -> String? {
        #if canImport(Glibc)
            // glibc keeps resolv.conf's IPv6 servers in malloc'd _ext.nsaddrs slots (res_nclose frees the
            // first nscount of them); free them all so only ours remains, and make res_nsend rebuild its
            // private copy of the server list from nsaddr_list (_ext.nscount = 0).
            free(state.pointee._u._ext.nsaddrs.0)
            free(state.pointee._u._ext.nsaddrs.1)
            free(state.pointee._u._ext.nsaddrs.2)
            state.pointee._u._ext.nsaddrs = (nil, nil, nil)
            state.pointee._u._ext.nscount = 0
            state.pointee.nscount = 1
            if nameserver.isIPv6 {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = nameserver.port.bigEndian
                guard inet_pton(AF_INET6, nameserver.address, &address.sin6_addr) == 1,
                    let heap = malloc(MemoryLayout<sockaddr_in6>.size)?.bindMemory(to: sockaddr_in6.self, capacity: 1)
                else { return "bad IPv6 nameserver \(nameserver)" }
                heap.initialize(to: address)
                state.pointee.nsaddr_list.0 = sockaddr_in()  // family 0: "see _ext.nsaddrs[0]"
                state.pointee._u._ext.nsaddrs.0 = heap
            } else {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = nameserver.port.bigEndian
                guard inet_pton(AF_INET, nameserver.address, &address.sin_addr) == 1 else {
                    return "bad IPv4 nameserver \(nameserver)"
                }
                state.pointee.nsaddr_list.0 = address
            }
            return nil
        #else
            guard !nameserver.isIPv6 else { return "IPv6 nameservers are supported on Linux only" }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = nameserver.port.bigEndian
            guard inet_pton(AF_INET, nameserver.address, &address.sin_addr) == 1 else {
                return "bad IPv4 nameserver \(nameserver)"
            }
            state.pointee.nscount = 1
            state.pointee.nsaddr_list.0 = address
            return nil
        #endif
    }
}
