/// How a domain's effective policy changed between two versions (aliases resolved first).
public enum EntryChangeKind: String, Sendable, Hashable, CaseIterable {
    /// The mode changed; the MX pattern set did not.
    case mode
    /// The MX pattern set changed (compared case-insensitively); the mode did not.
    case mxs
    /// Both the mode and the MX pattern set changed.
    case modeAndMxs = "mode+mxs"
    /// Only the letter case of MX patterns changed (matching is case-insensitive, the bytes are not).
    case mxCaseOnly = "mx-case-only"
}

/// A raw entry that changed while its effective policy stayed exactly the same.
public enum ReExpressionKind: String, Sendable, Hashable, CaseIterable {
    /// The same MX patterns in a different order.
    case mxOrderOnly = "mx-order-only"
    /// Moved into or out of an alias, or to another alias with the same content.
    case alias
    /// The domain key changed letter case only.
    case keyCase = "key-case"
}

/// One domain whose effective policy changed.
public struct EntryChange: Sendable, Hashable {
    /// The domain (lower case).
    public let domain: String
    /// What changed.
    public let kind: EntryChangeKind
    /// The effective policy before.
    public let from: PolicyDefinition
    /// The effective policy after.
    public let to: PolicyDefinition
}

/// One domain whose raw entry changed but whose effective policy did not.
public struct EntryReExpression: Sendable, Hashable {
    /// The domain (lower case).
    public let domain: String
    /// How it was re-expressed.
    public let kind: ReExpressionKind
}

/// The differences between two list versions, domain by domain, with alias references resolved before comparing.
/// Domains are identified by their lower-cased key (DNS names are case-insensitive).
public struct ListDiff: Sendable, Equatable {
    /// Domains present only in the newer version, sorted.
    public var added: [String] = []
    /// Domains present only in the older version, sorted.
    public var removed: [String] = []
    /// Domains whose effective mode or MX set changed, sorted by domain.
    public var changed: [EntryChange] = []
    /// Domains whose raw entry changed but whose effective policy is identical, sorted by domain.
    public var reExpressed: [EntryReExpression] = []

    /// Creates an empty diff.
    public init() {}

    /// Number of changed domains of one kind.
    public func count(_ kind: EntryChangeKind) -> Int { changed.filter { $0.kind == kind }.count }

    /// Number of re-expressed domains of one kind.
    public func count(_ kind: ReExpressionKind) -> Int { reExpressed.filter { $0.kind == kind }.count }

    /// Compares `old` (nil: nothing before, every domain is added) with `new`.
    public static func compare(_ old: PolicyList?, _ new: PolicyList) -> ListDiff {
        var diff = ListDiff()
        let after = EntryIndex(new)
        guard let old else {
            diff.added = after.domains.sorted()
            return diff
        }
        let before = EntryIndex(old)
        for domain in after.domains.sorted() {
            guard let previous = before.entries[domain], let current = after.entries[domain] else {
                diff.added.append(domain)
                continue
            }
            let from = before.effective[domain]
            let to = after.effective[domain]
            if let from, let to, let kind = changeKind(from, to) {
                diff.changed.append(EntryChange(domain: domain, kind: kind, from: from, to: to))
            } else if let from, let to, from.mxs != to.mxs {
                diff.reExpressed.append(EntryReExpression(domain: domain, kind: .mxOrderOnly))
            } else if previous.value != current.value {
                diff.reExpressed.append(EntryReExpression(domain: domain, kind: .alias))
            } else if previous.key != current.key {
                diff.reExpressed.append(EntryReExpression(domain: domain, kind: .keyCase))
            }
        }
        diff.removed = before.domains.filter { after.entries[$0] == nil }.sorted()
        return diff
    }

    /// The kind of change between two effective definitions, nil when they are the same as sets.
    static func changeKind(_ from: PolicyDefinition, _ to: PolicyDefinition) -> EntryChangeKind? {
        let exactSame = Set(from.mxs) == Set(to.mxs)
        if from.mode != to.mode { return exactSame ? .mode : .modeAndMxs }
        if exactSame { return nil }
        let foldedSame = Set(from.mxs.map { $0.lowercased() }) == Set(to.mxs.map { $0.lowercased() })
        return foldedSame ? .mxCaseOnly : .mxs
    }
}

/// A list's entries keyed by lower-cased domain (the last occurrence of a duplicated key wins, as in the reader).
struct EntryIndex {
    var entries: [String: (key: String, value: PolicyValue)] = [:]
    var effective: [String: PolicyDefinition] = [:]
    var domains: [String] = []

    init(_ list: PolicyList) {
        let aliases = Dictionary(list.aliases.map { ($0.name, $0.definition) }, uniquingKeysWith: { first, _ in first })
        for entry in list.policies {
            let domain = entry.domain.lowercased()
            if entries[domain] == nil { domains.append(domain) }
            entries[domain] = (entry.domain, entry.value)
            switch entry.value {
            case .explicit(let definition): effective[domain] = definition
            case .alias(let name): effective[domain] = aliases[name]
            }
        }
    }
}
