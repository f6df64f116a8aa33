import Foundation
import Glibc
import PolicyListCLI
import PolicyListCore
import PolicyListIO
import PolicyListStore

/// What `policylist run` was asked to do.
public struct RunRequest: Sendable {
    /// The pipeline file's path as given.
    public var pipelinePath: String
    /// The database (`--db`).
    public var databasePath: String
    /// `--now` as given, already validated; nil for the clock.
    public var now: String?
    /// `--from STAGE`.
    public var from: String?
    /// `--dry-run`.
    public var dryRun: Bool
    /// `--json`.
    public var json: Bool
    /// `--quiet`: no runner messages (stages' stderr is still forwarded).
    public var quiet: Bool
    /// The raw `--var KEY=VALUE` arguments.
    public var overrides: [String]
    /// Where the stage executables are looked for first (the runner's own directory); nil: PATH only.
    public var toolDirectory: String?

    /// Creates a request.
    public init(
        pipelinePath: String, databasePath: String, now: String? = nil, from: String? = nil, dryRun: Bool = false,
        json: Bool = false, quiet: Bool = false, overrides: [String] = [], toolDirectory: String? = nil
    ) {
        self.pipelinePath = pipelinePath
        self.databasePath = databasePath
        self.now = now
        self.from = from
        self.dryRun = dryRun
        self.json = json
        self.quiet = quiet
        self.overrides = overrides
        self.toolDirectory = toolDirectory
    }
}

/// Where a run starts and why.
struct StartPoint {
    var position = 0
    var resumedFrom: String?
    var resumesRun: String?
    var reason: String?
    var reusedNow: String?
}

/// Runs a pipeline file's stages as separate processes, one run at a time per database, with a ledger.
public enum PipelineRunner {
    /// Runs (or, with `dryRun`, prints) the pipeline; returns the summary, the final human line and the exit
    /// code. Stage progress and the stages' stderr are written to stderr as they happen.
    public static func run(_ request: RunRequest, clock: () -> Instant = StageOptions.systemNow) throws -> StageOutcome
    {
        let bytes = try readPipelineFile(request.pipelinePath)
        let file = try PipelineFile.parse(bytes, file: request.pipelinePath)
        let sha256 = SHA256.hex(bytes)
        let overrides = try PipelineResolver.parseOverrides(request.overrides)
        let wallStart = clock()
        func resolve(now: String, fromClock: Bool) throws(VariableError) -> ResolvedPipeline {
            try PipelineResolver.resolve(
                file, sha256: sha256, pipelinePath: request.pipelinePath, database: request.databasePath, now: now,
                nowFromClock: fromClock, overrides: overrides)
        }
        var resolved = try resolve(now: request.now ?? wallStart.rfc3339Seconds, fromClock: request.now == nil)
        if let from = request.from, resolved.stage(named: from) == nil {
            throw UsageError(
                "--from \(from): pipeline \(file.name) has no such stage (stages: "
                    + resolved.stages.map(\.name).joined(separator: ", ") + ")")
        }
        var executables: [Int: String] = [:]
        var missing: [String] = []
        for stage in resolved.stages {
            let name = stage.argv.first ?? ""
            if let path = resolveExecutable(name, toolDirectory: request.toolDirectory) {
                executables[stage.position] = path
            } else {
                missing.append("\(stage.name): \(name)")
            }
        }
        let notFound = CommandError(
            .unavailable,
            "executable not found (looked in \(request.toolDirectory ?? "-"), then PATH): "
                + missing.joined(separator: "; "))

        if request.dryRun {
            let start = try dryRunStart(request, resolved)
            return try dryRun(request, resolved, start, executables, missing.isEmpty ? nil : notFound)
        }
        guard missing.isEmpty else { throw notFound }

        let log: (String) -> Void = { text in if !request.quiet { printError("policylist: " + text) } }
        try createParentDirectory(of: request.databasePath)
        let pid = getpid()
        let lock = try RunLock.acquire(
            path: RunLock.lockPath(forDatabase: request.databasePath), pid: pid, startedAt: wallStart.rfc3339Seconds,
            pipeline: file.name)
        defer { lock.release() }
        let context = try StageContext(
            StageOptions(databasePath: request.databasePath, json: request.json, now: wallStart, quiet: request.quiet))
        let ledger = RunLedger(context.db)
        try abandonDeadRuns(ledger, now: ledgerTime(clock()), log: log)

        let start = try startPoint(ledger, resolved, request)
        if let reusedNow = start.reusedNow {
            resolved = try resolve(now: reusedNow, fromClock: true)
        }
        if let reason = start.reason { log(reason) }

        let runID = makeRunID(wallStart)
        try ledger.beginRun(
            RunRecord(
                id: runID, pipeline: file.name, pipelineSha256: sha256, pipelinePath: request.pipelinePath,
                variables: resolved.variables, nowFromClock: resolved.nowFromClock, startedAt: ledgerTime(wallStart),
                endedAt: nil, status: "running", holderPid: pid, resumedFrom: start.resumedFrom,
                resumesRun: start.resumesRun, exitCode: nil))
        lock.update(runID: runID, stage: nil, stagePid: nil)
        log(
            "run \(runID): pipeline \(file.name) (\(request.pipelinePath)), \(resolved.stages.count) stages, NOW=\(resolved.variables["NOW"] ?? "")"
        )

        let signals = try SignalPipe()
        let monotonicStart = ContinuousClock.now
        var results: [JSONValue] = []
        var failure: (stage: ResolvedStage, code: ExitCode, reason: String)?
        for stage in resolved.stages[start.position...] {
            let label = "[\(stage.position + 1)/\(resolved.stages.count)] \(stage.name)"
            if let number = signals.drain().first {
                failure = (stage, .tempFail, "interrupted by \(signalName(number)) before the stage started")
                break
            }
            let path = executables[stage.position] ?? stage.argv[0]
            let argv = [path] + stage.argv.dropFirst()
            log("\(label): \(shellQuoted(argv))")
            try ledger.beginStage(
                runID: runID, position: stage.position, name: stage.name, argv: argv, at: ledgerTime(clock()))
            let began = ContinuousClock.now
            let result = runOne(stage, path: path, argv: argv, runID: runID, signals: signals, lock: lock)
            let seconds = secondsSince(began)
            try ledger.endStage(
                runID: runID, position: stage.position, at: ledgerTime(clock()), exitCode: result.exitCode,
                signal: result.signal, outcome: result.outcome, summary: result.summary, message: result.message)
            lock.update(runID: runID, stage: nil, stagePid: nil)
            var entry: [JSONMember] = [
                JSONMember("name", .string(stage.name)),
                JSONMember("exitCode", result.exitCode.map { .int($0) } ?? .null),
                JSONMember("seconds", secondsJSON(seconds)), JSONMember("outcome", .string(result.outcome)),
            ]
            if let signal = result.signal { entry.append(JSONMember("signal", .string(signalName(signal)))) }
            entry.append(JSONMember("summary", result.summaryJSON ?? .null))
            results.append(.object(entry))
            if let code = result.failure {
                log("\(label): \(result.outcome) (\(result.message ?? "")) after \(formatSeconds(seconds)) s")
                failure = (stage, code, result.message ?? result.outcome)
                break
            }
            log("\(label): ok (exit \(result.exitCode ?? 0), \(formatSeconds(seconds)) s)")
        }

        let status = failure == nil ? "ok" : "failed"
        let exitCode = failure?.code ?? .ok
        try ledger.endRun(id: runID, status: status, exitCode: exitCode.rawValue, at: ledgerTime(clock()))
        let total = secondsSince(monotonicStart)
        let summary = JSONValue.object([
            "schemaVersion": 1, "command": "run", "runId": .string(runID), "pipeline": .string(file.name),
            "pipelineSha256": .string(sha256), "status": .string(status), "exitCode": .int(exitCode.rawValue),
            "resumedFrom": .optional(start.resumedFrom), "resumesRun": .optional(start.resumesRun),
            "stoppedAt": .optional(failure?.stage.name), "seconds": secondsJSON(total), "stages": .array(results),
        ])
        let human: String
        if let failure {
            human =
                "policylist: run \(runID) stopped at stage \(failure.stage.name) "
                + "(\(failure.stage.position + 1)/\(resolved.stages.count)): \(failure.reason); exit \(exitCode.rawValue). "
                + "Run the same command again to resume from \(failure.stage.name)."
        } else {
            human = "policylist: run \(runID) ok: \(results.count) stage(s) in \(formatSeconds(total)) s"
        }
        return StageOutcome(summary: summary, human: [human], exitCode: exitCode)
    }

    /// The result of one stage, mapped to the ledger's terms.
    private struct StageResult {
        var exitCode: Int32?
        var signal: Int32?
        var outcome: String
        var summary: String?
        var summaryJSON: JSONValue?
        var message: String?
        /// The runner's exit code when the stage ends the run.
        var failure: ExitCode?
    }

    private static func runOne(
        _ stage: ResolvedStage, path: String, argv: [String], runID: String, signals: SignalPipe, lock: RunLock
    ) -> StageResult {
        let execution: StageExecution
        do {
            execution = try StageProcess.run(
                path: path, argv: argv, prefix: "[\(stage.name)] ",
                environment: ["POLICYLIST_RUN_ID": runID, "POLICYLIST_STAGE": stage.name], signals: signals,
                inherit: lock.descriptor
            ) { pid in lock.update(runID: runID, stage: stage.name, stagePid: pid) }
        } catch {
            return StageResult(
                outcome: "not-started", message: error.message,
                failure: error.exitCode == .unavailable ? .unavailable : .failure)
        }
        var result = StageResult(outcome: "ok")
        let text = String(decoding: execution.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty {
            result.summary = execution.stdoutTruncated ? text + "\n[truncated]" : text
            result.summaryJSON = try? StrictJSONReader.read(Array(text.utf8)).value
        }
        let tail = execution.lastStderrLine.map { "; last stderr line: \($0)" } ?? ""
        switch execution.termination {
        case .exited(let code): result.exitCode = code
        case .signaled(let number): result.signal = number
        }
        if let number = execution.interruptedBy {
            result.outcome = "interrupted"
            result.message = "the runner received \(signalName(number)) and forwarded it to the stage"
            result.failure = .tempFail
            return result
        }
        switch execution.termination {
        case .signaled(let number):
            result.outcome = "signaled"
            result.message = "killed by \(signalName(number))\(tail)"
            result.failure = .failure
        case .exited(let code) where !stage.allowExitCodes.contains(code):
            result.outcome = "failed"
            let allowed = stage.allowExitCodes.map(String.init).joined(separator: ", ")
            result.message = "exit \(code), not in allowExitCodes [\(allowed)]\(tail)"
            result.failure = ExitCode(rawValue: code).flatMap { $0 == .ok ? nil : $0 } ?? .failure
        case .exited(let code):
            let absent = stage.expectFiles.filter { !FileManager.default.fileExists(atPath: $0) }
            if !absent.isEmpty {
                result.outcome = "failed"
                result.message = "exit \(code) but expected file(s) missing: " + absent.joined(separator: ", ")
                result.failure = .failure
            }
        }
        return result
    }

    /// Marks runs left `running` by a dead runner as failed (the caller holds the lock, so their runner is
    /// gone, unless it used another lock file, which is refused).
    private static func abandonDeadRuns(_ ledger: RunLedger, now: String, log: (String) -> Void) throws {
        for stale in try ledger.runningRuns() {
            if let holder = stale.holderPid, holder != getpid(), processIsAlive(holder), isPolicylistProcess(holder) {
                throw CommandError(
                    .tempFail,
                    "run \(stale.id) is recorded as running by pid \(holder), which is still alive "
                        + "(does it use the same database through another path?)")
            }
            let stage = try ledger.stages(of: stale.id).last { $0.endedAt == nil }
            try ledger.abandon(stale, at: now)
            log(
                "run \(stale.id) was left running" + (stage.map { " at stage \($0.name)" } ?? "")
                    + " by pid \(stale.holderPid.map(String.init) ?? "?"), which is gone: recorded as failed")
        }
    }

    /// `--from`, or the resume point of the last run when it is the same job and failed.
    private static func startPoint(_ ledger: RunLedger, _ resolved: ResolvedPipeline, _ request: RunRequest) throws
        -> StartPoint
    {
        if let from = request.from, let stage = resolved.stage(named: from) {
            return StartPoint(
                position: stage.position, resumedFrom: stage.name, reason: "starting at stage \(stage.name) (--from)")
        }
        guard let last = try ledger.latestRun(), last.status != "ok",
            resolved.isSameJob(sha256: last.pipelineSha256, variables: last.variables, nowFromClock: last.nowFromClock)
        else { return StartPoint() }
        let stages = try ledger.stages(of: last.id)
        var position = resolved.stages.firstIndex { $0.name == last.resumedFrom } ?? 0
        if let attempted = stages.last {
            position = attempted.outcome == "ok" ? attempted.position + 1 : attempted.position
        }
        guard position < resolved.stages.count else { return StartPoint() }
        let name = resolved.stages[position].name
        var point = StartPoint(
            position: position, resumedFrom: name, resumesRun: last.id,
            reason: "resuming from stage \(name): the last run (\(last.id)) failed there "
                + "(use --from \(resolved.stages[0].name) to start over)")
        if resolved.nowFromClock, let now = last.variables["NOW"] {
            point.reusedNow = now
            point.reason = (point.reason ?? "") + "; NOW=\(now) as in that run"
        }
        return point
    }

    private static func dryRunStart(_ request: RunRequest, _ resolved: ResolvedPipeline) throws -> StartPoint {
        if request.from != nil || !FileManager.default.fileExists(atPath: request.databasePath) {
            return try startPoint(nil, resolved, request)
        }
        let db = try Database(path: request.databasePath, mode: .readOnly)
        guard try Migrations.pending(db).isEmpty else { return StartPoint() }
        return try startPoint(RunLedger(db), resolved, request)
    }

    private static func startPoint(_ ledger: RunLedger?, _ resolved: ResolvedPipeline, _ request: RunRequest) throws
        -> StartPoint
    {
        if let ledger { return try startPoint(ledger, resolved, request) }
        if let from = request.from, let stage = resolved.stage(named: from) {
            return StartPoint(
                position: stage.position, resumedFrom: stage.name, reason: "starting at stage \(from) (--from)")
        }
        return StartPoint()
    }

    private static func dryRun(
        _ request: RunRequest, _ resolved: ResolvedPipeline, _ start: StartPoint, _ executables: [Int: String],
        _ notFound: CommandError?
    ) throws -> StageOutcome {
        var resolved = resolved
        if let now = start.reusedNow {
            resolved = ResolvedPipeline(
                name: resolved.name, sha256: resolved.sha256,
                variables: resolved.variables.merging(["NOW": now]) { $1 },
                nowFromClock: true, stages: resolved.stages)
            // The commands must show the NOW the resumed run would use.
            let file = try PipelineFile.parse(try readPipelineFile(request.pipelinePath), file: request.pipelinePath)
            resolved = try PipelineResolver.resolve(
                file, sha256: resolved.sha256, pipelinePath: request.pipelinePath, database: request.databasePath,
                now: now, nowFromClock: true, overrides: try PipelineResolver.parseOverrides(request.overrides))
        }
        if !request.quiet {
            if let reason = start.reason { printError("policylist: dry run: " + reason) }
            let variables = resolved.variables.keys.sorted().map { "\($0)=\(resolved.variables[$0] ?? "")" }
            printError("policylist: dry run: variables: " + shellQuoted(variables))
        }
        var stages: [JSONValue] = []
        for stage in resolved.stages[start.position...] {
            let argv = [executables[stage.position] ?? stage.argv[0]] + stage.argv.dropFirst()
            if !request.json { printOutput(shellQuoted(argv)) }
            stages.append(.object(["name": .string(stage.name), "argv": .strings(argv)]))
        }
        let summary = JSONValue.object([
            "schemaVersion": 1, "command": "run", "dryRun": true, "pipeline": .string(resolved.name),
            "pipelineSha256": .string(resolved.sha256), "resumedFrom": .optional(start.resumedFrom),
            "variables": .object(
                resolved.variables.keys.sorted().map { JSONMember($0, .string(resolved.variables[$0] ?? "")) }),
            "stages": .array(stages),
        ])
        if let notFound {
            return StageOutcome(
                summary: summary, human: ["policylist: " + notFound.message], exitCode: notFound.exitCode)
        }
        return StageOutcome(summary: summary, human: [], exitCode: .ok)
    }

    /// Finds a stage's executable: a name with a `/` as given; otherwise in `toolDirectory`, then on PATH.
    public static func resolveExecutable(_ name: String, toolDirectory: String?) -> String? {
        if name.isEmpty { return nil }
        if name.contains("/") { return findExecutable(name) }
        if let toolDirectory, let found = findExecutable(name, searchPath: toolDirectory) { return found }
        return findExecutable(name)
    }

    /// The directory of the running executable (`/proc/self/exe`), where the stage executables live.
    public static func currentExecutableDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (path as NSString).deletingLastPathComponent
    }

    private static func readPipelineFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw CommandError(.ioError, "\(path): \(reason)")
        }
        return Array(data)
    }

    private static func createParentDirectory(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw CommandError(.ioError, "\(directory): cannot create the database's directory: \(error)")
            }
        }
    }

    private static func isPolicylistProcess(_ pid: Int32) -> Bool {
        guard let bytes = try? readSmallFile("/proc/\(pid)/cmdline") else { return true }
        let argv0 = bytes.split(separator: 0, omittingEmptySubsequences: false).first.map {
            String(decoding: $0, as: UTF8.self)
        }
        return argv0.map { ($0 as NSString).lastPathComponent.hasPrefix("policylist") } ?? true
    }

    /// `20250102T030405Z-1a2b3c`: sortable by start, unique enough with the random part.
    private static func makeRunID(_ instant: Instant) -> String {
        var random = SystemRandomNumberGenerator()
        let value: UInt32 = random.next() & 0xff_ffff
        let suffix = String(value, radix: 16)
        let compact = instant.rfc3339Seconds.filter { $0 != "-" && $0 != ":" }
        return compact + "-" + String(repeating: "0", count: 6 - suffix.count) + suffix
    }
}

/// Ledger instants: UTC with milliseconds, so stage durations can be computed from them.
func ledgerTime(_ instant: Instant) -> String { instant.format(offsetSeconds: 0, fractionDigits: 3) }

func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func formatSeconds(_ seconds: Double) -> String { String(format: "%.3f", seconds) }

func secondsJSON(_ seconds: Double) -> JSONValue { .number(formatSeconds(seconds)) }
