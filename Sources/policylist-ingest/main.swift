import PolicyListCLI
import PolicyListCore
import PolicyListPipeline

let usage = [
    "policylist-ingest snapshots [--keyring FILE] [--order name|timestamp] [--sequence FILE.tsv] PATH...",
    "policylist-ingest git REPO [--path policy.json] [--ref HEAD] [--keyring FILE]",
    "policylist-ingest queue domains.csv",
    "policylist-ingest requests FILE.json...",
    "policylist-ingest stats FILE",
]
let about = """
    Ingests inputs into the store (--db, default ./policylist.sqlite). Raw bytes are kept content-addressed, so
    ingesting the same input again adds nothing and reports it as already known.
      snapshots  policy.json versions: files (.json, .json.gz), directories (recursive), archives (.tar, .tar.gz,
                 .tgz). A sibling NAME.asc is verified with gpgv when --keyring is given. Publication order comes
                 from --sequence (a TSV with file, master_tip_seq and optional landed_on_master_utc columns), else
                 --order (default name).
      git        the first-parent history of --path in a git repository (publication order = first-parent order).
      queue      the backend's domains table export (CSV with header); e-mail addresses never leave the store.
      requests   operator files: removals.json, edits.json ({"schemaVersion": 1, ...}).
      stats      the backend's aggregated_scans export (CSV or JSONL).
    """
let specs: [OptionSpec] = [
    .option("keyring", "FILE", "OpenPGP public key(ring) to verify .asc signatures with (gpgv)"),
    .option("order", "name|timestamp", "publication order without --sequence (default name)"),
    .option("sequence", "FILE.tsv", "publication order from a manifest (file, master_tip_seq columns)"),
    .option("path", "PATH", "git: the file to follow (default policy.json)"),
    .option("ref", "REF", "git: the branch or commit (default HEAD)"),
]

await runMain("policylist-ingest") { args in
    let parsed = try ParsedArguments(args, specs: specs)
    if parsed.flag("help") || parsed.positionals.isEmpty {
        printOutput(helpText(usage: usage, about: about, specs: specs))
        return parsed.flag("help") ? .ok : .usage
    }
    let options = try StageOptions(parsed)
    let command = parsed.positionals[0]
    let operands = Array(parsed.positionals.dropFirst())
    let context = try StageContext(options)
    let outcome: StageOutcome
    switch command {
    case "snapshots":
        guard !operands.isEmpty else { throw UsageError("snapshots needs at least one PATH") }
        let order: SnapshotOrder
        if let sequence = parsed.value("sequence") {
            order = .sequenceFile(sequence)
        } else {
            switch parsed.value("order") ?? "name" {
            case "name": order = .name
            case "timestamp": order = .timestamp
            case let other: throw UsageError("--order takes name or timestamp, not '\(other)'")
            }
        }
        outcome = try SnapshotIngest.files(context, paths: operands, keyring: parsed.value("keyring"), order: order)
    case "git":
        guard operands.count == 1 else { throw UsageError("git needs exactly one REPO") }
        outcome = try SnapshotIngest.git(
            context, repo: operands[0], path: parsed.value("path") ?? "policy.json", ref: parsed.value("ref") ?? "HEAD",
            keyring: parsed.value("keyring"))
    case "queue":
        guard operands.count == 1 else { throw UsageError("queue needs exactly one domains.csv") }
        outcome = try RequestIngest.queue(context, path: operands[0])
    case "requests":
        guard !operands.isEmpty else { throw UsageError("requests needs at least one FILE.json") }
        outcome = try RequestIngest.requests(context, paths: operands)
    case "stats":
        guard !operands.isEmpty else { throw UsageError("stats needs a FILE (aggregated_scans export, CSV or JSONL)") }
        outcome = try AggregatedStats.run(paths: operands, context: context)
    default:
        throw UsageError("unknown command '\(command)'; expected snapshots, git, queue, requests or stats")
    }
    return outcome.emit(json: options.json, quiet: options.quiet)
}
