extension MTASTS {
    /// Whether the MX host name `host` matches the policy's `mx` pattern (RFC 8461 §4.1, Appendix B).
    ///
    /// Both sides compare case-insensitively; one trailing root dot is removed from the host (DNS names
    /// come fully qualified). A literal pattern matches only the same name; `*.example.com` matches exactly
    /// one extra leftmost label (`mail.example.com`), never `example.com` or `a.b.example.com`. A pattern
    /// that is not `["*."] Domain` matches nothing, and so does a host that is not a Domain (a wildcard is
    /// never a host). The lenient profile also removes one trailing dot from the pattern.
    public static func mxPatternMatches(_ pattern: String, host: String, profile: Profile = .strict) -> Bool {
        var h = Array(host.utf8)
        if h.last == 0x2E { h.removeLast() }
        for i in h.indices { h[i] = asciiLower(h[i]) }
        guard isLDHDomain(h) else { return false }
        var p = Array(pattern.utf8)
        if profile == .lenient && p.last == 0x2E { p.removeLast() }
        for i in p.indices { p[i] = asciiLower(p[i]) }
        guard isMXPattern(p) else { return false }
        if p == h { return true }
        guard p.first == 0x2A, let dot = h.firstIndex(of: 0x2E), dot > 0 else { return false }
        return h[(dot + 1)...].elementsEqual(p[2...])
    }

    /// Whether a certificate with the subjectAltName DNS-IDs `dnsNames` is valid for `host` (RFC 6125 as
    /// required by RFC 8461 §3.3 and §4.2).
    ///
    /// Case-insensitive; one trailing dot is ignored on either side. A wildcard is accepted only as the
    /// complete leftmost label (`*.example.com`), stands for exactly one non-empty label, and is not
    /// honoured directly above a single-label name (`*.com`), as CAs may not issue those.
    public static func certificateNameMatches(host: String, dnsNames: [String]) -> Bool {
        func normalise(_ name: String) -> [UInt8] {
            var bytes = name.utf8.map(asciiLower)
            if bytes.last == 0x2E { bytes.removeLast() }
            return bytes
        }
        let h = normalise(host)
        guard !h.isEmpty else { return false }
        for name in dnsNames {
            let n = normalise(name)
            if n.isEmpty { continue }
            if !n.contains(0x2A) {
                if n == h { return true }
                continue
            }
            // `*.` + base, with no other `*` and at least two labels in the base.
            guard n.count > 2, n[0] == 0x2A, n[1] == 0x2E else { continue }
            let base = n[2...]
            guard !base.contains(0x2A), base.contains(0x2E), base.first != 0x2E else { continue }
            guard let dot = h.firstIndex(of: 0x2E), dot > 0 else { continue }
            if h[(dot + 1)...].elementsEqual(base) { return true }
        }
        return false
    }
}
