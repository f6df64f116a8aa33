/// The mode of a list entry.
public enum ListMode: String, Sendable, Hashable, CaseIterable {
    /// Report failures but deliver.
    case testing
    /// Refuse delivery without authenticated TLS to a matching MX.
    case enforce
}

/// A policy definition: a mode and the MX patterns (`mx.example.com` or suffix `.example.com`).
public struct PolicyDefinition: Sendable, Hashable {
    /// The mode.
    public var mode: ListMode
    /// MX patterns in list order, exactly as written.
    public var mxs: [String]

    /// Creates a definition.
    public init(mode: ListMode, mxs: [String]) {
        self.mode = mode
        self.mxs = mxs
    }
}

/// A `policies` value: an explicit definition or a reference to a `policy-aliases` entry.
public enum PolicyValue: Sendable, Hashable {
    /// `{"mode": …, "mxs": […]}`.
    case explicit(PolicyDefinition)
    /// `{"policy-alias": NAME}`.
    case alias(String)
}

/// One `policies` entry.
public struct PolicyEntry: Sendable, Hashable {
    /// The mail domain (the key).
    public var domain: String
    /// Its value.
    public var value: PolicyValue

    /// Creates an entry.
    public init(domain: String, value: PolicyValue) {
        self.domain = domain
        self.value = value
    }
}

/// One `policy-aliases` entry.
public struct PolicyAlias: Sendable, Hashable {
    /// The alias name.
    public var name: String
    /// Its definition.
    public var definition: PolicyDefinition

    /// Creates an alias.
    public init(name: String, definition: PolicyDefinition) {
        self.name = name
        self.definition = definition
    }
}

/// A STARTTLS policy list (format 0.1), entries in document order.
public struct PolicyList: Sendable, Equatable {
    /// `timestamp`.
    public var timestamp: ListTime
    /// `expires`.
    public var expires: ListTime
    /// `version` (nil when missing in the input; always written as "0.1").
    public var version: String?
    /// `author`, if present.
    public var author: String?
    /// `policy-aliases` in document order.
    public var aliases: [PolicyAlias]
    /// `policies` in document order.
    public var policies: [PolicyEntry]

    /// Creates a list.
    public init(
        timestamp: ListTime, expires: ListTime, version: String?, author: String?, aliases: [PolicyAlias],
        policies: [PolicyEntry]
    ) {
        self.timestamp = timestamp
        self.expires = expires
        self.version = version
        self.author = author
        self.aliases = aliases
        self.policies = policies
    }

    /// The alias definition named `name`.
    public func alias(named name: String) -> PolicyDefinition? {
        aliases.first { $0.name == name }?.definition
    }

    /// The effective definition of an entry (alias resolved).
    public func effective(_ value: PolicyValue) -> PolicyDefinition? {
        switch value {
        case .explicit(let definition): definition
        case .alias(let name): alias(named: name)
        }
    }

    /// Effective definitions by domain (alias references resolved).
    public func effectiveByDomain() -> [String: PolicyDefinition] {
        var out: [String: PolicyDefinition] = [:]
        out.reserveCapacity(policies.count)
        let aliasMap = Dictionary(aliases.map { ($0.name, $0.definition) }, uniquingKeysWith: { first, _ in first })
        for entry in policies {
            switch entry.value {
            case .explicit(let definition): out[entry.domain] = definition
            case .alias(let name): if let definition = aliasMap[name] { out[entry.domain] = definition }
            }
        }
        return out
    }

    /// Counts: explicit enforce, explicit testing, alias references.
    public var modeCounts: (enforce: Int, testing: Int, aliasReferences: Int) {
        var enforce = 0
        var testing = 0
        var refs = 0
        for entry in policies {
            switch entry.value {
            case .explicit(let definition):
                if definition.mode == .enforce { enforce += 1 } else { testing += 1 }
            case .alias: refs += 1
            }
        }
        return (enforce, testing, refs)
    }
}
