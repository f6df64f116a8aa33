import PolicyListCLI
import PolicyListCore
import PolicyListPipeline

let usage = [
    "policylist-reconcile --as-of INSTANT [--freeze INSTANT] [--baseline REF] [--keep-on-none] [--force-edit DOMAIN=REASON]...",
    "policylist-reconcile explain DOMAIN",
]
let about = """
    Applies the wind-down rules to the baseline (the newest publication made by policylist-publish, else the
    newest ingested snapshot in publication order, or --baseline) and stores a candidate list with one decision
    per domain (rule id and evidence). Observations and requests dated after --as-of are ignored.
      R1 no new domain after the freeze, except R2: at the first reconcile at or after the freeze every queued
      domain is added as testing, once. R3 owner removals beat list and queue. R4 a valid enforce MTA-STS policy
      refreshes the entry (in place; an alias reference becomes explicit). R5 testing policies change nothing.
      R6 missing or invalid observations change nothing. R7 a valid mode none policy removes the entry
      (--keep-on-none switches this off). R8 after the freeze, edits of entries with no valid MTA-STS observation
      are refused unless forced with --force-edit DOMAIN=REASON (the override is recorded).
    explain prints the decision chain for one domain (text on stdout, or JSON with --json).
    Exit 65 when an edit was refused.
    """
let specs: [OptionSpec] = [
    .option("as-of", "INSTANT", "reconcile as of this RFC 3339 instant"),
    .option("freeze", "INSTANT", "the freeze instant (remembered in the database once given)"),
    .option("baseline", "REF", "start from this ingested snapshot: seq:N, a file name, or a sha256 prefix"),
    .flag("keep-on-none", "R7 off: a valid 'mode: none' policy does not remove the entry"),
    .option(
        "force-edit", "DOMAIN=REASON", "apply a post-freeze edit of DOMAIN anyway; REASON is recorded", repeatable: true
    ),
]

func instant(_ name: String, _ text: String?) throws -> Instant? {
    guard let text else { return nil }
    switch TimestampParser.parseInstant(text) {
    case .success(let value): return value
    case .failure(let error): throw UsageError("--\(name): \(error.reason)")
    }
}

await runMain("policylist-reconcile") { args in
    let parsed = try ParsedArguments(args, specs: specs)
    if parsed.flag("help") {
        printOutput(helpText(usage: usage, about: about, specs: specs))
        return .ok
    }
    let options = try StageOptions(parsed)
    if parsed.positionals.first == "explain" {
        guard parsed.positionals.count == 2 else { throw UsageError("explain needs exactly one DOMAIN") }
        let context = try StageContext(options, readOnly: true)
        let outcome = try Explain.run(context, domain: parsed.positionals[1])
        if options.json {
            printOutput(JSONWriter.compact(outcome.summary))
        } else {
            printOutput(outcome.human.joined(separator: "\n"))
        }
        return outcome.exitCode
    }
    guard parsed.positionals.isEmpty else { throw UsageError("unexpected argument '\(parsed.positionals[0])'") }
    guard let asOf = try instant("as-of", parsed.value("as-of")) else {
        throw UsageError("--as-of INSTANT is required")
    }
    var reconcile = ReconcileOptions(
        asOf: asOf, freeze: try instant("freeze", parsed.value("freeze")), baseline: parsed.value("baseline"))
    reconcile.removeOnNone = !parsed.flag("keep-on-none")
    for item in parsed.all("force-edit") {
        guard let equals = item.firstIndex(of: "="), equals != item.startIndex,
            !item[item.index(after: equals)...].isEmpty
        else { throw UsageError("--force-edit takes DOMAIN=REASON, not '\(item)'") }
        reconcile.forcedEdits[HostSyntax.lowercased(String(item[..<equals]))] = String(
            item[item.index(after: equals)...])
    }
    let context = try StageContext(options)
    return try ReconcileStage.run(context, options: reconcile).emit(json: options.json, quiet: options.quiet)
}
