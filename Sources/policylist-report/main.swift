import PolicyListCLI
import PolicyListCore
import PolicyListPipeline

let usage = [
    "policylist-report history --out DIR",
    "policylist-report deprecation --out DIR [--as-of INSTANT]",
    "policylist-report archive --out FILE.tar.gz",
]
let about = """
    Reports from the store (--db, default ./policylist.sqlite); it is only read. Each report writes NAME.json
    (with schemaVersion), NAME.csv, NAME.md and NAME.html (one self-contained page, inline SVG, no scripts).
      history      every ingested version: growth, churn, mode changes, signatures, anomalies, lapses;
                   off-sequence versions marked.
      deprecation  the frozen list (newest publication, or as of --as-of), its provenance, what the wind-down
                   did, and MTA-STS/DANE adoption among listed domains.
      archive      a reproducible .tar.gz of every ingested version's original bytes and .asc, with index.json
                   and a README.
    Figures are defined in docs/statistics.md.
    """
let specs: [OptionSpec] = [
    .option("out", "PATH", "output directory (history, deprecation) or archive file (archive)"),
    .option("as-of", "INSTANT", "deprecation: report the state as of this RFC 3339 instant"),
]

await runMain("policylist-report") { args in
    let parsed = try ParsedArguments(args, specs: specs)
    if parsed.flag("help") || parsed.positionals.isEmpty {
        printOutput(helpText(usage: usage, about: about, specs: specs))
        return parsed.flag("help") ? .ok : .usage
    }
    guard parsed.positionals.count == 1 else {
        throw UsageError("unexpected argument '\(parsed.positionals[1])'")
    }
    guard let out = parsed.value("out"), !out.isEmpty else { throw UsageError("--out is required") }
    let options = try StageOptions(parsed)
    let command = parsed.positionals[0]
    if command != "deprecation" && parsed.value("as-of") != nil {
        throw UsageError("--as-of applies to deprecation only")
    }
    let outcome: StageOutcome
    switch command {
    case "history":
        outcome = try ReportStage.history(StageContext(options, readOnly: true), out: out)
    case "deprecation":
        var asOf: Instant?
        if let text = parsed.value("as-of") {
            switch TimestampParser.parseInstant(text) {
            case .success(let instant): asOf = instant
            case .failure(let error): throw UsageError("--as-of: \(error.reason)")
            }
        }
        outcome = try ReportStage.deprecation(StageContext(options, readOnly: true), out: out, asOf: asOf)
    case "archive":
        outcome = try ReportStage.archive(StageContext(options, readOnly: true), out: out)
    default:
        throw UsageError("unknown command '\(command)'; expected history, deprecation or archive")
    }
    return outcome.emit(json: options.json, quiet: options.quiet)
}
