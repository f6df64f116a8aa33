import PolicyListCLI
import PolicyListCore
import PolicyListPipeline

let usage = [
    "policylist-publish --out DIR [--timestamp STRING] [--expires STRING] [--expires-after DURATION]",
    "                   [--sign-key KEYID] [--gnupg-home DIR] [--max-shrink PERCENT] [--allow-shrink]",
]
let about = """
    Publishes the newest reconciled candidate into DIR: policy.json (the publisher's exact bytes: Python
    json.dumps(indent=2), no trailing newline), policy.json.asc (with --sign-key, detached and armored, by gpg),
    SHA256SUMS, manifest.json, CHANGELOG.md and postfix/tls_policy (an smtp_tls_policy_maps source). Every file is
    written to a temporary name and renamed. --timestamp/--expires are written verbatim after validation, so a past
    publication can be reproduced exactly; otherwise timestamp is now (--now) and expires is timestamp +
    --expires-after (default 14d).
    Refuses (exit 65, nothing written): an empty list, a schema-invalid list, a timestamp not after the previous
    publication's (R9), expires at or before now, or a shrink beyond --max-shrink percent (default 5) without
    --allow-shrink. Publishing the same candidate with the same strings again rewrites the files and exits 0.
    """
let specs: [OptionSpec] = [
    .option("out", "DIR", "output directory (created if needed)"),
    .option("timestamp", "STRING", "the timestamp string to publish (RFC 3339)"),
    .option("expires", "STRING", "the expires string to publish (RFC 3339)"),
    .option("expires-after", "DURATION", "expires = timestamp + DURATION: 14d, 36h, 90m or seconds (default 14d)"),
    .option("sign-key", "KEYID", "sign with this gpg key (detached, armored)"),
    .option("gnupg-home", "DIR", "GNUPGHOME holding the signing key"),
    .option("max-shrink", "PERCENT", "largest allowed drop in domains versus the previous publication (default 5)"),
    .flag("allow-shrink", "publish even if the list shrinks beyond --max-shrink"),
]

func duration(_ text: String) throws -> Int64 {
    let units: [Character: Int64] = ["d": 86_400, "h": 3600, "m": 60, "s": 1]
    if let last = text.last, let unit = units[last], let value = Int64(text.dropLast()), value > 0 {
        return value * unit
    }
    if let value = Int64(text), value > 0 { return value }
    throw UsageError("--expires-after takes a positive duration like 14d, 36h, 90m or seconds, not '\(text)'")
}

await runMain("policylist-publish") { args in
    let parsed = try ParsedArguments(args, specs: specs)
    if parsed.flag("help") {
        printOutput(helpText(usage: usage, about: about, specs: specs))
        return .ok
    }
    guard parsed.positionals.isEmpty else { throw UsageError("unexpected argument '\(parsed.positionals[0])'") }
    guard let out = parsed.value("out") else { throw UsageError("--out DIR is required") }
    let options = try StageOptions(parsed)
    var publish = PublishOptions(outDir: out)
    publish.timestamp = parsed.value("timestamp")
    publish.expires = parsed.value("expires")
    if let text = parsed.value("expires-after") { publish.expiresAfterSeconds = try duration(text) }
    publish.signKey = parsed.value("sign-key")
    publish.gnupgHome = parsed.value("gnupg-home")
    if let text = parsed.value("max-shrink") {
        guard let value = Double(text), value >= 0, value <= 100 else {
            throw UsageError("--max-shrink takes a percentage from 0 to 100, not '\(text)'")
        }
        publish.maxShrinkPercent = value
    }
    publish.allowShrink = parsed.flag("allow-shrink")
    let context = try StageContext(options)
    return try PublishStage.run(context, options: publish).emit(json: options.json, quiet: options.quiet)
}
