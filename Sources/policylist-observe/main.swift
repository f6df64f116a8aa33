import PolicyListCLI
import PolicyListCore
import PolicyListPipeline

let importSpecs: [OptionSpec] = [
    .option("shard", "K/N", "keep only the domains of shard K of N (stable hash of the domain)"),
    .option("batch", "LINES", "lines per transaction (default 2000)"),
]

let usage = [
    "policylist-observe check-policy FILE...|-",
    "policylist-observe check-txt RECORD...",
    "policylist-observe import FILE.jsonl...",
    "policylist-observe import-backend-scans FILE...",
    "policylist-observe live …   (not available yet)",
    "policylist-observe merge DB...",
]

let mergeSpecs: [OptionSpec] = [.option("batch", "ROWS", "source rows per transaction (default 100000)")]

let mergeFooter = """
    Copies the observations of other policylist databases (e.g. shards of `live --shard K/N` or
    `import --shard K/N` run on other machines) into --db, with the blobs they reference and the sources'
    rejected inputs. Rows are keyed by (domain, observedAt, source): a row already held with the same input
    bytes is alreadyKnown, with other bytes a conflict (the stored row is kept, the other line goes to
    rejected_inputs). Merging the same database twice adds nothing.
    Exit 0 when every source was merged without conflict, 65 when a row conflicted or a source is not a
    policylist database, 74 when a source could not be read.
    """

let checkFooter = """
    Prints one JSON object per input on stdout (the data itself; --json changes nothing).
    Exit 0 when every input is strictly valid (RFC 8461), 65 when any is not, 74 when a file could not be
    read (its line then says "read-error: …"; 74 takes precedence over 65).
    """

let importFooter = """
    Streams the lines (.gz inflated), stores good ones, rejects bad ones with FILE:LINE and the reason (raw bytes
    kept in rejected_inputs; an over-long line: its first 64 KiB). Importing a file twice adds nothing.
    Exit 0 when every line was stored or already known, 65 when some line was rejected, 74 when a file could not
    be read.
    """

func help(_ subcommand: String?) -> String {
    switch subcommand {
    case "check-policy":
        helpText(
            usage: [usage[0]], about: "Lints MTA-STS policy files (RFC 8461 §3.2); '-' reads standard input.",
            specs: [], footer: checkFooter)
    case "check-txt":
        helpText(
            usage: [usage[1]], about: "Lints _mta-sts TXT records (RFC 8461 §3.1), one per argument.", specs: [],
            footer: checkFooter)
    case "import":
        helpText(
            usage: [usage[2]],
            about: "Imports native observation JSONL (DESIGN.md); verdicts are recomputed from the raw facts.",
            specs: importSpecs, footer: importFooter)
    case "import-backend-scans":
        helpText(
            usage: [usage[3]],
            about: "Imports the starttls-backend `scans` table exported as row_to_json lines.",
            specs: importSpecs, footer: importFooter)
    case "merge":
        helpText(
            usage: [usage[5]], about: "Merges the observations of other policylist databases into --db.",
            specs: mergeSpecs, footer: mergeFooter)
    default:
        helpText(
            usage: usage, about: "Checks MTA-STS records and imports MTA-STS observations into the store.", specs: [],
            footer: "Run 'policylist-observe SUBCOMMAND --help' for a subcommand's options.")
    }
}

await runMain("policylist-observe") { args in
    guard let subcommand = args.first, !subcommand.hasPrefix("-") else {
        if args.contains("--help") {
            printOutput(help(nil))
            return .ok
        }
        throw UsageError("missing subcommand (check-policy, check-txt, import, import-backend-scans, live, merge)")
    }
    let rest = Array(args.dropFirst())
    switch subcommand {
    case "check-policy", "check-txt":
        let parsed = try ParsedArguments(rest, specs: [])
        if parsed.flag("help") {
            printOutput(help(subcommand))
            return .ok
        }
        guard !parsed.positionals.isEmpty else {
            throw UsageError("\(subcommand) needs at least one \(subcommand == "check-txt" ? "RECORD" : "FILE or -")")
        }
        let output =
            subcommand == "check-txt"
            ? ObserveChecks.checkTXT(records: parsed.positionals)
            : ObserveChecks.checkPolicy(inputs: parsed.positionals)
        for line in output.lines { printOutput(line) }
        return output.exitCode
    case "import", "import-backend-scans":
        let parsed = try ParsedArguments(rest, specs: importSpecs)
        if parsed.flag("help") {
            printOutput(help(subcommand))
            return .ok
        }
        guard !parsed.positionals.isEmpty else { throw UsageError("\(subcommand) needs at least one FILE") }
        let shard = try parsed.value("shard").map { text throws(UsageError) in
            guard let selection = Shard.Selection.parse(text) else {
                throw UsageError("--shard takes K/N with 1 ≤ K ≤ N, not '\(text)'")
            }
            return selection
        }
        let options = try StageOptions(parsed)
        let request = ObservationImport.Request(
            paths: parsed.positionals, format: subcommand == "import" ? .native : .backendScans, shard: shard,
            batchSize: try parsed.int("batch", default: 2000, range: 1...1_000_000))
        let outcome = try ObservationImport.run(request, context: StageContext(options))
        return outcome.emit(json: options.json, quiet: options.quiet)
    case "live":
        throw UsageError("live: not available yet")
    case "merge":
        let parsed = try ParsedArguments(rest, specs: mergeSpecs)
        if parsed.flag("help") {
            printOutput(help(subcommand))
            return .ok
        }
        guard !parsed.positionals.isEmpty else { throw UsageError("merge needs at least one DB") }
        let options = try StageOptions(parsed)
        let request = ObservationMerge.Request(
            paths: parsed.positionals, batchRows: try parsed.int("batch", default: 100_000, range: 1...10_000_000))
        let outcome = try ObservationMerge.run(request, context: StageContext(options))
        return outcome.emit(json: options.json, quiet: options.quiet)
    default:
        throw UsageError("unknown subcommand '\(subcommand)'")
    }
}
