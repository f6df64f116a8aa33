/// A stored reconcile decision of a published candidate, as the deprecation report reads it.
public struct DeprecationDecision: Sendable, Hashable {
    /// The candidate.
    public let candidateID: Int64
    /// The candidate's as-of instant.
    public let asOf: Instant
    /// The domain.
    public let domain: String
    /// What happened.
    public let action: DecisionAction
    /// Rule id.
    public let rule: String
    /// Why.
    public let detail: String

    /// Creates a decision record.
    public init(candidateID: Int64, asOf: Instant, domain: String, action: DecisionAction, rule: String, detail: String)
    {
        self.candidateID = candidateID
        self.asOf = asOf
        self.domain = domain
        self.action = action
        self.rule = rule
        self.detail = detail
    }
}

/// Where a domain stands on the replacements, from its latest observation.
public enum AdoptionState: String, Sendable, Hashable, CaseIterable {
    /// A valid MTA-STS policy in `enforce`.
    case enforce
    /// A valid MTA-STS policy in `testing`.
    case testing
    /// A valid MTA-STS policy in `none` (opted out).
    case none
    /// MTA-STS attempted (a TXT record or a policy) but not valid.
    case broken
    /// No MTA-STS at all (no `_mta-sts` TXT record).
    case absent
    /// No observation of the domain.
    case unobserved
}

/// A domain's latest observation reduced to what the adoption figures need.
public struct AdoptionObservation: Sendable, Hashable {
    /// The domain.
    public let domain: String
    /// When it was observed.
    public let observedAt: Instant
    /// Evidence reference.
    public let ref: String
    /// The MTA-STS state (never `unobserved`).
    public let state: AdoptionState
    /// Whether a TLSRPT record was found (nil: not looked up).
    public let tlsrpt: Bool?
    /// Whether DNSSEC-authenticated TLSA records were found (nil: not looked up).
    public let dane: Bool?

    /// Creates an observation summary.
    public init(domain: String, observedAt: Instant, ref: String, state: AdoptionState, tlsrpt: Bool?, dane: Bool?) {
        self.domain = domain
        self.observedAt = observedAt
        self.ref = ref
        self.state = state
        self.tlsrpt = tlsrpt
        self.dane = dane
    }

    /// Whether a TLSRPT lookup result (`{"status":"ok","records":[…]}`) holds a `v=TLSRPTv1` record; nil when absent.
    public static func tlsrptPresent(_ value: JSONValue?) -> Bool? {
        guard let value else { return nil }
        guard value["status"]?.stringValue == "ok" else { return false }
        return recordStrings(value["records"]).contains { $0.lowercased().hasPrefix("v=tlsrptv1") }
    }

    /// Whether a TLSA lookup result is usable DANE: status `ok`, the AD bit set, at least one record; nil when absent.
    public static func daneUsable(_ value: JSONValue?) -> Bool? {
        guard let value else { return nil }
        guard value["status"]?.stringValue == "ok" else { return false }
        let ad = value["ad"] ?? value["authenticated"]
        guard case .bool(true)? = ad else { return false }
        return !(value["records"]?.arrayValue ?? []).isEmpty
    }

    static func recordStrings(_ value: JSONValue?) -> [String] {
        (value?.arrayValue ?? []).map { item in
            item.stringValue ?? (item.arrayValue ?? []).compactMap(\.stringValue).joined()
        }
    }
}

/// One point of the backend's `aggregated_scans` series.
public struct AggregatedPoint: Sendable, Hashable {
    /// When.
    public let time: Instant
    /// `TOP_DOMAINS`, `LOCAL`, …
    public let source: String
    /// Domains attempted.
    public let attempted: Int
    /// Domains with MX records.
    public let withMXs: Int
    /// Raw `testing` count.
    public let testing: Int
    /// Raw `enforce` count.
    public let enforce: Int

    /// Creates a point.
    public init(time: Instant, source: String, attempted: Int, withMXs: Int, testing: Int, enforce: Int) {
        self.time = time
        self.source = source
        self.attempted = attempted
        self.withMXs = withMXs
        self.testing = testing
        self.enforce = enforce
    }
}

/// The list the deprecation report describes.
public struct DeprecationBasis: Sendable {
    /// `publication` (made by policylist-publish) or `snapshot` (an ingested published version).
    public let kind: String
    /// A human reference (publication id and directory, or the snapshot name).
    public let ref: String
    /// SHA-256 of the list bytes.
    public let sha256: String
    /// The list.
    public let list: PolicyList

    /// Creates a basis.
    public init(kind: String, ref: String, sha256: String, list: PolicyList) {
        self.kind = kind
        self.ref = ref
        self.sha256 = sha256
        self.list = list
    }
}

/// How a domain got onto the frozen list (one each; the first that applies).
public enum Provenance: String, Sendable, Hashable, CaseIterable {
    /// Its entry was last written from an MTA-STS observation (R4).
    case mtaSts = "mta-sts"
    /// Added from the backend queue at the freeze (R2).
    case queueAtFreeze = "queue-at-freeze"
    /// Anything else: a manual entry carried over from before the freeze (possibly an operator edit).
    case manual
}

/// The deprecation report: the frozen list, how the wind-down shaped it, and replacement adoption.
public struct DeprecationReport: Sendable {
    /// The JSON schema version.
    public static let schemaVersion = 1
    /// When generated.
    public let generatedAt: Instant
    /// `--as-of`, when given.
    public let asOf: Instant?
    /// The list described.
    public let basis: DeprecationBasis
    /// The freeze instant of the candidates, when known.
    public let freeze: Instant?
    /// Listed domains in list order with their effective definition and provenance.
    public let entries: [(domain: String, value: PolicyValue, effective: PolicyDefinition?, provenance: Provenance)]
    /// Distinct domains per wind-down action (`added-at-freeze`, …), sorted.
    public let actions: [(key: String, domains: [String])]
    /// Adoption per listed domain (nil: no observations ingested at all).
    public let adoption: [String: AdoptionObservation]?
    /// The backend's aggregated series, per source (nil: not ingested).
    public let aggregated: [AggregatedPoint]?

    /// The wind-down action keys, in report order, with the decision (action, rule) each counts.
    public static let actionKeys: [(key: String, label: String, matches: @Sendable (DeprecationDecision) -> Bool)] = [
        ("added-at-freeze", "added from the queue at the freeze (R2)", { $0.action == .added && $0.rule == "R2" }),
        ("removed-on-request", "removed on the owner's request (R3)", { $0.action == .removed && $0.rule == "R3" }),
        (
            "dropped-from-queue", "dropped from the queue on request, never listed (R3)",
            { $0.action == .dropped && $0.rule == "R3" }
        ),
        (
            "refreshed-to-enforce", "refreshed to enforce from MTA-STS (R4)",
            { $0.action == .updated && $0.rule == "R4" }
        ),
        ("removed-mode-none", "removed: MTA-STS mode none (R7)", { $0.action == .removed && $0.rule == "R7" }),
        ("operator-edits", "operator edits applied (R8)", { $0.action == .updated && $0.rule == "R8" }),
        ("refused", "requests or edits refused after the freeze", { $0.action == .refused }),
        ("skipped", "queue rows not added (R1/R2)", { $0.action == .skipped }),
    ]

    /// Builds the report.
    public static func build(
        basis: DeprecationBasis, decisions: [DeprecationDecision], freeze: Instant?,
        observations: [AdoptionObservation]?, aggregated: [AggregatedPoint]?, asOf: Instant?, generatedAt: Instant
    ) -> DeprecationReport {
        var lastWrite: [String: DeprecationDecision] = [:]
        for decision in decisions where decision.action == .added || decision.action == .updated {
            if let previous = lastWrite[decision.domain], previous.candidateID > decision.candidateID { continue }
            lastWrite[decision.domain] = decision
        }
        let aliases = Dictionary(
            basis.list.aliases.map { ($0.name, $0.definition) }, uniquingKeysWith: { first, _ in first })
        var seen: Set<String> = []
        var entries: [(domain: String, value: PolicyValue, effective: PolicyDefinition?, provenance: Provenance)] = []
        let addedAtFreeze = Set(decisions.filter { $0.action == .added && $0.rule == "R2" }.map(\.domain))
        for entry in basis.list.policies where seen.insert(entry.domain).inserted {
            let effective: PolicyDefinition?
            switch entry.value {
            case .explicit(let definition): effective = definition
            case .alias(let name): effective = aliases[name]
            }
            let provenance: Provenance
            if lastWrite[entry.domain]?.rule == "R4" {
                provenance = .mtaSts
            } else if addedAtFreeze.contains(entry.domain) {
                provenance = .queueAtFreeze
            } else {
                provenance = .manual
            }
            entries.append((entry.domain, entry.value, effective, provenance))
        }
        let removedOnRequest = Set(decisions.filter { $0.action == .removed && $0.rule == "R3" }.map(\.domain))
        let actions = actionKeys.map { key in
            var domains = Set(decisions.filter(key.matches).map(\.domain))
            // A later reconcile re-applies a removal request to a domain already removed; it is not a second action.
            if key.key == "dropped-from-queue" { domains.subtract(removedOnRequest) }
            return (key.key, domains.sorted())
        }
        let adoption = observations.map { list in
            Dictionary(list.filter { seen.contains($0.domain) }.map { ($0.domain, $0) }, uniquingKeysWith: { $1 })
        }
        return DeprecationReport(
            generatedAt: generatedAt, asOf: asOf, basis: basis, freeze: freeze, entries: entries, actions: actions,
            adoption: adoption, aggregated: aggregated?.sorted { ($0.source, $0.time) < ($1.source, $1.time) })
    }

    /// The adoption state of a listed domain.
    public func state(_ domain: String) -> AdoptionState { adoption?[domain]?.state ?? .unobserved }

    /// Whether a listed domain no longer needs the list: valid MTA-STS `enforce`, or usable DANE.
    public func noLongerNeedsList(_ domain: String) -> Bool {
        guard let observation = adoption?[domain] else { return false }
        return observation.state == .enforce || observation.dane == true
    }

    /// Listed domains per adoption state.
    public var adoptionCounts: [AdoptionState: Int] {
        var out: [AdoptionState: Int] = [:]
        for entry in entries { out[state(entry.domain), default: 0] += 1 }
        return out
    }

    /// Listed domains per provenance and effective mode.
    public var provenanceCounts: [Provenance: (enforce: Int, testing: Int)] {
        var out: [Provenance: (enforce: Int, testing: Int)] = [:]
        for entry in entries {
            var current = out[entry.provenance] ?? (0, 0)
            if entry.effective?.mode == .enforce { current.enforce += 1 } else { current.testing += 1 }
            out[entry.provenance] = current
        }
        return out
    }

    /// Domains of one wind-down action.
    public func domains(_ key: String) -> [String] { actions.first { $0.key == key }?.domains ?? [] }
}
