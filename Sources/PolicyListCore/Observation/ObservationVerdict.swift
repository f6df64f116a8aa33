/// The verdict on one observation, recomputed from its raw facts with the RFC 8461 parsers and stored next to
/// them with ``parserVersion`` so it can be recomputed when the parsers improve.
///
/// Definitions:
/// * `valid` — what deployed senders act on: the TXT record **and** the policy are valid under the lenient
///   profile. For backend scans it is the backend's own `SupportsMTASTS` (see ``BackendScan``).
/// * `strictValid` — the same under the strict (RFC) profile; `nil` when the facts cannot say (a backend scan
///   keeps no raw TXT record).
/// * `mode`, `maxAge`, `mx` — from the strict parse when the policy is strictly valid, else from the lenient
///   parse when leniently valid, else `nil`/empty. They describe the policy even when the TXT record fails.
/// * `listMXs` — `mx` converted to list patterns (`*.x` → `.x`, case and order kept).
/// * `reason` — the first failing check in the order a sender meets them (TXT lookup, TXT record, policy
///   fetch, policy content) under the lenient profile, as `code` or `code: detail`; `nil` when valid.
///   `strictReason` likewise under the strict profile.
/// * MX coverage (RFC 8461 §4.1) — only when the observation carries the domain's MX lookup (`mx` with status
///   `ok`, as the live observer records it) and the policy parsed with a mode other than `none`: every MX host
///   that no policy `mx` pattern matches is a warning `mx-not-covered: HOST`; when **no** MX host is covered a
///   sender in `enforce` mode can deliver nowhere, so the observation is not valid, with reason
///   `mx-not-covered: HOST, …` (checked last, after the policy content). A null MX (`.`, RFC 7505) is skipped.
public struct ObservationVerdict: Sendable, Hashable {
    /// The ``PolicyListCore/parserVersion`` the verdict was computed with.
    public var parserVersion: Int
    /// Valid for deployed senders (lenient TXT and lenient policy).
    public var valid: Bool
    /// Valid under RFC 8461 read strictly; `nil` when unknown.
    public var strictValid: Bool?
    /// The TXT record's lenient verdict; `nil` when no TXT record was recorded.
    public var txtValid: Bool?
    /// The TXT record's strict verdict; `nil` when no TXT record was recorded.
    public var txtStrictValid: Bool?
    /// The TXT record's `id`, when valid.
    public var txtID: String?
    /// The policy's lenient verdict; `nil` when no policy text was recorded.
    public var policyValid: Bool?
    /// The policy's strict verdict; `nil` when no policy text was recorded.
    public var policyStrictValid: Bool?
    /// The policy mode (`enforce`, `testing`, `none`; for backend scans the checker's raw mode).
    public var mode: String?
    /// The policy's `max_age`.
    public var maxAge: Int?
    /// The policy's `mx` values as parsed (see the type's documentation for which parse).
    public var mx: [String]
    /// `mx` converted to list patterns.
    public var listMXs: [String]
    /// The first failing check (lenient), `nil` when valid.
    public var reason: String?
    /// The first failing check (strict), `nil` when strictly valid or unknown.
    public var strictReason: String?
    /// Parser and conversion warnings (`mx-dropped: …`, `wildcard-semantics-widened: …`), each once.
    public var warnings: [String]

    /// Creates a verdict.
    public init(
        parserVersion: Int = PolicyListCore.parserVersion, valid: Bool, strictValid: Bool?, txtValid: Bool?,
        txtStrictValid: Bool?, txtID: String?, policyValid: Bool?, policyStrictValid: Bool?, mode: String?,
        maxAge: Int?, mx: [String], listMXs: [String], reason: String?, strictReason: String?, warnings: [String]
    ) {
        self.parserVersion = parserVersion
        self.valid = valid
        self.strictValid = strictValid
        self.txtValid = txtValid
        self.txtStrictValid = txtStrictValid
        self.txtID = txtID
        self.policyValid = policyValid
        self.policyStrictValid = policyStrictValid
        self.mode = mode
        self.maxAge = maxAge
        self.mx = mx
        self.listMXs = listMXs
        self.reason = reason
        self.strictReason = strictReason
        self.warnings = warnings
    }

    /// Recomputes the verdict of a native observation from its raw facts.
    public static func compute(_ observation: Observation) -> ObservationVerdict {
        compute(txt: observation.txt, policy: observation.policy, mxHosts: mxHosts(observation.mx))
    }

    /// Recomputes the verdict from TXT and policy facts and, when known, the domain's MX host names.
    public static func compute(
        txt: Observation.TXTFacts, policy: Observation.PolicyFacts, mxHosts: [String]? = nil
    ) -> ObservationVerdict {
        compose(txtPart: evaluateTXT(txt), policyPart: evaluatePolicy(policy), mxHosts: mxHosts)
    }

    /// Remembers the policy parts of recent verdicts, so that an importer evaluates each distinct policy fetch
    /// (status, HTTP facts, body) once: many observations share one (hosted bodies, the same error page).
    /// TXT sets are not remembered: they carry a per-domain `id`, and their check costs less than the
    /// lookup. Bounded: it starts over after ``limit`` entries.
    public struct Memo: Sendable {
        var policy: [Observation.PolicyFacts: PartVerdict] = [:]
        /// Entries kept before the memo starts over.
        public let limit: Int

        /// An empty memo.
        public init(limit: Int = 4096) {
            self.limit = limit
        }
    }

    /// ``compute(_:)`` with the policy part taken from (and added to) `memo`; the same verdict.
    public static func compute(_ observation: Observation, memo: inout Memo) -> ObservationVerdict {
        let policyPart: PartVerdict
        if let known = memo.policy[observation.policy] {
            policyPart = known
        } else {
            var part = evaluatePolicy(observation.policy)
            // The list patterns depend on the policy's MX alone: converted once per remembered policy.
            part.conversion = MTASTS.convertToListPatterns(part.parsed?.mx ?? [])
            policyPart = part
            if memo.policy.count >= memo.limit { memo.policy.removeAll(keepingCapacity: true) }
            memo.policy[observation.policy] = policyPart
        }
        return compose(
            txtPart: evaluateTXT(observation.txt), policyPart: policyPart, mxHosts: mxHosts(observation.mx))
    }

    /// The verdict from its TXT and policy parts and the MX hosts.
    static func compose(txtPart: PartVerdict, policyPart: PartVerdict, mxHosts: [String]?) -> ObservationVerdict {
        let parsed = policyPart.parsed
        let mx = parsed?.mx ?? []
        let conversion = policyPart.conversion ?? MTASTS.convertToListPatterns(mx)
        var coverage = PartVerdict(strictReason: nil, lenientReason: nil)
        if let mxHosts, let parsed, parsed.mode != .none {
            coverage = evaluateMXCoverage(hosts: mxHosts, patterns: mx)
        }
        var warnings: [String] = []
        for text in txtPart.warnings + policyPart.warnings + conversion.warnings + coverage.warnings
        where !warnings.contains(text) {
            warnings.append(text)
        }
        return ObservationVerdict(
            valid: txtPart.lenientReason == nil && policyPart.lenientReason == nil && coverage.lenientReason == nil,
            strictValid: txtPart.strictReason == nil && policyPart.strictReason == nil && coverage.strictReason == nil,
            txtValid: txtPart.lenientReason == nil, txtStrictValid: txtPart.strictReason == nil, txtID: txtPart.id,
            policyValid: policyPart.lenientReason == nil, policyStrictValid: policyPart.strictReason == nil,
            mode: parsed?.mode.rawValue, maxAge: parsed?.maxAge, mx: mx, listMXs: conversion.patterns,
            reason: txtPart.lenientReason ?? policyPart.lenientReason ?? coverage.lenientReason,
            strictReason: txtPart.strictReason ?? policyPart.strictReason ?? coverage.strictReason,
            warnings: warnings)
    }

    /// The code of the MX coverage check (RFC 8461 §4.1).
    public static let mxNotCovered = "mx-not-covered"

    /// The MX host names of an observation's `mx` member when its lookup succeeded (`status` `ok`): each
    /// record's `exchange`, one trailing dot removed, null MX (`.`/empty) left out; `nil` when the member is
    /// absent, failed, or holds no host.
    public static func mxHosts(_ mx: JSONValue?) -> [String]? {
        guard let mx, mx["status"]?.stringValue == "ok", let records = mx["records"]?.arrayValue else { return nil }
        var hosts: [String] = []
        for record in records {
            guard var host = record["exchange"]?.stringValue else { continue }
            if host.hasSuffix(".") { host.removeLast() }
            if !host.isEmpty && !hosts.contains(host) { hosts.append(host) }
        }
        return hosts.isEmpty ? nil : hosts
    }

    /// The MX coverage check: a warning per uncovered host under each profile's matching rules; a failure when
    /// no host is covered.
    static func evaluateMXCoverage(hosts: [String], patterns: [String]) -> PartVerdict {
        func uncovered(_ profile: MTASTS.Profile) -> [String] {
            hosts.filter { host in !patterns.contains { MTASTS.mxPatternMatches($0, host: host, profile: profile) } }
        }
        let strict = uncovered(.strict)
        let lenient = uncovered(.lenient)
        func reason(_ missing: [String]) -> String? {
            missing.count == hosts.count ? "\(mxNotCovered): " + missing.joined(separator: ", ") : nil
        }
        var warnings: [String] = []
        for host in strict + lenient where !warnings.contains("\(mxNotCovered): \(host)") {
            warnings.append("\(mxNotCovered): \(host)")
        }
        return PartVerdict(strictReason: reason(strict), lenientReason: reason(lenient), warnings: warnings)
    }

    /// One part's (TXT or policy) two verdicts, with reasons as printed.
    struct PartVerdict: Sendable {
        var strictReason: String?
        var lenientReason: String?
        var id: String? = nil
        var parsed: MTASTS.ParsedPolicy? = nil
        var warnings: [String] = []
        /// `MTASTS.convertToListPatterns` of the parsed MX, when computed ahead (the memo does).
        var conversion: (patterns: [String], warnings: [String])? = nil

        static func failure(_ reason: String) -> PartVerdict {
            PartVerdict(strictReason: reason, lenientReason: reason)
        }
    }

    /// The TXT verdicts. A failed lookup fails both profiles: `nxdomain`/`nodata` as `no-sts-record` (the
    /// domain has no policy, §3.1), other failures as `txt-lookup-failed`.
    static func evaluateTXT(_ txt: Observation.TXTFacts) -> PartVerdict {
        switch txt.status {
        case .ok:
            let verdicts = MTASTS.evaluateTXT(rrset: txt.records.map { $0.map { Array($0.utf8) } })
            return PartVerdict(
                strictReason: verdicts.strict.reason?.description, lenientReason: verdicts.lenient.reason?.description,
                id: verdicts.strict.id ?? verdicts.lenient.id,
                warnings: (verdicts.strict.warnings + verdicts.lenient.warnings).map(\.description))
        case .nxdomain, .nodata:
            return .failure("\(MTASTS.IssueCode.noSTSRecord.rawValue): \(txt.status.rawValue)")
        case .servfail, .timeout, .error:
            return .failure("txt-lookup-failed: " + detail(txt.status.rawValue, txt.error))
        }
    }

    /// The policy verdicts. A fetch that did not end in `ok` fails both profiles, with the HTTP facts' reason
    /// when they show one (`http-status-not-200: 404`, `content-type-not-text-plain: text/html`,
    /// `redirect-not-followed: 301`) and otherwise `too-large`, `policy-tls-error` or `policy-fetch-failed`.
    static func evaluatePolicy(_ policy: Observation.PolicyFacts) -> PartVerdict {
        let http = MTASTS.HTTPFacts(
            status: policy.httpStatus ?? 200, contentType: policy.contentType, location: policy.location)
        switch policy.status {
        case .ok:
            let verdicts = MTASTS.evaluatePolicy(body: policy.body ?? [], http: http)
            return PartVerdict(
                strictReason: verdicts.strict.reason?.description, lenientReason: verdicts.lenient.reason?.description,
                parsed: verdicts.strict.parsed ?? verdicts.lenient.parsed,
                warnings: (verdicts.strict.warnings + verdicts.lenient.warnings).map(\.description))
        case .httpStatus, .contentType, .redirect:
            if policy.httpStatus != nil || policy.status == .contentType,
                let issue = MTASTS.fetchIssue(http: http, certificate: nil)
            {
                return .failure(issue.description)
            }
            // The observer says the fetch failed, but the recorded facts do not show why.
            return .failure("policy-fetch-failed: " + detail(policy.status.rawValue, policy.error))
        case .tooLarge:
            let size = policy.body.map { "\($0.count)+ bytes" }
            return .failure(MTASTS.IssueCode.tooLarge.rawValue + ((policy.error ?? size).map { ": " + $0 } ?? ""))
        case .tlsError:
            return .failure("policy-tls-error" + (policy.error.map { ": " + $0 } ?? ""))
        case .timeout, .error:
            return .failure("policy-fetch-failed: " + detail(policy.status.rawValue, policy.error))
        }
    }

    private static func detail(_ status: String, _ error: String?) -> String {
        error.map { "\(status): \($0)" } ?? status
    }
}
