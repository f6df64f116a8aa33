extension MTASTS {
    /// The outcome class of a `_mta-sts` TXT lookup (reference §0 item 7: kept apart for the statistics).
    public enum TXTResult: String, Sendable, Hashable, CaseIterable {
        /// Exactly one candidate record, and it is well-formed.
        case valid
        /// Exactly one candidate record, and it is broken.
        case invalid
        /// No record starts with `v=STSv1` plus a delimiter: the domain has no policy.
        case absent
        /// More than one candidate record: no policy (§3.1).
        case multiple
    }

    /// One extension field of a TXT record (`name=value`), in record order.
    public struct TXTExtension: Sendable, Hashable {
        /// The field name.
        public var name: String
        /// The field value.
        public var value: String
    }

    /// The verdict on a `_mta-sts` TXT RRset under one profile.
    public struct TXTVerdict: Sendable, Hashable {
        /// Valid, invalid, absent or multiple.
        public var result: TXTResult
        /// Why it is not valid (`nil` when valid).
        public var reason: Issue?
        /// The policy id, when valid.
        public var id: String?
        /// Fields other than `v` and `id` (first occurrence of each name), when valid.
        public var extensions: [TXTExtension]
        /// Things worth counting that do not invalidate the record (a repeated field).
        public var warnings: [Issue]

        /// Whether the record is usable.
        public var isValid: Bool { result == .valid }

        static func failure(_ result: TXTResult, _ reason: Issue, warnings: [Issue] = []) -> TXTVerdict {
            TXTVerdict(result: result, reason: reason, id: nil, extensions: [], warnings: warnings)
        }
    }

    /// Both verdicts on one TXT RRset.
    public struct TXTVerdicts: Sendable, Hashable {
        /// RFC 8461 §3.1 read literally.
        public var strict: TXTVerdict
        /// What widely deployed resolvers accept.
        public var lenient: TXTVerdict

        /// The verdict under `profile`.
        public subscript(profile: Profile) -> TXTVerdict { profile == .strict ? strict : lenient }
    }

    /// Evaluates the TXT RRset found at `_mta-sts.<domain>`.
    ///
    /// - Parameter rrset: the answer's RRs, each as its character-strings (bytes, without length octets).
    ///   The strings of one RR are joined without a separator (§3.1).
    public static func evaluateTXT(rrset: [[[UInt8]]]) -> TXTVerdicts {
        var candidate: [UInt8]?
        var candidates = 0
        for rr in rrset {
            let joined = rr.count == 1 ? rr[0] : Array(rr.joined())
            if isSTSCandidate(joined) {
                candidates += 1
                candidate = joined
            }
        }
        guard let record = candidate else {
            let verdict = TXTVerdict.failure(.absent, Issue(.noSTSRecord))
            return TXTVerdicts(strict: verdict, lenient: verdict)
        }
        if candidates > 1 {
            let verdict = TXTVerdict.failure(.multiple, Issue(.multipleSTSRecords, "\(candidates) records"))
            return TXTVerdicts(strict: verdict, lenient: verdict)
        }
        if let offset = record.firstIndex(where: { $0 > 0x7E || ($0 < 0x20 && $0 != 0x09) }) {
            let byte = String(record[offset], radix: 16, uppercase: true)
            let verdict = TXTVerdict.failure(
                .invalid, Issue(.nonASCII, "byte 0x\(byte.count == 1 ? "0" + byte : byte) at offset \(offset)"))
            return TXTVerdicts(strict: verdict, lenient: verdict)
        }
        return TXTVerdicts(strict: strictTXT(record), lenient: lenientTXT(record))
    }

    /// Evaluates one TXT record given as text (an RRset of one RR with one string), as `check-txt` does.
    public static func evaluateTXT(record: String) -> TXTVerdicts {
        evaluateTXT(rrset: [[Array(record.utf8)]])
    }

    private static let versionTag: [UInt8] = Array("v=STSv1".utf8)

    /// `v=STSv1` followed by WSP, `;` or the end (the ABNF reading of erratum 6285; see the docs).
    static func isSTSCandidate(_ record: [UInt8]) -> Bool {
        guard record.count >= versionTag.count, record.starts(with: versionTag) else { return false }
        guard record.count > versionTag.count else { return true }
        let next = record[versionTag.count]
        return isWSP(next) || next == 0x3B
    }

    /// `sts-ext-value`: `%x21-3A / %x3C / %x3E-7E`.
    @inline(__always) private static func isExtValueByte(_ b: UInt8) -> Bool {
        (b >= 0x21 && b <= 0x3A) || b == 0x3C || (b >= 0x3E && b <= 0x7E)
    }

    /// Profile S: the §3.1 ABNF exactly. `record` is a candidate and pure ASCII.
    static func strictTXT(_ record: [UInt8]) -> TXTVerdict {
        var fields: [(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] = []
        var pos = versionTag.count
        let end = record.count
        func syntax(_ what: String) -> TXTVerdict {
            .failure(.invalid, Issue(.syntaxError, "\(what) at offset \(pos)"))
        }
        while true {
            // sts-field-delim = *WSP ";" *WSP
            var p = pos
            while p < end && isWSP(record[p]) { p += 1 }
            guard p < end && record[p] == 0x3B else {
                if pos == end { break }
                return syntax(p == end ? "trailing whitespace" : "expected ';'")
            }
            p += 1
            while p < end && isWSP(record[p]) { p += 1 }
            pos = p
            if pos == end { break }  // the optional final delimiter
            // sts-field = name "=" value
            var q = pos
            while q < end && (isAlnum(record[q]) || record[q] == 0x5F || record[q] == 0x2D || record[q] == 0x2E) {
                q += 1
            }
            let nameEnd = q
            let nameOK = nameEnd > pos && isAlnum(record[pos]) && nameEnd - pos <= 32
            guard nameOK, q < end, record[q] == 0x3D else {
                return syntax(nameOK ? "expected '=' after field name" : "bad field name")
            }
            q += 1
            let valueStart = q
            while q < end && isExtValueByte(record[q]) { q += 1 }
            guard q > valueStart else {
                // `id=` followed by a delimiter or the end is an empty id; anything else is bad syntax.
                if record[pos..<nameEnd].elementsEqual([0x69, 0x64])
                    && (q == end || isWSP(record[q]) || record[q] == 0x3B)
                {
                    return .failure(.invalid, Issue(.idEmpty))
                }
                pos = valueStart
                return syntax("bad field value")
            }
            fields.append((record[pos..<nameEnd], record[valueStart..<q]))
            pos = q
        }
        return finishTXT(fields, strict: true)
    }

    /// Profile L: split on `;`, trim, skip empty or `=`-less fields; the id may be any non-empty string
    /// without whitespace. `record` is a candidate and pure ASCII.
    static func lenientTXT(_ record: [UInt8]) -> TXTVerdict {
        var fields: [(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] = []
        var isFirst = true
        for piece in record.split(separator: 0x3B, omittingEmptySubsequences: false) {
            var start = piece.startIndex
            var end = piece.endIndex
            while start < end && isWSP(piece[start]) { start += 1 }
            while end > start && isWSP(piece[end - 1]) { end -= 1 }
            if start == end { continue }
            if isFirst {  // the version field, guaranteed by candidate selection
                isFirst = false
                continue
            }
            guard let equals = piece[start..<end].firstIndex(of: 0x3D) else { continue }
            fields.append((piece[start..<equals], piece[(equals + 1)..<end]))
        }
        return finishTXT(fields, strict: false)
    }

    private static func finishTXT(
        _ fields: [(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>)], strict: Bool
    ) -> TXTVerdict {
        var id: ArraySlice<UInt8>?
        var extensions: [TXTExtension] = []
        var warnings: [Issue] = []
        var seen: [ArraySlice<UInt8>] = []
        for field in fields {
            if seen.contains(where: { $0.elementsEqual(field.name) }) {
                warnings.append(Issue(.duplicateKey, makeString(field.name)))
                continue
            }
            seen.append(field.name)
            if field.name.elementsEqual([0x69, 0x64]) {
                id = field.value
            } else {
                extensions.append(TXTExtension(name: makeString(field.name), value: makeString(field.value)))
            }
        }
        guard let id else { return .failure(.invalid, Issue(.missingID), warnings: warnings) }
        if id.isEmpty { return .failure(.invalid, Issue(.idEmpty), warnings: warnings) }
        if strict {
            if !id.allSatisfy(isAlnum) {
                return .failure(.invalid, Issue(.idInvalidChars, makeString(id)), warnings: warnings)
            }
            if id.count > 32 {
                return .failure(.invalid, Issue(.idTooLong, "\(id.count) characters"), warnings: warnings)
            }
        } else if id.contains(where: isWSP) {
            return .failure(.invalid, Issue(.idInvalidChars, makeString(id)), warnings: warnings)
        }
        return TXTVerdict(
            result: .valid, reason: nil, id: makeString(id), extensions: extensions, warnings: warnings)
    }
}
