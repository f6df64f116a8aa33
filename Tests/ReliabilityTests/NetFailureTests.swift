import Foundation
import Glibc
import PolicyListIO
import Testing

/// Servers that reset the connection or answer garbage (the DNS and HTTPS integration tests in PolicyListIOTests
/// cover black holes, slow bodies, oversized bodies, redirects, bad certificates and closed ports).
@Suite("Failures of the outside world: reset and garbage")
struct NetFailureTests {
    /// A loopback socket server answering each request with `respond` on a background thread.
    final class Server: @unchecked Sendable {
        let fd: Int32
        let port: Int

        /// `udp`: answer each datagram with `respond(query)`; TCP: accept, read once, then `respond` (nil: RST).
        init(udp: Bool, respond: @escaping @Sendable ([UInt8]) -> [UInt8]?) throws {
            let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
            self.fd = fd
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
                }
            }
            guard bound, udp || listen(fd, 16) == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
            port = Int(UInt16(bigEndian: address.sin_port))
            Thread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    if udp {
                        var peer = sockaddr_storage()
                        var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        let count = withUnsafeMutablePointer(to: &peer) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                recvfrom(fd, &buffer, buffer.count, 0, $0, &peerLength)
                            }
                        }
                        guard count > 0 else { return }
                        guard let answer = respond(Array(buffer[0..<count])) else { continue }
                        _ = withUnsafeMutablePointer(to: &peer) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                sendto(fd, answer, answer.count, 0, $0, peerLength)
                            }
                        }
                    } else {
                        let client = accept(fd, nil, nil)
                        guard client >= 0 else { return }
                        let count = recv(client, &buffer, buffer.count, 0)
                        if let answer = respond(Array(buffer[0..<max(0, count)])) {
                            _ = send(client, answer, answer.count, Int32(MSG_NOSIGNAL))
                        } else {
                            // SO_LINGER 0: close sends a RST.
                            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                            setsockopt(
                                client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                        }
                        close(client)
                    }
                }
            }.start()
        }

        deinit { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    static func garbage(_ count: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    static func resolver(_ server: Server, tcp: Bool = false) throws -> LibresolvResolver {
        LibresolvResolver(
            .init(nameserver: try Nameserver("127.0.0.1:\(server.port)"), timeoutSeconds: 1, attempts: 1, useTCP: tcp))
    }

    @Test("DNS: random bytes as the answer are an error or a timeout, within the deadline")
    func dnsGarbage() async throws {
        let server = try Server(udp: true) { _ in Self.garbage(64) }
        let clock = ContinuousClock()
        var outcome: DNSOutcome<TXTRecord> = .nodata
        let resolver = try Self.resolver(server)
        let elapsed = await clock.measure { outcome = await resolver.txt("_mta-sts.x.test") }
        print("DNS garbage: \(outcome) after \(elapsed)")
        #expect(["error", "timeout"].contains(outcome.status))
        #expect(elapsed < .seconds(4))
    }

    @Test("DNS: an answer with the query's id that claims five records and ends is an error, not a crash")
    func dnsTruncatedAnswer() async throws {
        let server = try Server(udp: true) { query in
            guard query.count >= 12 else { return nil }
            // Same id, QR + RD + RA, rcode 0, QDCOUNT 1, ANCOUNT 5, then the question and a dangling name pointer.
            return Array(query[0..<2]) + [0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0] + Array(query[12...]) + [0xC0]
        }
        let outcome = try await Self.resolver(server).txt("_mta-sts.x.test")
        print("DNS truncated answer: \(outcome)")
        #expect(["error", "timeout"].contains(outcome.status))
        if case .error(let message) = outcome { #expect(!message.isEmpty) }
    }

    @Test("DNS over TCP: a server that resets the connection is an error or a timeout, within the deadline")
    func dnsReset() async throws {
        let server = try Server(udp: false) { _ in nil }
        let clock = ContinuousClock()
        var outcome: DNSOutcome<TXTRecord> = .nodata
        let resolver = try Self.resolver(server, tcp: true)
        let elapsed = await clock.measure { outcome = await resolver.txt("_mta-sts.x.test") }
        print("DNS TCP reset: \(outcome) after \(elapsed)")
        #expect(["error", "timeout"].contains(outcome.status))
        #expect(elapsed < .seconds(4))
    }

    static func fetcher(_ server: Server) throws -> CurlPolicyFetcher {
        try CurlPolicyFetcher(
            .init(
                resolve: ["mta-sts.x.test:\(server.port):127.0.0.1"], port: server.port, connectTimeout: .seconds(2),
                totalTimeout: .seconds(4)))
    }

    @Test("HTTPS: a server that resets the connection is a transport error with a message, promptly")
    func httpsReset() async throws {
        let server = try Server(udp: false) { _ in nil }
        let clock = ContinuousClock()
        var outcome: PolicyFetchOutcome?
        let fetcher = try Self.fetcher(server)
        let elapsed = await clock.measure { outcome = await fetcher.fetchPolicy(domain: "x.test") }
        print("HTTPS reset: \(String(describing: outcome)) after \(elapsed)")
        #expect(["error", "tls-error"].contains(outcome?.observationStatus ?? ""))
        #expect(elapsed < .seconds(3))
    }

    @Test("HTTPS: garbage instead of a TLS handshake is a TLS error, promptly")
    func httpsGarbage() async throws {
        let server = try Server(udp: false) { _ in Array("HTTP/1.1 200 OK\r\n\r\n".utf8) + Self.garbage(512) }
        let clock = ContinuousClock()
        var outcome: PolicyFetchOutcome?
        let fetcher = try Self.fetcher(server)
        let elapsed = await clock.measure { outcome = await fetcher.fetchPolicy(domain: "x.test") }
        print("HTTPS garbage: \(String(describing: outcome)) after \(elapsed)")
        #expect(["error", "tls-error"].contains(outcome?.observationStatus ?? ""))
        #expect(elapsed < .seconds(3))
    }
}
