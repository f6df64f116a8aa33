/// One item rejected from an input, with where and why.
public struct InputProblem: Sendable, Equatable, CustomStringConvertible {
    /// Location inside the input (`line 12`, `edits[3]`).
    public let location: String
    /// What was expected.
    public let reason: String
    /// `line 12: …`.
    public var description: String { "\(location): \(reason)" }

    /// Creates a problem.
    public init(location: String, reason: String) {
        self.location = location
        self.reason = reason
    }
}

/// Reads the backend's `domains` export (`\copy domains TO … CSV HEADER`). E-mail addresses are read past and
/// never returned: they stay only in the raw input kept in the blob store.
public enum QueueExport {
    /// The header the backend writes.
    public static let header = [
        "domain", "email", "data", "last_updated", "status", "queue_weeks", "testing_start", "mta_sts",
    ]

    /// Parses the export; `source` names it in evidence refs (`domains.csv:17`).
    public static func parse(_ bytes: [UInt8], source: String) -> (
        rows: [QueueRow], rejected: [InputProblem], warnings: [InputProblem]
    ) {
        let (records, errors) = CSVReader.parse(bytes)
        var rejected = errors.map { InputProblem(location: "line \($0.line)", reason: $0.reason) }
        var warnings: [InputProblem] = []
        guard let head = records.first else {
            rejected.append(
                InputProblem(
                    location: "line 1", reason: "empty file; expected the header \(header.joined(separator: ","))"))
            return ([], rejected, warnings)
        }
        let names = head.fields.map { $0 ?? "" }
        var column: [String: Int] = [:]
        for (index, name) in names.enumerated() { column[name] = index }
        let missing = ["domain", "data", "status"].filter { column[$0] == nil }
        guard missing.isEmpty else {
            rejected.append(
                InputProblem(
                    location: "line \(head.line)",
                    reason: "header lacks \(missing.joined(separator: ", ")); expected \(header.joined(separator: ","))"
                ))
            return ([], rejected, warnings)
        }
        var rows: [QueueRow] = []
        var keys = Set<String>()
        for record in records.dropFirst() {
            let location = "line \(record.line)"
            func field(_ name: String) -> String? {
                guard let index = column[name], index < record.fields.count else { return nil }
                return record.fields[index]
            }
            guard record.fields.count == names.count else {
                rejected.append(
                    InputProblem(location: location, reason: "\(record.fields.count) fields; expected \(names.count)"))
                continue
            }
            guard let rawDomain = field("domain"), !rawDomain.isEmpty else {
                rejected.append(InputProblem(location: location, reason: "empty domain"))
                continue
            }
            let domain = HostSyntax.lowercased(rawDomain.hasSuffix(".") ? String(rawDomain.dropLast()) : rawDomain)
            guard HostSyntax.isSchemaName(domain) else {
                rejected.append(
                    InputProblem(location: location, reason: "domain \"\(rawDomain)\" is not a valid domain name"))
                continue
            }
            guard let statusText = field("status"), let state = QueueState(rawValue: statusText) else {
                rejected.append(
                    InputProblem(
                        location: location,
                        reason: "status \"\(field("status") ?? "")\"; expected added, queued, unvalidated or failed"))
                continue
            }
            guard keys.insert(domain + "\u{0}" + statusText).inserted else {
                rejected.append(
                    InputProblem(
                        location: location,
                        reason: "second row for (\(domain), \(statusText)); the primary key is (domain, status)"))
                continue
            }
            var mxs: [String] = []
            var bad = false
            for part in (field("data") ?? "").split(separator: ",", omittingEmptySubsequences: false) {
                var pattern = part.trimmingASCIISpaces()
                if pattern.isEmpty { continue }
                if pattern.hasPrefix("*.") {
                    // MTA-STS submissions copied the policy's `*.x` patterns verbatim; the list writes `.x`.
                    pattern.removeFirst()
                    warnings.append(
                        InputProblem(location: location, reason: "MX pattern *\(pattern) read in list form \(pattern)"))
                }
                guard HostSyntax.isSchemaName(pattern, allowLeadingDot: true) else {
                    rejected.append(
                        InputProblem(
                            location: location,
                            reason: "MX pattern \"\(pattern)\" for \(domain) is not a valid host name pattern"))
                    bad = true
                    break
                }
                mxs.append(pattern)
            }
            if bad { continue }
            var weeks = 4
            if let text = field("queue_weeks"), !text.isEmpty {
                guard let value = Int(text) else {
                    rejected.append(
                        InputProblem(location: location, reason: "queue_weeks \"\(text)\" is not an integer"))
                    continue
                }
                weeks = value
                if !(4..<52).contains(value) {
                    weeks = min(max(value, 4), 51)
                    warnings.append(
                        InputProblem(
                            location: location, reason: "queue_weeks \(value) outside [4, 52); clamped to \(weeks)"))
                }
            }
            var times: [String: Instant?] = [:]
            var timeError = false
            for name in ["last_updated", "testing_start"] {
                switch parseBackendTime(field(name)) {
                case .success(let instant): times[name] = instant
                case .failure(let error):
                    rejected.append(InputProblem(location: location, reason: "\(name) \(error.reason)"))
                    timeError = true
                }
            }
            if timeError { continue }
            rows.append(
                QueueRow(
                    ref: "\(source):\(record.line)", domain: domain, state: state, mxs: mxs,
                    lastUpdated: times["last_updated"] ?? nil, queueWeeks: weeks,
                    testingStart: times["testing_start"] ?? nil, mtaSts: field("mta_sts") == "t"))
        }
        return (rows, rejected, warnings)
    }

    /// Backend timestamps: `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC without a zone (or RFC 3339); NULL and Go's
    /// zero time `0001-01-01 00:00:00` mean unknown.
    public static func parseBackendTime(_ text: String?) -> Result<Instant?, TimestampError> {
        guard let text, !text.isEmpty else { return .success(nil) }
        if text.hasPrefix("0001-01-01") { return .success(nil) }
        var normalized = text
        if normalized.count >= 19 {
            let tIndex = normalized.index(normalized.startIndex, offsetBy: 10)
            if normalized[tIndex] == " " { normalized.replaceSubrange(tIndex...tIndex, with: "T") }
        }
        switch TimestampParser.parse(string: normalized) {
        case .success(let time): return .success(time.instant)
        case .failure(let error):
            return .failure(TimestampError(reason: error.reason.replacingOccurrences(of: normalized, with: text)))
        }
    }
}

extension Substring {
    func trimmingASCIISpaces() -> String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty, let range = range(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }

    func range(of target: String) -> Range<String.Index>? {
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(target) { return index..<self.index(index, offsetBy: target.count) }
            index = self.index(after: index)
        }
        return nil
    }
}
