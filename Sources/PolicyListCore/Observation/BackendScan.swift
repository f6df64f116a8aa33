/// One row of the original backend's `scans` table as `row_to_json` exports it:
/// `{"id","domain","scandata":"<DomainResult JSON as a string>","timestamp","version","mta_sts_mode"}`.
///
/// Its facts are the checker's: the policy text it fetched and the statuses of its checks; it keeps no raw
/// TXT record. ``verdict`` follows the backend (`SupportsMTASTS`) and also records our parser's verdict on
/// the policy text.
public struct BackendScan: Sendable, Hashable {
    /// The row id.
    public var id: Int64
    /// The domain, normalised like ``Observation/domain``.
    public var domain: String
    /// `timestamp` (UTC when it has no zone).
    public var observedAt: Instant
    /// `version` (scan format; 1 since 2019, older rows 0).
    public var version: Int
    /// `mta_sts_mode` as stored (the raw mode, even for failing results); `nil` when null.
    public var storedMode: String?
    /// `DomainResult.status` (0 success … 6 bad hostname).
    public var domainStatus: Int
    /// `DomainResult.mta_sts`; `nil` when null (the MX lookup failed before the MTA-STS check).
    public var mtaSTS: MTASTSResult?

    /// Creates a scan.
    public init(
        id: Int64, domain: String, observedAt: Instant, version: Int, storedMode: String?, domainStatus: Int,
        mtaSTS: MTASTSResult?
    ) {
        self.id = id
        self.domain = domain
        self.observedAt = observedAt
        self.version = version
        self.storedMode = storedMode
        self.domainStatus = domainStatus
        self.mtaSTS = mtaSTS
    }

    /// The checker's `MTASTSResult`.
    public struct MTASTSResult: Sendable, Hashable {
        /// 0 success, 1 warning, 2 failure, 3 error.
        public var status: Int
        /// The result's own messages (MX consistency failures end up here).
        public var messages: [String]
        /// The sub-checks in the order a sender meets them: `mta-sts-text`, then `mta-sts-policy-file`,
        /// then any others by name.
        public var checks: [Check]
        /// The policy file's text as fetched (empty when the fetch failed).
        public var policy: String
        /// The raw `mode` value.
        public var mode: String
        /// The raw `mx` values (`strings.Split(policy["mx"], " ")`: `[""]` without an `mx` line).
        public var mxs: [String]

        /// Creates a result.
        public init(status: Int, messages: [String], checks: [Check], policy: String, mode: String, mxs: [String]) {
            self.status = status
            self.messages = messages
            self.checks = checks
            self.policy = policy
            self.mode = mode
            self.mxs = mxs
        }
    }

    /// One checker sub-check.
    public struct Check: Sendable, Hashable {
        /// `mta-sts-text`, `mta-sts-policy-file`.
        public var name: String
        /// 0 success, 1 warning, 2 failure, 3 error.
        public var status: Int
        /// Its messages (`Failure: …`).
        public var messages: [String]

        /// Creates a check.
        public init(name: String, status: Int, messages: [String]) {
            self.name = name
            self.status = status
            self.messages = messages
        }
    }

    /// The source label of every backend scan observation.
    public static let source = "backend-scan"

    /// Longest export line accepted (1 MiB); a DomainResult is a few KiB.
    public static let maxLineBytes = 1 << 20

    /// Reads one `row_to_json` line, then the DomainResult inside `scandata`; errors name the key path
    /// (`scandata.mta_sts.status`).
    public static func read(jsonLine bytes: [UInt8]) throws(RecordError) -> BackendScan {
        guard bytes.count <= maxLineBytes else {
            throw RecordError(field: nil, "line is \(bytes.count) bytes, longer than the \(maxLineBytes)-byte limit")
        }
        return try decode(readRecordJSON(bytes).value)
    }

    /// Decodes a parsed export line (see ``read(jsonLine:)``).
    public static func decode(_ value: JSONValue) throws(RecordError) -> BackendScan {
        let row = try ObjectReader(value, path: "")
        let id = try row.int("id")
        let rawDomain = try row.string("domain")
        guard let domain = Observation.normalizedDomain(rawDomain) else {
            throw RecordError(field: "domain", "\"\(rawDomain)\" is not a domain name")
        }
        let timestamp = try row.string("timestamp")
        let observedAt: Instant
        switch BackendTime.parse(timestamp) {
        case .success(let instant): observedAt = instant
        case .failure(let error): throw RecordError(field: "timestamp", error.reason)
        }
        let version = try row.optionalInt("version") ?? 0
        let storedMode = try row.optionalString("mta_sts_mode")
        let scandata = try row.string("scandata")
        let result = try ObjectReader(readRecordJSON(Array(scandata.utf8), field: "scandata").value, path: "scandata")
        let resultDomain = try result.string("domain")
        guard Observation.normalizedDomain(resultDomain) == domain else {
            throw RecordError(
                field: "scandata.domain", "\"\(resultDomain)\" differs from the row's domain \"\(rawDomain)\"")
        }
        let domainStatus = try result.int("status")
        let mtaSTS = try result.optionalObject("mta_sts").map { (reader) throws(RecordError) in
            try decodeMTASTS(reader)
        }
        return BackendScan(
            id: Int64(id), domain: domain, observedAt: observedAt, version: version, storedMode: storedMode,
            domainStatus: domainStatus, mtaSTS: mtaSTS)
    }

    private static let checkOrder = ["mta-sts-text": 0, "mta-sts-policy-file": 1]

    private static func decodeMTASTS(_ reader: ObjectReader) throws(RecordError) -> MTASTSResult {
        let status = try reader.int("status")
        guard (0...3).contains(status) else {
            throw RecordError(field: reader.key("status"), "\(status) is not a check status (0-3)")
        }
        var checks: [Check] = []
        if let checksReader = try reader.optionalObject("checks") {
            for member in checksReader.members {
                let check = try ObjectReader(member.value, path: checksReader.key(member.key))
                checks.append(
                    Check(
                        name: member.key, status: try check.int("status"),
                        messages: try check.raw("messages") == nil ? [] : check.strings("messages", nullIsEmpty: true)))
            }
        }
        checks.sort { (checkOrder[$0.name] ?? 2, $0.name) < (checkOrder[$1.name] ?? 2, $1.name) }
        return MTASTSResult(
            status: status,
            messages: try reader.raw("messages") == nil ? [] : reader.strings("messages", nullIsEmpty: true),
            checks: checks, policy: try reader.optionalString("policy") ?? "",
            mode: try reader.optionalString("mode") ?? "",
            mxs: try reader.raw("mxs") == nil ? [] : reader.strings("mxs", nullIsEmpty: true))
    }

    /// The verdict. `valid` ⇔ `mta_sts` is not null and its status is 0 or 1 (the backend's
    /// `Scan.SupportsMTASTS`, domain-spec §3.4). `mode` is the checker's raw mode (`nil` when empty),
    /// `mx` its raw `mxs` (empty strings dropped), `listMXs` their conversion (`*.x` → `.x`, case and order
    /// kept). `policyValid`/`policyStrictValid`/`maxAge` come from our parser run on the policy text (with a
    /// plain `200 text/plain` answer assumed); `txtValid`/`strictValid` are `nil` (no raw TXT was kept).
    ///
    /// `reason` for an invalid scan: `no-mta-sts-result: scan status N` when `mta_sts` is null, else the
    /// first failing check: the TXT check (`txt-lookup-failed: …` or `txt-check-failed: …`, the checker's
    /// message), then the policy-file check (`http-status-not-200: 404` when the message shows the status,
    /// else our parser's reason on the policy text such as `max-age-out-of-range: 63072000`, else
    /// `policy-check-failed: …`), else `mta-sts-check-failed: …` with the result's first message.
    public var verdict: ObservationVerdict {
        guard let result = mtaSTS else {
            return ObservationVerdict(
                valid: false, strictValid: nil, txtValid: nil, txtStrictValid: nil, txtID: nil, policyValid: nil,
                policyStrictValid: nil, mode: nil, maxAge: nil, mx: [], listMXs: [],
                reason: "no-mta-sts-result: scan status \(domainStatus)", strictReason: nil, warnings: [])
        }
        let policyBytes = Array(result.policy.utf8)
        let ours: MTASTS.PolicyVerdicts? = policyBytes.isEmpty ? nil : MTASTS.evaluatePolicy(body: policyBytes)
        let mx = result.mxs.filter { !$0.isEmpty }
        let conversion = MTASTS.convertToListPatterns(mx)
        var warnings: [String] = []
        let parserWarnings = ours.map { ($0.strict.warnings + $0.lenient.warnings).map(\.description) } ?? []
        for text in parserWarnings + conversion.warnings where !warnings.contains(text) { warnings.append(text) }
        let valid = result.status == 0 || result.status == 1
        return ObservationVerdict(
            valid: valid, strictValid: nil, txtValid: nil, txtStrictValid: nil, txtID: nil,
            policyValid: ours?.lenient.isValid, policyStrictValid: ours?.strict.isValid,
            mode: result.mode.isEmpty ? nil : result.mode,
            maxAge: (ours?.strict.parsed ?? ours?.lenient.parsed)?.maxAge, mx: mx, listMXs: conversion.patterns,
            reason: valid ? nil : Self.reason(result, ours: ours), strictReason: nil, warnings: warnings)
    }

    private static func reason(_ result: MTASTSResult, ours: MTASTS.PolicyVerdicts?) -> String {
        for check in result.checks where check.status >= 2 {
            let message = check.messages.first.map(stripSeverity) ?? "status \(check.status)"
            switch check.name {
            case "mta-sts-text":
                let lookup = message.hasPrefix("Couldn't find") || message.contains("lookup _mta-sts.")
                return (lookup ? "txt-lookup-failed: " : "txt-check-failed: ") + message
            case "mta-sts-policy-file":
                if let status = httpStatus(in: message) { return "http-status-not-200: \(status)" }
                if let ours, let issue = ours.lenient.reason ?? ours.strict.reason { return issue.description }
                return "policy-check-failed: " + message
            default:
                return "\(check.name)-failed: " + message
            }
        }
        let message = result.messages.first.map(stripSeverity) ?? "status \(result.status)"
        return "mta-sts-check-failed: " + message
    }

    /// `Failure: text` → `text`.
    private static func stripSeverity(_ message: String) -> String {
        for prefix in ["Failure: ", "Error: ", "Warning: "] where message.hasPrefix(prefix) {
            return String(message.dropFirst(prefix.count))
        }
        return message
    }

    /// The status in the checker's `… returned 404 Not Found.` message.
    private static func httpStatus(in message: String) -> Int? {
        guard let range = message.range(of: " returned ") else { return nil }
        let digits = message[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
        guard digits.count == 3, let status = Int(digits), status != 200 else { return nil }
        return status
    }
}
