/// RFC 8461 (MTA-STS): the `_mta-sts` TXT record and policy-file parsers, MX matching, conversion to list
/// patterns and the lint output of `policylist-observe check-policy` / `check-txt`.
///
/// Every input gets two verdicts: ``Profile/strict`` (the RFC, with the resolutions documented in
/// `docs/mta-sts-parsing.md`) and ``Profile/lenient`` (what widely deployed resolvers accept, keeping the
/// RFC's semantic checks). Parsers work on bytes and never throw: a broken record is a verdict, not an error.
public enum MTASTS {
    /// The largest policy body accepted, in bytes (RFC 8461 §3.3 suggests 64 KiB; the resolvers use 65536).
    public static let maxPolicyBytes = 65536
    /// The largest `max_age` allowed by RFC 8461 §3.2 (one Julian year, in seconds).
    public static let maxMaxAge = 31_557_600

    /// Which reading of the RFC a verdict was computed under.
    public enum Profile: String, Sendable, Hashable, CaseIterable {
        /// RFC 8461 read literally (profile S of the reference corpus).
        case strict
        /// What most deployed senders accept (profile L): tolerant line structure, same semantic checks.
        case lenient
    }

    /// A policy mode (RFC 8461 §5).
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Deliver only over authenticated TLS to a matching MX.
        case enforce
        /// Report failures but deliver anyway.
        case testing
        /// No policy (the clean opt-out of §8.3).
        case none
    }

    /// The kind of an error or warning. Raw values are the kebab-case codes printed by the lint commands.
    public enum IssueCode: String, Sendable, Hashable, CaseIterable {
        // TXT record (§3.1)
        /// No TXT RR starts with `v=STSv1` followed by a delimiter or the end.
        case noSTSRecord = "no-sts-record"
        /// More than one candidate TXT RR.
        case multipleSTSRecords = "multiple-sts-records"
        /// The record has no `id` field.
        case missingID = "missing-id"
        /// The `id` field is empty.
        case idEmpty = "id-empty"
        /// The `id` holds something other than ASCII letters and digits.
        case idInvalidChars = "id-invalid-chars"
        /// The `id` is longer than 32 characters.
        case idTooLong = "id-too-long"
        /// The record is outside the §3.1 ABNF.
        case syntaxError = "syntax-error"
        /// The record holds a byte above 0x7E or a control character other than HTAB.
        case nonASCII = "non-ascii"
        // Fetch (§3.3)
        /// The policy URL answered with a 3xx redirect, which must not be followed.
        case redirectNotFollowed = "redirect-not-followed"
        /// The policy URL answered with a status other than 200.
        case httpStatusNot200 = "http-status-not-200"
        /// The certificate has no DNS-ID valid for the policy host.
        case tlsNameMismatch = "tls-name-mismatch"
        /// The response had no Content-Type.
        case contentTypeMissing = "content-type-missing"
        /// The media type is not `text/plain`.
        case contentTypeNotTextPlain = "content-type-not-text-plain"
        /// The body is larger than ``MTASTS/maxPolicyBytes``.
        case tooLarge = "too-large"
        // Policy line structure (§3.2 ABNF; strict only)
        /// The body starts with a UTF-8 byte-order mark.
        case bom = "bom"
        /// A carriage return that does not end a line.
        case bareCR = "bare-cr"
        /// An empty line (including a second terminator after the last line).
        case blankLine = "blank-line"
        /// A line starts with a space or tab.
        case leadingWhitespace = "leading-whitespace"
        /// Space or tab between a key and its colon.
        case whitespaceBeforeColon = "whitespace-before-colon"
        /// A line without a colon.
        case noColon = "no-colon"
        /// A key outside the `sts-policy-ext-name` grammar.
        case badKey = "bad-key"
        /// A key with no value.
        case emptyValue = "empty-value"
        /// A control character inside a value.
        case controlChar = "control-char"
        /// A value that is not valid UTF-8.
        case invalidUTF8 = "invalid-utf8"
        // Policy semantics
        /// No `version` field.
        case missingVersion = "missing-version"
        /// The first `version` is not exactly `STSv1`.
        case badVersion = "bad-version"
        /// No `mode` field.
        case missingMode = "missing-mode"
        /// The first `mode` is not exactly `enforce`, `testing` or `none`.
        case badMode = "bad-mode"
        /// No `max_age` field.
        case missingMaxAge = "missing-max-age"
        /// The first `max_age` is not 1 to 10 ASCII digits.
        case badMaxAge = "bad-max-age"
        /// The first `max_age` is above ``MTASTS/maxMaxAge``.
        case maxAgeOutOfRange = "max-age-out-of-range"
        /// An `mx` value that is not `["*."] Domain` (strict).
        case mxInvalidPattern = "mx-invalid-pattern"
        /// `enforce` or `testing` without any (remaining) `mx`.
        case missingMX = "missing-mx"
        // Warnings
        /// An `mx` value that is an IPv4 address literal (strict: kept, warned).
        case mxIPLiteral = "mx-ip-literal"
        /// An invalid `mx` value dropped by the lenient profile.
        case mxDropped = "mx-dropped"
        /// An IPv4-literal `mx` value dropped by the lenient profile.
        case mxDroppedIPLiteral = "mx-dropped-ip-literal"
        /// A non-repeatable key (or TXT field) repeated; the first occurrence was used.
        case duplicateKey = "duplicate-key"

        /// The snake_case reason code of the reference corpus (`cases.jsonl`, reference §4.4).
        public var corpusCode: String { String(rawValue.map { $0 == "-" ? "_" : $0 }) }
    }

    /// One error or warning: a code plus an optional human detail (`max-age-out-of-range: 63072000`).
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        /// What went wrong.
        public var code: IssueCode
        /// Where or which value (a line number, the offending value), if useful.
        public var detail: String?

        /// Creates an issue.
        public init(_ code: IssueCode, _ detail: String? = nil) {
            self.code = code
            self.detail = detail
        }

        /// `code` or `code: detail`, as printed by the lint commands.
        public var description: String { detail.map { "\(code.rawValue): \($0)" } ?? code.rawValue }

        /// The form the reference corpus asserts, or `nil` for codes the corpus does not assert.
        ///
        /// Reasons map to their bare snake_case code. The lenient drop warnings carry their value
        /// (`mx_dropped:<v>`, `mx_dropped_ip_literal:<v>`); the strict IP warning is bare (`mx_ip_literal`).
        /// `duplicate-key` is an extra statistic the corpus does not assert (reference §4.4), so `nil`.
        public var corpusForm: String? {
            switch code {
            case .duplicateKey: return nil
            case .mxDropped, .mxDroppedIPLiteral: return code.corpusCode + ":" + (detail ?? "")
            default: return code.corpusCode
            }
        }
    }
}

// MARK: - Byte helpers shared by the parsers (ASCII only; no Foundation)

extension MTASTS {

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
