import Testing

@testable import PolicyListCore

/// One small fixture per wind-down rule.
@Suite struct ReconcileRuleTests {
    static func at(_ text: String) -> Instant {
        (try? TimestampParser.parseInstant(text).get()) ?? Instant(seconds: 0)
    }
    static func time(_ text: String) -> ListTime {
        (try? TimestampParser.parse(string: text).get())
            ?? ListTime(
                raw: text, instant: Instant(seconds: 0), form: .rfc3339, offsetSeconds: 0, fractionDigits: 0,
                warnings: [])
    }
    static let freeze = at("2020-04-15T07:20:35Z")

    static func baseline() -> PolicyList {
        PolicyList(
            timestamp: time("2020-04-01T11:02:21.000000-07:00"), expires: time("2020-04-15T11:02:21.000140-07:00"),
            version: "0.1", author: "EFF",
            aliases: [
                PolicyAlias(name: "google", definition: PolicyDefinition(mode: .testing, mxs: [".l.google.com"]))
            ],
            policies: [
                PolicyEntry(
                    domain: "b.example", value: .explicit(PolicyDefinition(mode: .testing, mxs: ["mx.b.example"]))),
                PolicyEntry(domain: "a.example", value: .alias("google")),
                PolicyEntry(
                    domain: "c.example", value: .explicit(PolicyDefinition(mode: .testing, mxs: ["mx.c.example"]))),
            ])
    }

    static func row(_ domain: String, _ state: QueueState, _ mxs: [String], updated: String = "2020-04-01T00:00:00Z")
        -> QueueRow
    {
        QueueRow(
            ref: "domains.csv:\(domain)", domain: domain, state: state, mxs: mxs, lastUpdated: at(updated),
            queueWeeks: 4, testingStart: at(updated), mtaSts: false)
    }

    static func observation(
        _ domain: String, _ mode: String, _ mxs: [String], valid: Bool = true, on: String = "2020-04-20T00:00:00Z"
    )
        -> ObservationSummary
    {
        ObservationSummary(
            ref: "obs-\(domain)-\(on)", domain: domain, observedAt: at(on), source: "test", valid: valid, mode: mode,
            listMXs: mxs, reason: valid ? nil : "bad")
    }

    @Test func r1NoNewDomainAfterFreezeExceptQueued() {
        var input = ReconcileInput(
            baseline: Self.baseline(), baselineRef: "seq 1", asOf: Self.at("2020-04-20T00:00:00Z"), freeze: Self.freeze)
        input.queue = [
            Self.row("u.example", .unvalidated, ["mx.u.example"]), Self.row("f.example", .failed, ["mx.f.example"]),
        ]
        input.observations = [Self.observation("new.example", "enforce", ["mx.new.example"])]
        let result = Reconciler.reconcile(input)
        #expect(result.counts.added == 0)
        #expect(result.list.policies.map(\.domain) == ["b.example", "a.example", "c.example"])
        let skipped = result.decisions.filter { $0.domain == "u.example" }
        #expect(skipped.first?.rule == "R1")
        #expect(skipped.first?.detail.contains("unvalidated at the freeze") == true)
    }

    @Test func r2QueuedAddedOnceAsSortedTestingBatch() {
        var input = ReconcileInput(
            baseline: Self.baseline(), baselineRef: "seq 1", asOf: Self.freeze, freeze: Self.freeze)
        input.queue = [
            Self.row("z.example", .queued, ["mx.z.example"]),
            Self.row("d.example", .queued, ["mx1.d.example", "mx2.d.example"]),
            Self.row("e.example", .queued, []), Self.row("b.example", .queued, ["other.b.example"]),
        ]
        let result = Reconciler.reconcile(input)
        #expect(
            result.list.policies.map(\.domain) == ["b.example", "a.example", "c.example", "d.example", "z.example"])
        #expect(
            result.list.policies[3].value
                == .explicit(PolicyDefinition(mode: .testing, mxs: ["mx1.d.example", "mx2.d.example"])))
        // A queued row never rewrites a listed entry.
        #expect(result.list.policies[0].value == Self.baseline().policies[0].value)
        #expect(result.counts.added == 2)
        #expect(result.appliedFreezePromotion)
        // The promotion does not run twice.
        input.freezePromotionDone = true
        input.baseline = result.list
        #expect(Reconciler.reconcile(input).counts.added == 0)
    }

    @Test func r3RemovalBeatsListAndQueue() {
        var input = ReconcileInput(
            baseline: Self.baseline(), baselineRef: "seq 1", asOf: Self.freeze, freeze: Self.freeze)
        input.queue = [Self.row("q.example", .queued, ["mx.q.example"])]
        input.removals = [
            RemovalRequest(
                ref: "removals.json#1", domain: "c.example", requestedAt: Self.at("2020-04-14T00:00:00Z"),
                reason: "owner"),
            RemovalRequest(
                ref: "removals.json#2", domain: "q.example", requestedAt: Self.at("2020-04-14T00:00:00Z"),
                reason: "owner"),
            RemovalRequest(
                ref: "removals.json#3", domain: "b.example", requestedAt: Self.at("2020-05-01T00:00:00Z"),
                reason: "later"),
        ]
        let result = Reconciler.reconcile(input)
        #expect(result.list.policies.map(\.domain) == ["b.example", "a.example"])
        #expect(result.counts.removed == 1)
        #expect(result.decisions.first { $0.domain == "q.example" }?.action == .dropped)
        #expect(result.decisions.first { $0.domain == "q.example" }?.rule == "R3")
    }

    @Test func r4EnforceRefreshInPlaceAndAliasBecomesExplicit() {
        var input = ReconcileInput(
            baseline: Self.baseline(), baselineRef: "seq 1", asOf: Self.at("2020-04-22T20:00:00Z"), freeze: Self.freeze,
            freezePromotionDone: true)
        input.observations = [
            Self.observation("a.example", "enforce", ["aspmx.l.google.com", ".aspmx.l.google.com"]),
            Self.observation("c.example", "enforce", ["mx.c.example"]),
        ]
        let result = Reconciler.reconcile(input)
        #expect(result.list.policies.map(\.domain) == ["b.example", "a.example", "c.example"])
        #expect(
            result.list.policies[1].value
                == .explicit(PolicyDefinition(mode: .enforce, mxs: ["aspmx.l.google.com", ".aspmx.l.google.com"])))
        #expect(result.counts.updated == 2)
        #expect(result.decisions.first { $0.domain == "a.example" }?.rule == "R4")
    }

    @Test func r5TestingNeverDowngradesAndR6InvalidChangesNothing() {
        var list = Self.baseline()
        list.policies[0].value = .explicit(PolicyDefinition(mode: .enforce, mxs: ["mx.b.example"]))
        var input = ReconcileInput(baseline: list, baselineRef: "seq 1", asOf: Self.at("2020-04-22T20:00:00Z"))
        input.observations = [
            Self.observation("b.example", "testing", ["other.b.example"]),
            Self.observation("c.example", "enforce", ["x.c.example"], on: "2020-04-17T00:00:00Z"),
            Self.observation("c.example", "enforce", ["y.c.example"], valid: false, on: "2020-04-21T00:00:00Z"),
        ]
        let result = Reconciler.reconcile(input)
        #expect(result.list.policies == list.policies)
        #expect(result.decisions.first { $0.domain == "b.example" }?.rule == "R5")
        #expect(result.decisions.first { $0.domain == "c.example" }?.rule == "R6")  // the latest observation wins
    }

    @Test func r7ModeNoneRemovesUnlessSwitchedOff() {
        var input = ReconcileInput(
            baseline: Self.baseline(), baselineRef: "seq 1", asOf: Self.at("2020-04-22T20:00:00Z"))
        input.observations = [Self.observation("b.example", "none", [])]
        #expect(Reconciler.reconcile(input).list.policies.map(\.domain) == ["a.example", "c.example"])
        #expect(Reconciler.reconcile(input).decisions.first?.rule == "R7")
        input.removeOnNone = false
        #expect(Reconciler.reconcile(input).list.policies.count == 3)
    }

    @Test func r8PostFreezeEditsOfManualEntriesRefusedUnlessForcedOrBacked() {
        let edit = EditRequest(
            ref: "edits.json#1", domain: "b.example", mxs: ["new.b.example"], mode: nil,
            at: Self.at("2020-04-16T00:00:00Z"), reason: "op")
        var input = ReconcileInput(
            baseline: Self.baseline(), baselineRef: "seq 1", edits: [edit], asOf: Self.at("2020-04-20T00:00:00Z"),
            freeze: Self.freeze, freezePromotionDone: true)
        var result = Reconciler.reconcile(input)
        #expect(result.counts.refused == 1)
        #expect(result.decisions.first { $0.domain == "b.example" }?.rule == "R8")
        #expect(result.list.policies == Self.baseline().policies)
        input.forcedEdits = ["b.example": "owner asked by phone"]
        result = Reconciler.reconcile(input)
        #expect(result.counts.updated == 1)
        #expect(result.decisions.first { $0.action == .updated }?.evidence.contains { $0.kind == "override" } == true)
        input.forcedEdits = [:]
        input.observations = [Self.observation("b.example", "testing", ["mx.b.example"], on: "2020-04-17T00:00:00Z")]
        result = Reconciler.reconcile(input)  // backed by a valid MTA-STS observation
        #expect(result.counts.updated == 1)
        #expect(result.list.policies[0].value == .explicit(PolicyDefinition(mode: .testing, mxs: ["new.b.example"])))
        // Pre-freeze edits apply; consumed edits are not applied again.
        input.edits = [
            EditRequest(
                ref: "edits.json#2", domain: "c.example", mxs: ["e.c.example"], mode: nil, at: Self.freeze, reason: "op"
            )
        ]
        #expect(Reconciler.reconcile(input).counts.updated == 1)
        input.consumedEdits = ["edits.json#2"]
        #expect(Reconciler.reconcile(input).counts.updated == 0)
    }

    @Test func guardsRefuse() {
        var list = Self.baseline()
        let now = Self.at("2020-04-10T00:00:00Z")
        #expect(PublicationGuard.check(list, previous: nil, now: now, maxShrinkPercent: 5, allowShrink: false) == nil)
        let previous = PublicationGuard.Previous(timestamp: list.timestamp, domains: 3)
        #expect(
            PublicationGuard.check(list, previous: previous, now: now, maxShrinkPercent: 5, allowShrink: false)
                == .timestampNotAfterPrevious(new: list.timestamp.raw, previous: list.timestamp.raw))
        let later = PublicationGuard.Previous(timestamp: Self.time("2020-03-01T00:00:00Z"), domains: 3)
        #expect(
            PublicationGuard.check(
                list, previous: nil, now: Self.at("2020-05-01T00:00:00Z"), maxShrinkPercent: 5, allowShrink: false)
                == .expiresNotAfterNow(expires: list.expires.raw, now: "2020-05-01T00:00:00Z"))
        list.policies.removeLast()
        #expect(
            PublicationGuard.check(list, previous: later, now: now, maxShrinkPercent: 5, allowShrink: false)
                == .shrink(from: 3, to: 2, percent: 100.0 / 3, limit: 5))
        #expect(PublicationGuard.check(list, previous: later, now: now, maxShrinkPercent: 5, allowShrink: true) == nil)
        list.policies[0].value = .explicit(PolicyDefinition(mode: .testing, mxs: []))
        #expect(
            PublicationGuard.check(list, previous: nil, now: now, maxShrinkPercent: 5, allowShrink: false)
                == .schemaInvalid(["policies.b.example: mxs is empty"]))
        list.policies = []
        #expect(
            PublicationGuard.check(list, previous: nil, now: now, maxShrinkPercent: 5, allowShrink: false) == .empty)
    }

    @Test(arguments: ["mx.a.example\nevil.example secure", "mx a.example", "mx.a.example#x", "mx.a.example,b", "mx:25"])
    func postfixWriterRefusesFieldSplitting(mx: String) {
        var list = Self.baseline()
        list.policies = [
            PolicyEntry(domain: "a.example", value: .explicit(PolicyDefinition(mode: .enforce, mxs: [mx])))
        ]
        #expect(throws: UnsafeFieldError.self) { try PostfixMap.text(list) }
        list.policies = [
            PolicyEntry(domain: mx, value: .explicit(PolicyDefinition(mode: .testing, mxs: ["mx.a.example"])))
        ]
        #expect(throws: UnsafeFieldError.self) { try PostfixMap.text(list) }
    }

    @Test func postfixWriterFormat() throws {
        var list = Self.baseline()
        list.policies[2].value = .explicit(PolicyDefinition(mode: .enforce, mxs: ["mx1.c.example", ".c.example"]))
        #expect(
            try PostfixMap.text(list) == """
                # a.example undefined due to testing policy
                # b.example undefined due to testing policy
                c.example  secure match=mx1.c.example:.c.example

                """)
    }
}
