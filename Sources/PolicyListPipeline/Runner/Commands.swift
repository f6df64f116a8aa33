import PolicyListCLI
import PolicyListCore

/// `policylist run`: parses its command line and calls `PipelineRunner.run`.
public enum RunCommand {
    /// The options `run` takes beyond the common ones.
    public static let specs: [OptionSpec] = [
        .option("from", "STAGE", "start at this stage (a new run; earlier stages are not run)"),
        .flag("dry-run", "print the resolved commands, one per line, and run nothing"),
        .option("var", "KEY=VALUE", "set a pipeline variable (the value is taken literally)", repeatable: true),
    ]

    /// `policylist run --help`.
    public static let help = helpText(
        usage: [
            "policylist run PIPELINE.json [--from STAGE] [--dry-run] [--var KEY=VALUE]... [--db PATH] [--now INSTANT]"
        ],
        about: """
            Runs the stages of a pipeline file in order, each as its own process (never through a shell), with
            its stderr prefixed by [stage] and its stdout (its JSON summary) recorded in the run ledger in the
            database. Stops at the first stage whose exit code is not allowed and exits with that code. Run the
            same command again after a failure and it resumes from the failed stage. One run at a time per
            database (lock file <db>.lock): a second run exits 75. SIGINT/SIGTERM/SIGHUP are forwarded to the
            running stage; the run is recorded as interrupted and exits 75. See docs/pipelines.md.
            """, specs: specs)

    /// Runs the command; returns the exit code.
    public static func main(_ arguments: [String]) throws -> ExitCode {
        if arguments.contains("--help") {
            printOutput(help)
            return .ok
        }
        let parsed = try ParsedArguments(arguments, specs: specs)
        guard parsed.positionals.count == 1, let pipeline = parsed.positionals.first else {
            throw UsageError(
                parsed.positionals.isEmpty
                    ? "run needs a pipeline file (policylist run PIPELINE.json)"
                    : "run takes one pipeline file, got \(parsed.positionals.count): "
                        + parsed.positionals.joined(separator: " "))
        }
        if let now = parsed.value("now"), case .failure(let error) = TimestampParser.parseInstant(now) {
            throw UsageError("--now: \(error.reason)")
        }
        let request = RunRequest(
            pipelinePath: pipeline, databasePath: parsed.databasePath, now: parsed.value("now"),
            from: parsed.value("from"), dryRun: parsed.flag("dry-run"), json: parsed.json, quiet: parsed.flag("quiet"),
            overrides: parsed.all("var"), toolDirectory: PipelineRunner.currentExecutableDirectory())
        return try PipelineRunner.run(request).emit(json: request.json, quiet: request.quiet)
    }
}

/// `policylist status`: the last runs and their stages.
public enum StatusCommand {
    /// The options `status` takes beyond the common ones.
    public static let specs: [OptionSpec] = [
        .option("limit", "N", "how many runs, newest first (default 10)")
    ]

    /// `policylist status --help`.
    public static let help = helpText(
        usage: ["policylist status [--limit N] [--db PATH] [--json]"],
        about: """
            Shows the last runs recorded in the database with their stages: name, exit code, duration and
            outcome, and each run's total. A table on stdout, or one JSON object with --json.
            """, specs: specs)

    /// Runs the command; returns the exit code.
    public static func main(_ arguments: [String]) throws -> ExitCode {
        if arguments.contains("--help") {
            printOutput(help)
            return .ok
        }
        let parsed = try ParsedArguments(arguments, specs: specs)
        guard parsed.positionals.isEmpty else {
            throw UsageError("status takes no arguments, got: " + parsed.positionals.joined(separator: " "))
        }
        let limit = try parsed.int("limit", default: 10, range: 1...10_000)
        let report = try RunStatus.load(databasePath: parsed.databasePath, limit: limit)
        printOutput(parsed.json ? JSONWriter.compact(report.json) : report.table)
        return .ok
    }
}

/// `policylist --help`.
public let policylistHelp = """
    USAGE:
      policylist run PIPELINE.json [--from STAGE] [--dry-run] [--var KEY=VALUE]...
      policylist status [--limit N]

    Runs pipelines of policylist stages and shows the run ledger. 'policylist COMMAND --help' for details;
    docs/pipelines.md describes the pipeline file format.

    Every command takes --db PATH (default ./policylist.sqlite), --json, --now INSTANT, --quiet, --help, --version.

    EXIT CODES:
      0 ok, 1 failure, 64 usage, 65 some input rejected, 69 unavailable, 74 I/O, 75 temporary (retry)
    """
