/// Backend domain states, most important first (`added > queued > unvalidated > failed`).
public enum QueueState: String, Sendable, Hashable, CaseIterable {
    /// On the list.
    case added
    /// Validated, waiting to be added.
    case queued
    /// Submitted, e-mail confirmation never redeemed.
    case unvalidated
    /// Failed validation.
    case failed

    /// Priority for picking one row per domain (lower wins).
    public var priority: Int {
        switch self {
        case .added: 0
        case .queued: 1
        case .unvalidated: 2
        case .failed: 3
        }
    }
}

/// One row of the backend `domains` table, without the e-mail address (which never leaves the store).
public struct QueueRow: Sendable, Hashable {
    /// Stable evidence id, e.g. `domains.csv:17`.
    public let ref: String
    /// The domain (lower case).
    public let domain: String
    /// Its state.
    public let state: QueueState
    /// MX patterns from `data`, empty strings dropped.
    public let mxs: [String]
    /// `last_updated`.
    public let lastUpdated: Instant?
    /// `queue_weeks`.
    public let queueWeeks: Int
    /// `testing_start` (nil when NULL or Go's zero time).
    public let testingStart: Instant?
    /// `mta_sts` flag (informational; never a trigger).
    public let mtaSts: Bool

    /// Creates a row.
    public init(
        ref: String, domain: String, state: QueueState, mxs: [String], lastUpdated: Instant?, queueWeeks: Int,
        testingStart: Instant?, mtaSts: Bool
    ) {
        self.ref = ref
        self.domain = domain
        self.state = state
        self.mxs = mxs
        self.lastUpdated = lastUpdated
        self.queueWeeks = queueWeeks
        self.testingStart = testingStart
        self.mtaSts = mtaSts
    }
}

/// An owner's request to remove a domain (R3).
public struct RemovalRequest: Sendable, Hashable {
    /// Evidence id, e.g. `removals.json#3`.
    public let ref: String
    /// The domain.
    public let domain: String
    /// When it was requested.
    public let requestedAt: Instant
    /// Why.
    public let reason: String

    /// Creates a request.
    public init(ref: String, domain: String, requestedAt: Instant, reason: String) {
        self.ref = ref
        self.domain = domain
        self.requestedAt = requestedAt
        self.reason = reason
    }
}

/// An operator's edit of an entry's MX patterns and/or mode (R8 limits it after the freeze).
public struct EditRequest: Sendable, Hashable {
    /// Evidence id, e.g. `edits.json#1`.
    public let ref: String
    /// The domain.
    public let domain: String
    /// New MX patterns, if given.
    public let mxs: [String]?
    /// New mode, if given.
    public let mode: ListMode?
    /// When the edit was made.
    public let at: Instant
    /// Why.
    public let reason: String

    /// Creates an edit.
    public init(ref: String, domain: String, mxs: [String]?, mode: ListMode?, at: Instant, reason: String) {
        self.ref = ref
        self.domain = domain
        self.mxs = mxs
        self.mode = mode
        self.at = at
        self.reason = reason
    }
}

/// A domain's latest MTA-STS observation as reconcile sees it (verdict already computed from the raw facts).
public struct ObservationSummary: Sendable, Hashable {
    /// Evidence id, e.g. `scans.jsonl:42 (scan 42)`.
    public let ref: String
    /// The domain.
    public let domain: String
    /// When it was observed.
    public let observedAt: Instant
    /// Where it came from (`backend-scan`, `live`, a file name).
    public let source: String
    /// Whether the observation is a valid MTA-STS policy (TXT record and policy file).
    public let valid: Bool
    /// The policy's mode as written (`enforce`, `testing`, `none`), when parsed.
    public let mode: String?
    /// The policy's MX patterns converted to list form (`*.x` → `.x`), order kept.
    public let listMXs: [String]
    /// Why it is invalid, when it is.
    public let reason: String?

    /// Creates a summary.
    public init(
        ref: String, domain: String, observedAt: Instant, source: String, valid: Bool, mode: String?,
        listMXs: [String], reason: String?
    ) {
        self.ref = ref
        self.domain = domain
        self.observedAt = observedAt
        self.source = source
        self.valid = valid
        self.mode = mode
        self.listMXs = listMXs
        self.reason = reason
    }
}

/// A piece of evidence behind a decision.
public struct Evidence: Sendable, Hashable {
    /// `snapshot`, `queue`, `observation`, `removal`, `edit`, `freeze`, `override`.
    public let kind: String
    /// Which record (e.g. `scans.jsonl:42 (scan 42)`).
    public let ref: String
    /// When the evidence is dated.
    public let at: Instant?
    /// What it says.
    public let summary: String

    /// Creates evidence.
    public init(kind: String, ref: String, at: Instant?, summary: String) {
        self.kind = kind
        self.ref = ref
        self.at = at
        self.summary = summary
    }
}

/// What reconcile did with a domain.
public enum DecisionAction: String, Sendable, Hashable, CaseIterable {
    /// Added to the list.
    case added
    /// Removed from the list.
    case removed
    /// Entry changed.
    case updated
    /// Entry kept as it was.
    case unchanged
    /// A request or edit was refused.
    case refused
    /// A queued/submitted domain that was not added (and is not on the list).
    case skipped
    /// Dropped from the queue (e.g. by an owner removal request) before ever being listed.
    case dropped
}

/// One decision with its rule id and evidence.
public struct Decision: Sendable, Hashable {
    /// The domain.
    public let domain: String
    /// What happened.
    public let action: DecisionAction
    /// Rule id (`R1`…`R10`, or `baseline`).
    public let rule: String
    /// One sentence saying why.
    public let detail: String
    /// The records it rests on.
    public let evidence: [Evidence]

    /// Creates a decision.
    public init(domain: String, action: DecisionAction, rule: String, detail: String, evidence: [Evidence]) {
        self.domain = domain
        self.action = action
        self.rule = rule
        self.detail = detail
        self.evidence = evidence
    }
}
