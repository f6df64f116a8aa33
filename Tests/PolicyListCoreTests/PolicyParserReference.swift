@testable import PolicyListCore

// The policy-body parsers as they were before the single-scan rewrite (commit 5be3dbb), kept verbatim apart
// from their container's name and the explicit `MTASTS.` prefixes, as the reference of
// `MTASTSPolicyDifferentialTests`. The byte helpers they use are copied too, so that a change to the
// library's helpers cannot change the reference. Do not "fix" anything here: it is the old behaviour.
enum PolicyParserReference {
    typealias Issue = MTASTS.Issue
    typealias PolicyVerdict = MTASTS.PolicyVerdict
    typealias PolicyVerdicts = MTASTS.PolicyVerdicts
    typealias ParsedPolicy = MTASTS.ParsedPolicy
    typealias Mode = MTASTS.Mode
    static let maxPolicyBytes = MTASTS.maxPolicyBytes
    static let maxMaxAge = MTASTS.maxMaxAge

    /// `MTASTS.evaluatePolicy(body:http:certificate:)` as it was (the fetch checks are shared, unchanged).
    static func evaluatePolicy(
        body: [UInt8], http: MTASTS.HTTPFacts = MTASTS.HTTPFacts(), certificate: MTASTS.CertificateFacts? = nil
    ) -> PolicyVerdicts {
        body.withUnsafeBufferPointer { body in
            if let issue = MTASTS.fetchIssue(http: http, certificate: certificate) {
                let verdict = PolicyVerdict.failure(issue)
                return PolicyVerdicts(strict: verdict, lenient: verdict)
            }
            if body.count > maxPolicyBytes {
                let verdict = PolicyVerdict.failure(Issue(.tooLarge, "\(body.count) bytes"))
                return PolicyVerdicts(strict: verdict, lenient: verdict)
            }
            return PolicyVerdicts(strict: strictPolicy(body), lenient: lenientPolicy(body))
        }
    }

    // MARK: Field collection

    private enum Key { case version, mode, maxAge, mx, other }

    private static let keyVersion: [UInt8] = Array("version".utf8)
    private static let keyMode: [UInt8] = Array("mode".utf8)
    private static let keyMaxAge: [UInt8] = Array("max_age".utf8)

    @inline(__always)
    private static func classify(_ buf: UnsafeBufferPointer<UInt8>, _ key: Range<Int>) -> Key {
        switch key.count {
        case 2: return buf[key.lowerBound] == 0x6D && buf[key.lowerBound + 1] == 0x78 ? .mx : .other
        case 4: return buf[key].elementsEqual(keyMode) ? .mode : .other
        case 7:
            if buf[key].elementsEqual(keyVersion) { return .version }
            return buf[key].elementsEqual(keyMaxAge) ? .maxAge : .other
        default: return .other
        }
    }

    /// The fields of one policy as byte ranges into the body: the first `version`, `mode` and `max_age`,
    /// every `mx`; repeated non-`mx` keys become warnings.
    private struct Fields {
        var version: Range<Int>?
        var mode: Range<Int>?
        var maxAge: Range<Int>?
        var mx: [Range<Int>] = []
        var warnings: [Issue] = []
        var otherKeys: [(hash: UInt64, key: Range<Int>)] = []
        var otherHashes: Set<UInt64> = []

        init() { mx.reserveCapacity(4) }

        mutating func add(_ buf: UnsafeBufferPointer<UInt8>, key: Range<Int>, value: Range<Int>, line: Int) {
            switch classify(buf, key) {
            case .mx: mx.append(value)
            case .version:
                if version == nil { version = value } else { duplicate(buf, key, line) }
            case .mode:
                if mode == nil { mode = value } else { duplicate(buf, key, line) }
            case .maxAge:
                if maxAge == nil { maxAge = value } else { duplicate(buf, key, line) }
            case .other:
                var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                for b in buf[key] { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
                if otherHashes.insert(hash).inserted {
                    otherKeys.append((hash, key))
                } else if otherKeys.contains(where: { $0.hash == hash && buf[$0.key].elementsEqual(buf[key]) }) {
                    duplicate(buf, key, line)
                } else {
                    otherKeys.append((hash, key))
                }
            }
        }

        private mutating func duplicate(_ buf: UnsafeBufferPointer<UInt8>, _ key: Range<Int>, _ line: Int) {
            warnings.append(Issue(.duplicateKey, "\(makeString(buf[key])) (line \(line), first one used)"))
        }
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

    private static let stsV1: [UInt8] = Array("STSv1".utf8)
    private static let enforceBytes: [UInt8] = Array("enforce".utf8)
    private static let testingBytes: [UInt8] = Array("testing".utf8)
    private static let noneBytes: [UInt8] = Array("none".utf8)

    private static func semantics(_ buf: UnsafeBufferPointer<UInt8>, _ fields: Fields, strict: Bool) -> PolicyVerdict {
        var warnings = fields.warnings
        guard let version = fields.version else { return .failure(Issue(.missingVersion), warnings: warnings) }
        guard buf[version].elementsEqual(stsV1) else {
            return .failure(Issue(.badVersion, makeString(buf[version])), warnings: warnings)
        }
        guard let modeRange = fields.mode else { return .failure(Issue(.missingMode), warnings: warnings) }
        let mode: Mode
        if buf[modeRange].elementsEqual(enforceBytes) {
            mode = .enforce
        } else if buf[modeRange].elementsEqual(testingBytes) {
            mode = .testing
        } else if buf[modeRange].elementsEqual(noneBytes) {
            mode = .none
        } else {
            return .failure(Issue(.badMode, makeString(buf[modeRange])), warnings: warnings)
        }
        guard let maxAgeRange = fields.maxAge else { return .failure(Issue(.missingMaxAge), warnings: warnings) }
        guard maxAgeRange.count <= 10, buf[maxAgeRange].allSatisfy(isDigit) else {
            return .failure(Issue(.badMaxAge, makeString(buf[maxAgeRange])), warnings: warnings)
        }
        var maxAge = 0
        for b in buf[maxAgeRange] { maxAge = maxAge * 10 + Int(b &- 0x30) }
        if maxAge > maxMaxAge { return .failure(Issue(.maxAgeOutOfRange, "\(maxAge)"), warnings: warnings) }

        var mx: [String] = []
        mx.reserveCapacity(fields.mx.count)
        for range in fields.mx {
            let raw = buf[range]
            if strict {
                guard isMXPattern(raw) else {
                    return .failure(Issue(.mxInvalidPattern, makeString(raw)), warnings: warnings)
                }
                if isIPv4Like(raw) { warnings.append(Issue(.mxIPLiteral, makeString(raw))) }
                mx.append(makeString(raw))
            } else {
                var normalised = raw.lazy.map(asciiLower)[...]
                if normalised.last == 0x2E { normalised = normalised.dropLast() }
                guard isMXPattern(normalised) else {
                    warnings.append(Issue(.mxDropped, makeString(raw)))
                    continue
                }
                if isIPv4Like(normalised) {
                    warnings.append(Issue(.mxDroppedIPLiteral, makeString(raw)))
                    continue
                }
                mx.append(makeString(normalised))
            }
        }
        if mode != .none && mx.isEmpty { return .failure(Issue(.missingMX), warnings: warnings) }
        return PolicyVerdict(
            reason: nil, parsed: ParsedPolicy(version: "STSv1", mode: mode, maxAge: maxAge, mx: mx),
            warnings: warnings)
    }

    @inline(__always) static func isWSP(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
    @inline(__always) static func asciiLower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    /// `ALPHA / DIGIT` then up to 31 of `ALPHA / DIGIT / "_" / "-" / "."` (§3.1 `sts-ext-name`, §3.2
    /// `sts-policy-ext-name`).
    static func isExtensionName(_ name: UnsafeBufferPointer<UInt8>.SubSequence) -> Bool {
        guard let first = name.first, isAlnum(first), name.count <= 32 else { return false }
        for b in name.dropFirst() where !(isAlnum(b) || b == 0x5F || b == 0x2D || b == 0x2E) { return false }
        return true
    }

    /// RFC 5321 §4.1.2 `Domain`: LDH labels of 1–63 octets that start and end with a letter or digit, at most
    /// 253 octets, no trailing dot. All-numeric labels are allowed (so an IPv4 literal is syntactically a Domain).
    static func isLDHDomain<C: Collection>(_ name: C) -> Bool where C.Element == UInt8 {
        if name.isEmpty || name.count > 253 { return false }
        var labelLength = 0
        var previous: UInt8 = 0x2E
        for b in name {
            if b == 0x2E {
                if labelLength == 0 || previous == 0x2D { return false }
                labelLength = 0
            } else if isAlnum(b) {
                labelLength += 1
            } else if b == 0x2D {
                if labelLength == 0 { return false }
                labelLength += 1
            } else {
                return false
            }
            if labelLength > 63 { return false }
            previous = b
        }
        return labelLength > 0 && previous != 0x2D
    }

    /// `["*."] Domain` (§3.2 `sts-policy-mx-value`).
    static func isMXPattern<C: Collection>(_ value: C) -> Bool where C.Element == UInt8 {
        var iterator = value.makeIterator()
        if iterator.next() == 0x2A {
            guard iterator.next() == 0x2E else { return false }
            return isLDHDomain(value.dropFirst(2))
        }
        return isLDHDomain(value)
    }

    /// Four dot-separated labels of 1–3 digits: an IPv4 address literal written as a name. `value` must be a
    /// valid ``isMXPattern(_:)``; a leading `*.` is ignored.
    static func isIPv4Like<C: Collection>(_ value: C) -> Bool where C.Element == UInt8 {
        var body = value[...]
        if body.first == 0x2A { body = body.dropFirst(2) }
        var labels = 0
        var digits = 0
        for b in body {
            if b == 0x2E {
                if digits == 0 { return false }
                labels += 1
                digits = 0
            } else if isDigit(b) {
                digits += 1
                if digits > 3 { return false }
            } else {
                return false
            }
        }
        return digits > 0 && labels == 3
    }

    /// Whether `bytes` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
    static func isValidUTF8<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var remaining = 0
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        for b in bytes {
            if remaining == 0 {
                switch b {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: remaining = 1
                case 0xE0: remaining = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE, 0xEF: remaining = 2
                case 0xED: remaining = 2; upper = 0x9F
                case 0xF0: remaining = 3; lower = 0x90
                case 0xF1...0xF3: remaining = 3
                case 0xF4: remaining = 3; upper = 0x8F
                default: return false
                }
            } else {
                guard b >= lower && b <= upper else { return false }
                lower = 0x80
                upper = 0xBF
                remaining -= 1
            }
        }
        return remaining == 0
    }

    /// A `String` from bytes, repairing invalid UTF-8 (only used for details and kept values).
    @inline(__always) static func makeString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        // Copy into the string's own storage first: `String(decoding:)` on a lazy (non-contiguous) collection
        // takes a slow element-by-element path. Invalid UTF-8 is repaired either way.
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            _ = buffer.initialize(fromContentsOf: bytes)
            return bytes.count
        }
    }
}
