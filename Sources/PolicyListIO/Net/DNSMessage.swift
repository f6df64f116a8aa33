// DNS wire format: the record values the observer reads and a small, bounds-checked answer parser.
// Pure code (no I/O), so it is unit-tested on hand-made packets.

/// A DNS record type the observer asks for.
public enum DNSRecordType: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    /// IPv4 address.
    case a = 1
    /// Mail exchanger.
    case mx = 15
    /// Text (MTA-STS `_mta-sts`, TLSRPT `_smtp._tls`).
    case txt = 16
    /// IPv6 address.
    case aaaa = 28
    /// DANE TLSA (RFC 6698).
    case tlsa = 52

    /// The type's mnemonic (`TXT`, `MX`…).
    public var description: String {
        switch self {
        case .a: "A"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .tlsa: "TLSA"
        }
    }
}

/// One TXT resource record: its character-strings as received, and their concatenation.
///
/// RFC 8461 §3.1 and RFC 8460 §3 read a record as the concatenation of its strings, so `text` is what a
/// parser wants; `strings` keeps the split visible.
public struct TXTRecord: Sendable, Hashable {
    /// The record's character-strings, raw bytes, in wire order.
    public let rawStrings: [[UInt8]]

    /// Creates a record from its character-strings.
    public init(rawStrings: [[UInt8]]) { self.rawStrings = rawStrings }

    /// Creates a record from text strings (UTF-8).
    public init(strings: [String]) { self.rawStrings = strings.map { Array($0.utf8) } }

    /// Each character-string decoded as UTF-8 (invalid bytes become U+FFFD).
    public var strings: [String] { rawStrings.map { String(decoding: $0, as: UTF8.self) } }

    /// The character-strings joined without separator, decoded as UTF-8.
    public var text: String { String(decoding: rawStrings.joined(), as: UTF8.self) }
}

/// One MX resource record.
public struct MXRecord: Sendable, Hashable {
    /// Lower is preferred.
    public let preference: UInt16
    /// The mail exchanger's host name, without the trailing dot.
    public let exchange: String

    /// Creates a record.
    public init(preference: UInt16, exchange: String) {
        self.preference = preference
        self.exchange = exchange
    }
}

/// One TLSA resource record (RFC 6698 §2.1).
public struct TLSARecord: Sendable, Hashable {
    /// Certificate usage (0–3; 3 = DANE-EE).
    public let usage: UInt8
    /// Selector (0 = full certificate, 1 = SubjectPublicKeyInfo).
    public let selector: UInt8
    /// Matching type (0 = exact, 1 = SHA-256, 2 = SHA-512).
    public let matchingType: UInt8
    /// Certificate association data.
    public let data: [UInt8]

    /// Creates a record.
    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    /// The association data as lowercase hex, as in zone files.
    public var dataHex: String { hex(data) }
}

/// The data of one answer record, decoded for the types the observer uses.
public enum DNSRecordData: Sendable, Hashable {
    /// An IPv4 address in dotted form.
    case a(String)
    /// An IPv6 address in RFC 5952 form.
    case aaaa(String)
    /// A mail exchanger.
    case mx(MXRecord)
    /// A text record.
    case txt(TXTRecord)
    /// A TLSA record.
    case tlsa(TLSARecord)
    /// Any other type (e.g. a CNAME on the way), undecoded.
    case other(type: UInt16, rdata: [UInt8])
}

/// One resource record of an answer section.
public struct DNSResourceRecord: Sendable, Hashable {
    /// Owner name, lowercase, without the trailing dot.
    public let name: String
    /// Time to live, seconds.
    public let ttl: UInt32
    /// The decoded data.
    public let data: DNSRecordData

    /// Creates a record.
    public init(name: String, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.ttl = ttl
        self.data = data
    }
}

/// The parts of a DNS response the resolver needs: header bits and the answer section.
package struct DNSMessage: Sendable, Equatable {
    /// Message id.
    package var id: UInt16
    /// Response code (low 4 bits of the header; no extended rcode).
    package var rcode: UInt8
    /// Truncated (TC).
    package var truncated: Bool
    /// Authenticated data (AD): the resolver validated the answer with DNSSEC.
    package var authenticated: Bool
    /// The answer section, in wire order.
    package var answers: [DNSResourceRecord]

    /// Why a message could not be read.
    package struct ParseError: Error, Equatable, CustomStringConvertible {
        /// Byte offset where reading failed.
        package let offset: Int
        /// What was expected there.
        package let reason: String
        package var description: String { "malformed DNS response: byte \(offset): \(reason)" }
    }

    /// Parses a response; every read is bounds-checked and name compression loops are refused.
    package init(parsing bytes: [UInt8]) throws(ParseError) {
        var reader = Reader(bytes: bytes)
        id = try reader.u16()
        let flags = try reader.u16()
        rcode = UInt8(flags & 0x000F)
        truncated = flags & 0x0200 != 0
        authenticated = flags & 0x0020 != 0
        let qdcount = try reader.u16()
        let ancount = try reader.u16()
        _ = try reader.u16()  // NSCOUNT
        _ = try reader.u16()  // ARCOUNT
        for _ in 0..<qdcount {
            _ = try reader.name()
            _ = try reader.u16()
            _ = try reader.u16()
        }
        var answers: [DNSResourceRecord] = []
        answers.reserveCapacity(Int(ancount))
        for _ in 0..<ancount {
            let name = try reader.name()
            let type = try reader.u16()
            _ = try reader.u16()  // class
            let ttl = try reader.u32()
            let length = Int(try reader.u16())
            let start = reader.offset
            guard start + length <= bytes.count else {
                throw ParseError(offset: start, reason: "record data of \(length) bytes runs past the end")
            }
            let data = try Self.decode(type: type, bytes: bytes, start: start, length: length)
            reader.offset = start + length
            answers.append(DNSResourceRecord(name: name, ttl: ttl, data: data))
        }
        self.answers = answers
    }

    private static func decode(type: UInt16, bytes: [UInt8], start: Int, length: Int) throws(ParseError)
        -> DNSRecordData
    {
        let end = start + length
        let rdata = Array(bytes[start..<end])
        switch DNSRecordType(rawValue: type) {
        case .a:
            guard length == 4 else { throw ParseError(offset: start, reason: "A record of \(length) bytes") }
            return .a(rdata.map(String.init).joined(separator: "."))
        case .aaaa:
            guard length == 16 else { throw ParseError(offset: start, reason: "AAAA record of \(length) bytes") }
            return .aaaa(ipv6Text(rdata))
        case .mx:
            var reader = Reader(bytes: bytes, offset: start)
            let preference = try reader.u16()
            let exchange = try reader.name()
            guard reader.offset <= end else { throw ParseError(offset: start, reason: "MX record overruns its data") }
            return .mx(MXRecord(preference: preference, exchange: exchange))
        case .txt:
            var strings: [[UInt8]] = []
            var i = 0
            while i < rdata.count {
                let n = Int(rdata[i])
                guard i + 1 + n <= rdata.count else {
                    throw ParseError(offset: start + i, reason: "TXT character-string of \(n) bytes overruns")
                }
                strings.append(Array(rdata[(i + 1)..<(i + 1 + n)]))
                i += 1 + n
            }
            return .txt(TXTRecord(rawStrings: strings))
        case .tlsa:
            guard length >= 3 else { throw ParseError(offset: start, reason: "TLSA record of \(length) bytes") }
            return .tlsa(
                TLSARecord(usage: rdata[0], selector: rdata[1], matchingType: rdata[2], data: Array(rdata[3...])))
        case nil:
            return .other(type: type, rdata: rdata)
        }
    }
}

/// A cursor over a message.
private struct Reader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    mutating func u8() throws(DNSMessage.ParseError) -> UInt8 {
        guard offset < bytes.count else { throw DNSMessage.ParseError(offset: offset, reason: "unexpected end") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSMessage.ParseError) -> UInt16 {
        let hi = try u8()
        return UInt16(hi) << 8 | UInt16(try u8())
    }

    mutating func u32() throws(DNSMessage.ParseError) -> UInt32 {
        let hi = try u16()
        return UInt32(hi) << 16 | UInt32(try u16())
    }

    /// Reads a possibly compressed name; leaves `offset` after the name as stored at the cursor.
    mutating func name() throws(DNSMessage.ParseError) -> String {
        var labels: [String] = []
        var position = offset
        var resume: Int?
        var jumps = 0
        var total = 0
        while true {
            guard position < bytes.count else {
                throw DNSMessage.ParseError(offset: position, reason: "name runs past the end")
            }
            let length = Int(bytes[position])
            switch length & 0xC0 {
            case 0xC0:
                guard position + 1 < bytes.count else {
                    throw DNSMessage.ParseError(offset: position, reason: "truncated compression pointer")
                }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                jumps += 1
                guard target < position, jumps <= 64 else {
                    throw DNSMessage.ParseError(offset: position, reason: "compression pointer loop")
                }
                if resume == nil { resume = position + 2 }
                position = target
            case 0x00:
                if length == 0 {
                    offset = resume ?? position + 1
                    return labels.joined(separator: ".")
                }
                guard position + 1 + length <= bytes.count else {
                    throw DNSMessage.ParseError(offset: position, reason: "label runs past the end")
                }
                total += length + 1
                guard total <= 255 else { throw DNSMessage.ParseError(offset: position, reason: "name too long") }
                let label = bytes[(position + 1)..<(position + 1 + length)].map { byte in
                    (byte >= 0x41 && byte <= 0x5A) ? byte + 0x20 : byte
                }
                labels.append(String(decoding: label, as: UTF8.self))
                position += 1 + length
            default:
                throw DNSMessage.ParseError(offset: position, reason: "unsupported label type \(length >> 6)")
            }
        }
    }
}

/// Lowercase hex of bytes.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// RFC 5952 text of a 16-byte IPv6 address (longest run of zero groups compressed).
func ipv6Text(_ bytes: [UInt8]) -> String {
    let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
    var bestStart = -1
    var bestLength = 0
    var i = 0
    while i < 8 {
        if groups[i] == 0 {
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i > bestLength && j - i > 1 {
                bestStart = i
                bestLength = j - i
            }
            i = j
        } else {
            i += 1
        }
    }
    let text = groups.map { String($0, radix: 16) }
    guard bestStart >= 0 else { return text.joined(separator: ":") }
    let head = text[0..<bestStart].joined(separator: ":")
    let tail = text[(bestStart + bestLength)...].joined(separator: ":")
    return head + "::" + tail
}
