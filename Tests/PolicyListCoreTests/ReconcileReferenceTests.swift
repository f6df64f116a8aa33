import Testing

@testable import PolicyListCore

/// The slot-indexed reconciler against the dictionary-keyed one it replaced (kept below, verbatim apart from its
/// name, as the reference): the same list, decisions in the same order, counts and applied edits, over seeded
/// random inputs with repeated baseline domains, queue rows, removals, edits and observations on small domain
/// pools so that every rule meets every other.
@Suite struct ReconcileReferenceTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomInput(seed: UInt64) -> ReconcileInput {
        var random = SplitMix(state: seed)
        let pool = (0..<24).map { "d\($0).example" }
        func domain() -> String { pool[Int.random(in: 0..<pool.count, using: &random)] }
        func mxs() -> [String] {
            (0..<Int.random(in: 0...2, using: &random)).map { "mx\($0).\(domain())" }
        }
        func instant() -> Instant { Instant(seconds: 1_586_000_000 + Int64.random(in: 0..<3_000_000, using: &random)) }
        var baseline = ReconcileRuleTests.baseline()
        baseline.policies = (0..<Int.random(in: 0...20, using: &random)).map { _ in
            Bool.random(using: &random)
                ? PolicyEntry(domain: domain(), value: .alias("google"))
                : PolicyEntry(
                    domain: domain(),
                    value: .explicit(
                        PolicyDefinition(mode: Bool.random(using: &random) ? .testing : .enforce, mxs: mxs())))
        }
        let states = QueueState.allCases
        let queue = (0..<Int.random(in: 0...10, using: &random)).map { index in
            QueueRow(
                ref: "domains.csv:\(index)", domain: domain(),
                state: states[Int.random(in: 0..<states.count, using: &random)], mxs: mxs(),
                lastUpdated: Bool.random(using: &random) ? instant() : nil,
                queueWeeks: Int.random(in: 0...4, using: &random),
                testingStart: Bool.random(using: &random) ? instant() : nil, mtaSts: false)
        }
        let removals = (0..<Int.random(in: 0...4, using: &random)).map { index in
            RemovalRequest(ref: "removals.json#\(index)", domain: domain(), requestedAt: instant(), reason: "owner")
        }
        let edits = (0..<Int.random(in: 0...4, using: &random)).map { index in
            EditRequest(
                ref: "edits.json#\(index)", domain: domain(), mxs: Bool.random(using: &random) ? mxs() : nil,
                mode: Bool.random(using: &random) ? .enforce : nil, at: instant(), reason: "operator")
        }
        let modes = ["enforce", "testing", "none", "bogus"]
        let observations = (0..<Int.random(in: 0...30, using: &random)).map { index in
            ObservationSummary(
                ref: "obs:\(index)", domain: domain(), observedAt: instant(), source: "test",
                valid: Int.random(in: 0..<4, using: &random) > 0, mode: modes[Int.random(in: 0..<4, using: &random)],
                listMXs: mxs(), reason: nil)
        }
        let freeze: Instant? = Bool.random(using: &random) ? instant() : nil
        return ReconcileInput(
            baseline: baseline, baselineRef: "seq 1", queue: queue, removals: removals, edits: edits,
            observations: observations, asOf: instant(), freeze: freeze,
            freezePromotionDone: Int.random(in: 0..<4, using: &random) == 0,
            consumedEdits: Bool.random(using: &random) ? ["edits.json#0"] : [],
            removeOnNone: Int.random(in: 0..<4, using: &random) > 0,
            forcedEdits: Bool.random(using: &random) ? [domain(): "forced"] : [:])
    }

    @Test(arguments: 0..<4)
    func sameResultsAsTheReference(batch: Int) {
        for seed in UInt64(batch * 500)..<UInt64(batch * 500 + 500) {
            let input = Self.randomInput(seed: seed)
            let result = Reconciler.reconcile(input)
            var reference = ReferenceReconcileState(input: input)
            reference.run()
            let expected = reference.result()
            #expect(result.list == expected.list, "seed \(seed)")
            #expect(result.decisions == expected.decisions, "seed \(seed)")
            #expect(result.counts == expected.counts, "seed \(seed)")
            #expect(result.appliedEdits == expected.appliedEdits, "seed \(seed)")
            #expect(result.appliedFreezePromotion == expected.appliedFreezePromotion, "seed \(seed)")
        }
    }

    @Test func theInputsMeetEveryRule() {
        var rules = Set<String>()
        var repeatedBaselineDomains = 0
        for seed in UInt64(0)..<2000 {
            let input = Self.randomInput(seed: seed)
            if Set(input.baseline.policies.map(\.domain)).count < input.baseline.policies.count {
                repeatedBaselineDomains += 1
            }
            for decision in Reconciler.reconcile(input).decisions {
                rules.insert("\(decision.rule) \(decision.action.rawValue)")
            }
        }
        #expect(repeatedBaselineDomains > 100)
        for rule in [
            "R0 added", "R1 skipped", "R2 added", "R3 removed", "R3 dropped", "R4 updated", "R5 unchanged",
            "R6 unchanged", "R7 removed", "R8 updated", "R8 refused", "R1 refused",
        ] {
            #expect(rules.contains(rule), "\(rule) never decided")
        }
    }
}

/// The reconciler's state before it used slots (reference for the tests above).
struct ReferenceReconcileState {
    let input: ReconcileInput
    var order: [String]
    var inOrder: Set<String>
    var values: [String: PolicyValue]
    var decisions: [String: [Decision]] = [:]
    var outside: [String] = []
    var appliedEdits: [String] = []
    var appliedFreezePromotion = false
    var refused = 0
    let latest: [String: ObservationSummary]
    let baselineEvidence: Evidence

    init(input: ReconcileInput) {
        self.input = input
        order = input.baseline.policies.map(\.domain)
        inOrder = Set(order)
        values = Dictionary(input.baseline.policies.map { ($0.domain, $0.value) }, uniquingKeysWith: { a, _ in a })
        latest = Reconciler.latestObservations(input.observations, asOf: input.asOf)
        baselineEvidence = Evidence(
            kind: "snapshot", ref: input.baselineRef, at: input.baseline.timestamp.instant,
            summary: "the list reconcile started from")
    }

    var frozen: Bool { input.freeze.map { input.asOf >= $0 } ?? false }

    mutating func decide(
        _ domain: String, _ action: DecisionAction, _ rule: String, _ detail: String, _ evidence: [Evidence]
    ) {
        if decisions[domain] == nil && !inOrder.contains(domain) { outside.append(domain) }
        decisions[domain, default: []].append(
            Decision(domain: domain, action: action, rule: rule, detail: detail, evidence: evidence))
    }

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
            if values[request.domain] != nil {
                values[request.domain] = nil
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
            guard let row = best[domain], values[domain] == nil, !removed.contains(domain) else { continue }
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
            values[domain] = .explicit(definition)
            order.append(domain)
            inOrder.insert(domain)
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
            guard let current = values[edit.domain] else {
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
            values[edit.domain] = .explicit(updated)
            let detail = postFreeze ? "operator edit after the freeze (overridden)" : "operator edit before the freeze"
            decide(
                edit.domain, .updated, "R8", "\(detail): \(describe(current)) → \(describe(.explicit(updated)))",
                [evidence] + extra)
        }
    }

    // R4–R7: refresh from the latest observation.
    mutating func applyObservations() {
        for domain in order {
            guard let current = values[domain] else { continue }
            guard let observation = latest[domain] else {
                if decisions[domain] == nil {
                    decide(domain, .unchanged, "R6", "no MTA-STS observation; entry kept", [baselineEvidence])
                }
                continue
            }
            let evidence = observationEvidence(observation)
            guard observation.valid else {
                decide(
                    domain, .unchanged, "R6", "latest observation is not a valid MTA-STS policy; entry kept", [evidence]
                )
                continue
            }
            switch observation.mode {
            case "enforce":
                guard !observation.listMXs.isEmpty else {
                    decide(
                        domain, .unchanged, "R6", "valid enforce policy without usable MX patterns; entry kept",
                        [evidence])
                    continue
                }
                let target = PolicyValue.explicit(PolicyDefinition(mode: .enforce, mxs: observation.listMXs))
                if current == target {
                    decide(domain, .unchanged, "R4", "entry already matches the enforce policy", [evidence])
                } else {
                    values[domain] = target
                    decide(
                        domain, .updated, "R4",
                        "refreshed from a valid enforce policy: \(describe(current)) → \(describe(target))", [evidence])
                }
            case "testing":
                decide(domain, .unchanged, "R5", "a testing policy never changes or downgrades an entry", [evidence])
            case "none":
                if input.removeOnNone {
                    values[domain] = nil
                    decide(domain, .removed, "R7", "the domain published mode none: it opted out", [evidence])
                } else {
                    decide(domain, .unchanged, "R7", "mode none observed; removal switched off", [evidence])
                }
            default:
                decide(domain, .unchanged, "R6", "unusable mode; entry kept", [evidence])
            }
        }
    }

    func result() -> ReconcileResult {
        var list = input.baseline
        list.policies = order.compactMap { domain in values[domain].map { PolicyEntry(domain: domain, value: $0) } }
        let baselineValues = Dictionary(
            input.baseline.policies.map { ($0.domain, $0.value) }, uniquingKeysWith: { a, _ in a })
        var counts = ReconcileCounts()
        counts.refused = refused
        for entry in list.policies {
            if let before = baselineValues[entry.domain] {
                if before == entry.value { counts.unchanged += 1 } else { counts.updated += 1 }
            } else {
                counts.added += 1
            }
        }
        counts.removed = baselineValues.keys.filter { values[$0] == nil }.count
        counts.domains = list.policies.count
        var ordered: [Decision] = []
        for domain in order { ordered += decisions[domain] ?? [] }
        let listed = Set(order)
        for domain in outside.sorted() where !listed.contains(domain) { ordered += decisions[domain] ?? [] }
        for decision in ordered {
            if decision.action == .skipped { counts.skipped += 1 }
            if decision.action == .dropped { counts.dropped += 1 }
        }
        return ReconcileResult(
            list: list, decisions: ordered, counts: counts, appliedFreezePromotion: appliedFreezePromotion,
            appliedEdits: appliedEdits)
    }
}
