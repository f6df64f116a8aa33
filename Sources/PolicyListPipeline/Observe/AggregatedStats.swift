import PolicyListCore
import PolicyListIO
import PolicyListStore

/// `policylist-ingest stats FILE...`: the backend's `aggregated_scans` export into the store.
///
/// A file is CSV when its first non-blank line is the table's header
/// (`id,time,source,attempted,with_mxs,mta_sts_testing,mta_sts_enforce`), JSONL when it starts with `{`
/// (Go `AggregatedScan`/`DomainTotals` field names, every historical schema of domain-spec §4.4). Rows are
/// read line by line (a CSV field may not span lines: the table holds none); times are normalised to UTC;
/// the first write wins per (time, source), as in the backend; a bad line is rejected (raw bytes kept) and
/// the rest goes on. Summary: the import shape with `"command":"ingest stats"`.
public enum AggregatedStats {
    /// The summary's `command`.
    public static let command = "ingest stats"

    /// Imports the files; one transaction per file.
    public static func run(paths: [String], context: StageContext) throws -> StageOutcome {
        var tally = ImportTally()
        for path in paths {
            try importFile(path, context: context, tally: &tally)
        }
        return tally.outcome(command: command)
    }

    private enum FileFormat {
        case csv
        case jsonl
    }

    private static func importFile(_ path: String, context: StageContext, tally: inout ImportTally) throws {
        let reader: LineReader
        do throws(PathError) {
            reader = try LineReader(path: path)
        } catch {
            tally.failFile(path: path, error: error)
            return
        }
        let table = AggregatedScans(context.db)
        let rejections = Rejections(context.db)
        let name = evidenceName(path)
        var format: FileFormat?
        var fileTally = tally
        var readFailure: PathError?
        try context.db.transaction { _ in
            func reject(_ line: Int, _ bytes: [UInt8]?, _ error: String) throws {
                try rejections.record(
                    kind: "aggregated-scan", source: path, location: "line \(line)", bytes: bytes, error: error,
                    at: context.nowText)
                fileTally.reject(path: path, line: line, error: error)
            }
            while true {
                let item: LineReader.Item?
                do throws(PathError) {
                    item = try reader.next()
                } catch {
                    readFailure = error
                    return
                }
                guard let item else { return }
                guard case .line(let number, var bytes) = item else {
                    if case .tooLong(let number, let length, let limit) = item {
                        try reject(number, nil, "line is \(length) bytes, longer than the \(limit)-byte read limit")
                    }
                    continue
                }
                if number == 1 && bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                guard let known = format else {
                    if bytes.first == UInt8(ascii: "{") {
                        format = .jsonl
                    } else if CSVReader.parse(bytes).records.first?.fields.map({ $0 ?? "" })
                        == AggregatedScan.csvHeader
                    {
                        format = .csv
                        continue
                    } else {
                        try reject(
                            number, Array(bytes.prefix(rejectedLinePrefixBytes)),
                            "neither the aggregated_scans CSV header ("
                                + AggregatedScan.csvHeader.joined(separator: ",") + ") nor a JSON object")
                        return
                    }
                    try store(bytes, number: number, format: .jsonl)
                    continue
                }
                try store(bytes, number: number, format: known)
            }

            func store(_ bytes: [UInt8], number: Int, format: FileFormat) throws {
                let scan: AggregatedScan
                do throws(RecordError) {
                    switch format {
                    case .jsonl:
                        scan = try AggregatedScan.readJSONLine(bytes)
                    case .csv:
                        let parsed = CSVReader.parse(bytes)
                        if let error = parsed.errors.first {
                            throw RecordError(field: nil, "CSV: \(error.reason)")
                        }
                        guard parsed.records.count == 1, let record = parsed.records.first else {
                            throw RecordError(field: nil, "expected one CSV record")
                        }
                        scan = try AggregatedScan.readCSV(record.fields)
                    }
                } catch {
                    try reject(number, Array(bytes.prefix(rejectedLinePrefixBytes)), error.description)
                    return
                }
                guard Observations.nanoseconds(scan.time) != nil else {
                    try reject(number, bytes, "time \(scan.time) is outside the supported range (1677-2262)")
                    return
                }
                if try table.insert(scan, ref: "\(name):\(number)", line: bytes) {
                    fileTally.accepted += 1
                } else {
                    fileTally.alreadyKnown += 1
                }
            }
        }
        if let readFailure { fileTally.failFile(path: path, error: readFailure) }
        tally = fileTally
    }
}
