/// Everything reconcile needs; all of it values (the store gathers them, the clock comes in as `asOf`).
public struct ReconcileInput: Sendable {
    /// The list to start from (newest publication, or newest ingested snapshot).
    public var baseline: PolicyList
    /// What the baseline is, for evidence (e.g. `snapshot 20200401T180221Z-2860d94.policy.json (seq 52)`).
    public var baselineRef: String
    /// Backend `domains` rows (every state).
    public var queue: [QueueRow]
    /// Owner removal requests.
    public var removals: [RemovalRequest]
    /// Operator edits.
    public var edits: [EditRequest]
    /// Observations dated at or before `asOf` (the latest per domain is used; on ties a valid one).
    public var observations: [ObservationSummary]
    /// The instant reconcile runs as of.
    public var asOf: Instant
    /// The freeze instant, if the list is frozen.
    public var freeze: Instant?
    /// Whether a published candidate already applied the freeze promotion (R2 runs once).
    public var freezePromotionDone: Bool
    /// Edits already applied by a published candidate (they are not applied again).
    public var consumedEdits: Set<String>
    /// R7: a valid `mode: none` policy removes the entry (default on).
    public var removeOnNone: Bool
    /// R8 overrides: domain → the operator's reason.
    public var forcedEdits: [String: String]

    /// Creates an input with the defaults of a plain run.
    public init(
        baseline: PolicyList, baselineRef: String, queue: [QueueRow] = [], removals: [RemovalRequest] = [],
        edits: [EditRequest] = [], observations: [ObservationSummary] = [], asOf: Instant, freeze: Instant? = nil,
        freezePromotionDone: Bool = false, consumedEdits: Set<String> = [], removeOnNone: Bool = true,
        forcedEdits: [String: String] = [:]
    ) {
        self.baseline = baseline
        self.baselineRef = baselineRef
        self.queue = queue
        self.removals = removals
        self.edits = edits
        self.observations = observations
        self.asOf = asOf
        self.freeze = freeze
        self.freezePromotionDone = freezePromotionDone
        self.consumedEdits = consumedEdits
        self.removeOnNone = removeOnNone
        self.forcedEdits = forcedEdits
    }
}

/// Counts of a reconcile, as in the `--json` summary.
public struct ReconcileCounts: Sendable, Equatable {
    /// Domains added.
    public var added = 0
    /// Domains removed.
    public var removed = 0
    /// Entries changed.
    public var updated = 0
    /// Entries kept.
    public var unchanged = 0
    /// Requests or edits refused.
    public var refused = 0
    /// Queue rows not added.
    public var skipped = 0
    /// Queue rows dropped by removal requests.
    public var dropped = 0
    /// Domains on the candidate list.
    public var domains = 0

    /// All zero.
    public init() {}
}

/// What reconcile produced: the candidate list, every decision, the counts.
public struct ReconcileResult: Sendable {
    /// The candidate (timestamp/expires still the baseline's; publish sets new ones).
    public let list: PolicyList
    /// Decisions in a stable order (list order, then the others by domain).
    public let decisions: [Decision]
    /// Counts.
    public let counts: ReconcileCounts
    /// Whether this reconcile applied the freeze promotion (R2).
    public let appliedFreezePromotion: Bool
    /// Edit refs applied.
    public let appliedEdits: [String]
}

/// The wind-down rules R1–R8 as one pure function (R9/R10 belong to publication).
public enum Reconciler {
    /// Reconciles the baseline with the queue, requests and observations.
    public static func reconcile(_ input: ReconcileInput) -> ReconcileResult {
        var state = ReconcileState(input: input)
        state.run()
        return state.result()
    }

    /// Latest observation per domain (ties: a valid one; then the larger ref for determinism).
    public static func latestObservations(_ observations: [ObservationSummary], asOf: Instant)
        -> [String: ObservationSummary]
    {
        var latest: [String: ObservationSummary] = [:]
        for observation in observations where observation.observedAt <= asOf {
            guard let current = latest[observation.domain] else {
                latest[observation.domain] = observation
                continue
            }
            if (observation.observedAt, observation.valid ? 1 : 0, observation.ref)
                > (current.observedAt, current.valid ? 1 : 0, current.ref)
            {
                latest[observation.domain] = observation
            }
        }
        return latest
    }
}

/// The working state. Every domain reconcile touches has a *slot* (the baseline's in list order, then others as
/// decisions name them); values, decisions and list membership are arrays indexed by slot, so a domain's name is
/// hashed once when its slot is made instead of at every step (at a million domains the per-step dictionary and
/// set look-ups were most of the rules' time).
private struct ReconcileState {
    let input: ReconcileInput
    /// Slot of each domain.
    var slotOf: [String: Int]
    /// Per slot: the domain.
    var domains: [String]
    /// Per slot: its entry now (nil: not on the list).
    var values: [PolicyValue?]
    /// Per slot: its baseline entry (the first, if the baseline repeats it); nil for domains not on the baseline.
    var baselineValues: [PolicyValue?]
    /// Per slot: whether it is in `order`.
    var inOrder: [Bool]
    /// Per slot: its first decision.
    var firstDecision: [Decision?]
    /// Later decisions of a slot (few domains have more than one).
    var moreDecisions: [Int: [Decision]] = [:]
    /// The list order, as slots (a domain the baseline repeats appears as often).
    var order: [Int]
    /// Slots first decided while not in `order`.
    var outside: [Int] = []
    var appliedEdits: [String] = []
    var appliedFreezePromotion = false
    var refused = 0
    let latest: [String: ObservationSummary]
    let baselineEvidence: Evidence
    /// `[baselineEvidence]`, one array shared by every entry kept for want of an observation (most of a large
    /// list): one allocation instead of one per decision, and the store writes its JSON once.
    let baselineOnly: [Evidence]

    init(input: ReconcileInput) {
        self.input = input
        let count = input.baseline.policies.count
        slotOf = Dictionary(minimumCapacity: count)
        domains = []
        domains.reserveCapacity(count)
        values = []
        values.reserveCapacity(count)
        order = []
        order.reserveCapacity(count)
        for entry in input.baseline.policies {
            if let slot = slotOf[entry.domain] {
                order.append(slot)
                continue
            }
            slotOf[entry.domain] = domains.count
            order.append(domains.count)
            domains.append(entry.domain)
            values.append(entry.value)
        }
        baselineValues = values
        inOrder = Array(repeating: true, count: domains.count)
        firstDecision = Array(repeating: nil, count: domains.count)
        latest = Reconciler.latestObservations(input.observations, asOf: input.asOf)
        baselineEvidence = Evidence(
            kind: "snapshot", ref: input.baselineRef, at: input.baseline.timestamp.instant,
            summary: "the list reconcile started from")
        baselineOnly = [baselineEvidence]
    }

    /// The slot of `domain`, made (off the list, no value) if it has none.
    mutating func slot(_ domain: String) -> Int {
        if let slot = slotOf[domain] { return slot }
        let slot = domains.count
        slotOf[domain] = slot
        domains.append(domain)
        values.append(nil)
        baselineValues.append(nil)
        inOrder.append(false)
        firstDecision.append(nil)
        return slot
    }

    /// The current entry of `domain`.
    func value(_ domain: String) -> PolicyValue? {
        slotOf[domain].flatMap { values[$0] }
    }

    var frozen: Bool { input.freeze.map { input.asOf >= $0 } ?? false }

    mutating func decide(
        _ domain: String, _ action: DecisionAction, _ rule: String, _ detail: String, _ evidence: [Evidence]
    ) {
        decide(slot: slot(domain), action, rule, detail, evidence)
    }

    mutating func decide(
        slot: Int, _ action: DecisionAction, _ rule: String, _ detail: String, _ evidence: [Evidence]
    ) {
        let decision = Decision(domain: domains[slot], action: action, rule: rule, detail: detail, evidence: evidence)
        if firstDecision[slot] == nil {
            if !inOrder[slot] { outside.append(slot) }
            firstDecision[slot] = decision
        } else {
            moreDecisions[slot, default: []].append(decision)
        }
    }

    func hasDecision(_ slot: Int) -> Bool { firstDecision[slot] != nil }

    func describe(_ value: PolicyValue) -> String {
        switch value {
        case .explicit(let definition): "\(definition.mode.rawValue) [\(definition.mxs.joined(separator: ", "))]"
        case .alias(let name): "alias \(name)"
        }
    }

    func observationEvidence(_ observation: ObservationSummary) -> Evidence {
        var summary = observation.valid ? "valid MTA-STS policy" : "invalid MTA-STS observation"
        if let mode = observation.mode, !mode.isEmpty { summary += ", mode \(mode)" }
        if observation.valid && !observation.listMXs.isEmpty {
            summary += ", mx \(observation.listMXs.joined(separator: ", "))"
        }
        if let reason = observation.reason, !observation.valid { summary += " (\(reason))" }
        return Evidence(
            kind: "observation", ref: "\(observation.ref) [\(observation.source)]", at: observation.observedAt,
            summary: summary)
    }

    mutating func run() {
        applyRemovals()
        applyQueue()
        applyEdits()
        applyObservations()
    }

    // R3: owner removal requests beat everything, listed or queued.
    mutating func applyRemovals() {
        let active = input.removals.filter { $0.requestedAt <= input.asOf }.sorted {
            ($0.domain, $0.ref) < ($1.domain, $1.ref)
        }
        let queued = Set(input.queue.map(\.domain))
        for request in active {
            let evidence = Evidence(
                kind: "removal", ref: request.ref, at: request.requestedAt,
                summary: "owner removal request (\(request.reason))")
            if let slot = slotOf[request.domain], values[slot] != nil {
                values[slot] = nil
                decide(request.domain, .removed, "R3", "removed on the owner's request", [evidence, baselineEvidence])
            } else if queued.contains(request.domain) {
                decide(request.domain, .dropped, "R3", "dropped from the queue on the owner's request", [evidence])
            }
        }
    }

    var removedDomains: Set<String> { Set(input.removals.filter { $0.requestedAt <= input.asOf }.map(\.domain)) }

    // R1/R2: at the first reconcile at or after the freeze every queued domain is added, once; nothing after.
    mutating func applyQueue() {
        var best: [String: QueueRow] = [:]
        for row in input.queue {
            if let current = best[row.domain], (current.state.priority, current.ref) <= (row.state.priority, row.ref) {
                continue
            }
            best[row.domain] = row
        }
        let removed = removedDomains
        var batch: [(String, PolicyDefinition, QueueRow)] = []
        for domain in best.keys.sorted() {
            guard let row = best[domain], value(domain) == nil, !removed.contains(domain) else { continue }
            let evidence = Evidence(
                kind: "queue", ref: row.ref, at: row.lastUpdated,
                summary: "state \(row.state.rawValue), mx [\(row.mxs.joined(separator: ", "))]")
            if row.state == .added {
                decide(
                    domain, .skipped, "R1", "backend row says added but the list does not have it; the list wins",
                    [evidence, baselineEvidence])
                continue
            }
            if row.state != .queued {
                let when = frozen ? "at the freeze" : "as of \(input.asOf.rfc3339Seconds)"
                decide(
                    domain, .skipped, "R1", "state \(row.state.rawValue) \(when); only queued domains are added",
                    freezeEvidence() + [evidence])
                continue
            }
            if frozen {
                if input.freezePromotionDone {
                    decide(
                        domain, .skipped, "R1",
                        "queued, but the freeze promotion already ran; no new domains after the freeze",
                        freezeEvidence() + [evidence])
                    continue
                }
                if let freeze = input.freeze, let updated = row.lastUpdated, updated > freeze {
                    decide(domain, .skipped, "R1", "queued after the freeze", freezeEvidence() + [evidence])
                    continue
                }
                if row.mxs.isEmpty {
                    decide(
                        domain, .skipped, "R2", "queued with no MX patterns; schema 0.1 needs at least one",
                        freezeEvidence() + [evidence])
                    continue
                }
                batch.append((domain, PolicyDefinition(mode: .testing, mxs: row.mxs), row))
                decide(
                    domain, .added, "R2", "queued at the freeze: added as testing with its queued MX patterns",
                    freezeEvidence() + [evidence])
            } else {
                guard let start = row.testingStart else {
                    decide(
                        domain, .skipped, "R0", "queued without a testing start; not promotable before the freeze",
                        [evidence])
                    continue
                }
                let due = start.adding(seconds: Int64(max(1, row.queueWeeks)) * 7 * 86_400)
                guard input.asOf >= due else {
                    decide(
                        domain, .skipped, "R0",
                        "queued; due \(due.rfc3339Seconds) (testing start + \(row.queueWeeks) weeks)", [evidence])
                    continue
                }
                if row.mxs.isEmpty {
                    decide(
                        domain, .skipped, "R0", "queued with no MX patterns; schema 0.1 needs at least one", [evidence])
                    continue
                }
                batch.append((domain, PolicyDefinition(mode: .testing, mxs: row.mxs), row))
                decide(domain, .added, "R0", "queue period over: added as testing (before the freeze)", [evidence])
            }
        }
        if frozen && !input.freezePromotionDone { appliedFreezePromotion = true }
        for (domain, definition, _) in batch {
            let slot = slot(domain)
            values[slot] = .explicit(definition)
            order.append(slot)
            inOrder[slot] = true
        }
    }

    func freezeEvidence() -> [Evidence] {
        guard let freeze = input.freeze else { return [] }
        return [Evidence(kind: "freeze", ref: "freeze", at: freeze, summary: "the list froze at \(freeze.rfc3339)")]
    }

    // R8: operator edits; after the freeze only for entries backed by a valid MTA-STS observation.
    mutating func applyEdits() {
        let edits = input.edits.filter { $0.at <= input.asOf && !input.consumedEdits.contains($0.ref) }
            .sorted { ($0.at, $0.ref) < ($1.at, $1.ref) }
        for edit in edits {
            let evidence = Evidence(kind: "edit", ref: edit.ref, at: edit.at, summary: "operator edit (\(edit.reason))")
            guard let current = value(edit.domain) else {
                refused += 1
                decide(
                    edit.domain, .refused, "R1", "edit of a domain that is not on the list; no new domains are added",
                    [evidence])
                continue
            }
            let postFreeze = input.freeze.map { edit.at > $0 } ?? false
            var extra: [Evidence] = []
            if postFreeze {
                let backed = latest[edit.domain]?.valid == true
                if !backed {
                    if let reason = input.forcedEdits[edit.domain] {
                        extra.append(
                            Evidence(
                                kind: "override", ref: "--force-edit", at: input.asOf,
                                summary: "forced by the operator: \(reason)"))
                    } else {
                        refused += 1
                        decide(
                            edit.domain, .refused, "R8",
                            "edit after the freeze of an entry with no valid MTA-STS observation; manual entries are frozen (use --force-edit to override)",
                            freezeEvidence() + [evidence])
                        continue
                    }
                }
            }
            guard let effective = input.baseline.effective(current) else { continue }
            let updated = PolicyDefinition(mode: edit.mode ?? effective.mode, mxs: edit.mxs ?? effective.mxs)
            appliedEdits.append(edit.ref)
            if current == .explicit(updated) {
                decide(edit.domain, .unchanged, "R8", "operator edit matches the entry already", [evidence])
                continue
            }
            values[slot(edit.domain)] = .explicit(updated)
            let detail = postFreeze ? "operator edit after the freeze (overridden)" : "operator edit before the freeze"
            decide(
                edit.domain, .updated, "R8", "\(detail): \(describe(current)) → \(describe(.explicit(updated)))",
                [evidence] + extra)
        }
    }

    // R4–R7: refresh from the latest observation.
    mutating func applyObservations() {
        for slot in order {
            guard let current = values[slot] else { continue }
            guard let observation = latest[domains[slot]] else {
                if !hasDecision(slot) {
                    decide(slot: slot, .unchanged, "R6", "no MTA-STS observation; entry kept", baselineOnly)
                }
                continue
            }
            let evidence = observationEvidence(observation)
            guard observation.valid else {
                decide(
                    slot: slot, .unchanged, "R6", "latest observation is not a valid MTA-STS policy; entry kept",
                    [evidence])
                continue
            }
            switch observation.mode {
            case "enforce":
                guard !observation.listMXs.isEmpty else {
                    decide(
                        slot: slot, .unchanged, "R6", "valid enforce policy without usable MX patterns; entry kept",
                        [evidence])
                    continue
                }
                let target = PolicyValue.explicit(PolicyDefinition(mode: .enforce, mxs: observation.listMXs))
                if current == target {
                    decide(slot: slot, .unchanged, "R4", "entry already matches the enforce policy", [evidence])
                } else {
                    values[slot] = target
                    decide(
                        slot: slot, .updated, "R4",
                        "refreshed from a valid enforce policy: \(describe(current)) → \(describe(target))", [evidence])
                }
            case "testing":
                decide(
                    slot: slot, .unchanged, "R5", "a testing policy never changes or downgrades an entry", [evidence])
            case "none":
                if input.removeOnNone {
                    values[slot] = nil
                    decide(slot: slot, .removed, "R7", "the domain published mode none: it opted out", [evidence])
                } else {
                    decide(slot: slot, .unchanged, "R7", "mode none observed; removal switched off", [evidence])
                }
            default:
                decide(slot: slot, .unchanged, "R6", "unusable mode; entry kept", [evidence])
            }
        }
    }

    func result() -> ReconcileResult {
        var list = input.baseline
        var policies: [PolicyEntry] = []
        policies.reserveCapacity(order.count)
        var counts = ReconcileCounts()
        counts.refused = refused
        for slot in order {
            guard let value = values[slot] else { continue }
            policies.append(PolicyEntry(domain: domains[slot], value: value))
            if let before = baselineValues[slot] {
                if before == value { counts.unchanged += 1 } else { counts.updated += 1 }
            } else {
                counts.added += 1
            }
        }
        list.policies = policies
        for slot in domains.indices where baselineValues[slot] != nil && values[slot] == nil { counts.removed += 1 }
        counts.domains = list.policies.count
        var ordered: [Decision] = []
        ordered.reserveCapacity(order.count + outside.count + moreDecisions.count)
        func append(_ slot: Int) {
            guard let first = firstDecision[slot] else { return }
            ordered.append(first)
            if let more = moreDecisions[slot] { ordered += more }
        }
        for slot in order { append(slot) }
        for slot in outside.filter({ !inOrder[$0] }).sorted(by: { domains[$0] < domains[$1] }) { append(slot) }
        for decision in ordered {
            if decision.action == .skipped { counts.skipped += 1 }
            if decision.action == .dropped { counts.dropped += 1 }
        }
        return ReconcileResult(
            list: list, decisions: ordered, counts: counts, appliedFreezePromotion: appliedFreezePromotion,
            appliedEdits: appliedEdits)
    }
}
