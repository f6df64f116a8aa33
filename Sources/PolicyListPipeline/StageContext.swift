import Foundation
import PolicyListCLI
import PolicyListCore
import PolicyListStore

/// Options every stage takes (`--db`, `--json`, `--now`, `--quiet`).
public struct StageOptions: Sendable {
    /// The SQLite database path.
    public var databasePath: String
    /// Whether a JSON summary goes to stdout.
    public var json: Bool
    /// The clock: `--now` or the system clock, read once at start-up.
    public var now: Instant
    /// No informational messages on stderr.
    public var quiet: Bool

    /// Reads the common options; the system clock is read here, at the edge, and nowhere else.
    public init(_ arguments: ParsedArguments) throws(UsageError) {
        databasePath = arguments.databasePath
        json = arguments.json
        quiet = arguments.flag("quiet")
        if let text = arguments.value("now") {
            switch TimestampParser.parseInstant(text) {
            case .success(let instant): now = instant
            case .failure(let error): throw UsageError("--now: \(error.reason)")
            }
        } else {
            now = Self.systemNow()
        }
    }

    /// Creates options directly (tests).
    public init(databasePath: String, json: Bool = false, now: Instant, quiet: Bool = true) {
        self.databasePath = databasePath
        self.json = json
        self.now = now
        self.quiet = quiet
    }

    /// The system clock as an `Instant`.
    public static func systemNow() -> Instant {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Instant(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }
}

/// An open store plus the run's clock: what every stage function receives.
public final class StageContext {
    /// The database connection (one per process; stages are single-writer).
    public let db: Database
    /// The blob store over `db`.
    public let blobs: BlobStore
    /// The options.
    public let options: StageOptions
    /// `options.now` as RFC 3339 UTC text (what the store records).
    public var nowText: String { options.now.rfc3339Seconds }
    /// The clock.
    public var now: Instant { options.now }

    /// Opens (creating and migrating if needed) the database.
    public init(_ options: StageOptions, readOnly: Bool = false) throws {
        self.options = options
        if !readOnly {
            let directory = (options.databasePath as NSString).deletingLastPathComponent
            if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
        }
        db = try Database(path: options.databasePath, mode: readOnly ? .readOnly : .readWrite)
        if !readOnly {
            try Migrations.migrate(db, now: options.now.rfc3339Seconds)
        } else if !(try Migrations.pending(db)).isEmpty {
            throw CommandError(
                .dataError, "\(options.databasePath): the database needs migrating; run any stage that writes first")
        }
        blobs = BlobStore(db)
    }

    /// Writes an informational line to stderr unless `--quiet`.
    public func info(_ text: String) {
        if !options.quiet { printError(text) }
    }
}

/// What a stage produced: a machine summary, human lines, and the exit code.
public struct StageOutcome: Sendable {
    /// The `--json` summary object.
    public var summary: JSONValue
    /// Lines for people (stderr, or stdout for commands whose output is the text itself).
    public var human: [String]
    /// The exit code.
    public var exitCode: ExitCode

    /// Creates an outcome.
    public init(summary: JSONValue, human: [String], exitCode: ExitCode) {
        self.summary = summary
        self.human = human
        self.exitCode = exitCode
    }

    /// Prints the summary (stdout, with `--json`) and the human lines (stderr), returns the exit code.
    public func emit(json: Bool, quiet: Bool = false) -> ExitCode {
        if json { printOutput(JSONWriter.compact(summary)) }
        if !quiet || exitCode != .ok {
            for line in human { printError(line) }
        }
        return exitCode
    }
}
