/// Why a publication was refused (nothing is written).
public enum PublicationRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The list has no domains.
    case empty
    /// The list is not valid under schema 0.1.
    case schemaInvalid([String])
    /// R9: the new timestamp is not after the previous publication's.
    case timestampNotAfterPrevious(new: String, previous: String)
    /// R9: `expires` is not after now.
    case expiresNotAfterNow(expires: String, now: String)
    /// `expires` is not after `timestamp`.
    case expiresNotAfterTimestamp(expires: String, timestamp: String)
    /// Too many domains would disappear at once.
    case shrink(from: Int, to: Int, percent: Double, limit: Double)

    /// One sentence.
    public var description: String {
        switch self {
        case .empty: "refusing to publish an empty list"
        case .schemaInvalid(let problems):
            "refusing to publish a list that is not valid under schema 0.1: "
                + problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; …" : "")
        case .timestampNotAfterPrevious(let new, let previous):
            "refusing to publish: timestamp \(new) is not after the previous publication's \(previous) (R9)"
        case .expiresNotAfterNow(let expires, let now):
            "refusing to publish: expires \(expires) is not after now (\(now)) (R9)"
        case .expiresNotAfterTimestamp(let expires, let timestamp):
            "refusing to publish: expires \(expires) is not after timestamp \(timestamp)"
        case .shrink(let from, let to, let percent, let limit):
            "refusing to publish: the list would shrink from \(from) to \(to) domains (\(formatPercent(percent))%, "
                + "limit \(formatPercent(limit))%); use --allow-shrink if this is intended"
        }
    }
}

func formatPercent(_ value: Double) -> String {
    let scaled = (value * 10).rounded() / 10
    return scaled == scaled.rounded() ? String(Int(scaled)) : String(scaled)
}

/// The checks every publication passes before anything is written.
public enum PublicationGuard {
    /// The previous publication, as far as the guard needs it.
    public struct Previous: Sendable {
        /// Its timestamp.
        public let timestamp: ListTime
        /// Its number of domains.
        public let domains: Int

        /// Creates the summary.
        public init(timestamp: ListTime, domains: Int) {
            self.timestamp = timestamp
            self.domains = domains
        }
    }

    /// Checks `list` (with its new timestamp/expires) against the previous publication and the clock.
    public static func check(
        _ list: PolicyList, previous: Previous?, now: Instant, maxShrinkPercent: Double, allowShrink: Bool
    ) -> PublicationRefusal? {
        if list.policies.isEmpty { return .empty }
        let problems = schemaProblems(list)
        if !problems.isEmpty { return .schemaInvalid(problems) }
        if list.expires.instant <= list.timestamp.instant {
            return .expiresNotAfterTimestamp(expires: list.expires.raw, timestamp: list.timestamp.raw)
        }
        if list.expires.instant <= now { return .expiresNotAfterNow(expires: list.expires.raw, now: now.rfc3339) }
        if let previous {
            if list.timestamp.instant <= previous.timestamp.instant {
                return .timestampNotAfterPrevious(new: list.timestamp.raw, previous: previous.timestamp.raw)
            }
            if !allowShrink && previous.domains > 0 && list.policies.count < previous.domains {
                let percent = Double(previous.domains - list.policies.count) * 100 / Double(previous.domains)
                if percent > maxShrinkPercent {
                    return .shrink(
                        from: previous.domains, to: list.policies.count, percent: percent, limit: maxShrinkPercent)
                }
            }
        }
        return nil
    }

    /// Every way `list` falls short of schema 0.1 (empty when valid).
    public static func schemaProblems(_ list: PolicyList) -> [String] {
        var problems: [String] = []
        if list.timestamp.form != .rfc3339 || list.timestamp.offsetSeconds == nil {
            problems.append("timestamp \(list.timestamp.raw) is not RFC 3339 with an offset")
        }
        if list.expires.form != .rfc3339 || list.expires.offsetSeconds == nil {
            problems.append("expires \(list.expires.raw) is not RFC 3339 with an offset")
        }
        func checkDefinition(_ definition: PolicyDefinition, _ context: String) {
            if definition.mxs.isEmpty { problems.append("\(context): mxs is empty") }
            if Set(definition.mxs).count != definition.mxs.count { problems.append("\(context): mxs has duplicates") }
            for mx in definition.mxs where !HostSyntax.isSchemaName(mx, allowLeadingDot: true) {
                problems.append("\(context): mx \(JSONWriter.compact(.string(mx))) does not match the schema's pattern")
            }
        }
        var aliasNames = Set<String>()
        for alias in list.aliases {
            if !aliasNames.insert(alias.name).inserted { problems.append("alias \(alias.name) defined twice") }
            checkDefinition(alias.definition, "policy-aliases.\(alias.name)")
        }
        var seen = Set<String>()
        for entry in list.policies {
            if !seen.insert(entry.domain).inserted { problems.append("domain \(entry.domain) listed twice") }
            if !HostSyntax.isSchemaName(entry.domain) {
                problems.append(
                    "domain \(JSONWriter.compact(.string(entry.domain))) does not match the schema's pattern")
            }
            switch entry.value {
            case .explicit(let definition): checkDefinition(definition, "policies.\(entry.domain)")
            case .alias(let name):
                if !aliasNames.contains(name) {
                    problems.append("policies.\(entry.domain): alias \(name) is not defined")
                }
            }
        }
        return problems
    }
}
