#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
        String(decoding: try bytes(list), as: UTF8.self)
    }

    /// The map as UTF-8 bytes (see ``text(_:)``), written into one buffer.
    ///
    /// Domains are sorted by code point, which for UTF-8 is the order of their bytes: they are packed into one
    /// buffer and an index is sorted with `memcmp`, instead of comparing `String`s (a million-domain list spent
    /// most of its map time allocating scalar arrays per comparison). A domain listed twice takes the effective
    /// definition of its last resolvable entry, as `PolicyList.effectiveByDomain()` does.
    public static func bytes(_ list: PolicyList) throws(UnsafeFieldError) -> [UInt8] {
        let policies = list.policies
        var aliasMap: [String: PolicyDefinition] = [:]
        for alias in list.aliases where aliasMap[alias.name] == nil { aliasMap[alias.name] = alias.definition }
        var packed: [UInt8] = []
        var starts: [Int] = []
        starts.reserveCapacity(policies.count + 1)
        for entry in policies {
            starts.append(packed.count)
            var domain = entry.domain
            domain.withUTF8 { packed.append(contentsOf: $0) }
        }
        starts.append(packed.count)
        var order = Array(policies.indices)
        packed.withUnsafeBufferPointer { buffer in
            starts.withUnsafeBufferPointer { starts in
                let base = buffer.baseAddress
                func precedes(_ a: Int, _ b: Int) -> Bool {
                    let lengthA = starts[a + 1] - starts[a]
                    let lengthB = starts[b + 1] - starts[b]
                    let common = min(lengthA, lengthB)
                    if common > 0, let base {
                        let order = memcmp(base + starts[a], base + starts[b], common)
                        if order != 0 { return order < 0 }
                    }
                    return lengthA != lengthB ? lengthA < lengthB : a < b
                }
                order.sort(by: precedes)
            }
        }
        var width = 0
        for index in policies.indices { width = max(width, starts[index + 1] - starts[index]) }
        func sameDomain(_ a: Int, _ b: Int) -> Bool {
            let length = starts[a + 1] - starts[a]
            guard length == starts[b + 1] - starts[b] else { return false }
            return packed[starts[a]..<starts[a + 1]].elementsEqual(packed[starts[b]..<starts[b + 1]])
        }
        func effective(_ value: PolicyValue) -> PolicyDefinition? {
            switch value {
            case .explicit(let definition): definition
            case .alias(let name): aliasMap[name]
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(packed.count + policies.count * (width + 40))
        var wrote = false
        var position = 0
        while position < order.count {
            // A run of equal domains (one, unless the list repeats a domain): each line uses the run's definition.
            var end = position + 1
            while end < order.count && sameDomain(order[position], order[end]) { end += 1 }
            var definition: PolicyDefinition?
            for index in order[position..<end] { definition = effective(policies[index].value) ?? definition }
            for index in order[position..<end] {
                let domain = policies[index].domain
                guard HostSyntax.isSafeField(domain) else { throw UnsafeFieldError(domain: domain, value: domain) }
                guard let definition else { continue }
                if wrote { out.append(0x0A) }
                wrote = true
                if definition.mode == .testing { out.append(contentsOf: "# ".utf8) }
                out.append(contentsOf: packed[starts[index]..<starts[index + 1]])
                out.append(contentsOf: repeatElement(0x20, count: width - (starts[index + 1] - starts[index]) + 1))
                switch definition.mode {
                case .enforce:
                    for mx in definition.mxs where !HostSyntax.isSafeField(mx) {
                        throw UnsafeFieldError(domain: domain, value: mx)
                    }
                    out.append(contentsOf: " secure match=".utf8)
                    for (number, mx) in definition.mxs.enumerated() {
                        if number > 0 { out.append(0x3A) }
                        out.append(contentsOf: mx.utf8)
                    }
                case .testing:
                    out.append(contentsOf: "undefined due to testing policy".utf8)
                }
            }
            position = end
        }
        out.append(0x0A)
        return out
    }
}
