extension MTASTS {
    /// Converts a policy's `mx` patterns to STARTTLS-policy-list `mxs` patterns (reference §7, domain-spec
    /// §3.5, rule R4).
    ///
    /// In file order: surrounding whitespace and one trailing dot are removed; empty values are dropped
    /// silently; `*.example.net` becomes `.example.net` (warned as `wildcard-semantics-widened`, because
    /// Postfix's `match=.example.net` also covers deeper names); everything else that does not fit the
    /// list schema's item pattern is dropped with a warning: IP literals, ports, `_`, other `*` positions,
    /// non-ASCII (U-labels), a wildcard directly above a single label (`*.com`); the first of values that
    /// are equal ignoring case is kept. Case is kept, as the historical conversion did (domain-spec §3.5).
    ///
    /// - Returns: the list patterns and kebab-case warnings (`code: value`), in input order.
    public static func convertToListPatterns(_ mx: [String]) -> (patterns: [String], warnings: [String]) {
        var patterns: [String] = []
        var seen: Set<[UInt8]> = []
        var warnings: [String] = []
        for value in mx {
            var bytes = Array(value.utf8)
            let isSpace: (UInt8) -> Bool = { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }
            while let last = bytes.last, isSpace(last) { bytes.removeLast() }
            let leading = bytes.prefix(while: isSpace).count
            if leading > 0 { bytes.removeFirst(leading) }
            if bytes.last == 0x2E { bytes.removeLast() }
            if bytes.isEmpty { continue }
            let shown = makeString(bytes)
            if bytes.contains(where: { $0 >= 0x80 }) {
                warnings.append("mx-dropped-non-ascii: \(shown)")
                continue
            }
            if bytes.first == 0x5B || isIPv4Like(bytes) || isIPv6Like(bytes) {
                warnings.append("mx-dropped-ip-literal: \(shown)")
                continue
            }
            if bytes.contains(0x3A) {
                warnings.append("mx-dropped-port: \(shown)")
                continue
            }
            let isWildcard = bytes.starts(with: [0x2A, 0x2E])
            guard isMXPattern(bytes) else {
                warnings.append("mx-dropped-invalid: \(shown)")
                continue
            }
            let converted = isWildcard ? Array(bytes.dropFirst()) : bytes
            guard isListPattern(converted) else {
                let tooBroad = isWildcard && !converted.dropFirst().contains(0x2E)
                warnings.append("\(tooBroad ? "mx-dropped-too-broad" : "mx-dropped-invalid"): \(shown)")
                continue
            }
            guard seen.insert(converted.map(asciiLower)).inserted else {
                warnings.append("mx-dropped-duplicate: \(shown)")
                continue
            }
            if isWildcard { warnings.append("wildcard-semantics-widened: \(shown)") }
            patterns.append(makeString(converted))
        }
        return (patterns, warnings)
    }

    /// Hex digits, `:` and `.` with at least two colons: an IPv6 address literal.
    static func isIPv6Like(_ bytes: [UInt8]) -> Bool {
        var colons = 0
        for b in bytes {
            if b == 0x3A {
                colons += 1
            } else if !(isDigit(b) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) || b == 0x2E) {
                return false
            }
        }
        return colons >= 2
    }

    /// The list schema's mx item pattern (`schema/policy-0.1`):
    /// `^\.?([a-zA-Z0-9]([a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9]{2,63}$`.
    static func isListPattern(_ bytes: [UInt8]) -> Bool {
        var body = bytes[...]
        if body.first == 0x2E { body = body.dropFirst() }
        let labels = body.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard labels.count >= 2, let last = labels.last, (2...63).contains(last.count), last.allSatisfy(isAlnum)
        else { return false }
        for label in labels.dropLast() {
            guard let first = label.first, let end = label.last, (1...63).contains(label.count), isAlnum(first),
                isAlnum(end), label.allSatisfy({ isAlnum($0) || $0 == 0x2D })
            else { return false }
        }
        return true
    }
}
