import Foundation

/// One native MTA-STS observation: the raw facts of one look at one domain, as the JSONL of DESIGN.md
/// carries them. Verdicts are not part of it; ``ObservationVerdict/compute(_:)`` derives them.
///
/// JSONL shape (one object per line, key order as written by ``jsonLine``):
/// `{"domain","observedAt","source","txt":{"status","records":[…],"error"?},
/// "policy":{"status","httpStatus","contentType","location"?,"body"|"bodyBase64","error"?},"tlsrpt"?,"tlsa"?,"mx"?}`.
public struct Observation: Sendable, Equatable {
    /// The domain, ASCII-lower-cased, without a trailing dot.
    public var domain: String
    /// When the facts were collected.
    public var observedAt: Instant
    /// Who collected them (`live`, `live:host-3`, an importer's label); part of the record's identity.
    public var source: String
    /// The `_mta-sts.<domain>` TXT lookup.
    public var txt: TXTFacts
    /// The HTTPS fetch of the policy file.
    public var policy: PolicyFacts
    /// The `_smtp._tls` (TLS-RPT) lookup, kept as given.
    public var tlsrpt: JSONValue?
    /// The DANE TLSA lookup, kept as given.
    public var tlsa: JSONValue?
    /// The domain's MX lookup, kept as given: `{"status","authenticated","records":[{"preference","exchange"}]}`
    /// (the live observer's shape). When present with status `ok`, the verdict checks that the policy's `mx`
    /// patterns cover the MX hosts (RFC 8461 §4.1); see ``ObservationVerdict``.
    public var mx: JSONValue?

    /// Creates an observation.
    public init(
        domain: String, observedAt: Instant, source: String, txt: TXTFacts, policy: PolicyFacts,
        tlsrpt: JSONValue? = nil, tlsa: JSONValue? = nil, mx: JSONValue? = nil
    ) {
        self.domain = domain
        self.observedAt = observedAt
        self.source = source
        self.txt = txt
        self.policy = policy
        self.tlsrpt = tlsrpt
        self.tlsa = tlsa
        self.mx = mx
    }

    /// How the TXT lookup ended.
    public enum TXTStatus: String, Sendable, Hashable, CaseIterable {
        /// An answer with records (which may still hold no `v=STSv1` record).
        case ok
        /// The name does not exist.
        case nxdomain
        /// The name exists but has no TXT records.
        case nodata
        /// The resolver answered SERVFAIL.
        case servfail
        /// No answer in time.
        case timeout
        /// Any other failure (see `error`).
        case error
    }

    /// The TXT lookup's facts.
    public struct TXTFacts: Sendable, Hashable {
        /// How the lookup ended.
        public var status: TXTStatus
        /// Each RR's character-strings (an RR of several strings is joined without separator, RFC 8461 §3.1).
        public var records: [[String]]
        /// A detail for failed lookups, if the observer gave one.
        public var error: String?

        /// Creates TXT facts.
        public init(status: TXTStatus, records: [[String]] = [], error: String? = nil) {
            self.status = status
            self.records = records
            self.error = error
        }
    }

    /// How the policy fetch ended.
    public enum PolicyStatus: String, Sendable, Hashable, CaseIterable {
        /// `200` with a body.
        case ok
        /// A status other than 200 (and not a redirect).
        case httpStatus = "http-status"
        /// A `Content-Type` other than `text/plain` (or none).
        case contentType = "content-type"
        /// A 3xx answer (never followed).
        case redirect
        /// The body exceeded the size limit.
        case tooLarge = "too-large"
        /// TLS failed (handshake, certificate, name).
        case tlsError = "tls-error"
        /// No answer in time.
        case timeout
        /// Any other failure (DNS of the policy host, connection refused…; see `error`).
        case error
    }

    /// The policy fetch's facts.
    public struct PolicyFacts: Sendable, Hashable {
        /// How the fetch ended.
        public var status: PolicyStatus
        /// The HTTP status, when a response arrived.
        public var httpStatus: Int?
        /// The `Content-Type` header, `nil` when absent (or no response).
        public var contentType: String?
        /// The `Location` of a redirect.
        public var location: String?
        /// The body bytes, when a response arrived.
        public var body: [UInt8]?
        /// A detail for failed fetches, if the observer gave one.
        public var error: String?

        /// Creates policy facts.
        public init(
            status: PolicyStatus, httpStatus: Int? = nil, contentType: String? = nil, location: String? = nil,
            body: [UInt8]? = nil, error: String? = nil
        ) {
            self.status = status
            self.httpStatus = httpStatus
            self.contentType = contentType
            self.location = location
            self.body = body
            self.error = error
        }

        /// Hashes the body's bytes in one call (the synthesized hash feeds the hasher a byte at a time, which
        /// made hashing a 100-byte body cost more than comparing it); consistent with the synthesized `==`.
        public func hash(into hasher: inout Hasher) {
            hasher.combine(status)
            hasher.combine(httpStatus)
            hasher.combine(contentType)
            hasher.combine(location)
            hasher.combine(error)
            if let body {
                hasher.combine(body.count)
                body.withUnsafeBytes { hasher.combine(bytes: $0) }
            } else {
                hasher.combine(-1)
            }
        }
    }

    /// The domain in its stored form: ASCII-lower-cased, one trailing dot removed; `nil` unless it is a
    /// host name (LDH labels of 1–63 octets, at most 253 octets, `_` allowed for service names).
    public static func normalizedDomain(_ raw: String) -> String? {
        var bytes = Array(raw.utf8)
        if bytes.last == 0x2E { bytes.removeLast() }
        guard !bytes.isEmpty, bytes.count <= 253 else { return nil }
        var label = 0
        for (index, byte) in bytes.enumerated() {
            switch byte {
            case 0x2E:
                guard label > 0 else { return nil }
                label = 0
            case 0x41...0x5A:
                bytes[index] = byte | 0x20
                label += 1
            case 0x61...0x7A, 0x30...0x39, 0x2D, 0x5F:
                label += 1
            default:
                return nil
            }
            guard label <= 63 else { return nil }
        }
        guard label > 0 else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

// MARK: - JSONL reader and writer

extension Observation {
    /// Longest JSONL line accepted for one observation (1 MiB): a policy body is at most 64 KiB, which JSON
    /// escaping can grow sixfold; anything longer is not an observation.
    public static let maxLineBytes = 1 << 20

    private static let topKeys: Set<String> = [
        "domain", "observedAt", "source", "txt", "policy", "tlsrpt", "tlsa", "mx",
    ]
    private static let txtKeys: Set<String> = ["status", "records", "error"]
    private static let policyKeys: Set<String> = [
        "status", "httpStatus", "contentType", "location", "body", "bodyBase64", "error",
    ]

    /// Reads one JSONL line. Strict: invalid JSON, a duplicated key, a missing or mistyped field, an unknown
    /// status, a timestamp without a UTC offset or a line over ``maxLineBytes`` is an error naming the field.
    ///
    /// - Returns: the observation and warnings (unknown keys, which are ignored).
    public static func read(jsonLine bytes: [UInt8]) throws(RecordError) -> (Observation, warnings: [String]) {
        guard bytes.count <= maxLineBytes else {
            throw RecordError(field: nil, "line is \(bytes.count) bytes, longer than the \(maxLineBytes)-byte limit")
        }
        return try decode(readRecordJSON(bytes).value)
    }

    /// The `domain` member of an already-parsed line, normalised, if it is there and valid (used to pick the
    /// shard before the full decode).
    public static func domainHint(_ value: JSONValue) -> String? {
        value["domain"]?.stringValue.flatMap(normalizedDomain)
    }

    /// Decodes a parsed JSONL object (see ``read(jsonLine:)``).
    public static func decode(_ value: JSONValue) throws(RecordError) -> (Observation, warnings: [String]) {
        let top = try ObjectReader(value, path: "")
        let rawDomain = try top.string("domain")
        guard let domain = normalizedDomain(rawDomain) else {
            throw RecordError(field: "domain", "\"\(rawDomain)\" is not a domain name")
        }
        let observedText = try top.string("observedAt")
        let observedAt: Instant
        switch TimestampParser.parse(string: observedText) {
        case .success(let time) where time.offsetSeconds == nil:
            throw RecordError(field: "observedAt", "\"\(observedText)\" has no UTC offset; write Z or ±HH:MM")
        case .success(let time): observedAt = time.instant
        case .failure(let error): throw RecordError(field: "observedAt", error.reason)
        }
        let source = try top.string("source")
        guard !source.isEmpty else { throw RecordError(field: "source", "empty") }
        let txtReader = try top.object("txt")
        let txt = try decodeTXT(txtReader)
        let policyReader = try top.object("policy")
        let policy = try decodePolicy(policyReader)
        let tlsrpt = try optionalObjectValue(top, "tlsrpt")
        let tlsa = try optionalObjectValue(top, "tlsa")
        let mx = try optionalObjectValue(top, "mx")
        let warnings =
            (top.unknownKeys(topKeys) + txtReader.unknownKeys(txtKeys) + policyReader.unknownKeys(policyKeys))
            .map { "unknown-key: \($0)" }
        return (
            Observation(
                domain: domain, observedAt: observedAt, source: source, txt: txt, policy: policy, tlsrpt: tlsrpt,
                tlsa: tlsa, mx: mx), warnings
        )
    }

    private static func optionalObjectValue(_ reader: ObjectReader, _ name: String) throws(RecordError) -> JSONValue? {
        guard let value = reader.raw(name), value != .null else { return nil }
        guard case .object = value else { throw reader.mistyped(name, "an object or null", value) }
        return value
    }

    private static func decodeTXT(_ reader: ObjectReader) throws(RecordError) -> TXTFacts {
        let statusText = try reader.string("status")
        guard let status = TXTStatus(rawValue: statusText) else {
            throw RecordError(
                field: reader.key("status"),
                "\"\(statusText)\" is not one of \(TXTStatus.allCases.map(\.rawValue).joined(separator: "|"))")
        }
        var records: [[String]] = []
        if let value = reader.raw("records"), value != .null {
            guard case .array(let elements) = value else {
                throw reader.mistyped("records", "an array", value)
            }
            for (index, element) in elements.enumerated() {
                switch element {
                case .string(let text): records.append([text])
                case .array(let parts):
                    var strings: [String] = []
                    for part in parts {
                        guard case .string(let text) = part else {
                            throw RecordError(
                                field: reader.key("records") + "[\(index)]",
                                "expected an array of strings, found an element that is \(part.typeDescription)")
                        }
                        strings.append(text)
                    }
                    records.append(strings)
                default:
                    throw RecordError(
                        field: reader.key("records") + "[\(index)]",
                        "expected a string or an array of strings, found \(element.typeDescription)")
                }
            }
        } else if status == .ok {
            throw RecordError(field: reader.key("records"), "missing (required when status is \"ok\")")
        }
        return TXTFacts(status: status, records: records, error: try reader.optionalString("error"))
    }

    private static func decodePolicy(_ reader: ObjectReader) throws(RecordError) -> PolicyFacts {
        let statusText = try reader.string("status")
        guard let status = PolicyStatus(rawValue: statusText) else {
            throw RecordError(
                field: reader.key("status"),
                "\"\(statusText)\" is not one of \(PolicyStatus.allCases.map(\.rawValue).joined(separator: "|"))")
        }
        let httpStatus = try reader.optionalInt("httpStatus")
        if let httpStatus, !(100...999).contains(httpStatus) {
            throw RecordError(field: reader.key("httpStatus"), "\(httpStatus) is not an HTTP status code")
        }
        let text = try reader.optionalString("body")
        let base64 = try reader.optionalString("bodyBase64")
        var body: [UInt8]?
        switch (text, base64) {
        case (let text?, nil): body = Array(text.utf8)
        case (nil, let encoded?):
            guard let data = Data(base64Encoded: encoded) else {
                throw RecordError(field: reader.key("bodyBase64"), "not valid base64")
            }
            body = [UInt8](data)
        case (nil, nil): body = nil
        case (_?, _?): throw RecordError(field: reader.key("body"), "both body and bodyBase64 given; give one")
        }
        if status == .ok {
            guard httpStatus != nil else {
                throw RecordError(field: reader.key("httpStatus"), "missing (required when status is \"ok\")")
            }
            guard body != nil else {
                throw RecordError(field: reader.key("body"), "missing (required when status is \"ok\")")
            }
        }
        return PolicyFacts(
            status: status, httpStatus: httpStatus, contentType: try reader.optionalString("contentType"),
            location: try reader.optionalString("location"), body: body, error: try reader.optionalString("error"))
    }

    /// The observation as one JSONL line (no newline), the shape ``read(jsonLine:)`` reads back to an equal
    /// value. Keys in a fixed order; `observedAt` in UTC; a body that is not UTF-8 goes to `bodyBase64`; optional
    /// members are left out when absent (`httpStatus`/`contentType`/`body` are written as `null`).
    public var jsonLine: String {
        var txtMembers: [JSONMember] = [
            JSONMember("status", .string(txt.status.rawValue)),
            JSONMember("records", .array(txt.records.map { $0.count == 1 ? .string($0[0]) : .strings($0) })),
        ]
        if let error = txt.error { txtMembers.append(JSONMember("error", .string(error))) }
        var policyMembers: [JSONMember] = [
            JSONMember("status", .string(policy.status.rawValue)),
            JSONMember("httpStatus", policy.httpStatus.map { .int($0) } ?? .null),
            JSONMember("contentType", .optional(policy.contentType)),
        ]
        if let location = policy.location { policyMembers.append(JSONMember("location", .string(location))) }
        if let body = policy.body, let text = String(validating: body, as: UTF8.self) {
            policyMembers.append(JSONMember("body", .string(text)))
        } else if let body = policy.body {
            policyMembers.append(JSONMember("bodyBase64", .string(Data(body).base64EncodedString())))
        } else {
            policyMembers.append(JSONMember("body", .null))
        }
        if let error = policy.error { policyMembers.append(JSONMember("error", .string(error))) }
        var members: [JSONMember] = [
            JSONMember("domain", .string(domain)),
            JSONMember("observedAt", .string(observedAt.rfc3339)),
            JSONMember("source", .string(source)),
            JSONMember("txt", .object(txtMembers)),
            JSONMember("policy", .object(policyMembers)),
        ]
        if let tlsrpt { members.append(JSONMember("tlsrpt", tlsrpt)) }
        if let tlsa { members.append(JSONMember("tlsa", tlsa)) }
        if let mx { members.append(JSONMember("mx", mx)) }
        return JSONWriter.compact(.object(members))
    }
}
