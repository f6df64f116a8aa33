import PolicyListCLI
import PolicyListCore
import PolicyListPipeline

let importSpecs: [OptionSpec] = [
    .option("shard", "K/N", "keep only the domains of shard K of N (stable hash of the domain)"),
    .option("batch", "LINES", "lines per transaction (default 2000)"),
]

let liveSpecs: [OptionSpec] = [
    .option("domains", "FILE", "domains to observe, one per line ('#' comments; .gz inflated)"),
    .flag("listed", "observe the current list: the newest publication, else the newest ingested snapshot"),
    .option("out", "FILE.jsonl", "also write the observations as native JSONL, in input order"),
    .flag("no-store", "do not write the database (needs --out; e.g. a shard job whose file is imported later)"),
    .option("nameserver", "ADDR[:PORT]", "ask this DNS server instead of /etc/resolv.conf"),
    .option("ca-file", "PEM", "trust these CAs for the policy hosts, in addition to the system's"),
    .option("resolve", "HOST:PORT:ADDR", "like curl --resolve, for the policy hosts", repeatable: true),
    .option("connect-to", "HOST:PORT:CHOST:CPORT", "like curl --connect-to, for the policy hosts", repeatable: true),
    .option("policy-port", "PORT", "port in the policy URL (tests; default 443)"),
    .option("concurrency", "N", "domains in flight at most (default 32)"),
    .option("timeout", "SECONDS", "per DNS lookup and per HTTPS fetch (default 10)"),
    .option("shard", "K/N", "observe only the domains of shard K of N (stable hash of the domain)"),
    .flag("tlsrpt", "also look up TLSRPT (_smtp._tls TXT)"),
    .flag("dane", "also look up MX and TLSA _25._tcp.<mx> with the resolver's AD bit"),
    .flag("no-mx", "skip the MX lookup (and the RFC 8461 §4.1 MX coverage check)"),
    .flag("always-fetch", "fetch the policy even when no v=STSv1 TXT record exists"),
    .option("source", "LABEL", "the observations' source (default live; part of their identity)"),
    .option("batch", "N", "observations per transaction (default 500)"),
]

let liveFooter = """
    Per domain: TXT _mta-sts.<d> and MX <d> in parallel, then the policy over HTTPS when a v=STSv1 record
    exists (redirects never followed, certificate and name verified, 64 KiB cap). Results are written in input
    order (database and --out). observedAt is --now for every domain when given (shard runs then equal a single
    run), otherwise the clock at each observation. Network failures are recorded as observations.
    An empty --nameserver, --ca-file, --resolve or --connect-to value counts as not given (pipeline defaults).
    Exit 0 even when domains fail (they are data); 69 when no domain got any DNS answer (resolver unreachable;
    the observations are still recorded); 65 when a --domains line was rejected; 74 when it could not be read.
    See docs/observer.md.
    """

let usage = [
    "policylist-observe check-policy FILE...|-",
    "policylist-observe check-txt RECORD...",
    "policylist-observe import FILE.jsonl...",
    "policylist-observe import-backend-scans FILE...",
    "policylist-observe live [--domains FILE | --listed] [--out FILE.jsonl] [--nameserver ADDR[:PORT]]",
    "                        [--ca-file PEM] [--resolve HOST:PORT:ADDR]... [--connect-to …]... [--concurrency N]",
    "                        [--timeout SECONDS] [--shard K/N] [--tlsrpt] [--dane]",
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
            usage: [usage[7]], about: "Merges the observations of other policylist databases into --db.",
            specs: mergeSpecs, footer: mergeFooter)
    case "live":
        helpText(
            usage: Array(usage[4...6]),
            about: "Observes MTA-STS live over DNS (libresolv) and HTTPS (libcurl) and stores the observations.",
            specs: liveSpecs, footer: liveFooter)
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
        let parsed = try ParsedArguments(rest, specs: liveSpecs)
        if parsed.flag("help") {
            printOutput(help(subcommand))
            return .ok
        }
        guard parsed.positionals.isEmpty else {
            throw UsageError("live: unexpected argument '\(parsed.positionals[0])'")
        }
        let domains: LiveObserve.Domains
        switch (parsed.value("domains"), parsed.flag("listed")) {
        case (let file?, false): domains = .file(file)
        case (nil, true): domains = .listed
        default: throw UsageError("live needs exactly one of --domains FILE and --listed")
        }
        var request = LiveObserve.Request(domains: domains)
        request.outPath = parsed.value("out")
        request.store = !parsed.flag("no-store")
        guard request.store || request.outPath != nil else { throw UsageError("--no-store needs --out FILE.jsonl") }
        request.concurrency = try parsed.int("concurrency", default: 32, range: 1...4096)
        request.timeoutSeconds = try parsed.int("timeout", default: 10, range: 1...600)
        request.batchSize = try parsed.int("batch", default: 500, range: 1...100_000)
        request.shard = try parsed.value("shard").map { text throws(UsageError) in
            guard let selection = Shard.Selection.parse(text) else {
                throw UsageError("--shard takes K/N with 1 ≤ K ≤ N, not '\(text)'")
            }
            return selection
        }
        request.tlsrpt = parsed.flag("tlsrpt")
        request.dane = parsed.flag("dane")
        request.checkMX = !parsed.flag("no-mx")
        request.alwaysFetch = parsed.flag("always-fetch")
        if let source = parsed.value("source") {
            guard !source.isEmpty else { throw UsageError("--source needs a non-empty label") }
            request.source = source
        }
        let policyPort = try parsed.value("policy-port").map { _ throws(UsageError) in
            try parsed.int("policy-port", default: 443, range: 1...65_535)
        }
        // An empty value means "not given", so a pipeline variable can default to the system's behaviour.
        let given = { (name: String) in parsed.all(name).filter { !$0.isEmpty } }
        let network = try LiveObserve.Network.make(
            nameserver: given("nameserver").last, caFile: given("ca-file").last, resolve: given("resolve"),
            connectTo: given("connect-to"), policyPort: policyPort, timeoutSeconds: request.timeoutSeconds)
        let options = try StageOptions(parsed)
        // --now makes every observation's instant the same (deterministic shards); otherwise the clock runs.
        let fixed = parsed.value("now") != nil ? options.now : nil
        let clock: @Sendable () -> Instant = { fixed ?? StageOptions.systemNow() }
        let outcome = try await LiveObserve.run(request, network: network, clock: clock, options: options)
        return outcome.emit(json: options.json, quiet: options.quiet)
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
