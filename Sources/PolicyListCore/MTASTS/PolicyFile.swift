extension MTASTS {
    /// What the HTTPS fetch of `https://mta-sts.<domain>/.well-known/mta-sts.txt` returned besides the body.
    public struct HTTPFacts: Sendable, Hashable {
        /// The HTTP status code.
        public var status: Int
        /// The `Content-Type` header, `nil` when the response had none.
        public var contentType: String?
        /// The `Location` header of a redirect, if any (reported, never followed).
        public var location: String?

        /// Creates fetch facts; the defaults describe a plain `200 text/plain` answer.
        public init(status: Int = 200, contentType: String? = "text/plain", location: String? = nil) {
            self.status = status
            self.contentType = contentType
            self.location = location
        }
    }

    /// The certificate the policy host presented (already PKIX-valid; only its DNS-IDs are checked here).
    public struct CertificateFacts: Sendable, Hashable {
        /// The host the certificate must be valid for: `mta-sts.<policy domain>`.
        public var policyHost: String
        /// The certificate's subjectAltName DNS-IDs.
        public var dnsNames: [String]

        /// Creates certificate facts.
        public init(policyHost: String, dnsNames: [String]) {
            self.policyHost = policyHost
            self.dnsNames = dnsNames
        }
    }

    /// The semantic content of a valid policy.
    public struct ParsedPolicy: Sendable, Hashable {
        /// Always `STSv1`.
        public var version: String
        /// The policy mode.
        public var mode: Mode
        /// Seconds the policy may be cached, 0…``MTASTS/maxMaxAge``.
        public var maxAge: Int
        /// The `mx` patterns in file order: raw under the strict profile; lower-cased, without a trailing dot
        /// and with invalid entries dropped under the lenient one. Duplicates are kept.
        public var mx: [String]

        /// Creates a parsed policy.
        public init(version: String = "STSv1", mode: Mode, maxAge: Int, mx: [String]) {
            self.version = version
            self.mode = mode
            self.maxAge = maxAge
            self.mx = mx
        }
    }

    /// The verdict on one policy fetch under one profile.
    public struct PolicyVerdict: Sendable, Hashable {
        /// Why the policy is not usable (`nil` when valid): the first failing check in the order
        /// fetch → size → BOM → line structure → version → mode → max_age → mx syntax → mx presence.
        public var reason: Issue?
        /// The policy's content, when valid.
        public var parsed: ParsedPolicy?
        /// Things worth counting that do not invalidate the policy (dropped or odd mx, repeated keys).
        public var warnings: [Issue]

        /// Whether the policy is usable.
        public var isValid: Bool { reason == nil }

        static func failure(_ reason: Issue, warnings: [Issue] = []) -> PolicyVerdict {
            PolicyVerdict(reason: reason, parsed: nil, warnings: warnings)
        }
    }

    /// Both verdicts on one policy fetch.
    public struct PolicyVerdicts: Sendable, Hashable {
        /// RFC 8461 §3.2/§3.3 read literally.
        public var strict: PolicyVerdict
        /// What widely deployed resolvers accept.
        public var lenient: PolicyVerdict

        /// The verdict under `profile`.
        public subscript(profile: Profile) -> PolicyVerdict { profile == .strict ? strict : lenient }
    }

    /// Evaluates a fetched policy file under both profiles.
    ///
    /// - Parameters:
    ///   - body: the response body, byte-exact.
    ///   - http: status and media type of the response.
    ///   - certificate: the policy host's certificate names, when the name check is to be made here.
    public static func evaluatePolicy(
        body: [UInt8], http: HTTPFacts = HTTPFacts(), certificate: CertificateFacts? = nil
    ) -> PolicyVerdicts {
        body.withUnsafeBufferPointer { evaluatePolicy(body: $0, http: http, certificate: certificate) }
    }

    /// Evaluates a fetched policy file held in a buffer (the zero-copy form of
    /// ``evaluatePolicy(body:http:certificate:)-([UInt8],_,_)``).
    public static func evaluatePolicy(
        body: UnsafeBufferPointer<UInt8>, http: HTTPFacts = HTTPFacts(), certificate: CertificateFacts? = nil
    ) -> PolicyVerdicts {
        if let issue = fetchIssue(http: http, certificate: certificate) {
            let verdict = PolicyVerdict.failure(issue)
            return PolicyVerdicts(strict: verdict, lenient: verdict)
        }
        if body.count > maxPolicyBytes {
            let verdict = PolicyVerdict.failure(Issue(.tooLarge, "\(body.count) bytes"))
            return PolicyVerdicts(strict: verdict, lenient: verdict)
        }
        // One scan serves both profiles when the strict line pass has nothing to object to: the lenient
        // scanner then collects exactly the same fields (see `cleanFields`). Otherwise each profile scans.
        var fields = Fields()
        if cleanFields(body, into: &fields) { return verdicts(body, fields) }
        return PolicyVerdicts(strict: strictPolicy(body), lenient: lenientPolicy(body))
    }

    // MARK: Fetch checks (§3.3)

    static func fetchIssue(http: HTTPFacts, certificate: CertificateFacts?) -> Issue? {
        if (300..<400).contains(http.status) {
            return Issue(.redirectNotFollowed, http.location.map { "\(http.status) to \($0)" } ?? "\(http.status)")
        }
        if http.status != 200 { return Issue(.httpStatusNot200, "\(http.status)") }
        if let certificate, !certificateNameMatches(host: certificate.policyHost, dnsNames: certificate.dnsNames) {
            return Issue(
                .tlsNameMismatch,
                "\(certificate.policyHost) not in [\(certificate.dnsNames.joined(separator: ", "))]")
        }
        guard let contentType = http.contentType else { return Issue(.contentTypeMissing) }
        if !isTextPlain(contentType) { return Issue(.contentTypeNotTextPlain, contentType) }
        return nil
    }

    /// Whether the media type (type/subtype before any `;`, case-insensitive) is `text/plain`; parameters,
    /// charset included, are ignored (§3.2).
    static func isTextPlain(_ contentType: String) -> Bool {
        if contentType == "text/plain" { return true }  // the usual answer, without the byte loop
        // One pass over contiguous bytes (the lazy reversed/dropped views this replaced cost more than
        // parsing the policy body itself).
        var contentType = contentType
        return contentType.withUTF8 { bytes in
            let isSpace: (UInt8) -> Bool = { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }
            var end = bytes.firstIndex(of: 0x3B) ?? bytes.count
            var start = 0
            while start < end && isSpace(bytes[start]) { start += 1 }
            while end > start && isSpace(bytes[end - 1]) { end -= 1 }
            let textPlain: StaticString = "text/plain"
            guard end - start == textPlain.utf8CodeUnitCount else { return false }
            let expected = textPlain.utf8Start
            for index in 0..<(end - start) where asciiLower(bytes[start + index]) != expected[index] { return false }
            return true
        }
    }

    // MARK: Field collection

    private enum Key { case version, mode, maxAge, mx, other }

    /// Whether `buf[range]` is exactly the ASCII `literal`. A string literal's bytes are a constant, unlike a
    /// `static let` array (a lazily initialised global: every use pays a `swift_once` check).
    @inline(__always)
    private static func matches(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ literal: StaticString) -> Bool
    {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        for index in 0..<range.count where buf[range.lowerBound + index] != expected[index] { return false }
        return true
    }

    /// Whether `buf[a]` and `buf[b]` hold the same bytes.
    @inline(__always)
    private static func sameBytes(_ buf: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        for index in 0..<a.count where buf[a.lowerBound + index] != buf[b.lowerBound + index] { return false }
        return true
    }

    @inline(__always)
    private static func classify(_ buf: UnsafeBufferPointer<UInt8>, _ key: Range<Int>) -> Key {
        switch key.count {
        case 2: return buf[key.lowerBound] == 0x6D && buf[key.lowerBound + 1] == 0x78 ? .mx : .other
        case 4: return matches(buf, key, "mode") ? .mode : .other
        case 7:
            if matches(buf, key, "version") { return .version }
            return matches(buf, key, "max_age") ? .maxAge : .other
        default: return .other
        }
    }

    /// One `mx` value: its bytes and, when the scanner already worked it out, its ``MXShape``.
    private struct MXValue {
        var range: Range<Int>
        var shape: MXShape?
    }

    /// The `mx` values in file order: the first eight inline, the rest in an array, so that a typical policy
    /// costs no heap allocation. (Stored fields reached by `switch`: reading one copies nothing else.)
    private struct MXValues {
        /// How many values there are.
        private(set) var count = 0
        private var v0 = MXValue(range: 0..<0)
        private var v1 = MXValue(range: 0..<0)
        private var v2 = MXValue(range: 0..<0)
        private var v3 = MXValue(range: 0..<0)
        private var v4 = MXValue(range: 0..<0)
        private var v5 = MXValue(range: 0..<0)
        private var v6 = MXValue(range: 0..<0)
        private var v7 = MXValue(range: 0..<0)
        private var overflow: [MXValue] = []

        mutating func append(_ value: MXValue) {
            switch count {
            case 0: v0 = value
            case 1: v1 = value
            case 2: v2 = value
            case 3: v3 = value
            case 4: v4 = value
            case 5: v5 = value
            case 6: v6 = value
            case 7: v7 = value
            default: overflow.append(value)
            }
            count += 1
        }

        subscript(index: Int) -> MXValue {
            switch index {
            case 0: return v0
            case 1: return v1
            case 2: return v2
            case 3: return v3
            case 4: return v4
            case 5: return v5
            case 6: return v6
            case 7: return v7
            default: return overflow[index - 8]
            }
        }
    }

    /// The fields of one policy as byte ranges into the body: the first `version`, `mode` and `max_age`,
    /// every `mx`; repeated non-`mx` keys become warnings.
    private struct Fields {
        /// Past this many distinct other keys, a hash set finds repeats (a linear scan is cheaper before).
        private static var linearKeys: Int { 16 }

        var version: Range<Int>?
        var mode: Range<Int>?
        var maxAge: Range<Int>?
        var mx = MXValues()
        var warnings: [Issue] = []
        /// Every distinct key other than the four above, first occurrence only, with its FNV-1a hash.
        var otherKeys: [(hash: UInt64, key: Range<Int>)] = []
        /// The hashes of `otherKeys`, filled once there are more than ``linearKeys`` of them.
        var otherHashes: Set<UInt64> = []

        mutating func add(_ buf: UnsafeBufferPointer<UInt8>, key: Range<Int>, value: Range<Int>, line: Int) {
            add(buf, classify(buf, key), key: key, value: value, line: line)
        }

        /// Records a field whose key is already classified (as `kind`); `shape` is the `mx` value's, if known.
        @inline(__always)
        mutating func add(
            _ buf: UnsafeBufferPointer<UInt8>, _ kind: Key, key: Range<Int>, value: Range<Int>, line: Int,
            shape: MXShape? = nil
        ) {
            switch kind {
            case .mx: mx.append(MXValue(range: value, shape: shape))
            case .version:
                if version == nil { version = value } else { duplicate(buf, key, line) }
            case .mode:
                if mode == nil { mode = value } else { duplicate(buf, key, line) }
            case .maxAge:
                if maxAge == nil { maxAge = value } else { duplicate(buf, key, line) }
            case .other:
                var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                for b in buf[key] { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
                // A repeat is a key whose bytes were seen before; a mere hash collision is a new key.
                let repeated: Bool
                if otherKeys.count < Self.linearKeys {
                    repeated = otherKeys.contains { $0.hash == hash && sameBytes(buf, $0.key, key) }
                } else {
                    if otherHashes.isEmpty { otherHashes = Set(otherKeys.lazy.map(\.hash)) }
                    repeated =
                        !otherHashes.insert(hash).inserted
                        && otherKeys.contains { $0.hash == hash && sameBytes(buf, $0.key, key) }
                }
                if repeated { duplicate(buf, key, line) } else { otherKeys.append((hash, key)) }
            }
        }

        private mutating func duplicate(_ buf: UnsafeBufferPointer<UInt8>, _ key: Range<Int>, _ line: Int) {
            warnings.append(Issue(.duplicateKey, "\(makeString(buf[key])) (line \(line), first one used)"))
        }
    }

    // MARK: One scan for both profiles

    /// Collects the fields of a body that passes every line check of ``strictPolicy(_:)`` in one pass over it;
    /// `false` (with `fields` half-filled) as soon as a byte would make any of them object (BOM, bare CR, blank
    /// line, leading whitespace, no colon, bad key, whitespace before the colon, empty value, control
    /// character, invalid UTF-8), and for an empty body.
    ///
    /// For such a body ``lenientPolicy(_:)`` collects the same fields, with the same line numbers and
    /// duplicate-key warnings: both split at LF and number lines alike; there is no bare CR, so the lenient
    /// profile's one trailing CR is exactly the CRLF the strict one removes; a line has no leading
    /// whitespace and its key is an `sts-policy-ext-name` (no whitespace, no colon), so both find the same
    /// colon and key; the value holds a non-whitespace byte, so trimming the line and trimming the value end at
    /// the same byte; no value is empty, so the lenient profile skips no `mx`; the empty segment after a
    /// final terminator has no colon and adds nothing. `MTASTSPolicyDifferentialTests` checks this against
    /// both scanners.
    private static func cleanFields(_ buf: UnsafeBufferPointer<UInt8>, into fields: inout Fields) -> Bool {
        guard let base = buf.baseAddress else { return false }  // an empty body is a blank line
        let n = buf.count
        var i = 0
        var line = 1
        while i < n {
            // The key, `ALPHA / DIGIT` then up to 31 of `ALPHA / DIGIT / "_" / "-" / "."`, up to the colon. The
            // four keys of §3.2 followed by their colon are recognised by one 8-byte load.
            let keyStart = i
            var kind = Key.other
            if n - i >= 8 {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                if word & 0xFF_FFFF == 0x3A_786D {  // "mx:"
                    kind = .mx
                    i += 2
                } else if word == 0x3A65_6761_5F78_616D {  // "max_age:"
                    kind = .maxAge
                    i += 7
                } else if word == 0x3A6E_6F69_7372_6576 {  // "version:"
                    kind = .version
                    i += 7
                } else if word & 0xFF_FFFF_FFFF == 0x3A_6564_6F6D {  // "mode:"
                    kind = .mode
                    i += 4
                }
            }
            if kind == .other {
                guard isAlnum(buf[i]) else { return false }
                i += 1
                while i < n {
                    let b = buf[i]
                    if b == 0x3A { break }
                    guard isAlnum(b) || b == 0x5F || b == 0x2D || b == 0x2E else { return false }
                    i += 1
                }
                guard i < n, i - keyStart <= 32 else { return false }
                kind = classify(buf, keyStart..<i)
            }
            let key = keyStart..<i
            i += 1
            while i < n && isWSP(buf[i]) { i += 1 }
            let valueStart = i
            if kind == .mx {
                // Usually a bare pattern up to the end of the line: its shape is worked out on the way.
                let (stop, shape) = scanPattern(buf, i, n)
                if stop > valueStart
                    && (stop == n || buf[stop] == 0x0A || (buf[stop] == 0x0D && stop + 1 < n && buf[stop + 1] == 0x0A))
                {
                    fields.add(buf, .mx, key: key, value: valueStart..<stop, line: line, shape: shape)
                    if stop == n { return true }
                    i = stop + (buf[stop] == 0x0D ? 2 : 1)
                    line += 1
                    continue
                }
            }
            // The value: visible ASCII, SP, UTF-8; HTAB only in the trailing whitespace; ends at LF or CRLF.
            var valueEnd = i
            var firstTab = Int.max
            var highBit = false
            while i < n {
                let b = buf[i]
                if b > 0x20 && b < 0x7F {
                    valueEnd = i + 1
                } else if b == 0x20 {
                    // space: part of the value only if something visible follows
                } else if b == 0x0A {
                    break
                } else if b >= 0x80 {
                    highBit = true
                    valueEnd = i + 1
                } else if b == 0x09 {
                    if firstTab == Int.max { firstTab = i }
                } else if b == 0x0D && i + 1 < n && buf[i + 1] == 0x0A {
                    break
                } else {
                    return false
                }
                i += 1
            }
            guard valueEnd > valueStart, firstTab >= valueEnd else { return false }
            if highBit && !isValidUTF8(buf[valueStart..<valueEnd]) { return false }
            fields.add(buf, kind, key: key, value: valueStart..<valueEnd, line: line)
            if i == n { return true }  // the last line, without a terminator
            i += buf[i] == 0x0D ? 2 : 1
            line += 1
        }
        return line > 1  // after a final terminator; an empty body is a blank line
    }

    // MARK: Profile S

    /// Profile S: the §3.2 ABNF. Structural errors (bare CR, blank line) anywhere win over per-line syntax
    /// errors, which win over semantic ones; within a class the first one in the file decides.
    static func strictPolicy(_ buf: UnsafeBufferPointer<UInt8>) -> PolicyVerdict {
        let n = buf.count
        if n >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF { return .failure(Issue(.bom)) }
        var fields = Fields()
        var syntaxError: Issue?
        var lineStart = 0
        var line = 1
        while true {
            var lf = lineStart
            while lf < n && buf[lf] != 0x0A { lf += 1 }
            let isLast = lf == n
            var end = lf
            // CRLF ends a line; a CR anywhere else (also at the very end of the body) is a bare CR.
            if !isLast && end > lineStart && buf[end - 1] == 0x0D { end -= 1 }
            var i = lineStart
            while i < end {
                if buf[i] == 0x0D { return .failure(Issue(.bareCR, "line \(line)"), warnings: fields.warnings) }
                i += 1
            }
            if lineStart == end {
                if isLast && line > 1 { break }  // the optional terminator after the last line
                return .failure(Issue(.blankLine, "line \(line)"), warnings: fields.warnings)
            }
            if syntaxError == nil {
                syntaxError = strictLine(buf, lineStart..<end, line: line, into: &fields)
            }
            if isLast { break }
            lineStart = lf + 1
            line += 1
        }
        if let syntaxError { return .failure(syntaxError, warnings: fields.warnings) }
        return semantics(buf, fields, strict: true)
    }

    /// Checks one non-empty line against `sts-policy-field *WSP` and records its field.
    private static func strictLine(
        _ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, line: Int, into fields: inout Fields
    ) -> Issue? {
        let start = range.lowerBound
        var end = range.upperBound
        if isWSP(buf[start]) { return Issue(.leadingWhitespace, "line \(line)") }
        var colon = start
        while colon < end && buf[colon] != 0x3A { colon += 1 }
        if colon == end { return Issue(.noColon, "line \(line)") }
        let key = start..<colon
        if !isExtensionName(buf[key]) {
            var keyEnd = colon
            while keyEnd > start && isWSP(buf[keyEnd - 1]) { keyEnd -= 1 }
            if keyEnd < colon && isExtensionName(buf[start..<keyEnd]) {
                return Issue(.whitespaceBeforeColon, "line \(line)")
            }
            return Issue(.badKey, "line \(line): \(makeString(buf[key]))")
        }
        var valueStart = colon + 1
        while valueStart < end && isWSP(buf[valueStart]) { valueStart += 1 }
        while end > valueStart && isWSP(buf[end - 1]) { end -= 1 }
        if valueStart == end { return Issue(.emptyValue, "line \(line)") }
        var highBit = false
        for index in valueStart..<end {
            let b = buf[index]
            if b < 0x20 || b == 0x7F { return Issue(.controlChar, "line \(line)") }
            if b >= 0x80 { highBit = true }
        }
        if highBit && !isValidUTF8(buf[valueStart..<end]) { return Issue(.invalidUTF8, "line \(line)") }
        fields.add(buf, key: key, value: valueStart..<end, line: line)
        return nil
    }

    // MARK: Profile L

    /// Profile L: LF-separated lines, one trailing CR removed, SP/HTAB trimmed around line, key and value;
    /// empty and colon-less lines skipped; empty `mx` values skipped.
    static func lenientPolicy(_ buf: UnsafeBufferPointer<UInt8>) -> PolicyVerdict {
        let n = buf.count
        var fields = Fields()
        var lineStart = 0
        var line = 1
        while lineStart <= n {
            var lf = lineStart
            while lf < n && buf[lf] != 0x0A { lf += 1 }
            var start = lineStart
            var end = lf
            if end > start && buf[end - 1] == 0x0D { end -= 1 }
            while start < end && isWSP(buf[start]) { start += 1 }
            while end > start && isWSP(buf[end - 1]) { end -= 1 }
            var colon = start
            while colon < end && buf[colon] != 0x3A { colon += 1 }
            if colon < end {
                var keyEnd = colon
                while keyEnd > start && isWSP(buf[keyEnd - 1]) { keyEnd -= 1 }
                var valueStart = colon + 1
                while valueStart < end && isWSP(buf[valueStart]) { valueStart += 1 }
                let key = start..<keyEnd
                if !(classify(buf, key) == .mx && valueStart == end) {
                    fields.add(buf, key: key, value: valueStart..<end, line: line)
                }
            }
            lineStart = lf + 1
            line += 1
        }
        return semantics(buf, fields, strict: false)
    }

    // MARK: Semantics (both profiles)

    /// The outcome of the checks both profiles make alike on the same fields: version, mode, max_age.
    private enum Header {
        case valid(Mode, maxAge: Int)
        case invalid(Issue)
    }

    private static func header(_ buf: UnsafeBufferPointer<UInt8>, _ fields: Fields) -> Header {
        guard let version = fields.version else { return .invalid(Issue(.missingVersion)) }
        guard matches(buf, version, "STSv1") else { return .invalid(Issue(.badVersion, makeString(buf[version]))) }
        guard let modeRange = fields.mode else { return .invalid(Issue(.missingMode)) }
        let mode: Mode
        if matches(buf, modeRange, "enforce") {
            mode = .enforce
        } else if matches(buf, modeRange, "testing") {
            mode = .testing
        } else if matches(buf, modeRange, "none") {
            mode = .none
        } else {
            return .invalid(Issue(.badMode, makeString(buf[modeRange])))
        }
        guard let maxAgeRange = fields.maxAge else { return .invalid(Issue(.missingMaxAge)) }
        guard maxAgeRange.count <= 10, buf[maxAgeRange].allSatisfy(isDigit) else {
            return .invalid(Issue(.badMaxAge, makeString(buf[maxAgeRange])))
        }
        var maxAge = 0
        for index in maxAgeRange { maxAge = maxAge * 10 + Int(buf[index] &- 0x30) }
        if maxAge > maxMaxAge { return .invalid(Issue(.maxAgeOutOfRange, "\(maxAge)")) }
        return .valid(mode, maxAge: maxAge)
    }

    /// What one `mx` value is, in one pass: a valid `["*."] Domain` (``isMXPattern(_:)``), an IPv4 literal
    /// (``isIPv4Like(_:)``), with an upper-case letter. Both checks ignore case, so they hold for the value
    /// lower-cased too; `upper` is only meaningful when `valid`.
    private struct MXShape {
        var valid = false
        var ipv4 = false
        var upper = false
    }

    private static func mxShape(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> MXShape {
        let (stop, shape) = scanPattern(buf, range.lowerBound, range.upperBound)
        return stop == range.upperBound ? shape : MXShape()
    }

    /// Scans `buf[start..<limit]` while it holds pattern bytes (letters, digits, dots, hyphens, after a leading
    /// `*.`), and returns where it stopped and the ``MXShape`` of `buf[start..<stop]`.
    @inline(__always)
    private static func scanPattern(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ limit: Int) -> (
        stop: Int, shape: MXShape
    ) {
        var i = start
        if i < limit && buf[i] == 0x2A {
            guard i + 1 < limit && buf[i + 1] == 0x2E else { return (i, MXShape()) }
            i += 2
        }
        let domainStart = i
        var shape = MXShape()
        var broken = false  // a Domain rule failed; scanning goes on to find the stop
        var labelLength = 0
        var previous: UInt8 = 0x2E
        var dots = 0
        var onlyDigits = true
        while i < limit {
            let b = buf[i]
            if (b | 0x20) &- 0x61 < 26 {
                labelLength += 1
                onlyDigits = false
                if b < 0x61 { shape.upper = true }
            } else if b &- 0x30 < 10 {
                labelLength += 1
            } else if b == 0x2E {
                if labelLength == 0 || previous == 0x2D { broken = true }
                labelLength = 0
                dots += 1
            } else if b == 0x2D {
                if labelLength == 0 { broken = true }
                labelLength += 1
                onlyDigits = false
            } else {
                break
            }
            if labelLength > 63 { broken = true }
            previous = b
            i += 1
        }
        // RFC 5321 `Domain`: 1…253 octets, no empty label, none longer than 63, none ending in a hyphen.
        shape.valid = !broken && i - domainStart <= 253 && labelLength > 0 && previous != 0x2D
        if shape.valid && onlyDigits && dots == 3 {
            // Digits and dots only, four labels: an IPv4 literal if none has more than three digits.
            var digits = 0
            shape.ipv4 = true
            for index in domainStart..<i {
                digits = buf[index] == 0x2E ? 0 : digits + 1
                if digits > 3 { shape.ipv4 = false }
            }
        }
        return (i, shape)
    }

    /// `buf[range]` with ASCII letters lower-cased.
    private static func lowercasedString(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(unsafeUninitializedCapacity: range.count) { out in
            for index in 0..<range.count { out[index] = asciiLower(buf[range.lowerBound + index]) }
            return range.count
        }
    }

    /// Both verdicts from one set of fields. The version/mode/max_age checks are the same for both profiles;
    /// the `mx` values are looked at once: strict fails on an invalid pattern and warns on an IPv4 literal,
    /// lenient lower-cases, drops a trailing dot, drops invalid and IPv4 values with a warning. While every
    /// value is a valid lower-case non-IPv4 pattern, both profiles have the same list and warnings, and
    /// share one verdict; from the first other one on, the lenient profile keeps its own (reusing the strict
    /// profile's string where the value is the same).
    private static func verdicts(_ buf: UnsafeBufferPointer<UInt8>, _ fields: Fields) -> PolicyVerdicts {
        let mode: Mode
        let maxAge: Int
        switch header(buf, fields) {
        case .invalid(let issue):
            let verdict = PolicyVerdict.failure(issue, warnings: fields.warnings)
            return PolicyVerdicts(strict: verdict, lenient: verdict)
        case .valid(let valid, let age):
            mode = valid
            maxAge = age
        }
        let count = fields.mx.count
        var strictMX: [String] = []
        strictMX.reserveCapacity(count)
        var strictWarnings = fields.warnings
        var strictFailure: Issue?
        var lenientMX: [String] = []
        var lenientWarnings: [Issue] = []
        var lenientSeparate = false
        for index in 0..<count {
            let value = fields.mx[index]
            let range = value.range
            let shape = value.shape ?? mxShape(buf, range)
            var strictString: String?
            if strictFailure == nil {
                if shape.valid {
                    let string = makeString(buf[range])
                    if shape.ipv4 { strictWarnings.append(Issue(.mxIPLiteral, string)) }
                    strictMX.append(string)
                    strictString = string
                } else {
                    strictFailure = Issue(.mxInvalidPattern, makeString(buf[range]))
                }
            }
            if !lenientSeparate {
                if shape.valid && !shape.ipv4 && !shape.upper { continue }
                // The values before this one were all kept unchanged by both profiles, with no warning.
                lenientSeparate = true
                lenientMX.reserveCapacity(count)
                lenientMX.append(contentsOf: strictMX.prefix(index))
                lenientWarnings = fields.warnings
            }
            var normalised = range
            var normalisedShape = shape
            if !range.isEmpty && buf[range.upperBound - 1] == 0x2E {
                normalised = range.lowerBound..<(range.upperBound - 1)
                normalisedShape = mxShape(buf, normalised)
            }
            if !normalisedShape.valid {
                lenientWarnings.append(Issue(.mxDropped, strictString ?? makeString(buf[range])))
            } else if normalisedShape.ipv4 {
                lenientWarnings.append(Issue(.mxDroppedIPLiteral, strictString ?? makeString(buf[range])))
            } else if normalisedShape.upper {
                lenientMX.append(lowercasedString(buf, normalised))
            } else if let strictString, normalised == range {
                lenientMX.append(strictString)
            } else {
                lenientMX.append(makeString(buf[normalised]))
            }
        }
        let strict = verdict(mode, maxAge, strictMX, strictWarnings, failure: strictFailure)
        guard lenientSeparate else { return PolicyVerdicts(strict: strict, lenient: strict) }
        return PolicyVerdicts(strict: strict, lenient: verdict(mode, maxAge, lenientMX, lenientWarnings, failure: nil))
    }

    private static func verdict(_ mode: Mode, _ maxAge: Int, _ mx: [String], _ warnings: [Issue], failure: Issue?)
        -> PolicyVerdict
    {
        if let failure { return .failure(failure, warnings: warnings) }
        if mode != .none && mx.isEmpty { return .failure(Issue(.missingMX), warnings: warnings) }
        return PolicyVerdict(
            reason: nil, parsed: ParsedPolicy(version: "STSv1", mode: mode, maxAge: maxAge, mx: mx),
            warnings: warnings)
    }

    /// One profile's verdict on its own fields (the two-scan path).
    private static func semantics(_ buf: UnsafeBufferPointer<UInt8>, _ fields: Fields, strict: Bool) -> PolicyVerdict {
        verdicts(buf, fields)[strict ? .strict : .lenient]
    }
}
