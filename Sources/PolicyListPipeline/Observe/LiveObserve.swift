import Glibc
import PolicyListCLI
import PolicyListCore
import PolicyListIO
import PolicyListStore
import Synchronization

/// `policylist-observe live`: observes MTA-STS over real DNS (libresolv) and HTTPS (libcurl) for a list of
/// domains, with bounded parallelism, and stores the observations in input order through one writer.
///
/// * At most ``Request/concurrency`` domains are in flight; each is observed by ``LiveProbe`` (TXT, MX,
///   policy, optionally TLS-RPT and DANE). Results are held in a reorder buffer and released strictly in
///   input order, so `--out` and the database rows come out in the same order whatever the timing. A slow
///   domain holds back at most ``Request/window`` later results (new domains start only within that window
///   of the oldest unfinished one), which bounds memory.
/// * The database writer is the task that drives the group: batches of ``Request/batchSize`` observations,
///   one transaction each, counted only once committed. `--out` is written to a temporary file and renamed
///   when the run ends, so a killed run leaves no half file under the final name.
/// * Failures of the network are facts in the observations, never errors. The exit code is 0 even when
///   domains fail; 69 when no domain got any DNS answer (every TXT lookup timed out or failed locally: the
///   resolver is unreachable), 65 when a domains-file line was rejected, 74 when the file could not be read.
public enum LiveObserve {
    /// Where the domains come from.
    public enum Domains: Sendable, Equatable {
        /// `--domains FILE`: one domain per line, `#` comments.
        case file(String)
        /// `--listed`: the current list (newest publication, else newest ingested snapshot).
        case listed
    }

    /// What to observe and how.
    public struct Request: Sendable {
        /// The domains.
        public var domains: Domains
        /// `--out FILE.jsonl`: native observation JSONL, in input order.
        public var outPath: String?
        /// Store the observations in the database (`--no-store` turns it off; then `--out` is required).
        public var store = true
        /// `--concurrency N`: domains in flight at most.
        public var concurrency = 32
        /// `--shard K/N`.
        public var shard: Shard.Selection?
        /// `--tlsrpt`.
        public var tlsrpt = false
        /// `--dane`.
        public var dane = false
        /// Look up MX for the RFC 8461 §4.1 coverage check (`--no-mx` turns it off).
        public var checkMX = true
        /// `--always-fetch`: fetch the policy even without a `v=STSv1` record.
        public var alwaysFetch = false
        /// `--source LABEL`: the observations' source (part of their identity).
        public var source = "live"
        /// Observations per transaction.
        public var batchSize = 500
        /// Draw a progress line on a terminal.
        public var progress = true
        /// `--timeout SECONDS` (reported in the summary; the network configuration applies it).
        public var timeoutSeconds = 10

        /// Results a slow domain may hold back (reorder window): 64 per concurrency slot, at least 1,024.
        public var window: Int { max(1024, concurrency * 64) }

        /// Creates a request.
        public init(domains: Domains) { self.domains = domains }
    }

    /// The network side, built from the command line.
    public struct Network: Sendable {
        /// The DNS resolver.
        public var resolver: any Resolver
        /// The HTTPS policy fetcher.
        public var fetcher: any PolicyFetcher
        /// Resolve the policy host with `resolver` and pin the connection (see ``LiveProbe``).
        public var pinAddresses: Bool

        /// Creates a network side from parts (tests).
        public init(resolver: any Resolver, fetcher: any PolicyFetcher, pinAddresses: Bool) {
            self.resolver = resolver
            self.fetcher = fetcher
            self.pinAddresses = pinAddresses
        }

        /// The network of the command-line options.
        ///
        /// `timeoutSeconds` T: each DNS lookup tries twice for T/2 s each (at least 1 s), so a lookup ends within
        /// about T s (a TCP server that never answers is cut by the resolver's hard deadline, 2×T+1 s); the HTTPS
        /// fetch has T s in total, at most 10 s of it to connect, and aborts below 10 bytes/s for min(T, 10) s.
        /// The policy host is pinned to the resolver's addresses when a nameserver is given and neither
        /// `resolve` nor `connectTo` is.
        public static func make(
            nameserver: String?, caFile: String?, resolve: [String], connectTo: [String], policyPort: Int?,
            timeoutSeconds: Int
        ) throws(UsageError) -> Network {
            let server = try nameserver.map { text throws(UsageError) in try Nameserver(text) }
            let resolver = LibresolvResolver(
                .init(nameserver: server, timeoutSeconds: max(1, timeoutSeconds / 2), attempts: 2))
            let fetcher = try CurlPolicyFetcher(
                .init(
                    trust: caFile.map { .adding($0) } ?? .system, resolve: resolve, connectTo: connectTo,
                    port: policyPort, connectTimeout: .seconds(min(timeoutSeconds, 10)),
                    totalTimeout: .seconds(timeoutSeconds), lowSpeedBytesPerSecond: 10,
                    lowSpeedTime: .seconds(max(1, min(timeoutSeconds, 10)))))
            return Network(
                resolver: resolver, fetcher: fetcher,
                pinAddresses: server != nil && resolve.isEmpty && connectTo.isEmpty)
        }
    }

    /// One finished domain, on its way to the writer.
    struct Result: Sendable {
        var observation: Observation
        var verdict: ObservationVerdict
        var line: [UInt8]
        var fetched: Bool
    }

    /// Runs the observation.
    ///
    /// - Parameters:
    ///   - clock: the observation instant of each domain (`--now` for all when given, else the system clock).
    ///   - options: the stage options; the database is opened when storing or reading the list.
    public static func run(
        _ request: Request, network: Network, clock: @escaping @Sendable () -> Instant, options: StageOptions
    ) async throws -> StageOutcome {
        let started = ContinuousClock.now
        let context: StageContext? =
            request.store || request.domains == .listed
            ? try StageContext(options, readOnly: !request.store) : nil
        let feed: LiveDomainFeed
        var tally = LiveTally()
        switch request.domains {
        case .file(let path):
            do throws(PathError) {
                feed = try LiveDomainFeed(path: path, shard: request.shard)
            } catch {
                tally.imports.failFile(path: path, error: error)
                return tally.outcome(request: request, feed: nil, maxInFlight: 0, slowest: .zero, started: started)
            }
        case .listed:
            guard let context else { throw CommandError(.failure, "internal: --listed without a database") }
            let (domains, origin) = try ReconcileStage.currentListDomains(context)
            context.info("observing the \(domains.count) domains of \(origin)")
            feed = LiveDomainFeed(list: domains, origin: origin, shard: request.shard)
        }

        let out = try request.outPath.map { path throws(FileError) in try StreamingFile(path: path) }
        let progress =
            request.progress && !options.quiet ? ProgressReporter(label: "observing", total: feed.total) : nil
        defer { progress?.finish() }
        let probe = LiveProbe(
            resolver: network.resolver, fetcher: network.fetcher,
            options: .init(
                source: request.source, tlsrpt: request.tlsrpt, dane: request.dane, checkMX: request.checkMX,
                alwaysFetch: request.alwaysFetch, pinAddresses: network.pinAddresses),
            clock: clock)
        let gauge = InFlightGauge()
        let writer = LiveWriter(context: context, batchSize: request.batchSize)
        do {
            try await withThrowingTaskGroup(of: (Int, Result).self) { group in
                var assigned = 0
                var emitted = 0
                var running = 0
                var feedDone = false
                var buffer: [Int: Result] = [:]

                /// Starts domains while there is room in the concurrency bound and the reorder window.
                func fill() throws {
                    while !feedDone, running < request.concurrency, assigned - emitted < request.window {
                        let item: LiveDomainFeed.Item?
                        do throws(PathError) {
                            item = try feed.next()
                        } catch {
                            tally.imports.failFile(path: feed.origin, error: error)
                            feedDone = true
                            return
                        }
                        switch item {
                        case nil:
                            feedDone = true
                        case .reject(let line, let bytes, let error):
                            tally.imports.reject(path: feed.origin, line: line, error: error)
                            try writer.reject(source: feed.origin, line: line, bytes: bytes, error: error)
                        case .domain(let domain):
                            let index = assigned
                            assigned += 1
                            running += 1
                            group.addTask {
                                let start = gauge.enter()
                                defer { gauge.leave(since: start) }
                                let observation = await probe.observe(domain)
                                let result = Result(
                                    observation: observation, verdict: ObservationVerdict.compute(observation),
                                    line: Array(observation.jsonLine.utf8),
                                    fetched: request.alwaysFetch || LiveProbe.hasCandidate(observation.txt))
                                return (index, result)
                            }
                        }
                    }
                }

                try fill()
                while let (index, result) = try await group.next() {
                    running -= 1
                    buffer[index] = result
                    while let next = buffer.removeValue(forKey: emitted) {
                        try out?.append(next.line)
                        try writer.add(next, tally: &tally)
                        tally.count(next)
                        progress?.advance()
                        emitted += 1
                    }
                    try fill()
                }
                try writer.flush(tally: &tally)
            }
            try out?.commit()
        } catch {
            out?.discard()
            throw error
        }
        progress?.finish()
        tally.duplicates = feed.duplicates
        tally.otherShards = feed.otherShards
        return tally.outcome(
            request: request, feed: feed, maxInFlight: gauge.maximum, slowest: gauge.slowest, started: started)
    }
}

/// The single database writer: observations in input order, a transaction per batch.
private final class LiveWriter {
    private let context: StageContext?
    private let batchSize: Int
    private var pending: [LiveObserve.Result] = []
    private var rejections: [(source: String, line: Int, bytes: [UInt8], error: String)] = []

    init(context: StageContext?, batchSize: Int) {
        self.context = context
        self.batchSize = max(1, batchSize)
    }

    func add(_ result: LiveObserve.Result, tally: inout LiveTally) throws {
        guard context != nil else { return }
        pending.append(result)
        if pending.count >= batchSize { try flush(tally: &tally) }
    }

    func reject(source: String, line: Int, bytes: [UInt8], error: String) throws {
        guard context != nil else { return }
        rejections.append((source, line, bytes, error))
    }

    func flush(tally: inout LiveTally) throws {
        guard let context, !pending.isEmpty || !rejections.isEmpty else { return }
        let observations = Observations(context.db)
        let store = Rejections(context.db)
        let now = context.nowText
        var batch = tally
        try context.db.transaction { _ in
            for rejection in rejections {
                _ = try store.record(
                    kind: "domain", source: rejection.source, location: "line \(rejection.line)",
                    bytes: rejection.bytes, error: rejection.error, at: now)
            }
            // One insertBatch per batch: the lines of its new rows share one compressed segment (0008).
            let refs = pending.map { "live:\($0.observation.domain)@\($0.observation.observedAt.rfc3339)" }
            let items = zip(pending, refs).map { result, ref in
                Observations.PendingInsert(
                    .native(result.observation), verdict: result.verdict, ref: ref, line: result.line)
            }
            let outcomes = try observations.insertBatch(items)
            guard outcomes.count == pending.count else {
                throw StoreError.column(
                    "insertBatch returned \(outcomes.count) outcomes for \(pending.count) rows", sql: "observations")
            }
            for ((result, ref), outcome) in zip(zip(pending, refs), outcomes) {
                let observation = result.observation
                switch outcome {
                case .inserted: batch.imports.accepted += 1
                case .alreadyKnown: batch.imports.alreadyKnown += 1
                case .conflict(let existing):
                    // A rerun with the same instant (a resumed pipeline) saw something else: the first stays.
                    batch.conflicts += 1
                    _ = try store.record(
                        kind: "observation", source: observation.source, location: ref, bytes: result.line,
                        error: "conflicts with the stored observation \(existing) (same domain, time and source, "
                            + "different content); the stored one is kept", at: now)
                }
            }
        }
        tally = batch
        pending.removeAll(keepingCapacity: true)
        rejections.removeAll()
    }
}

/// Counts of a live run and its summary.
struct LiveTally {
    var imports = ImportTally()
    var observed = 0
    var valid = 0
    var conflicts = 0
    var duplicates = 0
    var otherShards = 0
    var notFetched = 0
    /// TXT lookups that got an answer from a DNS server (anything but timeout/error).
    var dnsAnswered = 0
    var mxNotCovered = 0
    var tlsrptPresent = 0
    var tlsaAuthenticated = 0
    var txt: [String: Int] = [:]
    var policy: [String: Int] = [:]
    var modes: [String: Int] = [:]
    var reasons: [String: Int] = [:]

    mutating func count(_ result: LiveObserve.Result) {
        let observation = result.observation
        let verdict = result.verdict
        observed += 1
        txt[observation.txt.status.rawValue, default: 0] += 1
        if observation.txt.status != .timeout && observation.txt.status != .error { dnsAnswered += 1 }
        if result.fetched {
            policy[observation.policy.status.rawValue, default: 0] += 1
        } else {
            notFetched += 1
        }
        if verdict.valid {
            valid += 1
            if let mode = verdict.mode { modes[mode, default: 0] += 1 }
        } else if let reason = verdict.reason {
            let code = reason.split(separator: ":", maxSplits: 1).first.map(String.init) ?? reason
            reasons[code, default: 0] += 1
        }
        if verdict.warnings.contains(where: { $0.hasPrefix(ObservationVerdict.mxNotCovered) }) { mxNotCovered += 1 }
        if let records = observation.tlsrpt?["records"]?.arrayValue,
            records.contains(where: { $0.stringValue?.hasPrefix("v=TLSRPTv1") == true })
        {
            tlsrptPresent += 1
        }
        if let hosts = observation.tlsa?["hosts"]?.arrayValue,
            hosts.contains(where: { $0["authenticated"] == .bool(true) && $0["status"]?.stringValue == "ok" })
        {
            tlsaAuthenticated += 1
        }
    }

    private static func counts(_ values: [String: Int]) -> JSONValue {
        .object(values.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) })
    }

    func outcome(
        request: LiveObserve.Request, feed: LiveDomainFeed?, maxInFlight: Int, slowest: Duration,
        started: ContinuousClock.Instant
    ) -> StageOutcome {
        let seconds = secondsOf(ContinuousClock.now - started)
        let rate = seconds > 0 ? Double(observed) / seconds : 0
        let unavailable = observed > 0 && dnsAnswered == 0
        var policyCounts = policy
        if notFetched > 0 { policyCounts["not-fetched"] = notFetched }
        var members: [JSONMember] = [
            JSONMember("schemaVersion", 1), JSONMember("command", "observe live"),
            JSONMember("observed", .int(observed)), JSONMember("valid", .int(valid)),
            JSONMember("invalid", .int(observed - valid)), JSONMember("accepted", .int(imports.accepted)),
            JSONMember("alreadyKnown", .int(imports.alreadyKnown)), JSONMember("conflicts", .int(conflicts)),
            JSONMember("rejected", .array(imports.rejected)), JSONMember("rejectedCount", .int(imports.rejectedCount)),
            JSONMember("duplicates", .int(duplicates)),
            JSONMember("shard", .optional(request.shard?.description)), JSONMember("otherShards", .int(otherShards)),
            JSONMember("modes", Self.counts(modes)), JSONMember("reasons", Self.counts(reasons)),
            JSONMember("txt", Self.counts(txt)), JSONMember("policy", Self.counts(policyCounts)),
            JSONMember("mxNotCovered", .int(mxNotCovered)),
        ]
        if request.tlsrpt { members.append(JSONMember("tlsrpt", .int(tlsrptPresent))) }
        if request.dane { members.append(JSONMember("daneAuthenticated", .int(tlsaAuthenticated))) }
        members += [
            JSONMember("dnsUnavailable", .bool(unavailable)), JSONMember("source", .string(request.source)),
            JSONMember("stored", .bool(request.store)), JSONMember("out", .optional(request.outPath)),
            JSONMember("concurrency", .int(request.concurrency)), JSONMember("maxInFlight", .int(maxInFlight)),
            JSONMember("timeoutSeconds", .int(request.timeoutSeconds)),
            JSONMember("slowestDomainSeconds", .number(format3(secondsOf(slowest)))),
            JSONMember("seconds", .number(format3(seconds))), JSONMember("domainsPerSecond", .number(format3(rate))),
        ]
        var human = imports.human
        if conflicts > 0 {
            human.append(
                "\(conflicts) observations conflict with stored ones of the same instant and source (kept the stored "
                    + "ones; the new ones are in rejected_inputs)")
        }
        let from = feed.map { " from \($0.origin)" } ?? ""
        human.append(
            "observe live\(from)\(request.shard.map { " (shard \($0))" } ?? ""): \(observed) observed, \(valid) valid, "
                + "\(observed - valid) invalid; \(imports.accepted) stored, \(imports.alreadyKnown) already known, "
                + "\(imports.rejectedCount) rejected; \(format3(seconds)) s, \(Int(rate.rounded())) domains/s, "
                + "at most \(maxInFlight) of \(request.concurrency) in flight, slowest domain "
                + "\(format3(secondsOf(slowest))) s")
        var exitCode = imports.exitCode
        if unavailable && imports.fileFailure == nil {
            human.append(
                "no DNS answer for any of the \(observed) domains (every _mta-sts lookup timed out or failed): "
                    + "the resolver is unavailable")
            exitCode = .unavailable
        }
        return StageOutcome(summary: .object(members), human: human, exitCode: exitCode)
    }
}

private func secondsOf(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// `12.345` for JSON and messages.
private func format3(_ value: Double) -> String {
    let scaled = (value * 1000).rounded()
    guard scaled.isFinite, abs(scaled) < 1e15 else { return "0" }
    let thousandths = Int64(scaled)
    let sign = thousandths < 0 ? "-" : ""
    let magnitude = abs(thousandths)
    let fraction = String(magnitude % 1000)
    return "\(sign)\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}

/// Counts domains in flight and remembers the highest count (the measured concurrency bound) and the
/// longest time one domain took.
final class InFlightGauge: Sendable {
    private let state = Mutex((current: 0, maximum: 0, slowest: Duration.zero))

    func enter() -> ContinuousClock.Instant {
        state.withLock {
            $0.current += 1
            $0.maximum = max($0.maximum, $0.current)
        }
        return ContinuousClock.now
    }

    func leave(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        state.withLock {
            $0.current -= 1
            $0.slowest = max($0.slowest, elapsed)
        }
    }

    var maximum: Int { state.withLock { $0.maximum } }
    var slowest: Duration { state.withLock { $0.slowest } }
}

/// A JSONL output written to `DIR/.NAME.tmp-PID` and renamed over `NAME` on ``commit()``: readers never see
/// half a file, and a killed run leaves only the temporary name behind.
private final class StreamingFile {
    let path: String
    private let temp: String
    private var fd: Int32
    private var buffer: [UInt8] = []

    init(path: String) throws(FileError) {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        if !directory.isEmpty { try createDirectory(directory) }
        temp = "\(directory.isEmpty ? "/" : directory)/.\(name).tmp-\(getpid())"
        fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: path, operation: "create temp file", errno: errno) }
        buffer.reserveCapacity(1 << 16)
    }

    deinit { if fd >= 0 { close(fd) } }

    func append(_ line: [UInt8]) throws(FileError) {
        buffer += line
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { try drain() }
    }

    private func drain() throws(FileError) {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, operation: "write", errno: errno)
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func commit() throws(FileError) {
        try drain()
        guard fsync(fd) == 0 else { throw FileError(path: path, operation: "fsync", errno: errno) }
        let closed = close(fd)
        fd = -1
        guard closed == 0 else { throw FileError(path: path, operation: "close", errno: errno) }
        guard rename(temp, path) == 0 else { throw FileError(path: path, operation: "rename", errno: errno) }
    }

    func discard() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlink(temp)
    }
}
