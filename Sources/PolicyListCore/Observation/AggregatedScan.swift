/// One row of the backend's `aggregated_scans` statistics (domain-spec §4): per (time, source), how many
/// domains were attempted, had MX records, and announced MTA-STS `testing` / `enforce` (raw mode, any
/// validity).
public struct AggregatedScan: Sendable, Hashable {
    /// Which export schema the row was read from.
    public enum Schema: String, Sendable, Hashable, CaseIterable {
        /// The table's CSV export (`id,time,source,attempted,with_mxs,mta_sts_testing,mta_sts_enforce`).
        case csv
        /// Go `AggregatedScan` JSON (2019-05-09 on): integer counts, optional `*List` arrays.
        case aggregatedScan = "aggregated-scan"
        /// Go `DomainTotals` JSON (before 2019-05-09): `Connected` or `WithMXs`, lists in `MTASTSTesting` and
        /// `MTASTSEnforce`.
        case domainTotals = "domain-totals"
    }

    /// The row id in the export (CSV only).
    public var backendID: Int64?
    /// The statistic's time, in UTC.
    public var time: Instant
    /// `TOP_DOMAINS`, `LOCAL`, or a scanner's CSV path/URL.
    public var source: String
    /// Domains read from the input.
    public var attempted: Int
    /// Domains with at least one MX (`Connected` in the oldest schema: at least one connectable MX).
    public var withMXs: Int
    /// Domains announcing `testing`.
    public var testing: Int
    /// Domains announcing `enforce`.
    public var enforce: Int
    /// The schema it came from.
    public var schema: Schema

    /// Creates a row.
    public init(
        backendID: Int64?, time: Instant, source: String, attempted: Int, withMXs: Int, testing: Int, enforce: Int,
        schema: Schema
    ) {
        self.backendID = backendID
        self.time = time
        self.source = source
        self.attempted = attempted
        self.withMXs = withMXs
        self.testing = testing
        self.enforce = enforce
        self.schema = schema
    }

    /// The CSV header of the table export.
    public static let csvHeader = [
        "id", "time", "source", "attempted", "with_mxs", "mta_sts_testing", "mta_sts_enforce",
    ]

    /// Reads one CSV record of the table export (header already checked): every field required, counts ≥ 0.
    public static func readCSV(_ fields: [String?]) throws(RecordError) -> AggregatedScan {
        guard fields.count == csvHeader.count else {
            throw RecordError(field: nil, "expected \(csvHeader.count) fields, found \(fields.count)")
        }
        func field(_ index: Int) throws(RecordError) -> String {
            guard let value = fields[index], !value.isEmpty else {
                throw RecordError(field: csvHeader[index], "missing")
            }
            return value
        }
        func count(_ index: Int) throws(RecordError) -> Int {
            let text = try field(index)
            guard let value = Int(text), value >= 0 else {
                throw RecordError(field: csvHeader[index], "expected a count (whole number ≥ 0), found \"\(text)\"")
            }
            return value
        }
        let idText = try field(0)
        guard let id = Int64(idText) else { throw RecordError(field: "id", "expected an integer, found \"\(idText)\"") }
        let timeText = try field(1)
        let time: Instant
        switch BackendTime.parse(timeText) {
        case .success(let instant): time = instant
        case .failure(let error): throw RecordError(field: "time", error.reason)
        }
        return AggregatedScan(
            backendID: id, time: time, source: try field(2), attempted: try count(3), withMXs: try count(4),
            testing: try count(5), enforce: try count(6), schema: .csv)
    }

    /// Reads one JSONL line in any of the Go schemas (`Time, Source, Attempted, WithMXs|Connected,
    /// MTASTSTesting, MTASTSEnforce`, optional `MTASTSTestingList`/`MTASTSEnforceList`). A count that is a
    /// list (oldest schema) counts its elements; a count of 0 next to a non-empty `*List` (2019-05 bug) takes
    /// the list's length.
    public static func readJSONLine(_ bytes: [UInt8]) throws(RecordError) -> AggregatedScan {
        let object = try ObjectReader(readRecordJSON(bytes).value, path: "")
        let timeText = try object.string("Time")
        let time: Instant
        switch BackendTime.parse(timeText) {
        case .success(let instant): time = instant
        case .failure(let error): throw RecordError(field: "Time", error.reason)
        }
        let source = try object.string("Source")
        guard !source.isEmpty else { throw RecordError(field: "Source", "empty") }
        var schema = Schema.aggregatedScan
        func count(_ name: String, list listName: String?) throws(RecordError) -> Int {
            guard let value = object.raw(name), value != .null else {
                if let listName, let list = object.raw(listName)?.arrayValue { return list.count }
                throw RecordError(field: name, "missing")
            }
            if case .array(let elements) = value {
                schema = .domainTotals
                return elements.count
            }
            let number = try ObjectReader.integer(value, field: name)
            guard number >= 0 else { throw RecordError(field: name, "negative count \(number)") }
            if number == 0, let listName, let list = object.raw(listName)?.arrayValue, !list.isEmpty {
                return list.count
            }
            return number
        }
        let withMXs: Int
        if object.raw("WithMXs") != nil {
            withMXs = try count("WithMXs", list: nil)
        } else {
            withMXs = try count("Connected", list: nil)
            schema = .domainTotals
        }
        let attempted = try count("Attempted", list: nil)
        let testing = try count("MTASTSTesting", list: "MTASTSTestingList")
        let enforce = try count("MTASTSEnforce", list: "MTASTSEnforceList")
        return AggregatedScan(
            backendID: nil, time: time, source: source, attempted: attempted, withMXs: withMXs, testing: testing,
            enforce: enforce, schema: schema)
    }
}
