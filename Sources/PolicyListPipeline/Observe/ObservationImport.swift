import Dispatch
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
        /// A parsed line, prepared for the store (verdict, hashes and compression done).
        case store(Observations.PendingInsert, line: Int)
        case reject(line: Int, bytes: [UInt8]?, error: String)
    }

    /// One batch (or a slice of one) read and prepared away from the database.
    private struct Batch {
        var pending: [Pending] = []
        var warnings: [(line: Int, text: String)] = []
        var otherShards = 0
        /// The lines of the storable items, compressed as one segment (used when all of them are new).
        var segment: Observations.PreparedSegment?
    }

    /// What the reader side remembers across lines to skip repeated work: verdict parts of identical TXT and
    /// policy facts, and the prepared blobs (SHA-256, zlib) of recent policy bodies.
    struct Reuse {
        var memo = ObservationVerdict.Memo()
        var policyBlobs: [Body: PreparedBlob] = [:]
        static let policyBlobLimit = 4096

        /// A body as a dictionary key, hashed in one call rather than a byte at a time.
        struct Body: Hashable {
            let bytes: [UInt8]

            func hash(into hasher: inout Hasher) {
                bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
            }
        }
    }

    /// The work of an import, spread over the cores: while the writer side stores batch k (one transaction;
    /// SQLite has one writer), the lines of batch k+1 are parsed and prepared (JSON, verdicts, SHA-256, zlib)
    /// in ``chunks`` slices at once, each with its own memos; the results are put back in line order. Reading
    /// the raw lines stays serial (it is ~1 % of the work) and so does the batch's segment, compressed on the
    /// writer's thread before it stores the batch. With one slice on the reader side (as before), the two
    /// halves were unbalanced: parsing took about twice as long as storing, so one core idled a third of the
    /// time.
    ///
    /// `@unchecked Sendable` because `DispatchQueue.concurrentPerform` wants a `@Sendable` body: iteration 0
    /// touches only the writer fields, iteration i > 0 only slot i - 1 of `parsed` and `reuses` (and reads
    /// `raw`, which nobody writes meanwhile), and `concurrentPerform` returns after all of them finish, so no
    /// field is ever used by two threads at once.
    private final class Overlap: @unchecked Sendable {
        /// Slices a batch's lines are parsed in (more than the two cores, so the thread that finishes its
        /// part first, usually the writer, takes the next slice).
        static let chunks = 4

        // Reader side.
        let reader: LineReader
        let path: String
        /// The file name used in evidence refs (computed once, not per line).
        let name: String
        let request: Request
        let progress: ProgressReporter?
        /// The raw lines of the next batch (blank lines skipped).
        var raw: [LineReader.Item] = []
        /// The parsed slices of `raw`.
        var parsed: [Batch]
        var reuses: [Reuse]
        var next: Batch?
        var readError: PathError?
        var atEnd = false
        // Writer side.
        let context: StageContext
        var tally: ImportTally
        var otherShards: Int
        var writing: Batch?
        var writeError: (any Error)?
        let memo = Observations.WriteMemo()

        init(
            reader: LineReader, path: String, request: Request, progress: ProgressReporter?, context: StageContext,
            tally: ImportTally, otherShards: Int
        ) {
            self.reader = reader
            self.path = path
            self.name = evidenceName(path)
            self.request = request
            self.progress = progress
            self.context = context
            self.tally = tally
            self.otherShards = otherShards
            self.parsed = Array(repeating: Batch(), count: Self.chunks)
            self.reuses = Array(repeating: Reuse(), count: Self.chunks)
        }

        /// Reads the raw lines of one batch: up to `batchSize` non-blank lines.
        func readRaw() {
            raw.removeAll(keepingCapacity: true)
            raw.reserveCapacity(request.batchSize)
            while raw.count < request.batchSize {
                let item: LineReader.Item?
                do throws(PathError) {
                    item = try reader.next()
                } catch {
                    readError = error
                    break
                }
                guard let item else {
                    atEnd = true
                    break
                }
                progress?.advance()
                if case .line(_, let bytes) = item, bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                raw.append(item)
            }
        }

        /// The lines of slice `index` of `raw`.
        func chunkRange(_ index: Int) -> Range<Int> {
            let size = (raw.count + Self.chunks - 1) / Self.chunks
            let lower = min(raw.count, index * size)
            return lower..<min(raw.count, lower + size)
        }

        /// Parses and prepares slice `index` of `raw` into `parsed[index]`.
        func parseChunk(_ index: Int) {
            var batch = Batch()
            let range = chunkRange(index)
            batch.pending.reserveCapacity(range.count)
            for item in raw[range] {
                switch item {
                case .tooLong(let number, let length, let limit):
                    batch.pending.append(
                        .reject(
                            line: number, bytes: nil,
                            error: "line is \(length) bytes, longer than the \(limit)-byte read limit; "
                                + "not loaded, so no bytes were kept"))
                case .line(let number, let bytes):
                    if let item = parse(
                        bytes, number: number, name: name, request: request, warnings: &batch.warnings,
                        otherShards: &batch.otherShards, reuse: &reuses[index])
                    {
                        batch.pending.append(item)
                    }
                }
            }
            parsed[index] = batch
        }

        /// Puts the parsed slices back together, in line order, as the next batch to write.
        func assemble() {
            var batch = Batch()
            batch.pending.reserveCapacity(raw.count)
            for index in 0..<Self.chunks {
                batch.pending.append(contentsOf: parsed[index].pending)
                batch.warnings.append(contentsOf: parsed[index].warnings)
                batch.otherShards += parsed[index].otherShards
                parsed[index] = Batch()
            }
            next = batch.pending.isEmpty && batch.warnings.isEmpty && batch.otherShards == 0 ? nil : batch
        }

        /// Reads, parses and assembles the next batch with nothing else running (the first batch).
        func readBatch() {
            readRaw()
            DispatchQueue.concurrentPerform(iterations: Self.chunks) { parseChunk($0) }
            assemble()
        }

        /// Stores the batch in `writing` (one transaction), after compressing its lines as one segment.
        func writeBatch() {
            guard var batch = writing else { return }
            writing = nil
            var lines: [[UInt8]] = []
            for item in batch.pending {
                if case .store(let insert, _) = item, insert.observedNanoseconds != nil {
                    lines.append(insert.line)
                }
            }
            if !lines.isEmpty { batch.segment = try? Observations.PreparedSegment(lines) }
            for warning in batch.warnings { tally.warn(path: path, line: warning.line, warning.text) }
            otherShards += batch.otherShards
            do {
                try flush(
                    &batch.pending, segment: batch.segment, memo: memo, path: path, request: request,
                    context: context, tally: &tally)
            } catch {
                writeError = error
            }
        }

        var moreToRead: Bool { readError == nil && !atEnd }
    }

    /// Runs the import and returns the outcome (summary, stderr lines, exit code).
    public static func run(_ request: Request, context: StageContext) throws -> StageOutcome {
        var tally = ImportTally()
        var otherShards = 0
        // A 64 MiB page cache (SQLite's default is 2 MiB) keeps the hot parts of the observation and blob
        // indexes in memory as they grow to millions of rows; inserts then stop paying for page reloads.
        try context.db.execute("PRAGMA cache_size = -65536")
        // Checkpoint the WAL every ~40 MB instead of every ~4 MB: the hot pages (the right edges of the
        // indexes) are then copied back to the database once per ten batches, not once per batch. Durability
        // is unchanged (a commit is in the WAL either way); a reader's WAL index grows by ~80 KiB at most.
        try context.db.execute("PRAGMA wal_autocheckpoint = 10000")
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
            let overlap = Overlap(
                reader: reader, path: path, request: request, progress: progress, context: context, tally: tally,
                otherShards: otherShards)
            overlap.readBatch()
            while let batch = overlap.next {
                overlap.writing = batch
                overlap.next = nil
                if overlap.moreToRead {
                    overlap.readRaw()
                    DispatchQueue.concurrentPerform(iterations: 1 + Overlap.chunks) { index in
                        if index == 0 { overlap.writeBatch() } else { overlap.parseChunk(index - 1) }
                    }
                    overlap.assemble()
                } else {
                    overlap.writeBatch()
                }
                if let error = overlap.writeError { throw error }
            }
            tally = overlap.tally
            otherShards = overlap.otherShards
            if let error = overlap.readError { tally.failFile(path: path, error: error) }
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
        _ bytes: [UInt8], number: Int, name: String, request: Request, warnings: inout [(line: Int, text: String)],
        otherShards: inout Int, reuse: inout Reuse
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
        do throws(RecordError) {
            var insert: Observations.PendingInsert
            switch request.format {
            case .native:
                let (observation, found) = try Observation.decode(value)
                for warning in found { warnings.append((number, warning)) }
                insert = Observations.PendingInsert(.native(observation), ref: "\(name):\(number)", line: bytes)
            case .backendScans:
                let scan = try BackendScan.decode(value)
                insert = Observations.PendingInsert(
                    .backendScan(scan), ref: "\(name):\(number) (scan \(scan.id))", line: bytes)
            }
            // The verdict, hashes and compression, here on the reader's core; should it fail (zlib out of
            // memory), the writer redoes it and reports the error.
            var verdict: ObservationVerdict?
            if case .native(let observation) = insert.facts {
                verdict = ObservationVerdict.compute(observation, memo: &reuse.memo)
            }
            let body = Observations.policyBytes(insert.facts)
            let known = body.flatMap { reuse.policyBlobs[Reuse.Body(bytes: $0)] }
            try? insert.prepare(verdict: verdict, policyBlob: known)
            if let body, known == nil, let blob = insert.prepared?.policyBlob {
                if reuse.policyBlobs.count >= Reuse.policyBlobLimit {
                    reuse.policyBlobs.removeAll(keepingCapacity: true)
                }
                reuse.policyBlobs[Reuse.Body(bytes: body)] = blob
            }
            return .store(insert, line: number)
        } catch {
            return .reject(line: number, bytes: bytes, error: error.description)
        }
    }

    /// Writes a batch in one transaction, in line order.
    private static func flush(
        _ pending: inout [Pending], segment: Observations.PreparedSegment?, memo: Observations.WriteMemo,
        path: String, request: Request,
        context: StageContext, tally: inout ImportTally
    ) throws {
        guard !pending.isEmpty else { return }
        let observations = Observations(context.db)
        let rejections = Rejections(context.db)
        let kind = request.format.rejectionKind
        let now = context.nowText
        var batchTally = tally
        try context.db.transaction { _ in
            // The storable lines go in first, in one batch (multi-row inserts); then every line's outcome is
            // counted and every rejection recorded in line order.
            var batch: [Observations.PendingInsert] = []
            batch.reserveCapacity(pending.count)
            for item in pending {
                if case .store(let insert, _) = item, insert.observedNanoseconds != nil {
                    batch.append(insert)
                }
            }
            var outcomes = try observations.insertBatch(batch, segment: segment, memo: memo).makeIterator()
            for item in pending {
                switch item {
                case .store(let insert, let line):
                    let bytes = insert.line
                    guard insert.observedNanoseconds != nil else {
                        let error = "observedAt: \(insert.facts.observedAt) is outside the supported range (1677-2262)"
                        try rejections.record(
                            kind: kind, source: path, location: "line \(line)", bytes: bytes, error: error, at: now)
                        batchTally.reject(path: path, line: line, error: error)
                        continue
                    }
                    switch outcomes.next() {
                    case .inserted: batchTally.accepted += 1
                    case .alreadyKnown: batchTally.alreadyKnown += 1
                    case .conflict(let existing):
                        let error =
                            "conflicts with the stored observation \(existing) (same domain, time and source, "
                            + "different content); the stored one is kept"
                        try rejections.record(
                            kind: kind, source: path, location: "line \(line)", bytes: bytes, error: error, at: now)
                        batchTally.reject(path: path, line: line, error: error)
                    case nil:
                        throw StoreError.column("insertBatch returned fewer outcomes than items", sql: "observations")
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
