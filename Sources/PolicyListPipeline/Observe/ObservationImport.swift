import PolicyListCore
import PolicyListIO
import PolicyListStore

/// `policylist-observe import` and `import-backend-scans`: streams observation lines into the store.
///
/// Each line is read, parsed and checked on its own; good lines are stored in batches (one transaction per
/// ``Request/batchSize`` lines), bad ones are rejected with `FILE:LINE` and the reason and their raw bytes
/// kept in `rejected_inputs` (an over-long line: its first 64 KiB). Memory is bounded by one batch.
/// Importing the same file again stores nothing new (`alreadyKnown`).
///
/// With a shard selection, only the shard's domains are stored; a line whose domain cannot be read at all
/// (invalid JSON) is rejected by every shard (the ledger keeps one record of it).
public enum ObservationImport {
    /// Which export format the files hold.
    public enum Format: String, Sendable {
        /// Native observation JSONL (DESIGN.md).
        case native
        /// The backend's `scans` table as `row_to_json` lines.
        case backendScans = "backend-scans"

        /// The `command` of the summary.
        public var command: String { self == .native ? "observe import" : "observe import-backend-scans" }
        /// The `kind` of rejected inputs.
        var rejectionKind: String { self == .native ? "observation" : "backend-scan" }
        var maxLineBytes: Int { self == .native ? Observation.maxLineBytes : BackendScan.maxLineBytes }
    }

    /// What to import.
    public struct Request: Sendable {
        /// Files (`.gz` inflated transparently).
        public var paths: [String]
        /// Their format.
        public var format: Format
        /// Keep only this shard's domains.
        public var shard: Shard.Selection?
        /// Lines per transaction.
        public var batchSize: Int
        /// Draw a progress line on a terminal.
        public var progress: Bool

        /// Creates a request.
        public init(
            paths: [String], format: Format, shard: Shard.Selection? = nil, batchSize: Int = 2000,
            progress: Bool = true
        ) {
            self.paths = paths
            self.format = format
            self.shard = shard
            self.batchSize = max(1, batchSize)
            self.progress = progress
        }
    }

    private enum Pending {
        case store(ObservationFacts, ref: String, line: Int, bytes: [UInt8])
        case reject(line: Int, bytes: [UInt8]?, error: String)
    }

    /// Runs the import and returns the outcome (summary, stderr lines, exit code).
    public static func run(_ request: Request, context: StageContext) throws -> StageOutcome {
        var tally = ImportTally()
        var otherShards = 0
        let progress = request.progress && !context.options.quiet ? ProgressReporter(label: "importing") : nil
        defer { progress?.finish() }
        for path in request.paths {
            let reader: LineReader
            do throws(PathError) {
                reader = try LineReader(path: path)
            } catch {
                tally.failFile(path: path, error: error)
                continue
            }
            var pending: [Pending] = []
            pending.reserveCapacity(request.batchSize)
            while true {
                let item: LineReader.Item?
                do throws(PathError) {
                    item = try reader.next()
                } catch {
                    try flush(&pending, path: path, request: request, context: context, tally: &tally)
                    tally.failFile(path: path, error: error)
                    break
                }
                guard let item else { break }
                progress?.advance()
                switch item {
                case .tooLong(let number, let length, let limit):
                    pending.append(
                        .reject(
                            line: number, bytes: nil,
                            error: "line is \(length) bytes, longer than the \(limit)-byte read limit; "
                                + "not loaded, so no bytes were kept"))
                case .line(let number, let bytes):
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                    if let next = parse(
                        bytes, number: number, path: path, request: request, tally: &tally, otherShards: &otherShards)
                    {
                        pending.append(next)
                    }
                }
                if pending.count >= request.batchSize {
                    try flush(&pending, path: path, request: request, context: context, tally: &tally)
                }
            }
            try flush(&pending, path: path, request: request, context: context, tally: &tally)
        }
        progress?.finish()
        var extra: [JSONMember] = []
        if let shard = request.shard {
            extra = [JSONMember("shard", .string(shard.description)), JSONMember("otherShards", .int(otherShards))]
        }
        return tally.outcome(command: request.format.command, extra: extra)
    }

    /// Parses one line into a pending store or rejection; `nil` when it belongs to another shard.
    private static func parse(
        _ bytes: [UInt8], number: Int, path: String, request: Request, tally: inout ImportTally,
        otherShards: inout Int
    ) -> Pending? {
        let limit = request.format.maxLineBytes
        guard bytes.count <= limit else {
            let kept = min(bytes.count, rejectedLinePrefixBytes)
            return .reject(
                line: number, bytes: Array(bytes.prefix(kept)),
                error: "line is \(bytes.count) bytes, longer than the \(limit)-byte limit for one record; "
                    + "its first \(kept) bytes are kept")
        }
        let value: JSONValue
        do throws(RecordError) {
            value = try readRecordLine(bytes)
        } catch {
            return .reject(line: number, bytes: bytes, error: error.description)
        }
        let hint = Observation.domainHint(value)
        if let shard = request.shard, let hint, !shard.contains(domain: hint) {
            otherShards += 1
            return nil
        }
        let name = evidenceName(path)
        do throws(RecordError) {
            switch request.format {
            case .native:
                let (observation, warnings) = try Observation.decode(value)
                for warning in warnings { tally.warn(path: path, line: number, warning) }
                return .store(.native(observation), ref: "\(name):\(number)", line: number, bytes: bytes)
            case .backendScans:
                let scan = try BackendScan.decode(value)
                return .store(
                    .backendScan(scan), ref: "\(name):\(number) (scan \(scan.id))", line: number, bytes: bytes)
            }
        } catch {
            return .reject(line: number, bytes: bytes, error: error.description)
        }
    }

    /// Writes a batch in one transaction, in line order.
    private static func flush(
        _ pending: inout [Pending], path: String, request: Request, context: StageContext, tally: inout ImportTally
    ) throws {
        guard !pending.isEmpty else { return }
        let observations = Observations(context.db)
        let rejections = Rejections(context.db)
        let kind = request.format.rejectionKind
        let now = context.nowText
        var batchTally = tally
        try context.db.transaction { _ in
            for item in pending {
                switch item {
                case .store(let facts, let ref, let line, let bytes):
                    guard Observations.nanoseconds(facts.observedAt) != nil else {
                        let error = "observedAt: \(facts.observedAt) is outside the supported range (1677-2262)"
                        try rejections.record(
                            kind: kind, source: path, location: "line \(line)", bytes: bytes, error: error, at: now)
                        batchTally.reject(path: path, line: line, error: error)
                        continue
                    }
                    switch try observations.insert(facts, ref: ref, line: bytes) {
                    case .inserted: batchTally.accepted += 1
                    case .alreadyKnown: batchTally.alreadyKnown += 1
                    case .conflict(let existing):
                        let error =
                            "conflicts with the stored observation \(existing) (same domain, time and source, "
                            + "different content); the stored one is kept"
                        try rejections.record(
                            kind: kind, source: path, location: "line \(line)", bytes: bytes, error: error, at: now)
                        batchTally.reject(path: path, line: line, error: error)
                    }
                case .reject(let line, let bytes, let error):
                    try rejections.record(
                        kind: kind, source: path, location: "line \(line)", bytes: bytes, error: error, at: now)
                    batchTally.reject(path: path, line: line, error: error)
                }
            }
        }
        // Counted only once the batch is committed.
        tally = batchTally
        pending.removeAll(keepingCapacity: true)
    }
}

/// Reads one JSON record line strictly (syntax, UTF-8, duplicate keys) for the importers.
func readRecordLine(_ bytes: [UInt8]) throws(RecordError) -> JSONValue {
    let document: JSONDocument
    do throws(JSONSyntaxError) {
        document = try StrictJSONReader.read(bytes)
    } catch {
        throw RecordError(field: nil, "invalid JSON: \(error.description)")
    }
    if let duplicate = document.duplicates.first {
        let path = duplicate.path.isEmpty ? duplicate.key : duplicate.path + "." + duplicate.key
        throw RecordError(
            field: path, "duplicate key at byte \(duplicate.offset) (first at byte \(duplicate.firstOffset))")
    }
    return document.value
}
