/// Why a value cannot go into a line-oriented map.
public struct UnsafeFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The domain concerned.
    public let domain: String
    /// The offending value.
    public let value: String
    /// Message.
    public var description: String {
        "refusing to write \(JSONWriter.compact(.string(value))) for \(JSONWriter.compact(.string(domain))) "
            + "into the Postfix map: only letters, digits, '.' and '-' are allowed"
    }
}

/// Writes a Postfix `smtp_tls_policy_maps` source the way the publisher's `starttls-policy-cli --generate postfix`
/// does: domains sorted, padded to the longest name; `enforce` → `secure match=mx1:mx2`; `testing` as a comment.
public enum PostfixMap {
    /// The map text (with a final newline, as the CLI prints it). Refuses any domain or pattern that could split
    /// a line or a field, whatever validated it before.
    public static func text(_ list: PolicyList) throws(UnsafeFieldError) -> String {
        let effective = list.effectiveByDomain()
        let domains = list.policies.map(\.domain).sorted {
            Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value))
        }
        let width = domains.map(\.count).max() ?? 0
        var lines: [String] = []
        lines.reserveCapacity(domains.count)
        for domain in domains {
            guard HostSyntax.isSafeField(domain) else { throw UnsafeFieldError(domain: domain, value: domain) }
            guard let definition = effective[domain] else { continue }
            let padded = domain + String(repeating: " ", count: width - domain.count) + " "
            switch definition.mode {
            case .enforce:
                for mx in definition.mxs where !HostSyntax.isSafeField(mx) {
                    throw UnsafeFieldError(domain: domain, value: mx)
                }
                lines.append(padded + " secure match=" + definition.mxs.joined(separator: ":"))
            case .testing:
                lines.append("# " + padded + "undefined due to testing policy")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
